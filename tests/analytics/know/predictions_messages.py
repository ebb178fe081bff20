"""Segment messages for the hand-built customers of the predictions tests: orders, answers and
contacts at given times, consent given per purpose."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

Message = dict[str, Any]
CONSENTED_AT = datetime(2024, 12, 1, tzinfo=UTC)


def consent(user: str, *purposes: str, granted: bool = True) -> list[Message]:
    return [
        {
            "type": "track",
            "event": "Consent Updated",
            "userId": user,
            "properties": {"purpose": purpose, "granted": granted, "wording_version": "v1"},
            "timestamp": CONSENTED_AT.isoformat(),
            "context": {"channel": "web"},
        }
        for purpose in purposes
    ]


def customer(user: str, *, profiling: bool = True) -> list[Message]:
    """Consent to analytics, and to profiling unless told otherwise."""
    return consent(user, "analytics") + (consent(user, "profiling") if profiling else [])


def track(user: str, event: str, at: datetime, channel: str = "web", **props: Any) -> Message:
    return {
        "type": "track",
        "event": event,
        "userId": user,
        "properties": props,
        "timestamp": at.isoformat(),
        "context": {"channel": channel},
    }


def order(user: str, at: datetime, revenue: float, channel: str = "web") -> Message:
    return track(user, "Order Completed", at, channel, revenue=revenue, currency="EUR")


def orders(user: str, times: Iterable[datetime], revenue: float = 10.0) -> list[Message]:
    return [order(user, at, revenue) for at in times]


def identify(user: str, at: datetime, **traits: Any) -> Message:
    return {
        "type": "identify",
        "userId": user,
        "traits": traits,
        "timestamp": at.isoformat(),
        "context": {"channel": "web"},
    }


def group(user: str, group_id: str, at: datetime, **traits: Any) -> Message:
    return {
        "type": "group",
        "userId": user,
        "groupId": group_id,
        "traits": traits,
        "timestamp": at.isoformat(),
        "context": {"channel": "web"},
    }
