"""Durations as people write them: `90s`, `30m`, `24h`, `7d`, `2w`.

One syntax for every window and delay of the product (funnels, segments, loyalty expiry…), in a
module that imports nothing heavy: settings read at a workspace's opening parse durations too.
"""

from __future__ import annotations

from datetime import timedelta

from empreinte.errors import AnalyticsError

MAX_DURATION_DAYS = 3650
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str, what: str = "duration") -> timedelta:
    """`90s`, `30m`, `24h`, `7d` or `2w` (a positive whole number and a unit, at most ten years);
    `AnalyticsError` naming `what` otherwise."""
    source = text.strip().lower()
    number, unit = source[:-1], source[-1:]
    if (
        unit not in _UNITS
        or not (number.isascii() and number.isdigit())
        or len(number) > 10
        or not 0 < int(number) * _UNITS[unit] <= MAX_DURATION_DAYS * 86400
    ):
        raise AnalyticsError(
            f"{what} {text!r}: write a positive whole number and a unit, e.g. 90s, 30m, 24h, "
            f"7d or 2w (at most {MAX_DURATION_DAYS} days)"
        )
    return timedelta(seconds=int(number) * _UNITS[unit])
