"""RFM: how recently, how often and how much each customer bought, scored 1–5 and named.

At a reference moment (`at`, excluded; by default the day after the latest order), for each
customer with an order before it (purchases.py: people who allow analytics, one currency):

- recency: days from the day of their last order to the reference day (1: the day before);
- frequency: their number of orders;
- monetary: the total value of their orders (rounded to 1/10,000 of the currency unit).

Scores are quintiles computed in the engine: `ntile(5)` over all customers ordered by the
value (recency from the oldest, so that the most recent score 5; frequency and monetary from
the smallest), and **ties share the lowest score any of them would get** (the ntile of the
first of them), so that equal values always have equal scores (quintiles are then uneven
where many customers share a value: all one-order customers have F = 1).

Segments are the usual map on R and FM = (F + M) / 2 (see `SEGMENTS`; docs/value.md has the
grid). The first rule that matches wins; every (R, FM) cell has exactly one segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.attributes import is_profile_attribute, with_attribute
from empreinte.analytics.know.purchases import Purchases, day_number, money, purchases
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

#: The named segments, in the order they are tried: name, then the rule on R (1–5) and FM2 =
#: F + M (2–10, twice the mean of F and M), as (R range, FM2 range), ranges inclusive.
SEGMENTS: tuple[tuple[str, tuple[tuple[tuple[int, int], tuple[int, int]], ...]], ...] = (
    ("champions", (((4, 5), (8, 10)),)),
    ("loyal customers", (((3, 5), (6, 7)), ((3, 3), (8, 10)))),
    ("potential loyalists", (((4, 5), (4, 5)),)),
    ("new customers", (((5, 5), (2, 3)),)),
    ("promising", (((4, 4), (2, 3)),)),
    ("need attention", (((3, 3), (4, 5)),)),
    ("about to sleep", (((3, 3), (2, 3)),)),
    ("cannot lose them", (((1, 1), (8, 10)),)),
    ("at risk", (((2, 2), (6, 10)), ((1, 1), (6, 7)))),
    ("hibernating", (((2, 2), (2, 5)), ((1, 1), (4, 5)))),
    ("lost", (((1, 1), (2, 3)),)),
)
SEGMENT_NAMES: tuple[str, ...] = tuple(name for name, _ in SEGMENTS)

#: The columns of `RfmReport.customers`.
COLUMNS = (
    "profile_id",
    "recency",
    "frequency",
    "monetary",
    "r",
    "f",
    "m",
    "rfm",
    "segment",
)


def segment_of(r: int, f: int, m: int) -> str:
    """The segment of scores (r, f, m), in Python (the engine uses `segment_expr`)."""
    for name, rules in SEGMENTS:
        for (r_lo, r_hi), (fm_lo, fm_hi) in rules:
            if r_lo <= r <= r_hi and fm_lo <= f + m <= fm_hi:
                return name
    raise AnalyticsError(f"RFM: scores ({r}, {f}, {m}) out of 1–5")


def segment_expr(r: ir.IntegerValue, f: ir.IntegerValue, m: ir.IntegerValue) -> ir.StringValue:
    fm2 = f + m
    branches = []
    for name, rules in SEGMENTS:
        test = ibis.literal(False)
        for (r_lo, r_hi), (fm_lo, fm_hi) in rules:
            test = test | (r.between(r_lo, r_hi) & fm2.between(fm_lo, fm_hi))
        branches.append((test, ibis.literal(name)))
    segment: ir.StringValue = ibis.cases(*branches, else_=ibis.null("string"))
    return segment


def _score(
    table: ir.Table, value: str, n: ir.IntegerValue, *, descending: bool = False
) -> ir.Table:
    """`table` with `_<value>`: the quintile score of `value` among `n` customers, ties
    sharing the lowest. The score is `ntile(5)` of the first of the tied customers, computed
    from their rank (one window, where `ntile` and a minimum over ties would take two):
    with n = 5·s + e, the first e quintiles hold s + 1 customers, the others s."""
    key = ibis.desc(table[value]) if descending else table[value]
    k = ibis.rank().over(ibis.window(order_by=key))  # customers strictly before (0-based)
    s, e = n // 5, n % 5
    big = e * (s + 1)  # customers in the larger quintiles
    tile = ibis.ifelse(k < big, k // (s + 1), e + (k - big) // ibis.greatest(s, 1)) + 1
    return table.mutate(**{f"_{value}": tile.cast("int64")})


def rfm_table(table: ir.Table, reference_day: int) -> ir.Table:
    """The RFM of each customer (`COLUMNS`) from purchases (`profile_id`, `day`, `revenue`)
    before `reference_day` (days since 1970-01-01), in the engine."""
    before = table.filter(table.day < reference_day)
    per = before.group_by("profile_id").agg(
        recency=(reference_day - before.day.max()).cast("int64"),
        frequency=before.count().cast("int64"),
        monetary=money(before.revenue.fill_null(0.0).sum()),
    )
    n = per.count().over(ibis.window()).cast("int64")
    per = per.mutate(_n=n)
    scored = _score(per, "recency", per._n, descending=True)
    scored = _score(scored, "frequency", scored._n)
    scored = _score(scored, "monetary", scored._n)
    r, f, m = scored._recency, scored._frequency, scored._monetary
    return scored.select(
        "profile_id",
        "recency",
        "frequency",
        "monetary",
        r=r,
        f=f,
        m=m,
        rfm=r.cast("string").concat(f.cast("string"), m.cast("string")),
        segment=segment_expr(r, f, m),
    )


@dataclass(frozen=True)
class SegmentRow:
    segment: str
    customers: int
    share: float
    revenue: float
    revenue_share: float
    mean_recency: float | None
    mean_frequency: float | None
    mean_monetary: float | None


@dataclass(frozen=True)
class BreakdownRow:
    """Customers of `group` (a value of the breakdown attribute) in `segment`."""

    group: str
    segment: str
    customers: int
    share: float  # of the group's customers
    revenue: float


@dataclass(frozen=True)
class RfmReport:
    reference: datetime
    currency: str | None
    excluded_orders: int
    excluded_currencies: tuple[str, ...]
    segments: tuple[SegmentRow, ...]
    customers: pd.DataFrame = field(repr=False)
    by: str | None = None
    breakdown: tuple[BreakdownRow, ...] = ()

    def to_rows(self) -> list[dict[str, Any]]:
        """The segments (or, with a breakdown, the segments of each group)."""
        if self.by is not None:
            return [dict(row.__dict__) for row in self.breakdown]
        return [dict(row.__dict__) for row in self.segments]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows())

    def grid(self) -> pd.DataFrame:
        """Customers by R (rows, 5 first) and FM = (F + M) / 2 (columns), for the heat map."""
        frame = self.customers.assign(fm=(self.customers["f"] + self.customers["m"]) / 2)
        counts = frame.groupby(["r", "fm"]).size().unstack(fill_value=0)
        columns = [v / 2 for v in range(2, 11)]
        return counts.reindex(index=[5, 4, 3, 2, 1], columns=columns, fill_value=0)


def reference_of(log: AnalyticsLog, bought: Purchases, at: datetime | None) -> tuple[datetime, int]:
    """The reference moment and its day: `at`, else the midnight after the latest order."""
    if at is not None:
        local = at.astimezone(_zone(log))
        day = day_number(local)
        # An order on the reference day before `at` counts: the day after is the cut.
        return at, day + (1 if local.time() != datetime.min.time() else 0)
    if bought.last_day is None:
        raise AnalyticsError("RFM: no Order Completed event in the log (in that currency)")
    day = bought.last_day + 1
    moment = datetime(1970, 1, 1, tzinfo=_zone(log)) + timedelta(days=day)
    return moment, day


def _zone(log: AnalyticsLog) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(log.settings.timezone)


def rfm_report(
    log: AnalyticsLog,
    *,
    at: datetime | None = None,
    since: datetime | None = None,
    currency: str | None = None,
    by: str | None = None,
    consented_only: bool = True,
) -> RfmReport:
    """Scores, segments and their sizes at `at` (orders from `since`), broken down by profile
    attribute `by` (generation, country, preferred_channel, traits.<path>) when given.
    `consented_only=False` (everyone, not only people who allow analytics) is for benchmarks
    and aggregate checks."""
    if by is not None and not is_profile_attribute(by):
        raise AnalyticsError(
            f"RFM breakdown: a customer's segment is broken down by a profile attribute"
            f" (country, generation, birth_year, preferred_channel, traits.<path>), not {by!r}"
        )
    bought = purchases(log, since=since, until=at, currency=currency, consented_only=consented_only)
    reference, day = reference_of(log, bought, at)
    table = rfm_table(bought.table, day)
    # Sorted in the engine (in parallel; profile ids are unique, so any sort is the same).
    frame = log.execute(table.order_by("profile_id")).reset_index(drop=True)
    breakdown: tuple[BreakdownRow, ...] = ()
    if by is not None:
        grouped = with_attribute(log, table, by, "group")
        counts = log.execute(
            grouped.group_by(["group", "segment"]).agg(
                customers=grouped.count(), revenue=grouped.monetary.sum()
            )
        )
        breakdown = _breakdown(counts)
    return RfmReport(
        reference=reference,
        currency=bought.currency,
        excluded_orders=bought.excluded,
        excluded_currencies=bought.excluded_currencies,
        segments=_segments(frame),
        customers=frame.loc[:, list(COLUMNS)],
        by=by,
        breakdown=breakdown,
    )


def _segments(frame: pd.DataFrame) -> tuple[SegmentRow, ...]:
    total = len(frame)
    revenue = float(frame["monetary"].sum()) if total else 0.0
    rows = []
    # One pass over the customers; a segment without any gives an empty part.
    parts = dict(tuple(frame.groupby("segment", sort=False)))
    for name in SEGMENT_NAMES:
        part = parts.get(name, frame.iloc[:0])
        n = len(part)
        money = float(part["monetary"].sum())
        rows.append(
            SegmentRow(
                segment=name,
                customers=n,
                share=n / total if total else 0.0,
                revenue=round(money, 2),
                revenue_share=money / revenue if revenue else 0.0,
                mean_recency=float(part["recency"].mean()) if n else None,
                mean_frequency=float(part["frequency"].mean()) if n else None,
                mean_monetary=float(part["monetary"].mean()) if n else None,
            )
        )
    return tuple(rows)


def _breakdown(counts: pd.DataFrame) -> tuple[BreakdownRow, ...]:
    sizes = counts.groupby("group")["customers"].sum()
    order = {name: i for i, name in enumerate(SEGMENT_NAMES)}
    rows = [
        BreakdownRow(
            group=str(row.group),
            segment=str(row.segment),
            customers=int(row.customers),
            share=int(row.customers) / int(sizes[row.group]),
            revenue=round(float(row.revenue), 2),
        )
        for row in counts.itertuples()
    ]
    return tuple(sorted(rows, key=lambda r: (r.group, order.get(r.segment, 99))))


def rfm_scores(log: AnalyticsLog, **options: Any) -> pd.DataFrame:
    """`profile_id, rfm_segment, r, f, m` of every customer (options as `rfm_report`, without
    `by`), for the computed traits."""
    report = rfm_report(log, **options)
    frame = report.customers.rename(columns={"segment": "rfm_segment"})
    return frame.loc[:, ["profile_id", "rfm_segment", "r", "f", "m"]]


def check_segments(names: Sequence[str]) -> None:
    """`AnalyticsError` naming a segment that is not one of `SEGMENT_NAMES`."""
    for name in names:
        if name not in SEGMENT_NAMES:
            raise AnalyticsError(
                f"RFM: unknown segment {name!r}; one of {', '.join(SEGMENT_NAMES)}"
            )
