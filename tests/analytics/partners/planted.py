"""A small shop whose partner figures are computed by hand (k = 5, the floor).

Category "phones", brand "Acme" (an Acme phone costs 100, an Other phone 50), all in 2025,
people in France unless said, every order from the trusted source "python":

| who        | people | orders (in time order)  | kind         | switch |
| ---------- | ------ | ----------------------- | ------------ | ------ |
| repeat-*   | 6      | Acme, Acme              | repeat (R)   | kept   |
| left-*     | 7      | Acme, Other             | one-time (O) | lost   |
| came-*     | 5      | Other, Acme             | one-time (O) | won    |
| other2-*   | 5      | Other, Other            | other (X)    | never  |
| other1-*   | 8      | Other                   | other (X)    | —      |

So: category buyers 31, brand buyers 18 (penetration 18/31), repeat buyers 6 (repeat rate
6/18), switch base 23 (kept 6, lost 7, won 5, never 5; retention 6/13, conquest 5/10), share
of wallet the mean of each brand buyer's brand part: (6 × 200/200 + 12 × 100/150) / 18.

Not counted: 3 Acme buyers whose orders came from the untrusted source "web" (the public write
key), 1 Acme buyer who refused `analytics`, 1 Acme buyer erased. The `other1-*` people are in
the United States (8: a group of its own by country); the `came-*` people are in Belgium (5:
at k = 5 a group, at k = 6 folded into "(other)"). Category "cases": 4 Acme buyers only
(below k: not reported).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

ACME = {"product_id": "a1", "sku": "ACME-1-N", "name": "Acme One", "brand": "Acme"}
OTHER = {"product_id": "o1", "sku": "OTH-1-N", "name": "Other One", "brand": "Other"}
CASE = {"product_id": "c1", "sku": "ACME-C-N", "name": "Acme Case", "brand": "Acme"}
PRICES = {"a1": 100.0, "o1": 50.0, "c1": 10.0}
START = datetime(2025, 3, 1, 12, tzinfo=UTC)

GROUPS: dict[str, tuple[int, tuple[str, ...], str]] = {
    "repeat": (6, ("a", "a"), "FR"),
    "left": (7, ("a", "o"), "FR"),
    "came": (5, ("o", "a"), "BE"),
    "other2": (5, ("o", "o"), "FR"),
    "other1": (8, ("o",), "US"),
}


def _line(product: dict[str, str], category: str) -> dict[str, Any]:
    return {**product, "category": category, "price": PRICES[product["product_id"]], "quantity": 1}


def _order(user: str, n: int, products: list[dict[str, Any]], day: int) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": user,
        "messageId": f"{user}-order-{n}",
        "timestamp": (START + timedelta(days=day)).isoformat(),
        "properties": {
            "order_id": f"{user}-{n}",
            "currency": "EUR",
            "revenue": sum(p["price"] for p in products),
            "products": products,
        },
    }


def _identify(user: str, country: str, year: int) -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": user,
        "messageId": f"{user}-identify",
        "timestamp": START.isoformat(),
        "traits": {"birth_year": year, "address": {"country": country, "city": "Lyon"}},
    }


def trusted_messages() -> list[dict[str, Any]]:
    """Everything sent by the shop's own code (source "python")."""
    out: list[dict[str, Any]] = []
    for name, (people, plan, country) in GROUPS.items():
        for i in range(people):
            user = f"{name}-{i}"
            out.append(_identify(user, country, 1990 + i))
            for n, which in enumerate(plan):
                product = ACME if which == "a" else OTHER
                out.append(_order(user, n, [_line(product, "phones")], day=10 * n + i))
    for i in range(4):  # Acme cases: 4 buyers, below k
        out.append(_order(f"repeat-{i}", 9, [_line(CASE, "cases")], day=40 + i))
    # Counted nowhere: one who refused analytics, one erased later (tests/…/test_report.py).
    for user in ("refuser", "erased"):
        out.append(_identify(user, "FR", 1980))
        out.append(_order(user, 0, [_line(ACME, "phones")], day=3))
    out.append(
        {
            "type": "track",
            "event": "Consent Updated",
            "userId": "refuser",
            "messageId": "refuser-consent",
            "timestamp": START.isoformat(),
            "properties": {"purpose": "analytics", "granted": False},
        }
    )
    return out


def untrusted_messages() -> list[dict[str, Any]]:
    """Acme orders sent with the public write key (source "web"): not counted."""
    return [_order(f"forged-{i}", 0, [_line(ACME, "phones")], day=5) for i in range(3)]
