"""The window of recently seen message ids, so that a client's retry is stored once."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

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
        self._bucket(received_at).add(key)

    def claim(self, keys: Sequence[str], received_at: int) -> list[bool]:
        """Mark `keys`, all received at `received_at`, as seen; True for each one that is new.

        A key seen before, or earlier in `keys`, is not new. The work is set operations in C,
        plus a loop over the keys only when some are not new (a client's retry).
        """
        unique = set(keys)
        known: set[str] = set().union(*(unique.intersection(b) for b in self._buckets.values()))
        new = unique - known if known else unique
        self._bucket(received_at).update(new)
        if len(new) == len(keys):
            return [True] * len(keys)
        verdicts = []
        for key in keys:
            verdicts.append(key in new)
            new.discard(key)  # a repeat later in `keys` is not new
        return verdicts

    def discard(self, key: str) -> None:
        for bucket in self._buckets.values():
            bucket.discard(key)

    def forget(self, keys: Iterable[str]) -> None:
        """Discard many keys (those of an append that failed, so that a retry is accepted)."""
        keys = set(keys)
        for bucket in self._buckets.values():
            bucket.difference_update(keys)

    def _bucket(self, received_at: int) -> set[str]:
        hour = received_at // HOUR_MICROS
        bucket = self._buckets.get(hour)
        if bucket is None:
            bucket = self._buckets[hour] = set()
            self._expire(hour)
        return bucket

    def _expire(self, newest_hour: int) -> None:
        for hour in [h for h in self._buckets if h <= newest_hour - self._window]:
            del self._buckets[hour]
