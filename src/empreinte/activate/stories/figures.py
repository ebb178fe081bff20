"""The figures of every person's year, computed in the engine for everyone at once.

Read from the order lines of the year (analytics/order_lines.py: each product line of each
`Order Completed`, owner resolved, people who allow `analytics`), joined to the product
catalogue (activate/catalog.py) by `product_id`:

- orders: the person's `Order Completed` events; items: the sum of quantities; products: the
  distinct product ids (or skus) bought.
- categories: the three categories with the most items (ties: alphabetical); favourite
  channel: the channel of most orders (ties: alphabetical); busiest month: the month (in the
  workspace's time zone) with the most orders (ties: the earliest).
- CO2 avoided, per refurbished line: quantity × (the new unit's kg − the refurbished unit's
  kg), from the catalogue's figures only (never below 0). A line whose product is not in the
  catalogue, or is new, avoids nothing.
- money saved, per refurbished line: what was paid × (the new unit's list price ÷ the
  refurbished unit's list price − 1), i.e. what the new unit would have cost at the shelf
  where the person bought, minus what they paid; currency-free, so it holds for the US
  prices of a euro catalogue. Summed in the person's main currency (the one they spent most
  in), with the promotions of their orders in it: each order's `properties.discount` (the
  Segment spec's field), at most what the order's lines cost.
- the community: every buyer of the year in this computation (people who allow analytics);
  its CO2 avoided in total, and each person's rank: (buyers who avoided more than them + 1)
  ÷ buyers, ties sharing the best place ("top 4 %": under 4 % of buyers avoided more).

Quantities count between 0 and `MAX_QUANTITY` a line: the quantity is the client's word,
and a forged "quantity: 1e9" must not buy a place at the top of the community.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from empreinte.activate.stories.model import Community, YearFigures, YearReport
from empreinte.analytics.cx.consented import allowing
from empreinte.analytics.json import JsonDoc
from empreinte.analytics.know.purchases import ORDER_EVENT
from empreinte.analytics.log import AnalyticsLog
from empreinte.analytics.order_lines import order_lines

MAX_QUANTITY = 20.0
PERSONALISATION = "personalisation"  # the purpose a story needs


def year_bounds(year: int, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def _first(table: ir.Table, by: str, order: list[Any]) -> ir.Table:
    """The first row of each `by` group in `order`."""
    place = ibis.row_number().over(group_by=by, order_by=order)
    return table.mutate(_place=place).filter(lambda t: t._place == 0).drop("_place")


def _lines(log: AnalyticsLog, year: int) -> ir.Table:
    since, until = year_bounds(year, log.settings.timezone)
    lines = order_lines(log, since=since, until=until)
    catalogue = log.table("products").select(
        _pid="product_id",
        _condition="condition",
        _price="price",
        _co2="co2_kg",
        _new_price="new_price",
        _new_co2="new_co2_kg",
    )
    joined = lines.left_join(catalogue, lines.product_id == catalogue._pid)
    quantity = joined.quantity.fill_null(1.0).clip(lower=0.0, upper=MAX_QUANTITY)
    refurbished = joined._condition == "refurbished"
    zero = ibis.literal(0.0)
    per_unit_co2 = ibis.greatest(joined._new_co2 - joined._co2, zero)
    avoided = ibis.ifelse(
        refurbished & joined._new_co2.notnull() & joined._co2.notnull(),
        per_unit_co2 * quantity,
        zero,
    )
    paid = joined.price.clip(lower=0.0) * quantity
    ratio = ibis.greatest(joined._new_price / joined._price - 1.0, zero)
    saved = ibis.ifelse(
        refurbished & joined._new_price.notnull() & (joined._price > 0) & joined.price.notnull(),
        paid * ratio,
        zero,
    )
    return joined.select(
        "profile_id",
        "seq",
        "channel",
        "category",
        currency=joined.currency.upper(),
        product=joined.product_id.fill_null(joined.sku),
        month=log.local_time(joined.at).month(),
        quantity=quantity,
        spent=paid.fill_null(0.0),
        refurbished=ibis.ifelse(refurbished, quantity, zero),
        avoided=avoided.fill_null(0.0),
        saved=saved.fill_null(0.0),
    )


def _promotions(log: AnalyticsLog, year: int, lines: ir.Table) -> ir.Table:
    """Per person and currency, the discounts of their orders (`properties.discount`, the
    Segment spec's order-level field), each at most what the order's lines cost: a client
    may claim any discount, not one larger than the order."""
    since, until = year_bounds(year, log.settings.timezone)
    events = log.events()
    events = events.filter(
        (events.type == "track")
        & (events.event == ORDER_EVENT)
        & (events.timestamp >= since)
        & (events.timestamp < until)
    )
    discount = JsonDoc(log, events.properties).number("discount")
    claimed = events.select(_dseq="seq", discount=discount).filter(lambda t: t.discount > 0)
    orders = lines.group_by(["profile_id", "seq", "currency"]).agg(spent=lines.spent.sum())
    granted = orders.inner_join(claimed, orders.seq == claimed._dseq)
    granted = granted.mutate(kept=ibis.least(granted.discount, granted.spent))
    return granted.group_by([granted.profile_id.name("_pp"), granted.currency.name("_pc")]).agg(
        promotions=granted.kept.sum()
    )


def _locales(log: AnalyticsLog) -> ir.Table:
    """Each person's locale: the latest `traits.locale` they stated, else the latest
    `context.locale` of their events."""
    events = log.events()
    stated = events.select(
        "seq",
        "identifiers",
        "timestamp",
        trait=log.json_string(events.traits, "locale"),
        context=log.json_string(events.context, "locale"),
    ).filter(lambda t: t.trait.notnull() | t.context.notnull())
    owned = log.with_owner(stated)
    return owned.group_by("profile_id").agg(
        _trait=owned.trait.argmax(owned.timestamp, where=owned.trait.notnull()),
        _context=owned.context.argmax(owned.timestamp, where=owned.context.notnull()),
    )


def _totals(lines: ir.Table) -> ir.Table:
    return lines.group_by("profile_id").agg(
        orders=lines.seq.nunique(),
        items=lines.quantity.sum(),
        products=lines.product.nunique(),
        refurbished_items=lines.refurbished.sum(),
        avoided=lines.avoided.sum(),
    )


def people_table(log: AnalyticsLog, year: int, *, personalised_only: bool = True) -> ir.Table:
    """One row per buyer of `year` with every figure and the community's aggregates (window
    totals over every buyer), then — with `personalised_only` — only people who allow
    `personalisation` (after the community is counted: refusing a story does not take one
    out of the total others see)."""
    lines = _lines(log, year)
    totals = _totals(lines)
    everyone = ibis.window()
    ranked = totals.mutate(
        _rank=ibis.rank().over(order_by=ibis.desc(totals.avoided.round(6))),
        c_buyers=totals.count().over(everyone),
        c_avoided=totals.avoided.sum().over(everyone),
        c_refurbished=totals.refurbished_items.sum().over(everyone),
        c_refurbished_buyers=(totals.refurbished_items > 0).cast("int64").sum().over(everyone),
    )
    ranked = ranked.mutate(
        rank_share=ibis.ifelse(
            ranked.avoided > 0,
            (ranked._rank + 1).cast("float64") / ranked.c_buyers.cast("float64"),
            ibis.null("float64"),
        )
    ).drop("_rank")

    by_category = lines.filter(lines.category.notnull())
    by_category = by_category.group_by(["profile_id", "category"]).agg(n=by_category.quantity.sum())
    places = ibis.row_number().over(
        group_by="profile_id", order_by=[ibis.desc(by_category.n), by_category.category]
    )
    by_category = by_category.mutate(_place=places)
    tops = [
        by_category.filter(by_category._place == i).select(
            _cp=by_category.profile_id, **{f"category_{i}": by_category.category}
        )
        for i in range(3)
    ]

    channels = lines.filter(lines.channel.notnull())
    channels = channels.group_by(["profile_id", "channel"]).agg(n=channels.seq.nunique())
    channel = _first(channels, "profile_id", [ibis.desc(channels.n), channels.channel]).select(
        _chp="profile_id", channel="channel", channel_orders="n"
    )
    months = lines.group_by(["profile_id", "month"]).agg(n=lines.seq.nunique())
    month = _first(months, "profile_id", [ibis.desc(months.n), months.month]).select(
        _mp="profile_id", month="month", month_orders="n"
    )
    money = lines.group_by(["profile_id", "currency"]).agg(
        spent=lines.spent.sum(), saved=lines.saved.sum()
    )
    promos = _promotions(log, year, lines)
    money = money.left_join(
        promos,
        (money.profile_id == promos._pp)
        & (money.currency.fill_null("~") == promos._pc.fill_null("~")),
    ).drop("_pp", "_pc")
    main = _first(
        money, "profile_id", [ibis.desc(money.spent), money.currency.fill_null("~")]
    ).select(_sp="profile_id", currency="currency", saved="saved", promotions="promotions")

    facts = log.derived("profile_facts").select(_fp="profile_id", country="country")
    locales = _locales(log).rename(_lp="profile_id")

    joined = ranked
    for part, key in [
        (tops[0], "_cp"),
        (tops[1], "_cp"),
        (tops[2], "_cp"),
        (channel, "_chp"),
        (month, "_mp"),
        (main, "_sp"),
        (facts, "_fp"),
        (locales, "_lp"),
    ]:
        joined = joined.left_join(part, joined.profile_id == part[key]).drop(key)
        joined = joined.drop(*[c for c in joined.columns if c.endswith("_right")])
    if personalised_only:
        joined = allowing(log, joined, PERSONALISATION)
    return joined


def _int(value: Any) -> int:
    return 0 if value is None else round(float(value))


def year_report(
    log: AnalyticsLog,
    year: int,
    *,
    profile_ids: list[str] | None = None,
    personalised_only: bool = True,
) -> YearReport:
    """Every buyer's figures for `year` (only those of `profile_ids` when given) and the
    community's; one engine query."""
    table = people_table(log, year, personalised_only=personalised_only)
    if profile_ids is not None:
        table = table.filter(table.profile_id.isin(profile_ids))
    rows = log.to_pyarrow(table).to_pylist()
    people = {}
    community = Community(year, 0, 0.0, 0, 0)
    for row in rows:
        community = Community(
            year,
            _int(row["c_buyers"]),
            float(row["c_avoided"] or 0.0),
            _int(row["c_refurbished"]),
            _int(row["c_refurbished_buyers"]),
        )
        people[row["profile_id"]] = YearFigures(
            profile_id=row["profile_id"],
            year=year,
            orders=_int(row["orders"]),
            items=_int(row["items"]),
            products=_int(row["products"]),
            categories=tuple(
                row[f"category_{i}"] for i in range(3) if row[f"category_{i}"] is not None
            ),
            channel=row["channel"],
            channel_orders=_int(row["channel_orders"]),
            month=None if row["month"] is None else int(row["month"]),
            month_orders=_int(row["month_orders"]),
            saved=float(row["saved"] or 0.0),
            promotions=float(row["promotions"] or 0.0),
            currency=row["currency"],
            refurbished_items=_int(row["refurbished_items"]),
            co2_avoided_kg=float(row["avoided"] or 0.0),
            rank_share=row["rank_share"],
            country=row["country"],
            locale=row["_trait"] or row["_context"],
        )
    if not rows:
        community = community_of(log, year)
    return YearReport(community, people)


def community_of(log: AnalyticsLog, year: int) -> Community:
    """The community's figures alone (when no person's row carries them)."""
    table = _totals(_lines(log, year))
    totals = table.aggregate(
        buyers=table.count(),
        avoided=table.avoided.sum(),
        refurbished=table.refurbished_items.sum(),
        refurbished_buyers=(table.refurbished_items > 0).cast("int64").sum(),
    )
    row = log.to_pyarrow(totals).to_pylist()[0]
    return Community(
        year,
        _int(row["buyers"]),
        float(row["avoided"] or 0.0),
        _int(row["refurbished"]),
        _int(row["refurbished_buyers"]),
    )
