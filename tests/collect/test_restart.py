"""A restart with a full dedup window: retries of messages stored hours before, by the previous
process, are still recognised, after a graceful stop and after `kill -9`; and a request that
arrives while the window loads waits for it rather than being judged without it."""

from __future__ import annotations

import random
import shutil
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from test_durability import wait_for  # same folder

import empreinte
from empreinte.collect.validate import normalise, now_micros
from empreinte.collect.window_file import DIRECTORY
from empreinte.collect.writer import EventWriter
from empreinte.errors import StorageError
from empreinte.store.duckdb.engine import DuckDBEngine
from empreinte.store.records import EventRow
from empreinte.workspace import DATABASE_FILE

HOUR = 3_600 * 1_000_000
STORED = 30_000  # spread over the last 24 hours


def message(i: int, prefix: str = "old") -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Viewed",
        "userId": f"u{i % 500}",
        "messageId": f"{prefix}-{i}",
    }


def fill_window(keys: Any) -> None:
    """Store `STORED` events received over the last 24 hours (the writer's bulk path)."""
    now = now_micros()
    with empreinte.open(keys.path) as ws:
        rows = [
            normalise(
                message(i),
                source="web",
                received_at=now - (STORED - i) * (24 * HOUR // STORED),
                policy=ws.policy,
            )
            for i in range(STORED)
        ]
        assert ws.writer.write(rows).stored == STORED


def test_retries_after_a_restart_with_a_full_window_are_stored_once(
    workspace: Any, start_server: Callable[[Any], Any], connect: Any
) -> None:
    fill_window(workspace)
    server = start_server(workspace)
    retried = random.Random(7).sample(range(STORED), 200)  # from every hour of the window
    batch = {"batch": [message(i) for i in retried] + [message(i, "new") for i in range(100)]}

    api = connect(server.url, workspace)
    answer = api.post("/v1/batch", batch)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"success": True, "stored": 100, "duplicates": 200}

    server.kill()  # kill -9: the new ones were acknowledged, so they are in the log
    server.start()
    api = connect(server.url, workspace)
    again = api.post("/v1/batch", batch)
    assert again.json() == {"success": True, "stored": 0, "duplicates": 300}
    assert api.total() == STORED + 100


class SlowToLoad:
    """The real engine, whose bulk read of the window waits for the test's go."""

    def __init__(self, inner: DuckDBEngine):
        self.inner = inner
        self.go = threading.Event()
        self.loading = threading.Event()

    def recent_messages(self, since: datetime, after_seq: int = 0) -> tuple[np.ndarray, np.ndarray]:
        self.loading.set()
        assert self.go.wait(60)
        return self.inner.recent_messages(since, after_seq)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_request_during_the_load_waits_for_the_window(workspace: Any) -> None:
    with empreinte.open(workspace.path) as ws:
        rows: list[EventRow] = [
            normalise(message(i), source="web", received_at=now_micros(), policy=ws.policy)
            for i in range(50)
        ]
        assert ws.writer.write(rows).stored == 50

    engine = SlowToLoad(DuckDBEngine(workspace.path / DATABASE_FILE))
    writer = EventWriter(engine)  # type: ignore[arg-type]
    try:
        assert engine.loading.wait(60)
        pending = writer.submit(rows[:10] + rows[-5:])  # retries, accepted into the queue
        assert not pending.done()
        engine.go.set()
        result = pending.result(timeout=60)
        assert (result.stored, result.duplicates) == (0, 15)
    finally:
        engine.go.set()
        writer.close()
        engine.inner.close()


class FailsToLoad(SlowToLoad):
    """The first bulk read of the window fails (once the test says go)."""

    def __init__(self, inner: DuckDBEngine):
        super().__init__(inner)
        self.reads = 0

    def recent_messages(self, since: datetime, after_seq: int = 0) -> tuple[np.ndarray, np.ndarray]:
        self.reads += 1
        if self.reads == 1:
            self.loading.set()
            assert self.go.wait(60)
            raise StorageError("injected: the disk is gone")
        return self.inner.recent_messages(since, after_seq)


def test_a_failed_load_refuses_what_waits_then_loads_again(workspace: Any) -> None:
    with empreinte.open(workspace.path) as ws:
        rows = [
            normalise(message(i), source="web", received_at=now_micros(), policy=ws.policy)
            for i in range(20)
        ]
        assert ws.writer.write(rows).stored == 20
    shutil.rmtree(workspace.path / DIRECTORY)  # no saved window: the log must be read

    engine = FailsToLoad(DuckDBEngine(workspace.path / DATABASE_FILE))
    writer = EventWriter(engine, storage_retry_after=1)  # type: ignore[arg-type]
    try:
        assert engine.loading.wait(60)
        waiting = writer.submit(rows)
        engine.go.set()
        with pytest.raises(StorageError):  # a 503: not acknowledged, the client retries
            waiting.result(timeout=60)
        answers: list[Any] = []

        def retried() -> bool:
            try:
                answers.append(writer.write(rows))
            except StorageError:
                return False
            return True

        wait_for(retried)
        assert (answers[0].stored, answers[0].duplicates) == (0, 20)
        assert engine.reads == 2
    finally:
        engine.go.set()
        writer.close()
        engine.inner.close()
