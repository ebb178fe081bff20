"""Exactly once under crashes: two real `empreinte serve` collectors behind a "load balancer"
(each batch to one of them at random, some to both, as a client's retry would), the leader
killed with SIGKILL under load, publishers killed mid-work (at a hook between their files and
their manifest commit, and at random moments); then everything is published to the end and
counted: every acknowledged messageId is in the published log exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from empreinte.publish.log import PublishedLog
from servers import Keys, ServerProcess, make_workspace, serve_command


def collectors(tmp_path: Path, url: str) -> list[Keys]:
    """Workspaces a (leader: it also publishes) and b, sharing one pseudonymisation key."""
    out = []
    key: bytes | None = None
    for name in ("a", "b"):
        directory = tmp_path / name
        directory.mkdir()
        if key is not None:
            (directory / "pseudonym.key").write_bytes(key)
        leader = "true" if name == "a" else "false"
        (directory / "empreinte.toml").write_text(
            f'[publish]\nurl = "{url}"\ncollector_id = "{name}"\n'
            f'leader = {leader}\ninterval = "1s"\n'
        )
        keys = make_workspace(directory)
        key = (directory / "pseudonym.key").read_bytes()
        out.append(keys)
    return out


class Balanced:
    """Client threads sending batches of unique messages to either collector (and some to
    both: a retry the load balancer sent elsewhere), noting every 200."""

    def __init__(self, targets: list[tuple[str, str]], label: str, threads: int = 4):
        self.targets = targets  # (url, write key)
        self.label = label
        self.lock = threading.Lock()
        self.acked: set[str] = set()
        self.sent: set[str] = set()
        self.unanswered: list[list[dict[str, Any]]] = []
        self.both = 0
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.threads = [
            threading.Thread(target=self._guarded, args=(n,), daemon=True) for n in range(threads)
        ]

    def start(self) -> Balanced:
        for thread in self.threads:
            thread.start()
        return self

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)
        assert not self.errors, self.errors

    def _guarded(self, n: int) -> None:
        try:
            self._run(n)
        except BaseException as exc:
            self.errors.append(exc)

    def _run(self, thread_no: int) -> None:
        rng = random.Random(f"{self.label}-{thread_no}")
        now = datetime.now(UTC).isoformat()
        n = 0
        while not self.stop.is_set():
            batch = [
                {
                    "type": "track",
                    "event": "Load",
                    "userId": f"load-{rng.randrange(500)}",
                    "messageId": f"{self.label}-{thread_no}-{n}-{i}",
                    "timestamp": now,
                    "properties": {"n": n, "i": i},
                }
                for i in range(rng.randint(50, 200))
            ]
            n += 1
            with self.lock:
                self.sent.update(m["messageId"] for m in batch)
            targets = self.targets if rng.random() < 0.2 else [rng.choice(self.targets)]
            if len(targets) == 2:
                with self.lock:
                    self.both += 1
            answered = False
            for url, key in targets:
                if _post(url, key, batch):
                    answered = True
            with self.lock:
                if answered:
                    self.acked.update(m["messageId"] for m in batch)
                else:
                    self.unanswered.append(batch)
            time.sleep(0.01)


def _post(url: str, key: str, batch: list[dict[str, Any]]) -> bool:
    try:
        response = httpx.post(
            f"{url}/v1/batch",
            content=orjson.dumps({"batch": batch}),
            headers={"Content-Type": "application/json"},
            auth=(key, ""),
            timeout=30,
        )
    except httpx.TransportError:
        return False
    assert response.status_code in (200, 429, 503), response.text
    return response.status_code == 200


def resend(targets: list[tuple[str, str]], batches: list[list[dict[str, Any]]]) -> set[str]:
    acked: set[str] = set()
    rng = random.Random(7)
    for batch in batches:
        for _ in range(30):
            if _post(*rng.choice(targets), batch):
                acked.update(m["messageId"] for m in batch)
                break
            time.sleep(0.5)
        else:
            raise AssertionError("a retried batch was never accepted")
    return acked


def publisher(url: str, pause: Path | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    if pause is not None:
        env["EMPREINTE_TEST_PUBLISH_PAUSE"] = str(pause)
    return subprocess.Popen(
        [*serve_command(), "publish", "--log", url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_for(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.slow
def test_every_acknowledged_message_is_published_exactly_once_through_crashes(
    tmp_path: Path,
) -> None:
    through_crashes(tmp_path, str(tmp_path / "published"))


def through_crashes(tmp_path: Path, url: str) -> None:
    """The scenario, for a published log at `url` (test_s3.py runs it on an S3 API)."""
    log = PublishedLog(url)
    a_keys, b_keys = collectors(tmp_path, url)
    a = ServerProcess(a_keys.path, tmp_path).start()
    b = ServerProcess(b_keys.path, tmp_path).start()
    try:
        targets = [(a.url, a_keys.write_key), (b.url, b_keys.write_key)]
        acked: set[str] = set()
        sent: set[str] = set()
        unanswered: list[list[dict[str, Any]]] = []
        both = in_flight = 0
        for round_no, kill_after in enumerate((2.5, 1.5)):
            load = Balanced(targets, f"r{round_no}").start()
            wait_for(lambda load=load: len(load.acked) >= 500)
            time.sleep(kill_after)
            a.kill()  # the leader: a collector and a publisher, under load
            time.sleep(0.5)  # b alone takes the load meanwhile
            load.join()
            acked |= load.acked
            sent |= load.sent
            unanswered += load.unanswered
            in_flight += len(load.unanswered)
            both += load.both
            a.start()
            targets = [(a.url, a_keys.write_key), (b.url, b_keys.write_key)]
            acked |= resend(targets, unanswered)
            unanswered = []
        assert both, "no batch went to both collectors: the test proved nothing"
        assert in_flight, "no batch was unanswered at a kill: the test proved nothing"

        # A publisher stopped between writing its files and committing them, killed there
        # (tried while events flow, so that it finds staged segments before the leader does).
        pause = tmp_path / "pause"
        killed = 0
        flow = Balanced(targets, "hook", threads=2).start()
        for _ in range(20):
            pause.touch()
            proc = publisher(url, pause)
            reached = Path(str(pause) + ".reached")
            while not reached.exists() and proc.poll() is None:
                time.sleep(0.01)
            if reached.exists():
                proc.send_signal(signal.SIGKILL)
                killed += 1
                reached.unlink()
            proc.wait(30)
            pause.unlink()
            if killed:
                break
        flow.join()
        acked |= flow.acked | resend(targets, flow.unanswered)
        sent |= flow.sent
        assert killed, "no publisher reached its commit: the test proved nothing"
        # Publishers killed at random moments, while the leader publishes too.
        rng = random.Random(3)
        for _ in range(6):
            more = Balanced(targets, f"k{_}", threads=2).start()
            proc = publisher(url)
            time.sleep(rng.uniform(0.05, 1.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            more.join()
            acked |= more.acked | resend(targets, more.unanswered)
            sent |= more.sent
    finally:
        a.stop()  # graceful: a last round stages (and, leader, publishes) the rest
        b.stop()
    finished = subprocess.run(
        [*serve_command(), "publish", "--log", url, "--json"],
        capture_output=True,
        check=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert orjson.loads(finished.stdout)["segments"] >= 0

    counts = Counter(log.read().column("message_id").to_pylist())
    missing = acked - counts.keys()
    assert not missing, f"{len(missing)} acknowledged messages not published: {sorted(missing)[:3]}"
    twice = {m: c for m, c in counts.items() if c > 1}
    assert not twice, f"{len(twice)} published more than once: {list(twice.items())[:3]}"
    assert counts.keys() <= sent
    manifest = log.manifest()
    assert manifest.consumed.keys() == {"a", "b"}
    # Nothing left staged, and every file under events/ is one the manifest lists (or one a
    # compaction replaced, in its grace, should the run have crossed an hour).
    assert log.segments() == []
    listed = sorted(set(manifest.files) | set(manifest.retired))
    assert sorted(p for p in log.event_files() if p.endswith(".parquet")) == listed
    print(
        f"publish crash test: {len(sent)} sent, {len(acked)} acknowledged, {both} batches to "
        f"both collectors, {killed} publisher killed at its commit, "
        f"{manifest.version} manifest versions"
    )
