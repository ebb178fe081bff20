"""Validation in worker processes gives what the server would, and the writer keeps its rules
(dedup, suppression) for the encoded rows the workers send (the HTTP tests and the kill -9 test
run the real server with a worker: tests/conftest.py)."""

from __future__ import annotations

import asyncio
import base64
import os
import pickle
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

import empreinte
from empreinte.collect.http import Collector, _parse
from empreinte.collect.workers import ValidationPool
from empreinte.collect.writer import WriteResult
from empreinte.errors import InvalidMessage, Overloaded
from empreinte.store.columns import ColumnarRows, to_table
from empreinte.workspace import Workspace

RECEIVED = 1_772_366_400_000_000  # 2026-03-01T12:00:00Z


def message(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Item Viewed",
        "userId": f"u-{n % 7}",
        "messageId": f"m-{n}",
        "timestamp": "2026-03-01T11:59:00Z",
        "properties": {"n": n, "padding": "x" * 100},
        **extra,
    }


def batch_body(messages: list[Any], **fields: Any) -> bytes:
    return orjson.dumps({"batch": messages, "sentAt": "2026-03-01T12:00:00Z", **fields})


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with empreinte.open(tmp_path_factory.mktemp("workers")) as workspace:
        yield workspace


@pytest.fixture(scope="module")
def pool(ws: Workspace) -> Iterator[ValidationPool]:
    pool = ValidationPool(1, ws.policy)
    pool.start()
    while not pool.ready():
        time.sleep(0.05)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def collector(ws: Workspace, pool: ValidationPool) -> Collector:
    return Collector(ws.credentials, ws.writer, ws.policy, pool)


def in_worker(pool: ValidationPool, collector: Collector, raw: bytes) -> Any:
    return asyncio.run(pool.validate(collector, raw, None, "web", RECEIVED))


def test_a_worker_gives_the_rows_and_rejections_of_the_server(
    pool: ValidationPool, collector: Collector
) -> None:
    messages: list[Any] = [message(n) for n in range(60)]
    messages[3] = {**message(3), "traits": {"email": "Marie@Example.com"}, "type": "identify"}
    messages[5] = {**message(5), "context": {"ip": "192.0.2.7", "traits": {"phone": "0612"}}}
    messages[7] = {"type": "track", "userId": "u"}  # no event: rejected by index
    messages[9] = ["not", "an", "object"]
    raw = batch_body(messages, context={"library": {"name": "analytics-python"}})

    rows, rejected = in_worker(pool, collector, raw)
    expected_rows, expected_rejected = collector._validate(
        orjson.loads(raw), None, "web", body_size=len(raw), received_at=RECEIVED
    )

    assert isinstance(rows, ColumnarRows)
    assert len(rows) == len(expected_rows) == 58
    assert rows.table().to_pylist() == to_table(expected_rows).to_pylist()
    assert rows.message_ids == [r.message_id for r in expected_rows]
    assert rows.identifiers == [r.identifiers for r in expected_rows]
    assert rejected == expected_rejected
    assert [r["index"] for r in rejected] == [7, 9]
    # Personal data was split off in the worker too: pseudonyms in the log, raw in the vault.
    table = rows.table().to_pylist()
    assert "Marie@Example.com" not in str(table[3]["traits"])
    assert "Marie@Example.com" in str(table[3]["pii"])


@pytest.mark.parametrize(
    ("raw", "code", "field"),
    [
        (b'{"batch": [', "invalid_json", None),
        (b'["batch"]', "invalid_body", None),
        (batch_body([message(1)], sentAt="yesterday"), "invalid_timestamp", "sentAt"),
    ],
)
def test_a_refused_request_raises_the_same_error(
    pool: ValidationPool, collector: Collector, raw: bytes, code: str, field: str | None
) -> None:
    with pytest.raises(InvalidMessage) as in_process:
        collector._validate(_parse(raw), None, "web", body_size=len(raw), received_at=RECEIVED)
    with pytest.raises(InvalidMessage) as caught:
        in_worker(pool, collector, raw)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert str(caught.value) == str(in_process.value)


def test_the_writer_drops_retries_and_suppressed_people_from_encoded_rows(
    pool: ValidationPool, collector: Collector, ws: Workspace
) -> None:
    messages = [message(n, userId=f"w-{n}", messageId=f"w-{n}") for n in range(20)]
    first, _ = in_worker(pool, collector, batch_body(messages))
    assert ws.writer.write(first) == WriteResult(20, 0, 0)
    # A retry of half of them, with ten new ones; one new one carries an erased person's id.
    retry = messages[10:] + [message(n, userId=f"w-{n}", messageId=f"w-{n}") for n in range(20, 30)]
    ws.suppression.add([ws.suppression.hash("user_id:w-25")])
    second, _ = in_worker(pool, collector, batch_body(retry))
    assert ws.writer.write(second) == WriteResult(9, 10, 1)
    stored = {e["message_id"] for e in ws.events(limit=100) if e["message_id"].startswith("w-")}
    assert stored == {f"w-{n}" for n in range(30)} - {"w-25"}
    # Rows stored by an earlier group are duplicates too.
    again, _ = in_worker(pool, collector, batch_body(messages[:5]))
    assert ws.writer.write(again) == WriteResult(0, 5, 0)


class _Request:
    """What `Collector._prepare` reads of a request: its headers (the write key)."""

    def __init__(self, write_key: str):
        token = base64.b64encode(f"{write_key}:".encode()).decode()
        self.headers = {"authorization": f"Basic {token}"}


def test_without_workers_a_large_batch_reaches_the_writer_encoded_as_the_workers_send_it(
    ws: Workspace,
) -> None:
    """The server's own validation thread encodes a batch of 64+ valid messages too, so the
    writer only concatenates: the same rows as the Python rows, the same after a pickle (the
    trip from a worker), and the writer's dedup and suppression still apply."""
    here = Collector(ws.credentials, ws.writer, ws.policy)  # no workers
    key = ws.credentials.create_write_key("encoded-here")
    messages: list[Any] = [message(n, userId=f"e-{n}", messageId=f"e-{n}") for n in range(80)]
    messages[4] = {"type": "track", "userId": "u"}  # rejected by index, the rest encoded
    raw = batch_body(messages)
    rows, rejected = here._prepare(_Request(key), raw, None)  # type: ignore[arg-type]
    small, _ = here._prepare(_Request(key), batch_body(messages[:10]), None)  # type: ignore[arg-type]
    assert isinstance(rows, ColumnarRows) and len(rows) == 79
    expected, _ = here._validate(
        _parse(raw), None, "encoded-here", body_size=len(raw), received_at=rows.received_at
    )

    assert isinstance(small, list)  # a few rows: encoding them would cost more than it saves
    assert [r["index"] for r in rejected] == [4]
    assert rows.message_ids == [r.message_id for r in expected]
    assert rows.table().to_pylist() == to_table(expected).to_pylist()
    copy = pickle.loads(pickle.dumps(rows))
    assert copy.table().equals(rows.table())
    assert (copy.message_ids, copy.identifiers) == (rows.message_ids, rows.identifiers)

    ws.suppression.add([ws.suppression.hash("user_id:e-7")])
    assert ws.writer.write(rows) == WriteResult(78, 0, 1)
    assert ws.writer.write(copy) == WriteResult(0, 78, 1)  # a retry: every row a duplicate


def test_too_much_waiting_for_the_workers_is_429(
    pool: ValidationPool, collector: Collector
) -> None:
    limit = pool._limit
    pool._limit = 0  # as if every slot held a request
    try:
        with pytest.raises(Overloaded) as caught:
            in_worker(pool, collector, batch_body([message(1)]))
        assert caught.value.retry_after == 1
    finally:
        pool._limit = limit
    rows, _ = in_worker(pool, collector, batch_body([message(1)]))
    assert len(rows) == 1


def test_a_dead_worker_costs_no_request(pool: ValidationPool, collector: Collector) -> None:
    raw = batch_body([message(n, messageId=f"d-{n}") for n in range(10)])
    for pid in list(pool._executor._processes):  # type: ignore[union-attr]
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    rows, rejected = in_worker(pool, collector, raw)  # validated in the server this time
    assert len(rows) == 10 and rejected == []
    while not pool.ready():  # a new worker starts
        time.sleep(0.05)
    rows, _ = in_worker(pool, collector, raw)  # and validated there again
    assert isinstance(rows, ColumnarRows) and len(rows) == 10


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children(pid: int) -> set[int]:
    return {
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) and int(stat[1]) == pid
    }


def _running(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"  # a zombie has exited


def test_the_workers_die_with_a_killed_server(workspace: Any, server: Any) -> None:
    body = batch_body([message(n, messageId=f"k-{n}") for n in range(300)])  # > 32 KB
    auth = (workspace.write_key, "")
    response = httpx.post(f"{server.url}/v1/batch", content=body, auth=auth, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 300
    children = _children(server.proc.pid)
    assert children  # the worker (and multiprocessing's resource tracker)
    server.kill()
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in children):
        assert time.monotonic() < deadline, "a worker outlived its server"
        time.sleep(0.05)
