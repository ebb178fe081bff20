"""Conversion paths: the touches of each person before each goal, in the engine.

The rules (docs/attribution.md works them through examples):

- A **conversion** is a touchpoint whose step is the goal (`Order Completed` by default); its
  value is the number at `properties.<value>` (`revenue` by default; 0 when absent).
- A **touch** is a session on a channel (touchpoints.sessions: a new one after 30 minutes
  without a touchpoint on that channel), not every hit: ten pages in one visit are one touch.
  Its label is its channel, its campaign (`context.campaign.name`, the UTM campaign the
  landing hit carries; "(none)" without one), or both ("web / spring-sale").
- Each touchpoint belongs to the **next** conversion of its person (through the identity
  graph: all their identities and channels), so a person's second conversion's path starts
  after their first. The goal itself is a touchpoint of its own conversion's path when
  `goal_touch` (the default): the channel where the order was placed is its last touch (a
  store purchase without any other touch is a one-touch "store" path).
- A path keeps the touches with a touchpoint within `lookback` (30 days by default) before the
  conversion: a touchpoint exactly `lookback` before counts, one second earlier does not. A
  touch's time is its first touchpoint inside the window.
- Consecutive touches with the same label are one touch (web > web > email > web is
  web > email > web), the latest of the run kept (its time is the one time-decay reads).
- A **non-converting path** is what a person did after their last conversion (or all they did,
  when they never converted), within `lookback` before their last touchpoint: the Markov
  model needs the paths that did not convert.

The result is one row per touch of a path, with the path's facts (`PATH_COLUMNS`); only
aggregates of it leave the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, get_args

import ibis
import ibis.expr.types as ir

from empreinte.analytics.journeys.touchpoints import (
    DEFAULT_SESSION_GAP,
    JourneyScope,
    sessions,
    touchpoints,
)
from empreinte.analytics.json import JsonDoc
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

TouchBy = Literal["channel", "campaign", "channel_campaign"]
TOUCH_BY: tuple[str, ...] = get_args(TouchBy)
NO_CAMPAIGN = "(none)"
DEFAULT_GOAL = "Order Completed"
DEFAULT_VALUE = "revenue"
DEFAULT_LOOKBACK = timedelta(days=30)

#: The columns of `path_touches()`: the path (`profile_id`, `k`: the person's k-th
#: conversion, or the tail after the last), whether it converted, when and for how much,
#: then the touch: its label, time, position (0 = first) and the path's number of touches.
PATH_COLUMNS = (
    "profile_id",
    "k",
    "converted",
    "goal_at",
    "value",
    "label",
    "touch_at",
    "position",
    "touches",
)


@dataclass(frozen=True)
class PathRules:
    """What a conversion path is: see the module's docstring."""

    goal: str = DEFAULT_GOAL
    value: str | None = DEFAULT_VALUE
    lookback: timedelta = DEFAULT_LOOKBACK
    by: TouchBy = "channel"
    session_gap: timedelta = DEFAULT_SESSION_GAP
    goal_touch: bool = True
    collapse: bool = True

    def __post_init__(self) -> None:
        if not self.goal.strip():
            raise AnalyticsError("attribution: the goal (an event name) is empty")
        if self.value is not None:
            check_property(self.value)
        if self.lookback <= timedelta(0):
            raise AnalyticsError(f"attribution: the lookback must be positive, not {self.lookback}")
        if self.by not in TOUCH_BY:
            raise AnalyticsError(
                f"attribution: unknown touch {self.by!r}: use {', '.join(TOUCH_BY)}"
            )
        if self.session_gap <= timedelta(0):
            raise AnalyticsError(f"session gap must be positive, not {self.session_gap}")


def check_property(name: str) -> None:
    """A goal property name the engines can read as a JSON key: not empty, without quotes,
    brackets, backslashes or control characters."""
    if not name.strip():
        raise AnalyticsError("attribution: the value property is empty")
    if any(c in "\"'[]\\" or ord(c) < 32 for c in name):
        raise AnalyticsError(
            f"attribution: the value property {name!r} may not hold quotes, brackets,"
            " backslashes or control characters"
        )


@dataclass(frozen=True)
class PathTables:
    """The touches of every path (`PATH_COLUMNS`) and the conversions (`profile_id`, `k`,
    `goal_at`, `value`), with or without touches."""

    touches: ir.Table
    conversions: ir.Table


def path_tables(
    log: AnalyticsLog, rules: PathRules | None = None, scope: JourneyScope | None = None
) -> PathTables:
    """The conversion and non-converting paths of the people in `scope`, as Ibis tables."""
    rules = rules or PathRules()
    points = sessions(touchpoints(log, scope), rules.session_gap)
    is_goal = points.step == rules.goal
    value = (
        JsonDoc(log, points.properties).number(rules.value).fill_null(0.0)
        if rules.value is not None
        else ibis.literal(0.0)
    )
    campaign = log.json_string(points.context, "campaign", "name")
    points = points.mutate(
        _goal=is_goal.cast("int64"),
        _value=value.cast("float64"),
        _campaign=campaign,
    )
    ordered = ibis.window(
        group_by=points.profile_id, order_by=[points.at, points.seq], rows=(None, 0)
    )
    # k: how many of the person's goals come strictly before this touchpoint — the index of
    # the conversion it leads to (a goal leads to itself).
    points = points.mutate(k=(points._goal.sum().over(ordered) - points._goal).cast("int64"))
    goals = points.filter(points._goal == 1)
    conversions = goals.select("profile_id", "k", goal_at=goals.at, value=goals._value)
    touching = points if rules.goal_touch else points.filter(points._goal == 0)
    joined = touching.left_join(conversions, ["profile_id", "k"])
    joined = joined.select(
        "profile_id",
        "k",
        "at",
        "seq",
        "channel",
        "session_id",
        "_campaign",
        "goal_at",
        "value",
    )
    # The end of a non-converting path: the person's last touchpoint.
    # (Window values are made columns before a filter reads them: Spark's SQL needs it.)
    tail = ibis.window(group_by=[joined.profile_id, joined.k])
    joined = joined.mutate(_end=joined.goal_at.fill_null(joined.at.max().over(tail)))
    lookback_seconds = int(rules.lookback.total_seconds())
    within = joined.filter(joined.at >= joined._end - ibis.interval(seconds=lookback_seconds))
    touches = within.group_by(["profile_id", "k", "session_id"]).agg(
        channel=within.channel.max(),
        campaign=within._campaign.max(),
        touch_at=within.at.min(),
        touch_seq=within.seq.min(),
        goal_at=within.goal_at.max(),
        value=within.value.max(),
    )
    touches = touches.mutate(label=_label(touches, rules.by))
    path = ibis.window(
        group_by=[touches.profile_id, touches.k], order_by=[touches.touch_at, touches.touch_seq]
    )
    if rules.collapse:
        # A run's latest touch stands for it: its time is when the label was last seen.
        touches = touches.mutate(_next=touches.label.lead().over(path))
        touches = touches.filter(touches._next.isnull() | (touches._next != touches.label))
        touches = touches.drop("_next")
    path = ibis.window(
        group_by=[touches.profile_id, touches.k], order_by=[touches.touch_at, touches.touch_seq]
    )
    whole = ibis.window(group_by=[touches.profile_id, touches.k])
    result = touches.mutate(
        converted=touches.goal_at.notnull(),
        position=ibis.row_number().over(path).cast("int64"),
        touches=touches.label.count().over(whole).cast("int64"),
        value=touches.value.fill_null(0.0),
    )
    return PathTables(result.select(*PATH_COLUMNS), conversions)


def _label(touches: ir.Table, by: TouchBy) -> ir.StringValue:
    campaign = touches.campaign.fill_null(NO_CAMPAIGN)
    if by == "channel":
        return touches.channel
    if by == "campaign":
        return campaign
    return touches.channel.concat(" / ", campaign)
