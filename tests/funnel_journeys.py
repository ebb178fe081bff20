"""A small log for the funnel CLI and API tests: five people who allow analytics and one who
does not, on a shop funnel (web then store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 4, 6, 10, tzinfo=UTC)


def _track(
    user: str, event: str, hours: float, channel: str = "web", **props: Any
) -> dict[str, Any]:
    return {
        "type": "track",
        "event": event,
        "userId": user,
        "properties": props,
        "context": {"channel": channel},
        "timestamp": (T0 + timedelta(hours=hours)).isoformat(),
    }


def funnel_messages() -> list[dict[str, Any]]:
    """f1, f2: view → add → order in store; f3: view → add; f4, f5: view; nc: no consent
    (view → add → order, never counted). Countries: f1, f3 FR; the others DE."""
    out: list[dict[str, Any]] = []
    for i, user in enumerate(["f1", "f2", "f3", "f4", "f5", "nc"], 1):
        if user != "nc":
            consent = {"purpose": "analytics", "granted": True, "wording_version": "v1"}
            out.append(_track(user, "Consent Updated", -48, **consent))
        country = "FR" if user in ("f1", "f3") else "DE"
        out.append(
            {
                "type": "identify",
                "userId": user,
                "traits": {"country": country},
                "timestamp": (T0 - timedelta(hours=47)).isoformat(),
            }
        )
        out.append(_track(user, "Product Viewed", i, plan="pro" if i % 2 else "free"))
        if user in ("f1", "f2", "f3", "nc"):
            out.append(_track(user, "Product Added", i + 1))
        if user in ("f1", "f2", "nc"):
            out.append(_track(user, "Order Completed", i + 24 * i, channel="store"))
    return out
