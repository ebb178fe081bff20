"""Hand-built journeys for the touchpoints, paths and retention tests: Segment messages whose
answers can be checked by eye, and a workspace to hold them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import empreinte
from empreinte.analytics.log import AnalyticsLog

Message = dict[str, Any]
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday, 10:00 in Paris

#: Everyone allows analytics unless they say otherwise (docs/privacy.md, `[consent] defaults`).
CONSENTING = "[consent]\ndefaults = { analytics = true }\n"


def at(minutes: float = 0, *, days: float = 0) -> datetime:
    return T0 + timedelta(days=days, minutes=minutes)


def who(person: str) -> dict[str, str]:
    """`anon-…` people are anonymous ids, the others user ids."""
    return {"anonymousId" if person.startswith("anon-") else "userId": person}


def track(
    person: str,
    event: str,
    when: datetime,
    channel: str = "web",
    properties: dict[str, Any] | None = None,
    **context: Any,
) -> Message:
    return {
        "type": "track",
        "event": event,
        **who(person),
        "timestamp": when.isoformat(),
        "properties": properties or {},
        "context": {"channel": channel, **context},
    }


def page(person: str, name: str, when: datetime, channel: str = "web") -> Message:
    return {
        "type": "page",
        "name": name,
        **who(person),
        "timestamp": when.isoformat(),
        "context": {"channel": channel},
    }


def screen(person: str, name: str, when: datetime, channel: str = "app") -> Message:
    return {**page(person, name, when, channel), "type": "screen"}


def identify(user: str, anonymous: str, when: datetime) -> Message:
    return {
        "type": "identify",
        "userId": user,
        "anonymousId": anonymous,
        "timestamp": when.isoformat(),
        "traits": {"plan": "pro"},
    }


def consent(person: str, granted: bool, when: datetime) -> Message:
    return track(
        person,
        "Consent Updated",
        when,
        properties={"purpose": "analytics", "granted": granted, "wording_version": "v1"},
    )


def steps(person: str, names: Iterable[str], start: datetime, every: float = 1.0) -> list[Message]:
    """`person` doing `names` one after another, `every` minutes apart, on the web."""
    return [
        track(person, name, start + timedelta(minutes=i * every)) for i, name in enumerate(names)
    ]


@contextmanager
def journeys(
    root: Path, messages: list[Message], config: str = CONSENTING, timezone: str = "UTC"
) -> Iterator[AnalyticsLog]:
    """A workspace in `root` holding `messages`, opened for analytics."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "empreinte.toml").write_text(f'timezone = "{timezone}"\n{config}')
    with empreinte.open(root) as ws:
        report = ws.ingest(messages)
        assert not report.rejected, report.rejected
        with ws.analytics() as log:
            yield log
