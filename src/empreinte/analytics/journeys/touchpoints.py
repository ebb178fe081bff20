"""Touchpoints and sessions: the one table every journey analytic starts from.

A touchpoint is a `track`, `page` or `screen` call of a person (its owner profile now, through
the identity graph: all their identities and devices are one journey). `identify`, `alias` and
`group` calls say who someone is, not what they did, and are not touchpoints; neither are bots
nor `Consent Updated` (a privacy choice, not a step of a journey).
Each touchpoint has a `step`: the track event's name, `Page Viewed` or `Screen Viewed` (the page
or screen name is in `name`, so a step may be "Page Viewed where name = Checkout").

Journeys profile people (they link a person's actions), so only people who allow `analytics`
are read, the rule of every behavioural report (analytics/cx/consented.py);
`JourneyScope.consented_only=False` is for aggregate checks in tests and benchmarks.

Sessions are per person and channel: a new one starts after `gap` of inactivity on that
channel (30 minutes by default, the convention of web analytics tools).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir

from empreinte.analytics.cx.consented import only_consenting
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

PAGE_STEP = "Page Viewed"
SCREEN_STEP = "Screen Viewed"
TOUCHPOINT_TYPES = ("track", "page", "screen")
DEFAULT_SESSION_GAP = timedelta(minutes=30)
UNKNOWN_CHANNEL = "unknown"
NOT_TOUCHPOINTS = ("Consent Updated",)

#: The columns of `touchpoints()`.
COLUMNS = (
    "profile_id",
    "seq",
    "at",
    "channel",
    "step",
    "type",
    "name",
    "properties",
    "context",
)


@dataclass(frozen=True)
class JourneyScope:
    """Which touchpoints a journey report reads: `since` ≤ time < `until` (either open), on
    `channels` (all when empty), of people who allow analytics unless `consented_only` is off."""

    since: datetime | None = None
    until: datetime | None = None
    channels: Sequence[str] = field(default_factory=tuple)
    consented_only: bool = True

    def __post_init__(self) -> None:
        for moment in (self.since, self.until):
            if moment is not None and moment.tzinfo is None:
                raise AnalyticsError(f"journey scope: {moment.isoformat()} has no time zone")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise AnalyticsError("journey scope: `since` must be before `until`")


def touchpoints(
    log: AnalyticsLog,
    scope: JourneyScope | None = None,
    *,
    steps: Sequence[str] | None = None,
) -> ir.Table:
    """The touchpoints in `scope` (only those whose step is in `steps`, when given), with
    their owner: columns `COLUMNS`, one row per touchpoint."""
    scope = scope or JourneyScope()
    events = log.events()
    events = events.filter(
        events.type.isin(TOUCHPOINT_TYPES) & ~events.event.fill_null("").isin(NOT_TOUCHPOINTS)
    )
    if scope.since is not None:
        events = events.filter(events.timestamp >= scope.since)
    if scope.until is not None:
        events = events.filter(events.timestamp < scope.until)
    if scope.channels:
        events = events.filter(events.channel.isin(list(scope.channels)))
    step = ibis.cases(
        (events.type == "page", ibis.literal(PAGE_STEP)),
        (events.type == "screen", ibis.literal(SCREEN_STEP)),
        else_=events.event,
    )
    events = events.mutate(step=step)
    if steps is not None:
        events = events.filter(events.step.isin(sorted(set(steps))))
    owned = log.with_owner(
        events.select(
            "seq",
            "identifiers",
            at="timestamp",
            channel=events.channel.fill_null(UNKNOWN_CHANNEL),
            step="step",
            type="type",
            name="name",
            properties="properties",
            context="context",
        )
    )
    if scope.consented_only:
        owned = only_consenting(log, owned)
    return owned.select(*COLUMNS)


def sessions(
    table: ir.Table, gap: timedelta = DEFAULT_SESSION_GAP, *, by_channel: bool = True
) -> ir.Table:
    """`table` (touchpoints: `profile_id`, `channel`, `at`, `seq`) with `session`: the number
    of the person's session on that channel (0, 1, …), a new one after `gap` without a
    touchpoint; with `by_channel=False`, sessions across all channels. `session_id` names it
    (`profile|channel|n`)."""
    if gap <= timedelta(0):
        raise AnalyticsError(f"session gap must be positive, not {gap}")
    keys = [table.profile_id, table.channel] if by_channel else [table.profile_id]
    ordered = ibis.window(group_by=keys, order_by=[table.at, table.seq])
    previous = table.at.lag().over(ordered)
    # Compared to the microsecond: a whole-second difference (`delta`) counts the second
    # boundaries crossed, so 29 min 59.2 s of silence across one would already be 30 min.
    silence = ibis.interval(microseconds=gap // timedelta(microseconds=1))
    starts = table.mutate(
        _new=ibis.ifelse(previous.isnull() | (table.at >= previous + silence), 1, 0)
    )
    running = ibis.window(
        group_by=[starts[k.get_name()] for k in keys],
        order_by=[starts.at, starts.seq],
        rows=(None, 0),
    )
    numbered = starts.mutate(session=(starts._new.sum().over(running) - 1).cast("int64"))
    label = numbered.profile_id.concat(
        "|",
        numbered.channel if by_channel else ibis.literal("*"),
        "|",
        numbered.session.cast(str),
    )
    return numbered.mutate(session_id=label).drop("_new")
