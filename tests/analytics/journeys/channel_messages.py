"""Segment messages for the hand-built multi-channel people of test_channels, test_ropo and
test_friction: one call per touchpoint, times as datetimes, consent given once per person."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import empreinte
from empreinte.analytics.log import AnalyticsLog

Message = dict[str, Any]
T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)  # a Monday
CONSENTED_AT = datetime(2025, 12, 1, tzinfo=UTC)


def _who(user: str | None, anon: str | None) -> Message:
    who: Message = {}
    if user is not None:
        who["userId"] = user
    if anon is not None:
        who["anonymousId"] = anon
    return who


def consent(user: str | None = None, anon: str | None = None) -> Message:
    return {
        "type": "track",
        "event": "Consent Updated",
        **_who(user, anon),
        "properties": {"purpose": "analytics", "granted": True, "wording_version": "v1"},
        "timestamp": CONSENTED_AT.isoformat(),
        "context": {"channel": "web"},
    }


def track(
    user: str | None,
    event: str,
    at: datetime,
    channel: str,
    anon: str | None = None,
    **properties: Any,
) -> Message:
    return {
        "type": "track",
        "event": event,
        **_who(user, anon),
        "properties": properties,
        "timestamp": at.isoformat(),
        "context": {"channel": channel},
    }


def page(
    user: str | None, name: str, at: datetime, channel: str = "web", anon: str | None = None
) -> Message:
    return {
        "type": "page" if channel == "web" else "screen",
        "name": name,
        **_who(user, anon),
        "properties": {},
        "timestamp": at.isoformat(),
        "context": {"channel": channel},
    }


def identify(user: str, at: datetime, anon: str | None = None, **traits: Any) -> Message:
    return {
        "type": "identify",
        **_who(user, anon),
        "traits": traits,
        "timestamp": at.isoformat(),
        "context": {"channel": "web"},
    }


@contextmanager
def analytics_of(path: Path, messages: list[Message]) -> Iterator[AnalyticsLog]:
    """A fresh workspace at `path` holding `messages`, and its analytics log."""
    with empreinte.open(path) as ws:
        report = ws.ingest(messages, source="web")
        assert not report.rejected, report.rejected
        ws.flush()
        with ws.analytics() as log:
            yield log
