"""Hand-built shoppers for the offers tests, whose next offers can be read off the messages.

Products: B1 pushchair and B2 car seat (baby), T1 wooden train (toys), K1 novel (books),
H1 kettle (home). Bought together: B1 with B2 (bob, cleo), T1 with K1 (dan).

ann   FR; allows analytics and personalisation; bought the pushchair B1 14 days ago, looked
      at the kettle H1 a year ago
bob   FR; allows analytics and personalisation; bought B1 and B2
cleo  US; allows analytics and personalisation; bought B1 and B2, then T1
dan   FR; allows analytics and personalisation; bought T1 and K1
zoe   FR; allows analytics but refused personalisation; bought B1 (a baby offer would fit)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

Message = dict[str, Any]
NOW = datetime.now(UTC)
DAY = timedelta(days=1)
PRODUCTS = {
    "B1": ("Pushchair Zen", "baby", "Nuna", "B1-N"),
    "B2": ("Car seat Pipa", "baby", "Nuna", "B2-N"),
    "T1": ("Wooden train", "toys", "Brio", "T1-N"),
    "K1": ("The Novel", "books", "Folio", "K1-N"),
    "H1": ("Kettle", "home", "Smeg", "H1-N"),
}


def _at(days_ago: float) -> str:
    return (NOW - days_ago * DAY).isoformat()


def consent(user: str, purpose: str, granted: bool = True) -> Message:
    return {
        "type": "track",
        "event": "Consent Updated",
        "userId": user,
        "properties": {"purpose": purpose, "granted": granted, "wording_version": "v1"},
        "timestamp": _at(400),
    }


def _product(pid: str) -> dict[str, Any]:
    name, category, brand, sku = PRODUCTS[pid]
    return {"product_id": pid, "sku": sku, "name": name, "category": category, "brand": brand}


def order(user: str, days_ago: float, *pids: str) -> Message:
    lines = [{**_product(p), "price": 100.0, "quantity": 1} for p in pids]
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": user,
        "properties": {"order_id": f"{user}-{days_ago}", "currency": "EUR", "products": lines},
        "timestamp": _at(days_ago),
        "context": {"channel": "web"},
    }


def viewed(user: str, days_ago: float, pid: str) -> Message:
    return {
        "type": "track",
        "event": "Product Viewed",
        "userId": user,
        "properties": _product(pid),
        "timestamp": _at(days_ago),
        "context": {"channel": "web"},
    }


def person(user: str, country: str, personalisation: bool = True) -> list[Message]:
    return [
        consent(user, "analytics"),
        consent(user, "personalisation", personalisation),
        {"type": "identify", "userId": user, "traits": {"country": country}, "timestamp": _at(400)},
    ]


def shoppers() -> list[Message]:
    m: list[Message] = []
    m += [*person("ann", "FR"), order("ann", 14, "B1"), viewed("ann", 365, "H1")]
    m += [*person("bob", "FR"), order("bob", 40, "B1", "B2")]
    m += [*person("cleo", "US"), order("cleo", 60, "B1", "B2"), order("cleo", 30, "T1")]
    m += [*person("dan", "FR"), order("dan", 20, "T1", "K1"), order("dan", 21, "K1")]
    m += [*person("zoe", "FR", personalisation=False), order("zoe", 10, "B1")]
    return m


def offer(offer_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "offer_id": offer_id,
        "title_en": f"{offer_id} EN",
        "title_fr": f"{offer_id} FR",
        **fields,
    }
