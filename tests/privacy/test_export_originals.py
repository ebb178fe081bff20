"""A person's export (access and portability) carries the originals of their texts that an admin
opted to keep, decrypted, each read audited; expired ones and those read from a server's copy
are counted, never shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from empreinte.privacy.export import export
from empreinte.privacy.people import locate
from empreinte.voc.originals import Originals
from empreinte.workspace import Workspace
from voc.ingest.planted import PHONE_FR

runner = CliRunner()
SAID = f"Rappelez-moi au {PHONE_FR}"


def review(user: str, n: int, text: str) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Review Submitted",
        "userId": user,
        "messageId": f"{user}-review-{n}",
        "properties": {"review": text, "stars": 1},
    }


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with empreinte.open(tmp_path / "ws") as workspace:
        Originals(workspace).enable("30d", "admin@test")
        workspace.ingest(
            [
                review("claire", 1, SAID),
                review("claire", 2, "Très bien, merci"),  # nothing redacted: nothing kept
                review("bruno", 1, "Mon numéro : 06 98 76 54 32"),
            ]
        )
        workspace.flush()
        yield workspace


def _exports(ws: Workspace) -> list[tuple[str, str, str]]:
    audit = Originals(ws).status().audit
    return [(e.actor, e.action, e.outcome) for e in audit if e.action == "export"]


def test_the_export_holds_the_persons_own_originals_and_audits_each_read(ws: Workspace) -> None:
    person = locate(ws, "userId", "claire")
    document = export(ws, person.profile_id, actor="dpo@test")
    by_id = {e["messageId"]: e for e in document["events"]}
    kept = by_id["claire-review-1"]
    assert kept["properties"]["review"] != SAID  # the log's redacted text, as stored
    assert kept["originals"] == {"properties.review": SAID}
    assert "originals" not in by_id["claire-review-2"]
    assert "bruno-review-1" not in by_id  # someone else's text, kept too, is not in hers
    assert document["originals"] == {"included": 1, "expired": 0, "withheld": 0}
    assert _exports(ws) == [("dpo@test", "export", "shown")]
    assert "06 98 76 54 32" not in orjson.dumps(document).decode()


def test_expired_originals_are_counted_not_shown(ws: Workspace) -> None:
    Originals(ws).disable("admin@test")  # every key deleted: every original unreadable
    document = export(ws, locate(ws, "userId", "claire").profile_id, actor="dpo@test")
    assert all("originals" not in e for e in document["events"])
    assert document["originals"] == {"included": 0, "expired": 1, "withheld": 0}
    assert _exports(ws) == [("dpo@test", "export", "expired")]


def test_withheld_originals_are_not_read(ws: Workspace) -> None:
    document = export(ws, locate(ws, "userId", "claire").profile_id, originals=False)
    assert all("originals" not in e for e in document["events"])
    assert document["originals"] == {"included": 0, "expired": 0, "withheld": 1}
    assert _exports(ws) == []


def test_the_cli_exports_them_and_a_servers_copy_withholds_them(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as workspace:
        Originals(workspace).enable("30d", "admin@test")
        workspace.ingest([review("claire", 1, SAID)])
        workspace.flush()
        copy = tmp_path / "copy.duckdb"
        workspace.engine.snapshot(copy)
    result = runner.invoke(app, ["export", "--user", "claire", "-w", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    [event] = orjson.loads(result.stdout)["events"]
    assert event["originals"] == {"properties.review": SAID}
    # What `reading` opens beside a running server: the copy cannot keep an audit record.
    with empreinte.open(tmp_path / "ws", create=False, snapshot=copy) as snapshot:
        assert snapshot.is_snapshot
        person = locate(snapshot, "userId", "claire")
        document = export(snapshot, person.profile_id, originals=not snapshot.is_snapshot)
    assert document["originals"]["withheld"] == 1
