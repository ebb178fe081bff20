"""Time for the simulator: integer milliseconds (UTC), realistic hours and days, fast ISO text.

Behaviour follows local time (a French shop opens at 9 in Paris, a Californian browses at
9 pm), so times are drawn in the person's local time and shifted to UTC. Formatting a
timestamp is on the hot path of generation, hence the cached day prefix.
"""

from __future__ import annotations

import bisect
import random
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import accumulate

from empreinte.demo.sampling import between

SECOND_MS = 1_000
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
DEFAULT_START = datetime(2025, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Relative activity per local hour (0–23) for each kind of touchpoint.
_HOURS: dict[str, tuple[float, ...]] = {
    "online": (2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4, 4, 5, 5, 4, 4, 4, 4, 5, 7, 9, 9, 7, 4),
    # Personas' own clocks for their online visits (demo/personas.py): late evenings and
    # nights; office hours; breakfast and lunch breaks.
    "online_late": (14, 10, 6, 2, 1, 1, 1, 2, 2, 3, 3, 4, 4, 4, 3, 3, 4, 4, 6, 10, 16, 20, 22, 20),
    "online_day": (1, 0, 0, 0, 0, 1, 2, 6, 14, 18, 18, 16, 12, 14, 16, 16, 12, 8, 6, 4, 3, 2, 1, 1),
    "online_breaks": (1, 0, 0, 0, 0, 1, 3, 7, 8, 4, 3, 5, 8, 8, 4, 3, 3, 3, 4, 5, 5, 4, 2, 1),
    "store": (0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 5, 6, 7, 6, 5, 6, 7, 8, 8, 5, 0, 0, 0, 0),
    "call": (0, 0, 0, 0, 0, 0, 0, 0, 3, 8, 9, 8, 5, 6, 8, 8, 7, 6, 4, 2, 0, 0, 0, 0),
    "send": (0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
}
_CUMULATIVE = {kind: list(accumulate(weights)) for kind, weights in _HOURS.items()}
# Relative activity per weekday, Monday first: shops are busy on Saturday and mostly closed on
# Sunday; the call centre works short weekends.
_WEEKDAYS: dict[str, tuple[float, ...]] = {
    "online": (1.0, 1.0, 1.0, 1.0, 0.9, 1.0, 1.2),
    "online_late": (1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.2),
    "online_day": (1.1, 1.1, 1.1, 1.1, 1.0, 0.7, 0.7),
    "online_breaks": (1.1, 1.1, 1.1, 1.1, 1.0, 0.8, 0.8),
    "store": (0.8, 0.9, 1.0, 1.0, 1.2, 2.0, 0.3),
    "call": (1.2, 1.1, 1.0, 1.0, 1.0, 0.4, 0.1),
    "send": (1.0, 1.0, 1.0, 1.0, 1.0, 0.2, 0.2),
}
# Relative activity per month: January and July sales, Black Friday, Christmas.
_MONTHS = (1.2, 0.8, 0.9, 0.9, 0.9, 1.0, 1.1, 0.8, 1.0, 1.0, 1.5, 1.8)


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch; a naive datetime is read as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus whole calendar months, the day clamped to the month's length."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


@lru_cache(maxsize=16_384)
def _day(day: int) -> tuple[str, int, int]:
    """(ISO date, month index 0–11, weekday 0–6) of the `day`-th day since the epoch."""
    date = (_EPOCH + timedelta(days=day)).date()
    return date.isoformat(), date.month - 1, date.weekday()


def iso(ms: int) -> str:
    """ISO-8601 UTC text with milliseconds and a Z, as analytics.js sends it."""
    day, rest = divmod(ms, DAY_MS)
    seconds, milli = divmod(rest, SECOND_MS)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{_day(day)[0]}T{hours:02d}:{minutes:02d}:{seconds:02d}.{milli:03d}Z"


def local_day(ms: int, utc_offset: int) -> int:
    """The number of the local calendar day of `ms` (days since the epoch)."""
    return (ms + utc_offset * HOUR_MS) // DAY_MS


def day_text(day: int) -> str:
    """The ISO date ("2025-03-14") of the `day`-th day since the epoch."""
    return _day(day)[0]


def day_month(day: int) -> int:
    """The calendar month (0 for January) of the `day`-th day since the epoch."""
    return _day(day)[1]


def _local_time_of_day(rng: random.Random, kind: str) -> int:
    cumulative = _CUMULATIVE[kind]
    hour = bisect.bisect(cumulative, rng.random() * cumulative[-1])
    return hour * HOUR_MS + int(rng.random() * HOUR_MS)


def _at(rng: random.Random, local_day: int, kind: str, utc_offset: int) -> int:
    return local_day * DAY_MS + _local_time_of_day(rng, kind) - utc_offset * HOUR_MS


def on_day(rng: random.Random, day_ms: int, kind: str, utc_offset: int) -> int:
    """A plausible local hour of `kind` on the day starting at `day_ms` (UTC midnight)."""
    return _at(rng, day_ms // DAY_MS, kind, utc_offset)


def pick_time(rng: random.Random, lo_ms: int, hi_ms: int, kind: str, utc_offset: int) -> int:
    """A moment in [lo_ms, hi_ms) (give or take the time zone) at a plausible local hour,
    following the weekly and yearly rhythm of `kind`."""
    lo_day = (lo_ms + utc_offset * HOUR_MS) // DAY_MS
    hi_day = max(lo_day, (hi_ms + utc_offset * HOUR_MS) // DAY_MS - 1)
    weekdays = _WEEKDAYS[kind]
    ceiling = max(weekdays) * max(_MONTHS)
    for _ in range(20):
        day = between(rng, lo_day, hi_day)
        _, month, weekday = _day(day)
        if rng.random() * ceiling < weekdays[weekday] * _MONTHS[month]:
            break
    moment = _at(rng, day, kind, utc_offset)
    # The first local day may start before `lo_ms` in UTC: nothing may happen before it.
    return moment if moment >= lo_ms else moment + DAY_MS


def later(
    rng: random.Random, after_ms: int, min_days: int, max_days: int, kind: str, utc_offset: int
) -> int:
    """A plausible moment `min_days` to `max_days` local days after `after_ms`, and after it."""
    local_day = (after_ms + utc_offset * HOUR_MS) // DAY_MS + between(rng, min_days, max_days)
    moment = _at(rng, local_day, kind, utc_offset)
    if moment <= after_ms:
        moment = after_ms + between(rng, 5, 90) * MINUTE_MS
    return moment
