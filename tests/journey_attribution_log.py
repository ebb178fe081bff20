"""A small hand-built log for the attribution CLI and API tests, with its figures worked out by
hand: "a" email > social > web (order on the web, 100), "b" web > store (order in the store,
50), "c" an SMS and no order, "n" (no analytics consent) ordered but is not read.

first touch: email 1 (100), web 1 (50); last touch: web 1 (100), store 1 (50); linear:
email, social 1/3 each, web 1/3 + 1/2, store 1/2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

GOAL_AT = datetime(2026, 3, 10, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def _track(who: str, event: str, at: datetime, channel: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": event,
        "userId": who,
        "properties": properties,
        "context": {"channel": channel},
        "timestamp": at.isoformat(),
    }


def messages() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for who in ("a", "b", "c"):
        out.append(
            _track(
                who,
                "Consent Updated",
                GOAL_AT - 60 * DAY,
                "web",
                purpose="analytics",
                granted=True,
                wording_version="v1",
            )
        )
    out += [
        _track("a", "Email Opened", GOAL_AT - 14 * DAY, "email"),
        _track("a", "Ad Clicked", GOAL_AT - 7 * DAY, "social"),
        _track("a", "Order Completed", GOAL_AT, "web", revenue=100.0),
        _track("b", "Product Viewed", GOAL_AT - 2 * DAY, "web"),
        _track("b", "Order Completed", GOAL_AT, "store", revenue=50.0),
        _track("c", "SMS Delivered", GOAL_AT - DAY, "sms"),
        _track("n", "Email Opened", GOAL_AT - DAY, "email"),
        _track("n", "Order Completed", GOAL_AT, "web", revenue=999.0),
    ]
    return out
