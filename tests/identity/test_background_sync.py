"""The server's background identity sync: deferred while the writer is busy, never forever."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import empreinte
from empreinte.web.identity_api import IdentitySync
from empreinte.workspace import Workspace

# Generous: the machine may be loaded. This bounds the wait of a test, it is no speed check.
PATIENCE = 60.0


def _ingested(path: Path) -> Workspace:
    ws = empreinte.open(path)
    ws.ingest(
        [
            {"type": "identify", "userId": f"u{n}", "anonymousId": f"a{n}", "messageId": f"m{n}"}
            for n in range(50)
        ],
        source="web",
    )
    return ws


def _wait_for_a_sync(sync: IdentitySync) -> None:
    deadline = time.monotonic() + PATIENCE
    while sync.syncs == 0 and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.mark.parametrize("busy", [False, True])
def test_the_graph_catches_up_even_while_the_writer_stays_busy(tmp_path: Path, busy: bool) -> None:
    with _ingested(tmp_path / "ws") as ws:
        sync = IdentitySync(ws, interval=0.02, max_delay=0.3, busy=lambda: busy)
        sync.start()
        try:
            _wait_for_a_sync(sync)
        finally:
            sync.stop()
        assert sync.syncs >= 1
        # It was deferred only while the writer was busy.
        assert (sync.deferred > 0) is busy
        # Nothing was left for a read to resolve: the background sync did it all.
        assert ws.identity.sync().events == 0
        profile = ws.profiles.find("userId", "u7")
        assert profile is not None
        assert ws.profiles.find("anonymousId", "a7") == profile
