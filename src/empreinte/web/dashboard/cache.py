"""Aggregate reports computed for the dashboard, kept for a minute.

A page of charts runs several reports (the overview six CX scores and the activity), each a
query compiled by Ibis and run by the engine; on the demo data that is over a second a page.
Dashboards of aggregates are read far more often than the data changes meaningfully, so a
report computed for one viewer serves every viewer for `max_age` seconds (60 by default),
and the page says how old its figures are ("as of 14:03:12").

Only aggregates go through this cache (counts, scores, rates: what every role may see), never
lists of people. An erasure empties it at once (the erasure register's size is part of every
entry's validity), so a person erased is gone from the figures at the next page, not a minute
later. At most `max_entries` reports are kept (the oldest dropped first); a report is computed
once even when several viewers ask for it at the same moment.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class _Entry:
    value: Any
    computed_at: datetime
    monotonic: float
    version: Hashable


class ReportCache:
    def __init__(
        self,
        version: Callable[[], Hashable],
        *,
        max_age: float = 60.0,
        max_entries: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ):
        """`version()` names the state of the data that must invalidate every entry when it
        changes (the number of erasures)."""
        self._version = version
        self._max_age = max_age
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def get(
        self, key: Hashable, compute: Callable[[], T], *, renew: bool = False
    ) -> tuple[T, datetime]:
        """The report of `key` and when it was computed (now, or less than `max_age` ago;
        now when `renew`: the viewer asked for the latest figures)."""
        version = self._version()
        if renew:
            with self._lock:
                self._entries.pop(key, None)
        found = self._fresh(key, version)
        if found is not None:
            return found.value, found.computed_at
        with self._lock:
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:  # one computation per key at a time; the others wait for its result
            try:
                found = self._fresh(key, version)
                if found is not None:
                    return found.value, found.computed_at
                value = compute()
                entry = _Entry(value, datetime.now(UTC), self._clock(), version)
                with self._lock:
                    self._entries[key] = entry
                    self._entries.move_to_end(key)
                    while len(self._entries) > self._max_entries:
                        self._entries.popitem(last=False)
                return value, entry.computed_at
            finally:
                with self._lock:
                    self._computing.pop(key, None)

    def _fresh(self, key: Hashable, version: Hashable) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.version != version or self._clock() - entry.monotonic >= self._max_age:
                del self._entries[key]
                return None
            return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
