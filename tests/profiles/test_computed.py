"""Computed traits against hand-built events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from empreinte.identity.model import IdentityRecord
from empreinte.profiles.computed import compute
from empreinte.profiles.traits import TraitPolicy, merge_records

T0 = datetime(2025, 1, 1, tzinfo=UTC)
TODAY = date(2025, 6, 15)


def ev(
    seq: int,
    channel: str | None,
    *,
    type: str = "track",
    event: str | None = "Viewed",
    properties: dict[str, Any] | None = None,
    traits: dict[str, Any] | None = None,
    locale: str | None = None,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "message_id": f"m{seq}",
        "source": "test",
        "type": type,
        "event": event if type == "track" else None,
        "channel": channel,
        "timestamp": T0 + timedelta(days=seq),
        "properties": properties,
        "traits": traits,
        "context": {"locale": locale} if locale else None,
        "pii": None,
    }


def order(seq: int, channel: str, **properties: Any) -> dict[str, Any]:
    return ev(seq, channel, event="Order Completed", properties=properties)


def ids(*keys: str) -> list[IdentityRecord]:
    return [IdentityRecord(k, k.partition(":")[0], "p_x", 1, 1) for k in keys]


def run(events: list[dict[str, Any]], keys: list[IdentityRecord] | None = None, **kw: Any) -> Any:
    traits = merge_records(events, TraitPolicy())
    return compute(events, traits, keys or [], today=TODAY, **kw)


def test_seen_channels_orders_revenue_and_last_purchase() -> None:
    events = [
        ev(1, "web"),
        ev(2, "web"),
        order(3, "store", order_id="A", revenue=10.1, currency="eur"),
        order(4, "web", order_id="B", total="5.20", currency="EUR"),
        order(5, "app", orderId="C", revenue=7, total=99, currency="USD"),
        order(6, "store", order_id="D"),  # no amount: an order, no revenue
        ev(7, None),
        ev(8, "phone", event="Call Started"),
    ]
    c = run(events, ids("user_id:u", "email:pii_a", "email:pii_b", "anonymous_id:x"), bot_events=3)
    assert c.first_seen == T0 + timedelta(days=1) and c.last_seen == T0 + timedelta(days=8)
    assert c.events == 8 and c.bot_events == 3
    # Most used first.
    assert list(c.channels.items()) == [
        ("web", 3),
        ("store", 2),
        ("app", 1),
        ("phone", 1),
        ("unknown", 1),
    ]
    assert c.orders == 4
    assert c.revenue == {"EUR": 15.3, "USD": 7.0}
    assert c.last_purchase is not None
    assert (c.last_purchase.order_id, c.last_purchase.amount) == ("D", None)
    assert c.last_purchase.time == T0 + timedelta(days=6)
    assert c.preferred_channel == "web"
    assert c.identifiers == {"anonymous_id": 1, "email": 2, "user_id": 1}


def test_preferred_channel_ties_go_to_the_most_recent() -> None:
    c = run([ev(1, "web"), ev(2, "store"), ev(3, "store"), ev(4, "web")])
    assert c.preferred_channel == "web"
    assert run([]).preferred_channel is None and run([ev(1, None)]).preferred_channel is None


def test_birth_year_and_age_from_a_birthday_or_a_year() -> None:
    birthday = [ev(1, "web", type="identify", traits={"birthday": "1990-06-16"})]
    c = run(birthday)
    assert (c.birth_year, c.age) == (1990, 34)  # the day before the birthday
    french = [ev(1, "web", type="identify", traits={"date_of_birth": "15/06/1990"})]
    assert run(french).age == 35
    year = [ev(1, "web", type="identify", traits={"birth_year": 1984})]
    assert (run(year).birth_year, run(year).age) == (1984, 41)
    nonsense = [ev(1, "web", type="identify", traits={"birthday": "soon"})]
    assert (run(nonsense).birth_year, run(nonsense).age) == (None, None)


def test_country_from_the_address_else_the_locale() -> None:
    address = [ev(1, "web", type="identify", traits={"address": {"country": "be"}})]
    assert run(address).country == "BE"
    assert run([ev(1, "web", locale="en-US"), ev(2, "web", locale="fr_FR")]).country == "FR"
    assert run([ev(1, "web")]).country is None
