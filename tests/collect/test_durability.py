"""Never silent loss: back-pressure, storage failures and `kill -9` under load.

The fault tests run the real app (`create_app`) in uvicorn over the workspace's real DuckDB
engine, wrapped so that the test can make `append` fail or stall. The crash test runs the real
`empreinte serve` process and kills it with SIGKILL while clients are sending.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson
import pytest
from segment.analytics.client import Client

import empreinte
from empreinte.errors import StorageError
from empreinte.workspace import DATABASE_FILE


def track(user: str, n: int = 0) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Item Viewed",
        "userId": user,
        "messageId": str(uuid.uuid4()),
        "properties": {"n": n},
    }


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for a condition")
        time.sleep(0.01)


def assert_retry_later(response: httpx.Response, status: int, code: str) -> int:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["message"]
    retry_after = int(response.headers["Retry-After"])
    assert retry_after >= 1
    return retry_after


# -- storage failure: 503 + Retry-After, then the retry is stored once -----------------------


@pytest.mark.parametrize(
    "fault",
    [StorageError("injected: the disk is gone"), OSError(28, "No space left on device")],
    ids=["storage-error", "os-error"],
)
def test_storage_failure_is_503_and_the_retry_is_stored_once(
    faulty_server: Any, connect: Any, fault: BaseException
) -> None:
    api = connect(faulty_server.url, faulty_server.keys)
    batch = {"batch": [track("u-503", n) for n in range(5)]}

    faulty_server.engine.failing = fault
    retry_after = assert_retry_later(api.post("/v1/batch", batch), 503, "storage_unavailable")
    assert retry_after == 1  # the writer option the fixture set
    # While the storage is failing, new work is refused, not queued.
    assert_retry_later(api.post("/v1/track", track("u-503-b")), 503, "storage_unavailable")
    assert faulty_server.engine.failed_appends >= 1

    faulty_server.engine.failing = None  # the storage recovers
    for _ in range(10):  # the client retries the same request, as told
        time.sleep(retry_after)
        response = api.post("/v1/batch", batch)
        if response.status_code != 503:
            break
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 5
    again = api.post("/v1/batch", batch)
    assert again.json() == {"success": True, "stored": 0, "duplicates": 5}
    stored = sorted(e["messageId"] for e in api.events(userId="u-503"))
    assert stored == sorted(m["messageId"] for m in batch["batch"])


def test_official_client_retries_through_a_storage_failure(
    faulty_server: Any, connect: Any
) -> None:
    errors: list[Any] = []
    faulty_server.engine.failing = StorageError("injected: the disk is gone")
    client = Client(
        faulty_server.keys.write_key,
        host=faulty_server.url,
        upload_interval=0.05,
        on_error=lambda e, b: errors.append(e),
    )
    ids = [client.track(user_id="u-client", event="E")[1]["messageId"] for _ in range(20)]
    wait_for(lambda: faulty_server.recorder.count(503) >= 1)
    faulty_server.engine.failing = None
    client.flush()  # returns once every message was accepted
    client.shutdown()

    assert errors == []
    assert faulty_server.recorder.statuses[-1] == ("/v1/batch", 200)
    api = connect(faulty_server.url, faulty_server.keys)
    stored = [e["messageId"] for e in api.events(userId="u-client")]
    assert sorted(stored) == sorted(ids)


# -- back-pressure: 429 + Retry-After when the writer's queue is full --------------------------


def _post_in_thread(url: str, key: str, body: dict[str, Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        out.append(httpx.post(f"{url}/v1/batch", json=body, auth=(key, ""), timeout=60))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_full_queue_is_429_and_nothing_is_answered_before_it_is_durable(
    faulty_server: Any, connect: Any
) -> None:
    api = connect(faulty_server.url, faulty_server.keys)
    key = faulty_server.keys.write_key
    engine = faulty_server.engine
    first = {"batch": [track("u-429", n) for n in range(6)]}
    refused = {"batch": [track("u-429", n) for n in range(6, 11)]}
    fits = {"batch": [track("u-429", n) for n in range(11, 15)]}

    engine.gate.clear()  # the storage stalls
    first_thread, first_answer = _post_in_thread(faulty_server.url, key, first)
    assert engine.stalled.wait(10)
    # 6 rows wait to be written and the queue holds 10: 5 more do not fit.
    retry_after = assert_retry_later(api.post("/v1/batch", refused), 429, "overloaded")
    # 4 more fit: queued, and not answered while they are not durable.
    fits_thread, fits_answer = _post_in_thread(faulty_server.url, key, fits)
    time.sleep(0.3)
    assert first_thread.is_alive() and fits_thread.is_alive()
    assert first_answer == [] and fits_answer == []
    assert api.total(userId="u-429") == 0

    engine.gate.set()  # the storage catches up
    first_thread.join(30)
    fits_thread.join(30)
    assert first_answer[0].status_code == 200 and fits_answer[0].status_code == 200
    time.sleep(retry_after)
    response = api.post("/v1/batch", refused)
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 5
    assert sorted(e["properties"]["n"] for e in api.events(userId="u-429")) == list(range(15))


def test_a_retry_after_a_client_timeout_is_stored_once(faulty_server: Any, connect: Any) -> None:
    """The client gives up waiting while its first attempt is still being written, and retries."""
    api = connect(faulty_server.url, faulty_server.keys)
    batch = {"batch": [track("u-timeout", n) for n in range(5)]}
    faulty_server.engine.gate.clear()  # the storage is slow
    with pytest.raises(httpx.ReadTimeout):
        api.post("/v1/batch", batch, timeout=0.5)
    retry_thread, retry_answer = _post_in_thread(
        faulty_server.url, faulty_server.keys.write_key, batch
    )
    time.sleep(0.2)
    faulty_server.engine.gate.set()
    retry_thread.join(30)
    assert retry_answer[0].status_code == 200
    assert retry_answer[0].json() == {"success": True, "stored": 0, "duplicates": 5}
    assert api.total(userId="u-timeout") == 5


def test_official_client_retries_after_429(faulty_server: Any, connect: Any) -> None:
    errors: list[Any] = []
    engine = faulty_server.engine
    engine.gate.clear()
    filler = {"batch": [track("u-429-filler", n) for n in range(10)]}  # fills the queue
    filler_thread, _ = _post_in_thread(faulty_server.url, faulty_server.keys.write_key, filler)
    assert engine.stalled.wait(10)

    client = Client(
        faulty_server.keys.write_key,
        host=faulty_server.url,
        upload_interval=0.05,
        on_error=lambda e, b: errors.append(e),
    )
    ids = [client.track(user_id="u-429-client", event="E")[1]["messageId"] for _ in range(8)]
    wait_for(lambda: faulty_server.recorder.count(429) >= 1)
    engine.gate.set()
    filler_thread.join(30)
    client.flush()
    client.shutdown()

    assert errors == []
    api = connect(faulty_server.url, faulty_server.keys)
    assert sorted(e["messageId"] for e in api.events(userId="u-429-client")) == sorted(ids)
    assert api.total(userId="u-429-filler") == 10


# -- kill -9 under load ---------------------------------------------------------------------


class Load:
    """Client threads sending batches of 100–500 messages with unique ids, noting every 200."""

    def __init__(self, url: str, write_key: str, label: str, threads: int = 8):
        self.url = url
        self.write_key = write_key
        self.label = label
        self.lock = threading.Lock()
        self.acked: set[str] = set()
        self.acked_batches: list[list[dict[str, Any]]] = []
        self.unanswered: list[list[dict[str, Any]]] = []  # no 200: a client would retry these
        self.sent = 0
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._guarded, args=(n,), daemon=True) for n in range(threads)
        ]

    def start(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def flowing(self) -> bool:
        """Three batches were acknowledged (the test retries three after the kill; on a loaded
        machine the first answers can take seconds)."""
        return len(self.acked_batches) >= 3

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)
            assert not thread.is_alive()
        assert not self.errors, self.errors

    def _guarded(self, thread_no: int) -> None:
        try:
            self._run(thread_no)
        except BaseException as exc:
            self.errors.append(exc)

    def _run(self, thread_no: int) -> None:
        rng = random.Random(f"{self.label}-{thread_no}")
        now = datetime.now(UTC).isoformat()
        with httpx.Client(base_url=self.url, auth=(self.write_key, ""), timeout=30) as http:
            n = 0
            while not self.stop.is_set():
                batch = [
                    {
                        "type": "track",
                        "event": "Load",
                        "userId": f"load-{rng.randrange(1000)}",
                        "messageId": f"{self.label}-{thread_no}-{n}-{i}",
                        "timestamp": now,
                        "properties": {"n": n, "i": i},
                    }
                    for i in range(rng.randint(100, 500))
                ]
                n += 1
                with self.lock:
                    self.sent += len(batch)
                try:
                    response = http.post(
                        "/v1/batch",
                        content=orjson.dumps({"batch": batch, "sentAt": now}),
                        headers={"Content-Type": "application/json"},
                    )
                except httpx.TransportError:
                    with self.lock:
                        self.unanswered.append(batch)
                    return  # the server is gone
                with self.lock:
                    if response.status_code == 200:
                        self.acked.update(m["messageId"] for m in batch)
                        self.acked_batches.append(batch)
                    else:
                        assert response.status_code in (429, 503), response.text
                        self.unanswered.append(batch)


def resend(url: str, write_key: str, batches: list[list[dict[str, Any]]]) -> tuple[set[str], int]:
    """What a client does after the crash: retry every batch until it gets a 200.

    Returns the ids now acknowledged and how many of them the server already had.
    """
    acked: set[str] = set()
    duplicates = 0
    with httpx.Client(base_url=url, auth=(write_key, ""), timeout=30) as http:
        for batch in batches:
            for _ in range(20):
                response = http.post("/v1/batch", json={"batch": batch})
                if response.status_code == 200:
                    acked.update(m["messageId"] for m in batch)
                    duplicates += response.json()["duplicates"]
                    break
                assert response.status_code in (429, 503), response.text
                time.sleep(int(response.headers.get("Retry-After", "1")))
            else:
                raise AssertionError("a retried batch was never accepted")
    return acked, duplicates


def stored_ids(workspace: Path) -> Counter[str]:
    """message_id → how many times it is in the log (read from the file, server stopped)."""
    con = duckdb.connect(str(workspace / DATABASE_FILE), read_only=True)
    try:
        rows = con.execute("SELECT message_id, count(*) FROM events GROUP BY message_id").fetchall()
        seqs = con.execute("SELECT count(*), count(DISTINCT seq) FROM events").fetchone()
    finally:
        con.close()
    assert seqs is not None and seqs[0] == seqs[1], "sequence numbers repeat after a crash"
    return Counter({message_id: count for message_id, count in rows})


@pytest.mark.slow
def test_kill_9_under_load_loses_no_acknowledged_event(
    workspace: Any, start_server: Any, connect: Any
) -> None:
    server = start_server(workspace)
    key = workspace.write_key
    acked: set[str] = set()
    unanswered: list[list[dict[str, Any]]] = []
    sent = 0

    for round_no, kill_after in enumerate((0.8, 0.3, 1.2)):
        load = Load(server.url, key, f"r{round_no}").start()
        wait_for(load.flowing, timeout=60)
        time.sleep(kill_after)
        server.kill()  # SIGKILL in the middle of the load
        load.join()
        assert load.acked, "no batch was acknowledged before the kill: the test proved nothing"
        assert load.unanswered, "no request was in flight at the kill"
        print(
            f"round {round_no}: {load.sent} sent, {len(load.acked)} acknowledged, "
            f"{len(load.unanswered)} batches unanswered at the kill"
        )
        acked |= load.acked
        unanswered += load.unanswered
        sent += load.sent

        server.start()  # the same workspace, after the crash
        api = connect(server.url, workspace)
        # At least every acknowledged event is back (each is checked one by one at the end).
        assert api.total() >= len(acked)
        # A client whose answer was lost retries an acknowledged batch: the log rebuilt after
        # the crash still knows it.
        retried = random.Random(round_no).sample(load.acked_batches, 3)
        again, duplicates = resend(server.url, key, retried)
        assert duplicates == len(again) == sum(len(b) for b in retried)
        if round_no < 2:
            # The clients retry what was never answered; whatever of it was stored before
            # the kill must not be stored twice.
            again, duplicates = resend(server.url, key, unanswered)
            acked |= again
            unanswered = []
            print(f"  {len(again)} retried after the restart, {duplicates} already stored")

    server.stop()
    counts = stored_ids(workspace.path)
    missing = acked - counts.keys()
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:3]}"
    twice = {m: c for m, c in counts.items() if c != 1}
    assert not twice, f"{len(twice)} events stored more than once, e.g. {list(twice.items())[:3]}"
    pending = {m["messageId"] for batch in unanswered for m in batch}
    assert counts.keys() <= acked | pending  # nothing stored that was not sent

    # The last round's unanswered batches, retried after a restart: now all exactly once.
    server.start()
    acked |= resend(server.url, key, unanswered)[0]
    api = connect(server.url, workspace)
    assert api.total() == len(acked)
    server.stop()
    counts = stored_ids(workspace.path)
    assert counts.keys() == acked
    assert set(counts.values()) == {1}
    with empreinte.open(workspace.path, create=False) as ws:
        assert ws.count() == len(acked)
    print(f"crash test: {sent} messages sent, {len(acked)} acknowledged and stored once")
