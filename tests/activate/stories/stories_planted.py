"""A small workspace whose year-in-review answers are worked out by hand (tests/activate/stories).

Catalogue: a phone new (PH-1-N, 500 €, 60 kg) and refurbished (PH-1-R, 300 €, 9 kg: 51 kg
avoided a unit, and 500/300 − 1 = 2/3 of the price paid saved); a refurbished laptop whose
new twin is not in the catalogue (LT-R: 600 €, 50 kg, new_price 1000, new_co2_kg 250: 200 kg
avoided, 2/3 saved); a book (BK-N, 10 €, 1 kg).

2025 (UTC), consent by the trusted Python source:
- alice (fr-FR; analytics, personalisation): 10 Mar web PH-1-R + 2 books; 20 Mar app LT-R;
  1 Jul web 1 book; and 2024-12-31 a PH-1-R (another year). Items 5, orders 3, categories
  books 3, then laptops 1 and phones 1 (alphabetical), web 2 of 3 orders, March 2 orders;
  CO2 51 + 200 = 251 kg; saved 300×2/3 + 600×2/3 = 600 € by refurbished, and the July
  order's 3 € discount.
- bob (en-US; analytics, personalisation): 5 May store 2 × PH-1-R at 324 USD, and a book line
  that claims to be refurbished with 99,999 kg (the catalogue says new: nothing); CO2 102 kg;
  saved 648 × 2/3 = 432 USD.
- carol (analytics only: refuses personalisation): 1 × PH-1-R: 51 kg; counted in the
  community, no story.
- dave (analytics, personalisation): one book of 10 €, claiming a 50 € discount (counted as
  10 €, the order's cost): no impact, no rank.
- erin (no consent at all): LT-R: outside the community.

Community 2025: 4 buyers (alice, bob, carol, dave), 251 + 102 + 51 = 404 kg, 4 refurbished
items... (alice 2, bob 2, carol 1 = 5 items), 3 refurbished buyers. Ranks by CO2: alice 1st
of 4 (top 25 %), bob 2nd (top 50 %), carol 3rd (top 75 %).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import empreinte

CATALOGUE = [
    {"product_id": "PH1N", "sku": "PH-1-N", "name": "Phone X", "brand": "Acme",
     "category": "phones", "condition": "new", "price": "500", "currency": "EUR",
     "co2_kg": "60"},
    {"product_id": "PH1R", "sku": "PH-1-R", "name": "Phone X (refurbished)", "brand": "Acme",
     "category": "phones", "condition": "refurbished", "price": "300", "currency": "EUR",
     "co2_kg": "9", "replaces_sku": "PH-1-N"},
    {"product_id": "LTR", "sku": "LT-R", "name": "Laptop (refurbished)", "brand": "Acme",
     "category": "laptops", "condition": "refurbished", "price": "600", "currency": "EUR",
     "co2_kg": "50", "new_price": "1000", "new_co2_kg": "250"},
    {"product_id": "BKN", "sku": "BK-N", "name": "A book", "brand": "Folio",
     "category": "books", "condition": "new", "price": "10", "currency": "EUR",
     "co2_kg": "1"},
]  # fmt: skip

COLUMNS = [
    "product_id", "sku", "name", "brand", "category", "condition", "price", "currency",
    "co2_kg", "replaces_sku", "new_price", "new_co2_kg",
]  # fmt: skip

LOCALES = {"alice": "fr-FR", "bob": "en-US", "carol": "fr-FR", "dave": "en-US", "erin": "fr-FR"}
CONSENTS = {
    "alice": ("analytics", "personalisation"),
    "bob": ("analytics", "personalisation"),
    "carol": ("analytics",),
    "dave": ("analytics", "personalisation"),
    "erin": (),
}


def write_catalogue(path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(CATALOGUE)
    return path


def line(product_id: str, price: float, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    row = next(r for r in CATALOGUE if r["product_id"] == product_id)
    return {
        "product_id": product_id,
        "sku": row["sku"],
        "name": row["name"],
        "category": row["category"],
        "condition": row["condition"],
        "price": price,
        "quantity": quantity,
        **extra,
    }


def order(
    user: str,
    when: str,
    channel: str,
    lines: list[dict[str, Any]],
    currency: str = "EUR",
    discount: float | None = None,
) -> dict[str, Any]:
    extra = {} if discount is None else {"discount": discount}
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": user,
        "timestamp": when,
        "context": {"channel": channel, "locale": LOCALES[user]},
        "properties": {
            "order_id": f"{user}-{when}",
            "currency": currency,
            "products": lines,
            **extra,
        },
    }


def messages() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for user, purposes in CONSENTS.items():
        for purpose in ("analytics", "personalisation"):
            if purpose in purposes or user == "carol":
                out.append(
                    {
                        "type": "track",
                        "event": "Consent Updated",
                        "userId": user,
                        "timestamp": "2025-01-01T00:00:00Z",
                        "context": {"locale": LOCALES[user]},
                        "properties": {
                            "purpose": purpose,
                            "granted": purpose in purposes,
                            "wording_version": "v1",
                        },
                    }
                )
    out += [
        order("alice", "2024-12-31T10:00:00Z", "web", [line("PH1R", 300)]),
        order("alice", "2025-03-10T10:00:00Z", "web", [line("PH1R", 300), line("BKN", 10, 2)]),
        order("alice", "2025-03-20T10:00:00Z", "app", [line("LTR", 600)]),
        order("alice", "2025-07-01T10:00:00Z", "web", [line("BKN", 10)], discount=3),
        order(
            "bob",
            "2025-05-05T10:00:00Z",
            "store",
            [
                line("PH1R", 324, 2),
                line("BKN", 11, 1, condition="refurbished", co2_kg=99_999),
            ],
            currency="USD",
        ),
        order("carol", "2025-06-01T10:00:00Z", "web", [line("PH1R", 300)]),
        order("dave", "2025-09-09T10:00:00Z", "web", [line("BKN", 10)], discount=50),
        order("erin", "2025-10-10T10:00:00Z", "web", [line("LTR", 600)]),
    ]
    return out


def build(path: Path) -> dict[str, str]:
    """Fill the workspace at `path`; the profile id of each person."""
    ws = empreinte.open(path)
    try:
        report = ws.ingest(messages())
        assert not report.rejected, report.rejected
        loaded = ws.stories.catalogue.import_file(write_catalogue(path / "catalogue.csv"))
        assert not loaded.problems, loaded.problems
        found = {user: ws.profiles.find("userId", user) for user in LOCALES}
        return {user: pid for user, pid in found.items() if pid}
    finally:
        ws.close()
