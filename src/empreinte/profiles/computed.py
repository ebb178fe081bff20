"""Computed traits: what a profile's events say about the person, beyond what they told us.

Computed from the profile's events without bots (raw values, server-side): first and last
seen, channels used, orders (`Order Completed`), revenue per currency, the last purchase,
birth year and age, country, the preferred channel, and the identifiers per type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from empreinte.identity.model import IdentityRecord
from empreinte.profiles.traits import MergedTraits
from empreinte.profiles.values import birth

ORDER_COMPLETED = "order completed"
UNKNOWN_CURRENCY = "unknown"
UNKNOWN_CHANNEL = "unknown"


@dataclass(frozen=True)
class Purchase:
    """The last `Order Completed` of a profile."""

    time: datetime
    order_id: str | None
    amount: float | None
    currency: str | None
    message_id: str


@dataclass(frozen=True)
class Computed:
    """A profile's computed traits."""

    first_seen: datetime | None = None
    last_seen: datetime | None = None
    events: int = 0
    bot_events: int = 0
    channels: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    revenue: dict[str, float] = field(default_factory=dict)
    last_purchase: Purchase | None = None
    birth_year: int | None = None
    age: int | None = None
    country: str | None = None
    preferred_channel: str | None = None
    identifiers: dict[str, int] = field(default_factory=dict)


def amount(value: Any) -> Decimal | None:
    """A money amount from a number or a numeric text; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _currency(properties: Mapping[str, Any]) -> str:
    value = properties.get("currency")
    if isinstance(value, str) and value.strip():
        return value.strip().upper()
    return UNKNOWN_CURRENCY


def _order_value(properties: Mapping[str, Any]) -> Decimal | None:
    """`revenue` (Segment's e-commerce spec), else `total`."""
    found = amount(properties.get("revenue"))
    return found if found is not None else amount(properties.get("total"))


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text or None


# The traits a birth date or a country is read from, in order of preference.
BIRTH_TRAITS = ("birthday", "date_of_birth", "birthdate", "dateOfBirth", "birth_year")
COUNTRY_TRAITS = ("address.country", "country")


def birth_of(traits: MergedTraits, day_first: bool = True) -> tuple[date | None, int | None]:
    """(birth date, birth year) from `birthday`/`date_of_birth` (raw, from the vault) or
    `birth_year`; (None, None) when unknown or implausible."""
    for path in BIRTH_TRAITS:
        value = traits.raw(path)
        if value is None:
            continue
        iso, year = birth(value, day_first)
        if year is None:
            continue
        day: date | None = None
        if iso is not None:
            try:
                day = date.fromisoformat(iso)
            except ValueError:
                day = None
        return day, year
    return None, None


def age_on(today: date, birthday: date | None, year: int) -> int | None:
    """Age in whole years (from the year alone when the day is unknown); None if negative."""
    if birthday is not None:
        years = (
            today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))
        )
    else:
        years = today.year - year
    return years if 0 <= years <= 130 else None


def country_of(traits: MergedTraits, events: Sequence[Mapping[str, Any]]) -> str | None:
    """`address.country` (or `country`) from the traits, else the region of the locale of the
    most recent event that has one. Two-letter codes are upper-cased."""
    value = _text(traits.raw(*COUNTRY_TRAITS))
    if value is None:
        for record in reversed(events):
            context = record.get("context")
            locale = context.get("locale") if isinstance(context, Mapping) else None
            if isinstance(locale, str) and len(locale) >= 5 and locale[2] in "-_":
                value = locale[3:5]
                break
    if value is None:
        return None
    return value.upper() if len(value) == 2 and value.isalpha() else value


def compute(
    events: Sequence[Mapping[str, Any]],
    traits: MergedTraits,
    identifiers: Iterable[IdentityRecord],
    *,
    today: date,
    bot_events: int = 0,
    day_first: bool = True,
) -> Computed:
    """The computed traits of a profile from its events without bots, in time order (raw
    records), its merged traits and its identifiers."""
    channels: Counter[str] = Counter()
    last_use: dict[str, tuple[datetime, int]] = {}
    revenue: dict[str, Decimal] = {}
    orders = 0
    last: Mapping[str, Any] | None = None
    for record in events:
        channel = record.get("channel") or UNKNOWN_CHANNEL
        channels[channel] += 1
        last_use[channel] = (record["timestamp"], record["seq"])
        event = record.get("event")
        if (
            record.get("type") == "track"
            and isinstance(event, str)
            and event.strip().casefold() == ORDER_COMPLETED
        ):
            orders += 1
            properties = record.get("properties") or {}
            value = _order_value(properties)
            if value is not None:
                currency = _currency(properties)
                revenue[currency] = revenue.get(currency, Decimal(0)) + value
            last = record
    purchase = None
    if last is not None:
        properties = last.get("properties") or {}
        value = _order_value(properties)
        purchase = Purchase(
            time=last["timestamp"],
            order_id=_text(properties.get("order_id") or properties.get("orderId")),
            amount=float(value) if value is not None else None,
            currency=_currency(properties) if value is not None else None,
            message_id=last["message_id"],
        )
    known = {c: n for c, n in channels.items() if c != UNKNOWN_CHANNEL}
    # Most events; a tie goes to the channel used most recently.
    preferred = max(known, key=lambda c: (known[c], last_use[c])) if known else None
    birthday, year = birth_of(traits, day_first)
    return Computed(
        first_seen=events[0]["timestamp"] if events else None,
        last_seen=events[-1]["timestamp"] if events else None,
        events=len(events),
        bot_events=bot_events,
        channels=dict(sorted(channels.items(), key=lambda item: (-item[1], item[0]))),
        orders=orders,
        revenue={c: float(v) for c, v in sorted(revenue.items())},
        last_purchase=purchase,
        birth_year=year,
        age=age_on(today, birthday, year) if year is not None else None,
        country=country_of(traits, events),
        preferred_channel=preferred,
        identifiers=dict(sorted(Counter(r.id_type for r in identifiers).items())),
    )
