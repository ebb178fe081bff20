"""Originals of redacted texts: never kept unless an admin opted in; then sealed under a key per
day kept apart from the log, owner-only, deleted at expiry or at `disable` (crypto-shredding);
sealed in the collector's worker processes too; every admin action audited."""

from __future__ import annotations

import asyncio
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from empreinte.collect.http import Collector
from empreinte.collect.workers import ValidationPool
from empreinte.errors import AnalyticsError, ConfigError, InvalidInput, OriginalUnavailable
from empreinte.privacy.text_originals import DIRECTORY, VAULT_KEY, OriginalsVault
from empreinte.voc.originals import Originals, expire_days
from empreinte.workspace import Workspace
from voc.ingest.planted import CARD_SPACED, PHONE_FR, files_holding, french_turns

runner = CliRunner()


def review(n: int) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Review Submitted",
        "userId": f"u-{n}",
        "messageId": f"review-{n}",
        "properties": {"review": f"Appelez-moi au {PHONE_FR}", "stars": 1},
    }


def sealed_of(ws: Workspace, message_id: str) -> str | None:
    [event] = [e for e in ws.events() if e["message_id"] == message_id]
    return ws.engine.voc_originals_store().sealed(event["seq"], VAULT_KEY)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with empreinte.open(tmp_path / "ws") as workspace:
        yield workspace


def test_nothing_is_kept_when_no_admin_opted_in(ws: Workspace) -> None:
    assert ws.ingest([review(1)]).stored == 1
    assert sealed_of(ws, "review-1") is None
    assert not (ws.path / DIRECTORY).exists()
    assert files_holding(ws.path, [PHONE_FR]) == {}
    assert Originals(ws).status().to_json()["enabled"] is False


def test_opted_in_the_original_is_sealed_apart_from_its_owner_only_key(ws: Workspace) -> None:
    Originals(ws).enable("30d", "admin@test")
    ws.ingest([review(2), {**review(3), "properties": {"review": "Très bien", "stars": 5}}])
    ws.flush()
    token = sealed_of(ws, "review-2")
    assert token is not None and PHONE_FR not in token
    assert sealed_of(ws, "review-3") is None  # nothing redacted: nothing to keep
    assert files_holding(ws.path, [PHONE_FR]) == {}
    keys = list((ws.path / DIRECTORY / "keys").glob("*.key"))
    assert [k.stem for k in keys] == [datetime.now(UTC).date().isoformat()]
    assert stat.S_IMODE(keys[0].stat().st_mode) == 0o600
    [event] = [e for e in ws.events() if e["message_id"] == "review-2"]
    assert Originals(ws).show(event["seq"], "admin@test") == {
        "properties.review": f"Appelez-moi au {PHONE_FR}"
    }


def test_disable_makes_every_original_unreadable_and_stops_keeping(ws: Workspace) -> None:
    originals = Originals(ws)
    originals.enable("7d", "admin@test")
    ws.ingest([review(4)])
    [event] = [e for e in ws.events() if e["message_id"] == "review-4"]
    assert originals.disable("admin@test") == 1
    with pytest.raises(OriginalUnavailable):
        originals.show(event["seq"], "admin@test")
    ws.ingest([review(5)])
    assert sealed_of(ws, "review-5") is None
    actions = [(a.action, a.outcome) for a in originals.status().audit]
    assert ("disable", "1 key(s) deleted") in actions and ("enable", "expire 7d") in actions
    assert ("show", "expired") in actions


def test_keys_are_per_day_and_expire_one_by_one(tmp_path: Path) -> None:
    vault = OriginalsVault(tmp_path)
    day0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
    vault.enable(2, "admin", now=day0)
    first = vault.seal({"properties.review": "le premier"}, now=day0)
    second = vault.seal({"properties.review": "le second"}, now=day0 + timedelta(days=1))
    assert first is not None and second is not None
    assert vault.key_days() == ["2026-11-01", "2026-11-02"]
    assert vault.open(first, now=day0 + timedelta(days=2)) == {"properties.review": "le premier"}
    with pytest.raises(OriginalUnavailable):
        vault.open(first, now=day0 + timedelta(days=3))
    assert vault.key_days() == ["2026-11-02"]
    assert vault.open(second, now=day0 + timedelta(days=3))["properties.review"] == "le second"
    # A token whose day key is gone, or tampered with, reads as unavailable, never as text.
    with pytest.raises(OriginalUnavailable):
        vault.open(second[:-4] + "AAAA", now=day0 + timedelta(days=3))
    with pytest.raises(OriginalUnavailable):
        vault.open("not-a-day:xyz")


def test_expiry_is_whole_days_within_bounds(tmp_path: Path) -> None:
    assert expire_days("30d") == 30 and expire_days("2w") == 14
    with pytest.raises(InvalidInput):
        expire_days("36h")
    with pytest.raises(AnalyticsError):
        expire_days("30x")
    with pytest.raises(InvalidInput):
        OriginalsVault(tmp_path).enable(400, "admin")


def test_the_cli_enables_shows_audited_and_disables(tmp_path: Path) -> None:
    path = str(tmp_path / "ws")
    assert runner.invoke(app, ["init", path]).exit_code == 0
    result = runner.invoke(app, ["voc", "originals", "enable", "--expire", "30d", "-w", path])
    assert result.exit_code == 0 and "30 day(s)" in result.output
    with empreinte.open(Path(path)) as ws:
        ws.ingest([review(6)])
        [event] = [e for e in ws.events() if e["message_id"] == "review-6"]
    shown = runner.invoke(app, ["voc", "originals", "show", str(event["seq"]), "-w", path])
    assert shown.exit_code == 0 and PHONE_FR in shown.output
    status = runner.invoke(app, ["voc", "originals", "status", "--json", "-w", path])
    audit = orjson.loads(status.output)["audit"]
    assert audit[0]["action"] == "show" and audit[0]["seq"] == event["seq"]
    assert audit[0]["actor"].startswith("cli")
    missing = runner.invoke(app, ["voc", "originals", "show", "999999", "-w", path])
    assert missing.exit_code == 1 and "no original" in missing.output
    off = runner.invoke(app, ["voc", "originals", "disable", "-w", path])
    assert off.exit_code == 0 and "1 day key(s) deleted" in off.output
    bad = runner.invoke(app, ["voc", "originals", "enable", "--expire", "1h", "-w", path])
    assert bad.exit_code == 1 and "expire" in bad.output


def test_a_worker_process_seals_with_the_opt_in_of_the_moment(ws: Workspace) -> None:
    """The opt-in is read from disk at each text: a worker started before it applies it."""
    pool = ValidationPool(1, ws.policy)
    pool.start()
    try:
        while not pool.ready():
            time.sleep(0.05)
        collector = Collector(ws.credentials, ws.writer, ws.policy, pool)
        message = {
            "type": "track",
            "event": "Call Completed",
            "anonymousId": "a",
            "properties": {"transcript": french_turns(), "padding": "x" * 200},
        }
        raw = orjson.dumps({"batch": [message] * 20})

        def vault_of_first() -> dict[str, Any] | None:
            rows, rejected = asyncio.run(pool.validate(collector, raw, None, "web", 1))
            assert rejected == []
            pii = rows.table().to_pylist()[0]["pii"]  # type: ignore[union-attr]
            return None if pii is None else orjson.loads(pii)

        assert vault_of_first() is None
        Originals(ws).enable("30d", "admin@test")
        vault = vault_of_first()
        assert vault is not None and CARD_SPACED not in str(vault)
        opened = OriginalsVault(ws.path).open(vault[VAULT_KEY])
        assert CARD_SPACED in opened["properties.transcript"][1]["text"]
    finally:
        pool.close()


def test_a_damaged_policy_or_key_is_a_clear_error_and_nothing_is_kept(ws: Workspace) -> None:
    originals = Originals(ws)
    originals.enable("30d", "admin@test")
    ws.ingest([review(7)])
    [event] = [e for e in ws.events() if e["message_id"] == "review-7"]
    [key] = (ws.path / DIRECTORY / "keys").glob("*.key")
    key.write_bytes(b"short")
    with pytest.raises(OriginalUnavailable):
        originals.show(event["seq"], "admin@test")
    (ws.path / DIRECTORY / "policy.json").write_text("{not json")
    with pytest.raises(ConfigError, match="enable"):
        originals.status()
    # The collector keeps storing redacted texts; their originals are not kept.
    assert ws.ingest([review(8)]).stored == 1
    assert sealed_of(ws, "review-8") is None
