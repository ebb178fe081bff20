"""Activity over time: events and active people per channel and period (the dashboard's
overview, `workspace.activity`).

An active person is a profile with at least one event in the period, counted once per
channel where they were active and once in the all-channel total (a person active on the
web and in the shop is one of the web's, one of the shop's, and one person in all). Bots
are left out; time is read in the workspace's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import ibis

from empreinte.analytics.attributes import check_period, period_label, period_start
from empreinte.analytics.log import AnalyticsLog

ALL_CHANNELS = "all"


@dataclass(frozen=True)
class ActivityRow:
    period: str
    start: datetime
    channel: str  # a channel, or "all"
    events: int
    people: int


def activity(
    log: AnalyticsLog,
    period: str = "month",
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ActivityRow]:
    """Events and active people per `period` (week, month, quarter, year) and channel, and
    for all channels together, oldest period first. `since` (inclusive) and `until`
    (exclusive) bound the events' time."""
    checked = check_period(period)
    assert checked is not None
    events = log.events()
    if since is not None:
        events = events.filter(events.timestamp >= since)
    if until is not None:
        events = events.filter(events.timestamp < until)
    owned = log.with_owner(events.select("seq", "identifiers", "timestamp", "channel"))
    owned = owned.mutate(
        start=period_start(log, owned.timestamp, checked),
        channel=owned.channel.fill_null("unknown"),
    )
    per_channel = owned.group_by(["start", "channel"]).aggregate(
        events=owned.count(), people=owned.profile_id.nunique()
    )
    overall = owned.group_by("start").aggregate(
        channel=ibis.literal(ALL_CHANNELS),
        events=owned.count(),
        people=owned.profile_id.nunique(),
    )
    both = per_channel.union(overall.select("start", "channel", "events", "people"))
    table = log.backend.to_pyarrow(both.order_by(["start", "channel"]))
    out = []
    for row in table.to_pylist():
        start = row["start"]
        out.append(
            ActivityRow(
                period_label(start, checked),
                start,
                row["channel"],
                int(row["events"]),
                int(row["people"]),
            )
        )
    return out
