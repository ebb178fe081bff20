"""Hand-built people for the segment tests, whose memberships can be read off the messages.

ann   FR, born 2001 (Gen Z), plan pro, city Paris, 2 store orders (50 + 30) in the 90 days
      before AS_OF, on the web and in store with one cart → omnichannel; allows analytics
      and marketing_sms
bob   FR, born 1985 (Millennial), plan free, 1 web order of 200 ten days before AS_OF;
      allows analytics
cleo  DE, born 2003 (Gen Z), plan "pro", 3 app orders (10 each) 200 days before AS_OF;
      allows analytics and personalisation
dan   FR, born 2000, 5 orders: never allowed analytics → never a member of anything
eve   no country, no birth year, only web pages; allows analytics
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

Message = dict[str, Any]
AS_OF = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
EARLY = datetime(2025, 1, 1, tzinfo=UTC)


def _consent(user: str, purpose: str, granted: bool = True) -> Message:
    return {
        "type": "track",
        "event": "Consent Updated",
        "userId": user,
        "properties": {"purpose": purpose, "granted": granted, "wording_version": "v1"},
        "timestamp": EARLY.isoformat(),
    }


def _identify(user: str, **traits: Any) -> Message:
    return {
        "type": "identify",
        "userId": user,
        "traits": traits,
        "timestamp": EARLY.isoformat(),
        "context": {"channel": "web"},
    }


def _track(user: str, event: str, at: datetime, channel: str, **properties: Any) -> Message:
    return {
        "type": "track",
        "event": event,
        "userId": user,
        "properties": properties,
        "timestamp": at.isoformat(),
        "context": {"channel": channel},
    }


def _page(user: str, name: str, at: datetime) -> Message:
    return {
        "type": "page",
        "userId": user,
        "name": name,
        "properties": {},
        "timestamp": at.isoformat(),
        "context": {"channel": "web"},
    }


def _nps(user: str, score: int) -> Message:
    return {
        "type": "track",
        "event": "NPS Answered",
        "userId": user,
        "properties": {"score": score},
        "timestamp": (EARLY + DAY).isoformat(),
        "context": {"channel": "email"},
    }


def people() -> list[Message]:
    m: list[Message] = []
    m += [_consent("ann", "analytics"), _consent("ann", "marketing_sms")]
    m += [_identify("ann", country="FR", birth_year=2001, plan="pro", city="Paris")]
    m += [_track("ann", "Product Added", AS_OF - 30 * DAY, "web", cart_id="c1")]
    m += [_track("ann", "Order Completed", AS_OF - 29 * DAY, "store", cart_id="c1", revenue=50)]
    m += [_track("ann", "Order Completed", AS_OF - 5 * DAY, "store", revenue=30)]
    m += [_consent("bob", "analytics")]
    m += [_identify("bob", country="FR", birth_year=1985, plan="free", city="Lyon")]
    m += [_page("bob", "Home", AS_OF - 11 * DAY)]
    m += [_track("bob", "Order Completed", AS_OF - 10 * DAY, "web", revenue=200)]
    m += [_consent("cleo", "analytics"), _consent("cleo", "personalisation")]
    m += [_identify("cleo", country="DE", birth_year=2003, plan="pro")]
    m += [
        _track("cleo", "Order Completed", AS_OF - 200 * DAY + i * DAY, "app", total=10)
        for i in range(3)
    ]
    m += [_identify("dan", country="FR", birth_year=2000, plan="pro")]
    m += [_track("dan", "Order Completed", AS_OF - i * DAY, "web", revenue=99) for i in range(5)]
    m += [_consent("eve", "analytics"), _page("eve", "Home", AS_OF - 3 * DAY)]
    m += [_nps("ann", 10), _nps("bob", 3), _nps("cleo", 9), _nps("eve", 7)]
    return m
