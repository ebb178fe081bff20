"""Purchases: the `Order Completed` events of the log, with their owner, value and day.

Each order is a `track("Order Completed")` call of a person (its owner profile now, through
the identity graph, as every journey report reads it: journeys/touchpoints.py), with its value
`properties.revenue`, else `properties.total` (NULL when neither is a number: such orders count
as purchases, worth 0), its currency `properties.currency` (upper case; an order without one is
taken to be in the report's currency) and its day (the date in the workspace's time zone, as a
whole number of days since 1970-01-01, so that day differences are exact on every engine).

One report, one currency: by default the most frequent among the period's orders (counted
over all orders, a figure that profiles nobody); orders in other currencies are left out and
counted the same way (`Purchases.excluded`). Only people who allow `analytics`
are read; the models (CLV) also leave out people who do not allow `profiling`
(`only_profiled`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import ibis.expr.types as ir

from empreinte.analytics.cx.consented import only_consenting, only_profiled
from empreinte.analytics.journeys.touchpoints import JourneyScope
from empreinte.analytics.json import JsonDoc
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

ORDER_EVENT = "Order Completed"

#: The columns of `Purchases.table`.
COLUMNS = ("profile_id", "seq", "at", "day", "revenue")


@dataclass(frozen=True)
class Purchases:
    """The orders a report reads (`table`: `COLUMNS`, one row per order), their currency, and
    how many orders in other currencies were left out."""

    table: ir.Table
    currency: str | None
    excluded: int
    excluded_currencies: tuple[str, ...]
    #: The day of the latest order in the report's currency (any person's: a date that
    #: profiles nobody, the default end of a report), None without orders.
    last_day: int | None = None


def purchases(
    log: AnalyticsLog,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    currency: str | None = None,
    consented_only: bool = True,
    profiled_only: bool = False,
) -> Purchases:
    """The orders placed in [`since`, `until`) in one currency (`currency`, else the most
    frequent), of people who allow analytics (and profiling, with `profiled_only`)."""
    # The touchpoint rule (journeys/touchpoints.py), with the order's few fields read before
    # the ownership join: carrying the JSON documents through the join cost twice the time.
    events = order_events(log, since, until)
    doc = JsonDoc(log, events.properties)
    value = order_value(doc)
    local = log.local_time(events.timestamp)
    orders = events.select(
        "seq",
        "identifiers",
        at="timestamp",
        day=local.truncate("D").epoch_seconds().cast("int64") // 86400,
        revenue=value.cast("float64"),
        currency_code=doc.string("currency").upper(),
    )
    # The currencies of all the period's orders: a count, which profiles nobody.
    counts = log.execute(
        orders.group_by("currency_code").agg(n=orders.count(), last_day=orders.day.max())
    )
    found = {
        str(row.currency_code): int(row.n)
        for row in counts.itertuples()
        if isinstance(row.currency_code, str)
    }
    if currency is not None:
        chosen: str | None = currency.strip().upper()
        if not chosen:
            raise AnalyticsError("currency: give a currency code such as EUR, or none")
    elif found:
        # The most frequent; on a tie, the first in alphabetical order (stable across runs).
        chosen = min(found, key=lambda code: (-found[code], code))
    else:
        chosen = None
    others = tuple(sorted(code for code in found if code != chosen))
    last_days = [
        int(row.last_day)
        for row in counts.itertuples()
        if not isinstance(row.currency_code, str) or row.currency_code == chosen
    ]
    if chosen is not None:
        orders = orders.filter(orders.currency_code.isnull() | (orders.currency_code == chosen))
    owned = log.with_owner(orders)
    if consented_only:
        owned = only_consenting(log, owned)
    if profiled_only:
        owned = only_profiled(log, owned)
    return Purchases(
        table=owned.select(*COLUMNS),
        currency=chosen,
        excluded=sum(found[code] for code in others),
        excluded_currencies=others,
        last_day=max(last_days) if last_days else None,
    )


def order_events(
    log: AnalyticsLog, since: datetime | None = None, until: datetime | None = None
) -> ir.Table:
    """The log's `Order Completed` track calls in [`since`, `until`) (either open; aware
    date-times, `since` before `until`), before their owner is joined."""
    scope = JourneyScope(since=since, until=until)  # checks the bounds
    events = log.events()
    events = events.filter((events.type == "track") & (events.event == ORDER_EVENT))
    if scope.since is not None:
        events = events.filter(events.timestamp >= scope.since)
    if scope.until is not None:
        events = events.filter(events.timestamp < scope.until)
    return events


def order_value(properties: JsonDoc) -> ir.FloatingValue:
    """An order's value: `revenue`, else `total` (NULL when neither is a number)."""
    value: ir.FloatingValue = properties.number("revenue").fill_null(properties.number("total"))
    return value


def daily(table: ir.Table) -> ir.Table:
    """Orders merged by person and day (the papers' convention: purchases on one day are one
    transaction): `profile_id`, `day`, `revenue` (the day's total; NULL values count 0)."""
    return table.group_by(["profile_id", "day"]).agg(
        revenue=money(table.revenue.fill_null(0.0).sum()), orders=table.count()
    )


def money(total: ir.FloatingValue) -> ir.FloatingValue:
    """A sum of order values rounded to 1/10,000 of the currency unit: engines add floats in
    different orders, and equal totals must stay equal (scores, parity)."""
    rounded: ir.FloatingValue = total.round(4).cast("float64")
    return rounded


def day_number(moment: datetime) -> int:
    """The day of a date-time (its own wall clock) as days since 1970-01-01, as `day`."""
    return moment.date().toordinal() - 719163
