"""`empreinte.open(path)`: the Python API for server-side use."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import empreinte


def test_write_methods_validate_and_store(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        ids = [
            ws.track(
                "Order Completed",
                user_id="u1",
                properties={"total": 12.5},
                context={"channel": "store"},
                message_id="order-1",
            ),
            ws.identify("u1", traits={"email": "ada@example.com"}),
            ws.page("Home", anonymous_id="a1"),
            ws.screen("Cart", anonymous_id="a1"),
            ws.group("acme", user_id="u1", traits={"plan": "pro"}),
            ws.alias("a1", "u1", timestamp=datetime(2025, 1, 2, tzinfo=UTC)),
        ]
        assert ids[0] == "order-1"
        with pytest.raises(empreinte.InvalidMessage, match="userId or anonymousId"):
            ws.track("Order Completed")
        # The first value JSON cannot carry, by name (then the set).
        with pytest.raises(empreinte.InvalidMessage, match=r"properties\.big: .* 64 bits"):
            ws.track("E", user_id="u", properties={"big": 2**70, "tags": {"a", "b"}})
        with pytest.raises(empreinte.InvalidMessage, match=r"properties\.tags: a set .* JSON"):
            ws.track("E", user_id="u", properties={"tags": {"a", "b"}})
        with pytest.raises(TypeError, match="colour"):
            ws.track("E", user_id="u", colour="red")
        stored = {e["message_id"]: e for e in ws.events(limit=10)}
    assert set(stored) == set(ids)
    assert stored["order-1"]["channel"] == "store"
    assert stored["order-1"]["properties"] == {"total": 12.5}
    assert [stored[i]["type"] for i in ids] == [
        "track",
        "identify",
        "page",
        "screen",
        "group",
        "alias",
    ]
    assert stored[ids[5]]["timestamp"] == datetime(2025, 1, 2, tzinfo=UTC)


def test_retried_message_is_stored_once_across_reopen(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        ws.track("E", user_id="u", message_id="m-1")
        ws.track("E", user_id="u", message_id="m-1")
    with empreinte.open(tmp_path / "ws") as ws:
        report = ws.ingest([{"type": "track", "event": "E", "userId": "u", "messageId": "m-1"}])
        assert (report.stored, report.duplicates) == (0, 1)
        assert ws.count(message_id="m-1") == 1


def test_ingest_reports_each_invalid_message_and_keeps_the_rest(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        report = ws.ingest(
            [
                {"type": "track", "event": "A", "userId": "u"},
                {"type": "track", "userId": "u", "messageId": "bad"},
                "not a message",
                {"type": "page", "anonymousId": "x"},
            ]
        )
        assert report.stored == 2
        assert [(r.index, r.field) for r in report.rejected] == [(1, "event"), (2, None)]
        assert report.rejected[0].message_id == "bad"
        assert ws.count() == 2


def test_open_without_create_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(empreinte.WorkspaceNotFound, match="empreinte init"):
        empreinte.open(tmp_path / "missing", create=False)


def test_a_second_process_gets_a_clear_lock_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    with empreinte.open(tmp_path / "ws"):
        code = (
            "import empreinte, sys\n"
            "try:\n"
            f"    empreinte.open({str(tmp_path / 'ws')!r})\n"
            "except empreinte.WorkspaceLocked as exc:\n"
            "    print('LOCKED', exc); sys.exit(3)\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    assert "another process" in done.stdout
