"""The window of recently seen message ids, so that a client's retry is stored once."""

from __future__ import annotations

from collections import OrderedDict

HOUR_MICROS = 3_600 * 1_000_000


class RecentIds:
    """(source, messageId) pairs seen in the last `window_hours`, bucketed by hour.

    Hourly buckets let old ids expire a bucket at a time, without a sweep over every id.
    Memory is about 100 bytes per id in the window.
    """

    def __init__(self, window_hours: int = 25):
        self._window = window_hours
        self._buckets: OrderedDict[int, set[str]] = OrderedDict()

    @staticmethod
    def key(source: str, message_id: str) -> str:
        return f"{source}\x00{message_id}"

    def __contains__(self, key: str) -> bool:
        return any(key in bucket for bucket in reversed(self._buckets.values()))

    def __len__(self) -> int:
        return sum(len(bucket) for bucket in self._buckets.values())

    def add(self, key: str, received_at: int) -> None:
        hour = received_at // HOUR_MICROS
        bucket = self._buckets.get(hour)
        if bucket is None:
            bucket = self._buckets[hour] = set()
            self._expire(hour)
        bucket.add(key)

    def discard(self, key: str) -> None:
        for bucket in self._buckets.values():
            bucket.discard(key)

    def _expire(self, newest_hour: int) -> None:
        for hour in [h for h in self._buckets if h <= newest_hour - self._window]:
            del self._buckets[hour]
