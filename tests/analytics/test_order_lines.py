"""Order lines: the `products` array of each order unnested, by the documented rules, on a
hand-built log whose every line is known."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import empreinte
from empreinte.analytics.order_lines import LINE_COLUMNS, order_lines

DAY = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 00:30 on the 29th in Paris


def consent(who: str, granted: bool = True) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Consent Updated",
        "userId": who,
        "properties": {"purpose": "analytics", "granted": granted, "wording_version": "v1"},
        "timestamp": "2026-01-01T00:00:00Z",
    }


def order(who: dict[str, str], at: datetime, products: Any, **extra: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Order Completed",
        **who,
        "properties": {"order_id": extra.pop("order_id", "O1"), "products": products, **extra},
        "timestamp": at.isoformat(),
        "context": {"channel": extra.pop("channel", "web")},
    }


PHONE = {
    "product_id": "P1",
    "sku": "PH-1-R",
    "name": "Phone",
    "brand": "Acme",
    "category": "phones",
    "price": 120.5,
    "quantity": 2,
    "condition": "refurbished",
    "co2_kg": 8.25,
}
BOOK = {"product_id": "P2", "sku": 42, "name": "Book", "price": "9.90"}


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pd.DataFrame]:
    root: Path = tmp_path_factory.mktemp("order-lines")
    (root / "empreinte.toml").write_text('timezone = "Europe/Paris"\n')
    with empreinte.open(root) as ws:
        report = ws.ingest(
            [
                consent("ann"),
                consent("bob", granted=False),
                # Ann's first order is made as a guest (anonymous id), then she logs in.
                order(
                    {"anonymousId": "anon-1"},
                    DAY,
                    [PHONE, BOOK, "junk", 7, None, [1]],
                    currency="eur",
                ),
                {
                    "type": "identify",
                    "userId": "ann",
                    "anonymousId": "anon-1",
                    "timestamp": "2026-03-30T00:00:00Z",
                },
                order({"userId": "ann"}, datetime(2026, 4, 2, tzinfo=UTC), [], order_id="O2"),
                order(
                    {"userId": "ann"},
                    datetime(2026, 4, 3, tzinfo=UTC),
                    {"not": "a list"},
                    order_id="O3",
                ),
                order(
                    {"userId": "ann"},
                    datetime(2026, 4, 4, tzinfo=UTC),
                    [{"product_id": "P3", "quantity": 0, "price": 5}],
                    order_id=17,
                    channel="store",
                ),
                order({"userId": "bob"}, DAY, [PHONE], order_id="B1"),
            ]
        )
        assert not report.rejected
        with ws.analytics() as log:
            yield log.execute(order_lines(log).order_by(["seq", "line"]))


def test_columns_are_the_contract(lines: pd.DataFrame) -> None:
    assert tuple(lines.columns) == LINE_COLUMNS


def test_only_object_lines_of_consenting_people(lines: pd.DataFrame) -> None:
    # Bob refused analytics; the junk items, the empty list and the object are no lines.
    assert list(zip(lines.order_id, lines.line, strict=True)) == [("O1", 0), ("O1", 1), ("17", 0)]
    assert set(lines.profile_id) == {lines.profile_id.iloc[0]}  # the guest order is Ann's


def test_fields_read_by_the_rules(lines: pd.DataFrame) -> None:
    phone, book, fries = (row._asdict() for row in lines.itertuples(index=False))
    assert (phone["sku"], phone["brand"], phone["condition"]) == ("PH-1-R", "Acme", "refurbished")
    assert (phone["price"], phone["quantity"], phone["amount"], phone["co2_kg"]) == (
        120.5,
        2.0,
        241.0,
        8.25,
    )
    assert phone["currency"] == "EUR" and phone["channel"] == "web"
    # Paris is an hour ahead of UTC on 28 March 2026 at 23:30: the order's day is the 29th.
    assert phone["day"] == datetime(2026, 3, 29).toordinal() - datetime(1970, 1, 1).toordinal()
    # A number sku is its JSON text; a price in a string is not a number; absent text is NULL.
    assert book["sku"] == "42" and pd.isna(book["price"]) and pd.isna(book["amount"])
    assert book["quantity"] == 1.0 and pd.isna(book["brand"]) and pd.isna(book["co2_kg"])
    # A quantity that is not positive counts one unit.
    assert (fries["quantity"], fries["amount"], fries["channel"]) == (1.0, 5.0, "store")


def test_since_until_bound_the_orders(tmp_path: Path) -> None:
    with empreinte.open(tmp_path) as ws:
        ws.ingest([consent("ann"), order({"userId": "ann"}, DAY, [PHONE])])
        with ws.analytics() as log:
            inside = order_lines(log, since=DAY, until=datetime(2026, 4, 1, tzinfo=UTC))
            after = order_lines(log, since=datetime(2026, 3, 29, tzinfo=UTC))
            everyone = order_lines(log, consented_only=False)
            assert log.execute(inside.count()) == 1
            assert log.execute(after.count()) == 0
            assert log.execute(everyone.count()) == 1
