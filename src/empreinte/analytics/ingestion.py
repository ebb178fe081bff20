"""What each source sends: events per minute of arrival, and the share flagged as bots (the
dashboard's Sources page).

Both read the time of arrival (`received_at`, the collector's clock), not the event's own
time: a source's health is what reaches the collector now, whatever the events say of when
they happened (an import of last year's orders arrives today). Bots are counted, not left
out: their share is the point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from empreinte.analytics.log import AnalyticsLog


@dataclass(frozen=True)
class MinuteCount:
    source: str
    minute: datetime  # the start of the minute (UTC)
    events: int


@dataclass(frozen=True)
class BotShare:
    source: str
    events_7d: int
    bots_7d: int
    events_30d: int
    bots_30d: int

    @property
    def share_7d(self) -> float | None:
        return self.bots_7d / self.events_7d if self.events_7d else None

    @property
    def share_30d(self) -> float | None:
        return self.bots_30d / self.events_30d if self.events_30d else None


def per_minute(log: AnalyticsLog, since: datetime) -> list[MinuteCount]:
    """Events received per source and minute since `since` (aware), bots included; minutes
    without events are absent."""
    events = log.events(include_bots=True)
    recent = events.filter(events.received_at >= since)
    counts = recent.group_by(
        [recent.source, recent.received_at.truncate("m").name("minute")]
    ).aggregate(events=recent.count())
    table = log.backend.to_pyarrow(counts.order_by(["source", "minute"]))
    return [
        MinuteCount(row["source"], row["minute"], int(row["events"])) for row in table.to_pylist()
    ]


def bot_shares(log: AnalyticsLog, now: datetime) -> list[BotShare]:
    """Per source, the events received in the 7 and 30 days before `now` and how many of
    them were flagged `is_bot` (collect/bots.py); sources with none in 30 days are absent."""
    events = log.events(include_bots=True)
    week = now - timedelta(days=7)
    month = events.filter(events.received_at >= now - timedelta(days=30))
    in_week = month.received_at >= week
    counts = month.group_by("source").aggregate(
        events_30d=month.count(),
        bots_30d=month.is_bot.cast("int64").sum(),
        events_7d=in_week.cast("int64").sum(),
        bots_7d=(in_week & month.is_bot).cast("int64").sum(),
    )
    table = log.backend.to_pyarrow(counts.order_by("source"))
    return [
        BotShare(
            row["source"],
            int(row["events_7d"] or 0),
            int(row["bots_7d"] or 0),
            int(row["events_30d"] or 0),
            int(row["bots_30d"] or 0),
        )
        for row in table.to_pylist()
    ]


@dataclass(frozen=True)
class RecentCount:
    source: str
    last_minute: int  # events received in the 60 seconds before `now`
    last_hour: int  # in the 60 minutes before `now`


def recent_counts(log: AnalyticsLog, now: datetime) -> list[RecentCount]:
    """Per source, the events received (bots included) in the last minute and hour before
    `now`; sources with none in the hour are absent."""
    events = log.events(include_bots=True)
    hour = events.filter(
        (events.received_at >= now - timedelta(hours=1)) & (events.received_at <= now)
    )
    minute = hour.received_at >= now - timedelta(minutes=1)
    counts = hour.group_by("source").aggregate(
        last_hour=hour.count(), last_minute=minute.cast("int64").sum()
    )
    table = log.backend.to_pyarrow(counts.order_by("source"))
    return [
        RecentCount(row["source"], int(row["last_minute"] or 0), int(row["last_hour"] or 0))
        for row in table.to_pylist()
    ]
