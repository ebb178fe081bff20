"""Purchases: the `Order Completed` events of the log, with their owner, value and day.

Each order is a `track("Order Completed")` call of a person (its owner profile now, through
the identity graph, as every journey report reads it: journeys/touchpoints.py), with its value
`properties.revenue`, else `properties.total` (NULL when neither is a number: such orders count
as purchases, worth 0), its currency `properties.currency` (upper case; an order without one is
taken to be in the report's currency) and its day (the date in the workspace's time zone, as a
whole number of days since 1970-01-01, so that day differences are exact on every engine).

One report, one currency: by default the most frequent among the orders read; orders in other
currencies are left out and counted (`Purchases.excluded`). Only people who allow `analytics`
are read; the models (CLV) also leave out people who do not allow `profiling`
(`only_profiled`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import ibis.expr.types as ir

from empreinte.analytics.journeys.touchpoints import JourneyScope, touchpoints
from empreinte.analytics.json import JsonDoc
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

ORDER_EVENT = "Order Completed"
PROFILING_PURPOSE = "profiling"

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
    scope = JourneyScope(since=since, until=until, consented_only=consented_only)
    orders = touchpoints(log, scope, steps=[ORDER_EVENT])
    if profiled_only:
        orders = only_profiled(log, orders)
    doc = JsonDoc(log, orders.properties)
    value = doc.number("revenue").fill_null(doc.number("total"))
    local = log.local_time(orders.at)
    day = local.truncate("D").epoch_seconds().cast("int64") // 86400
    orders = orders.select(
        "profile_id",
        "seq",
        "at",
        day=day,
        revenue=value.cast("float64"),
        currency_code=doc.string("currency").upper(),
    )
    counts = log.execute(orders.group_by("currency_code").agg(n=orders.count()))
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
    kept = (
        orders
        if chosen is None
        else orders.filter(orders.currency_code.isnull() | (orders.currency_code == chosen))
    )
    return Purchases(
        table=kept.select(*COLUMNS),
        currency=chosen,
        excluded=sum(found[code] for code in others),
        excluded_currencies=others,
    )


def only_profiled(log: AnalyticsLog, table: ir.Table) -> ir.Table:
    """The rows of `table` (with `profile_id`) whose person allows profiling now: people who
    refused it are never scored by a model."""
    state = log.derived("consent_state")
    people = state.filter((state.purpose == PROFILING_PURPOSE) & state.allowed)
    return table.filter(table.profile_id.isin(people.profile_id))


def daily(table: ir.Table) -> ir.Table:
    """Orders merged by person and day (the papers' convention: purchases on one day are one
    transaction): `profile_id`, `day`, `revenue` (the day's total; NULL values count 0)."""
    return table.group_by(["profile_id", "day"]).agg(
        revenue=table.revenue.fill_null(0.0).sum(), orders=table.count()
    )


def day_number(moment: datetime) -> int:
    """The day of a date-time (its own wall clock) as days since 1970-01-01, as `day`."""
    return moment.date().toordinal() - 719163
