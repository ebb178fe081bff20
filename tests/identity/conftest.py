"""Fixtures for identity tests: a fresh workspace and a way to put identified events in its log.

Until ingestion fills `events.identifiers` itself, tests append rows with the identifier keys
they choose, straight into the workspace's DuckDB file (the only columns that matter to the
resolver are seq, message_id, timestamp and identifiers).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

import empreinte
from empreinte.identity.rules import MergeRules
from empreinte.identity.service import IdentityService
from empreinte.store.duckdb.engine import DuckDBEngine
from empreinte.workspace import Workspace

T0 = datetime(2025, 1, 1, tzinfo=UTC)


class Log:
    """A workspace's event log that a test appends identified events to."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        assert isinstance(workspace.engine, DuckDBEngine)
        self.engine: DuckDBEngine = workspace.engine
        self.seq = self.engine.max_seq()

    def add(self, *events: Sequence[str]) -> list[int]:
        """Append one event per identifier list; returns their sequence numbers."""
        if not events:
            return []
        first = self.seq + 1
        seqs = list(range(first, first + len(events)))
        self.seq += len(events)
        table = pa.table(
            {
                "seq": pa.array(seqs, pa.int64()),
                "message_id": [f"m{s}" for s in seqs],
                "source": ["test"] * len(seqs),
                "type": ["track"] * len(seqs),
                "timestamp": pa.array(
                    [T0 + timedelta(minutes=s) for s in seqs], pa.timestamp("us", tz="UTC")
                ),
                "received_at": pa.array(
                    [T0 + timedelta(minutes=s) for s in seqs], pa.timestamp("us", tz="UTC")
                ),
                "is_bot": [False] * len(seqs),
                "identifiers": pa.array([list(e) for e in events], pa.list_(pa.string())),
            }
        )
        cur = self.engine._con.cursor()
        cur.register("_test_events", table)
        cur.execute(
            "INSERT INTO events (seq, message_id, source, type, timestamp, received_at, is_bot,"
            " identifiers) SELECT * FROM _test_events"
        )
        cur.unregister("_test_events")
        cur.close()
        return seqs

    def service(self, rules: MergeRules | None = None, **kwargs: object) -> IdentityService:
        return IdentityService.open(self.engine, rules, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def log(tmp_path: Path) -> Iterator[Log]:
    ws = empreinte.open(tmp_path / "ws")
    try:
        yield Log(ws)
    finally:
        ws.close()
