"""Fixtures for privacy tests: a fresh open workspace and helpers to write consent entries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import empreinte
from empreinte.workspace import Workspace

T0 = datetime(2025, 1, 1, 12, tzinfo=UTC)


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


#: A source the workspace trusts (a CRM): its grants of marketing count and its dates are
#: believed. "web" is not (tests/privacy/test_consent_trust.py).
TRUSTED = "crm"


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "empreinte.toml").write_text(f'[consent]\ntrusted_sources = ["{TRUSTED}"]\n')
    workspace = empreinte.open(tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


def consent_event(
    purpose: str,
    granted: Any,
    hours: float,
    *,
    wording: str = "v1",
    source: str | None = None,
    confirmation: str | None = None,
    **person: Any,
) -> dict[str, Any]:
    """A `Consent Updated` track message as a source would send it."""
    properties: dict[str, Any] = {
        "purpose": purpose,
        "granted": granted,
        "wording_version": wording,
    }
    if source is not None:
        properties["source"] = source
    if confirmation is not None:
        properties["confirmation"] = confirmation
    return {
        "type": "track",
        "event": "Consent Updated",
        "properties": properties,
        "timestamp": at(hours),
        **person,
    }


def send(ws: Workspace, *messages: dict[str, Any], source: str = TRUSTED) -> None:
    report = ws.ingest(list(messages), source=source)
    assert not report.rejected, report.rejected
