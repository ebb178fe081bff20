"""ROPO (research online, purchase offline) and showrooming (research offline, purchase online).

**ROPO.** A *research* touchpoint is a research step (`Product Viewed`, `Products Searched`)
on a research channel (`web`, `app`); a *purchase* is a purchase step (`Order Completed`) on a
purchase channel (`store`, `phone`). A purchase is *ROPO* when the same person has a research
touchpoint at or before it (in log order: time, then arrival) and at most `window` before it
(7 days by default; exactly 7 days counts, 7 days and one second does not).

**Showrooming** is the reverse: research steps (`Store Visited`, `Product Viewed`) on `store`,
then `Order Completed` on `web` or `app` within the window.

**Rates** (both with a Wilson 95 % interval):

- per purchase: ROPO purchases / all purchases on the purchase channels ("what share of the
  shop's sales were researched online first");
- per person: people with at least one ROPO purchase / people with at least one purchase on the
  purchase channels.

**Matching** (`match`): by default any research counts. With `match="product_id"` (any
property path: `category`…), only research whose property has the same value as the
purchase's property does; a purchase without that property then cannot be ROPO. An order's
`products` list is not unnested: match on a property both events carry at the top.

**Breakdown** (`by`): a profile attribute (country, generation, traits.<path>…) or an attribute
of the purchase event (channel, properties.<path>…): by="channel" splits store from phone.

Computed in the engine: research and purchases of each person in one ordered window, the time
of the latest research up to each purchase as a running maximum (per person, or per person and
matched value); only one row per group comes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.attributes import NONE, with_attribute
from empreinte.analytics.cx.proportions import wilson
from empreinte.analytics.journeys.touchpoints import JourneyScope, touchpoints
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

Direction = Literal["ropo", "showrooming"]
DEFAULT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class CrossRule:
    """Research steps on some channels, then a purchase step on others, within `window`."""

    research_steps: Sequence[str]
    research_channels: Sequence[str]
    purchase_steps: Sequence[str]
    purchase_channels: Sequence[str]
    window: timedelta = DEFAULT_WINDOW
    match: str | None = None

    def __post_init__(self) -> None:
        if self.window < timedelta(0):
            raise AnalyticsError(f"the window must not be negative, not {self.window}")
        for name in ("research_steps", "research_channels", "purchase_steps", "purchase_channels"):
            if not list(getattr(self, name)):
                raise AnalyticsError(f"{name} is empty: give at least one")
        if self.match is not None and (not self.match or not all(self.match.split("."))):
            raise AnalyticsError(f"match {self.match!r} is not a property path")


def ropo_rule(window: timedelta = DEFAULT_WINDOW, match: str | None = None) -> CrossRule:
    return CrossRule(
        ("Product Viewed", "Products Searched"),
        ("web", "app"),
        ("Order Completed",),
        ("store", "phone"),
        window,
        match,
    )


def showrooming_rule(window: timedelta = DEFAULT_WINDOW, match: str | None = None) -> CrossRule:
    return CrossRule(
        ("Store Visited", "Product Viewed"),
        ("store",),
        ("Order Completed",),
        ("web", "app"),
        window,
        match,
    )


def rule_for(direction: str, window: timedelta, match: str | None) -> CrossRule:
    if direction == "ropo":
        return ropo_rule(window, match)
    if direction == "showrooming":
        return showrooming_rule(window, match)
    raise AnalyticsError(f"unknown direction {direction!r}: use ropo or showrooming")


def purchases_table(
    log: AnalyticsLog, rule: CrossRule, scope: JourneyScope | None = None
) -> ir.Table:
    """One row per purchase on the purchase channels, with `crossed` (researched on the other
    channels within the window) and the purchase's columns (profile_id, at, seq, channel,
    properties, context)."""
    from empreinte.analytics.json import JsonDoc

    steps = {*rule.research_steps, *rule.purchase_steps}
    table = touchpoints(log, scope, steps=sorted(steps))
    research = table.step.isin(list(rule.research_steps)) & table.channel.isin(
        list(rule.research_channels)
    )
    purchase = table.step.isin(list(rule.purchase_steps)) & table.channel.isin(
        list(rule.purchase_channels)
    )
    table = table.filter(research | purchase).mutate(_research=research, _purchase=purchase)
    keys = ["profile_id"]
    if rule.match is not None:
        value = JsonDoc(log, table.properties).text(*rule.match.split("."))
        # Research without the property matches nothing; a purchase without it stays counted
        # (its partition, NULL, holds no research).
        table = table.mutate(_match=value).filter(lambda t: t._match.notnull() | t._purchase)
        keys.append("_match")
    running = ibis.window(
        group_by=[table[k] for k in keys], order_by=[table.at, table.seq], rows=(None, 0)
    )
    last_research = ibis.ifelse(table._research, table.at, ibis.null("timestamp")).max()
    table = table.mutate(_last=last_research.over(running))
    seconds = int(rule.window.total_seconds())
    crossed = table._last.notnull() & (table.at.delta(table._last, unit="second") <= seconds)
    table = table.filter(table._purchase).mutate(crossed=crossed)
    return table.select("profile_id", "at", "seq", "channel", "properties", "context", "crossed")


@dataclass(frozen=True)
class CrossRow:
    group: str
    purchases: int
    crossed_purchases: int
    purchase_rate: float
    purchase_low: float
    purchase_high: float
    buyers: int
    crossed_buyers: int
    person_rate: float
    person_low: float
    person_high: float


@dataclass(frozen=True)
class CrossReport:
    """ROPO or showrooming rates, per purchase and per person (per group of `by`)."""

    direction: Direction
    rule: CrossRule
    by: str | None
    rows: tuple[CrossRow, ...]

    @property
    def total(self) -> CrossRow | None:
        return self.rows[0] if self.by is None and self.rows else None

    def row(self, group: str = "all") -> CrossRow:
        for r in self.rows:
            if r.group == group:
                return r
        raise AnalyticsError(f"no group {group!r} in this report")

    def to_rows(self) -> list[dict[str, Any]]:
        rows = []
        for r in self.rows:
            row: dict[str, Any] = {"group": r.group} if self.by else {}
            row.update(
                purchases=r.purchases,
                crossed_purchases=r.crossed_purchases,
                purchase_rate=r.purchase_rate,
                purchase_low=r.purchase_low,
                purchase_high=r.purchase_high,
                buyers=r.buyers,
                crossed_buyers=r.crossed_buyers,
                person_rate=r.person_rate,
                person_low=r.person_low,
                person_high=r.person_high,
            )
            rows.append(row)
        return rows

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows())


def cross_channel_purchases(
    log: AnalyticsLog,
    direction: str = "ropo",
    *,
    window: timedelta = DEFAULT_WINDOW,
    match: str | None = None,
    by: str | None = None,
    scope: JourneyScope | None = None,
    rule: CrossRule | None = None,
) -> CrossReport:
    """The ROPO (`direction="ropo"`) or showrooming rates; `rule` replaces the default steps
    and channels of `direction`."""
    rule = rule or rule_for(direction, window, match)
    if direction not in ("ropo", "showrooming"):
        raise AnalyticsError(f"unknown direction {direction!r}: use ropo or showrooming")
    if by is not None and not by.strip():
        raise AnalyticsError("breakdown: give an attribute name, not an empty one")
    purchases = purchases_table(log, rule, scope)
    if by is None:
        grouped = purchases.mutate(group=ibis.literal("all"))
    else:
        grouped = with_attribute(log, purchases, by, "group")
    flag = grouped.crossed.cast("int64")
    per_purchase = grouped.group_by("group").agg(
        purchases=grouped.count(), crossed_purchases=flag.sum()
    )
    people = grouped.group_by(["group", "profile_id"]).agg(crossed=grouped.crossed.any())
    per_person = people.group_by("group").agg(
        buyers=people.count(), crossed_buyers=people.crossed.cast("int64").sum()
    )
    frame = log.execute(per_purchase.join(per_person, "group").order_by("group"))
    rows = []
    for r in frame.itertuples(index=False):
        purchase_ci = wilson(int(r.crossed_purchases), int(r.purchases))
        person_ci = wilson(int(r.crossed_buyers), int(r.buyers))
        rows.append(
            CrossRow(
                str(r.group) if r.group is not None else NONE,
                int(r.purchases),
                int(r.crossed_purchases),
                int(r.crossed_purchases) / int(r.purchases),
                purchase_ci.low,
                purchase_ci.high,
                int(r.buyers),
                int(r.crossed_buyers),
                int(r.crossed_buyers) / int(r.buyers),
                person_ci.low,
                person_ci.high,
            )
        )
    return CrossReport(direction, rule, by, tuple(rows))  # type: ignore[arg-type]


def ropo(log: AnalyticsLog, **options: Any) -> CrossReport:
    """`cross_channel_purchases(log, "ropo", ...)`."""
    return cross_channel_purchases(log, "ropo", **options)


def showrooming(log: AnalyticsLog, **options: Any) -> CrossReport:
    """`cross_channel_purchases(log, "showrooming", ...)`."""
    return cross_channel_purchases(log, "showrooming", **options)
