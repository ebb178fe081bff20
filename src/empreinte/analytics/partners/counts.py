"""The counts behind a partner report, in the engine (one Ibis expression: DuckDB or Spark).

From the order lines (analytics/order_lines.py: people who allow `analytics`, owner resolved,
erased people gone) of the report's period and sources, per person and category (and the
pseudo-category `ALL`, every line):

- `kind`: `R` (bought the brand in the category in two orders or more: a repeat buyer),
  `O` (in one order), `X` (bought the category, never the brand);
- `switch`, for people with two orders or more in the category: the brand's presence in their
  first and in their last order of it (`PP` kept, `PO` lost, `OP` won, `OO` never), orders in
  time order (ties by log position);
- `share`: for a brand buyer, the part of their spending on the category that went to the
  brand (amounts of their own lines, so one currency per person: no exchange rate needed).

People are then counted per category, group (generation, country, city, or `ALL`), kind and
switch: the result has a few hundred rows at most, and describes nobody until cells.py has
withheld the small counts.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Literal

import ibis
import ibis.expr.types as ir

from empreinte.analytics.attributes import facts_attribute, with_attribute
from empreinte.analytics.log import AnalyticsLog
from empreinte.analytics.order_lines import order_lines

ALL = "(all)"
UNKNOWN = "(unknown)"
Breakdown = Literal["generation", "country", "city"]
BREAKDOWNS: tuple[str, ...] = ("generation", "country", "city")
#: The trait a city is read from (the demo's and Segment's spec: `traits.address.city`).
CITY_TRAIT = "traits.address.city"

#: A share of wallet is summed in billionths, as exact integers.
SHARE_UNIT = 1_000_000_000
#: The columns of `partner_counts`.
COLUMNS = ("category", "grp", "kind", "switch", "people", "share_units", "share_n")


def brand_key(name: str) -> str:
    """A brand as compared: trimmed, lower case (\"Apple\", \"apple \" are one brand)."""
    return name.strip().lower()


def report_lines(
    log: AnalyticsLog,
    *,
    since: datetime | None,
    until: datetime | None,
    sources: Collection[str] | None,
) -> ir.Table:
    """The order lines a partner report reads: the period's, of consenting people, from
    `sources` only (None: any source)."""
    lines = order_lines(log, since=since, until=until)
    if sources is not None:
        events = log.events()
        trusted = events.filter(events.source.isin(sorted(sources)))
        lines = lines.filter(lines.seq.isin(trusted.seq))
    return lines


def partner_counts(
    log: AnalyticsLog,
    lines: ir.Table,
    brand: str,
    by: Breakdown | None,
) -> ir.Table:
    """People per category, group, kind and switch, with the sum and number of their shares
    of wallet (`COLUMNS`)."""
    key = brand_key(brand)
    is_brand = lines.brand.strip().lower().fill_null("") == key
    amount = lines.amount.fill_null(0.0)
    base = lines.select(
        "profile_id",
        "seq",
        "at",
        category=lines.category,
        mine=is_brand.cast("int32"),
        brand_amount=ibis.cases((is_brand, amount), else_=0.0),
        category_amount=amount,
    )
    every = base.mutate(category=ibis.literal(ALL, "string"))
    both = ibis.union(base.filter(base.category.notnull()), every)
    orders = both.group_by(["profile_id", "category", "seq", "at"]).agg(
        mine=both.mine.max(),
        brand_amount=both.brand_amount.sum(),
        category_amount=both.category_amount.sum(),
    )
    place = ibis.window(
        group_by=[orders.profile_id, orders.category], order_by=[orders.at, orders.seq]
    )
    ranked = orders.mutate(
        rank=ibis.row_number().over(place),
        n=orders.count().over(ibis.window(group_by=[orders.profile_id, orders.category])),
    )
    people = ranked.group_by(["profile_id", "category"]).agg(
        orders=ranked.count(),
        brand_orders=ranked.mine.sum(),
        first=ibis.cases((ranked["rank"] == 0, ranked.mine), else_=ibis.null("int32")).max(),
        last=ibis.cases(
            (ranked["rank"] == ranked.n - 1, ranked.mine), else_=ibis.null("int32")
        ).max(),
        brand_amount=ranked.brand_amount.sum(),
        category_amount=ranked.category_amount.sum(),
    )
    share = ibis.cases(
        ((people.brand_orders > 0) & (people.category_amount > 0),
         people.brand_amount / people.category_amount),
        else_=ibis.null("float64"),
    )  # fmt: skip
    people = people.mutate(
        share=share,
        kind=ibis.cases(
            (people.brand_orders >= 2, "R"), (people.brand_orders == 1, "O"), else_="X"
        ),
        switch=ibis.cases(
            (people.orders < 2, ibis.null("string")),
            ((people["first"] == 1) & (people["last"] == 1), "PP"),
            (people["first"] == 1, "PO"),
            (people["last"] == 1, "OP"),
            else_="OO",
        ),
    )
    grouped = _with_group(log, people, by)
    counts = grouped.group_by(["category", "grp", "kind", "switch"]).agg(
        people=grouped.count(),
        # Each share in billionths, summed as integers: engines add floats in different
        # orders (a rounded float sum still flips where it meets a rounding point), integers
        # add up to the same figure in any order.
        share_units=(grouped.share * SHARE_UNIT).round().cast("int64").sum().fill_null(0),
        share_n=grouped.share.count(),
    )
    return counts.select(*COLUMNS)


def _with_group(log: AnalyticsLog, people: ir.Table, by: Breakdown | None) -> ir.Table:
    """`people` with `grp`: the person's generation, country or city (`UNKNOWN` when not
    known), or `ALL`."""
    if by is None:
        return people.mutate(grp=ibis.literal(ALL, "string"))
    if by == "city":
        with_city = with_attribute(log, people, CITY_TRAIT, "grp")
        grp = ibis.cases((with_city.grp == "(none)", UNKNOWN), else_=with_city.grp)
        return with_city.mutate(grp=grp)
    facts = log.derived("profile_facts")
    value = facts_attribute(log, facts, by)
    groups = facts.select(_person="profile_id", _value=value)
    joined = people.left_join(groups, people.profile_id == groups._person)
    return joined.mutate(grp=joined._value.fill_null(UNKNOWN)).drop("_person", "_value")


def brand_buyers(log: AnalyticsLog, lines: ir.Table) -> ir.Table:
    """Per brand (as compared: `brand_key`): `brand` (its most frequent spelling's key),
    `buyers` (people), `categories` (distinct categories)."""
    named = lines.filter(lines.brand.notnull() & (lines.brand.strip() != ""))
    named = named.mutate(key=named.brand.strip().lower())
    return named.group_by("key").agg(
        name=named.brand.strip().min(),
        buyers=named.profile_id.nunique(),
        categories=named.category.nunique(),
    )
