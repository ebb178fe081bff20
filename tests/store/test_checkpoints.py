"""The write-ahead log is folded into the database file after every kind of write, not only
after the collector's appends: a server that refreshes segments, derives tables or erases
people but receives no event must not let its WAL grow without end."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

import empreinte
from analytics.know.segment_people import people
from empreinte.privacy import erasure
from empreinte.store.duckdb import engine as duckdb_engine
from empreinte.workspace import DATABASE_FILE

THRESHOLD = 2048


def wal_size(workspace: Path) -> int:
    path = workspace / (DATABASE_FILE + ".wal")
    return path.stat().st_size if path.exists() else 0


def test_writes_other_than_appends_keep_the_wal_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ws"
    with empreinte.open(path) as ws:
        ws.ingest(people(), source="python")
        ws.identity.sync()
        ws.segments.create("buyers", "orders >= 1")
        assert ws.segments.size("buyers") == 3  # ann, bob, cleo (dan never allowed analytics)
        # A small threshold, so that a few refreshes (each records when it ran) pass it.
        monkeypatch.setattr(duckdb_engine, "_CHECKPOINT_WAL", THRESHOLD)
        sizes = []
        for _ in range(40):
            ws.segments.refresh("buyers")
            sizes.append(wal_size(path))
        # A checkpoint may wait for the next write (not while another write is under way),
        # so the WAL may hold the threshold and a write or two more, never forty refreshes.
        assert max(sizes) < 3 * THRESHOLD, sizes
        assert sum(a > b for a, b in itertools.pairwise(sizes)) >= 2, sizes
        erasure.erase_by(ws, "userId", "bob", "dpo")
        # The next append may find no WAL and make a new one; the rows are stored and read back.
        before = ws.count()
        ws.ingest([{"type": "track", "event": "Page Viewed", "userId": "eve"}], source="python")
        assert ws.count() == before + 1
    with empreinte.open(path) as ws:  # and the file opens again with everything in it
        assert ws.count() == before + 1
        assert ws.segments.size("buyers") == 2
