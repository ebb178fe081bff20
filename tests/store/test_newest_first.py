"""Newest-first reads after an erasure and a restart.

DuckDB 2.0's row-group pruner answers `ORDER BY seq DESC LIMIT n` from stale row-group
statistics once rows were deleted, the file reopened and rows appended: the newest event was
missing from `/api/events`, `events tail` and `Workspace.events()`. The engine turns that
optimiser off (store/duckdb/engine.py); this test fails when it is on.
"""

from __future__ import annotations

from pathlib import Path

import empreinte
from empreinte.privacy import erasure


def _track(user: str, n: int) -> dict[str, object]:
    return {"type": "track", "event": f"Step {n}", "userId": user, "messageId": f"m-{user}-{n}"}


def test_the_newest_event_comes_first_after_an_erasure_and_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "ws"
    with empreinte.open(path) as ws:
        ws.ingest([_track("keep", n) for n in range(3)], source="crm")
        ws.ingest([_track("gone", n) for n in range(2)], source="crm")  # the newest rows
        ws.identity.sync()
        erasure.erase_by(ws, "userId", "gone", "dpo")
    with empreinte.open(path) as ws:
        ws.ingest([_track("keep", 99)], source="crm")
        newest = ws.events(limit=1)
        assert [e["event"] for e in newest] == ["Step 99"]
        assert [e["event"] for e in ws.events(limit=2)] == ["Step 99", "Step 2"]
