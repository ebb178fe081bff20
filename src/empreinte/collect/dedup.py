"""The window of recently seen message ids, so that a client's retry is stored once.

The window keeps 64-bit fingerprints of the message keys (`store.records.message_key`), not
the keys: per hour of arrival, sorted numpy arrays (8 bytes an id) and a set for those added
since the last compaction. A miss is certain: the key is new. A hit is only a hint, confirmed
against the log for those few keys, so a fingerprint collision can never drop a real event;
a client's retry is a hit, and costs one small query. At start the window is mapped from its
saved copy (window_file.py) plus the events after it, or else filled by one columnar read of
the log that the engine fingerprints, with no Python object per id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from empreinte.store.records import message_key

HOUR_MICROS = 3_600 * 1_000_000
# A set of Python ints costs about 70 bytes an id: past this size it becomes a sorted array.
FRESH_LIMIT = 1 << 16
# An hour's sorted runs are merged into one when there are more than this (lookups visit each).
MAX_RUNS = 8


class MessageLog(Protocol):
    """What the window (and its saved copy) needs of the log: the `Engine` has these."""

    def message_fingerprints(self, keys: Sequence[str]) -> np.ndarray: ...

    def stored_messages(
        self, keys: Sequence[str], since: datetime, until: datetime
    ) -> set[str]: ...

    def message_fingerprint_at(self, seq: int) -> int | None: ...


class _Hour:
    """The fingerprints of the keys that arrived in one hour."""

    __slots__ = ("fresh", "runs")

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []  # sorted uint64 arrays
        self.fresh: set[int] = set()

    def __len__(self) -> int:
        return sum(len(run) for run in self.runs) + len(self.fresh)

    def hits(self, fingerprints: np.ndarray, as_ints: list[int]) -> np.ndarray:
        """A boolean mask: which of `fingerprints` this hour holds."""
        found = np.zeros(len(fingerprints), dtype=bool)
        for run in self.runs:
            at = np.searchsorted(run, fingerprints)
            at[at == len(run)] = 0
            found |= run[at] == fingerprints
        if self.fresh and not self.fresh.isdisjoint(as_ints):
            found |= np.fromiter((f in self.fresh for f in as_ints), bool, len(as_ints))
        return found

    def compact(self, merge: bool = False) -> None:
        """Turn the set into a sorted run; merge the runs when too many (or asked)."""
        if self.fresh:
            run = np.fromiter(self.fresh, np.uint64, len(self.fresh))
            run.sort()
            self.runs.append(run)
            self.fresh = set()
        if len(self.runs) > (1 if merge else MAX_RUNS):
            merged = np.concatenate(self.runs)
            merged.sort()
            self.runs = [merged]

    @property
    def nbytes(self) -> int:
        # A set of ints: about 70 bytes an entry (the int object and its slot in the table).
        return sum(run.nbytes for run in self.runs) + 70 * len(self.fresh)


class RecentIds:
    """Message keys seen in the last `window_hours` hours of arrival, bucketed by hour.

    A key is remembered while its hour is within `window_hours` of the newest hour seen, and
    hourly buckets let old ids expire a bucket at a time. The writer thread alone uses it.
    """

    def __init__(self, log: MessageLog, window_hours: int = 25):
        self._log = log
        self._window = window_hours
        self._hours: dict[int, _Hour] = {}
        self._newest: int | None = None
        self._added: list[tuple[int, list[int]]] = []  # what the last claim added, by hour
        self.changed: set[int] = set()  # hours changed since `saved()` (see window_file.py)
        self.unsaved = 0  # ids added since `saved()`

    key = staticmethod(message_key)

    def __len__(self) -> int:
        return sum(len(bucket) for bucket in self._hours.values())

    @property
    def nbytes(self) -> int:
        """About how much memory the fingerprints take."""
        return sum(bucket.nbytes for bucket in self._hours.values())

    def load(self, fingerprints: np.ndarray, received_at: np.ndarray) -> None:
        """Add what the log holds: the fingerprints of its recent events and their arrival
        times (epoch microseconds), as `Engine.recent_messages` returns them."""
        if not len(fingerprints):
            return
        hours = received_at // HOUR_MICROS
        if not np.all(hours[1:] >= hours[:-1]):  # the log is usually in arrival order
            order = np.argsort(hours, kind="stable")
            hours, fingerprints = hours[order], fingerprints[order]
            del order
        starts = np.flatnonzero(hours[1:] != hours[:-1]) + 1
        for start, run in zip([0, *starts.tolist()], np.split(fingerprints, starts), strict=True):
            self.restore(int(hours[start]), np.sort(run))
        self.unsaved += len(fingerprints)
        self._advance(int(hours[-1]))

    def restore(self, hour: int, run: np.ndarray) -> None:
        """Add the sorted fingerprints `run` to `hour`."""
        if not len(run):
            return  # lookups index into every run
        bucket = self._bucket(hour)
        bucket.runs.append(run)
        bucket.compact()  # merges runs if the hour had many
        self.changed.add(hour)

    def hours(self) -> dict[int, np.ndarray]:
        """Every hour in the window and its fingerprints, as one sorted array each."""
        out = {}
        for hour, bucket in self._hours.items():
            bucket.compact(merge=True)
            if bucket.runs:  # not an hour whose only ids were forgotten
                out[hour] = bucket.runs[0]
        return out

    def saved(self) -> None:
        """Note that the window as it is now was saved."""
        self.changed.clear()
        self.unsaved = 0

    def claim(self, keys: Sequence[str], received_at: Sequence[int]) -> list[bool]:
        """Judge `keys`, the i-th received at `received_at[i]` (epoch microseconds): True for
        each new one, which is then remembered. A key seen before, or earlier in `keys`, is
        not new. Raises the log's `StorageError` (and remembers nothing) if a lookup fails.
        """
        self._added = []
        if not keys:
            return []
        hours = [at // HOUR_MICROS for at in received_at]
        self._advance(max(hours))
        fingerprints = self._log.message_fingerprints(keys)
        hit = self._hits(fingerprints)
        if not hit and len(set(keys)) == len(keys):  # the usual group: all new
            by_hour: dict[int, list[int]] = {}
            for hour, fingerprint in zip(hours, fingerprints.tolist(), strict=True):
                by_hour.setdefault(hour, []).append(fingerprint)
            for hour, some in by_hour.items():
                self._remember(hour, some)
            return [True] * len(keys)
        stored = self._confirm(keys, hit)
        as_ints: list[int] = fingerprints.tolist()
        verdicts: list[bool] = []
        judged: set[str] = set()
        for i, key in enumerate(keys):
            new = key not in judged and key not in stored
            judged.add(key)
            verdicts.append(new)
            # Kept in its own hour even if another key's fingerprint is elsewhere: it must
            # last as long as this key's window, not the other's.
            hour = hours[i]
            if new and hour not in hit.get(i, ()) and as_ints[i] not in self._bucket(hour).fresh:
                self._remember(hour, [as_ints[i]])
        return verdicts

    def forget(self) -> None:
        """Forget what the last claim added, after its append failed: the client's retry is
        then a miss, not a hit for the log to refute (a hit is always confirmed, so this
        saves a lookup; correctness does not rest on it). Nothing else can share those
        entries: a key whose fingerprint was already in its hour added nothing."""
        for hour, fingerprints in self._added:
            bucket = self._hours.get(hour)
            if bucket is not None:
                bucket.fresh.difference_update(fingerprints)
            self.unsaved -= len(fingerprints)
        self._added = []

    def _hits(self, fingerprints: np.ndarray) -> dict[int, set[int]]:
        """For each key whose fingerprint is in the window: the hours that hold it."""
        # Sorted needles: each binary search starts where the previous one ended.
        order = np.argsort(fingerprints, kind="stable")
        needles = fingerprints[order]
        as_ints: list[int] = needles.tolist()
        hit: dict[int, set[int]] = {}
        for hour, bucket in self._hours.items():
            for i in order[bucket.hits(needles, as_ints)].tolist():
                hit.setdefault(i, set()).add(hour)
        return hit

    def _confirm(self, keys: Sequence[str], hit: dict[int, set[int]]) -> set[str]:
        """The keys among the hits that the log holds. Asked hour by hour: a stored key
        arrived in the hour that holds its fingerprint, and the log reads that hour only (a
        retry storm's hits are in the last hour or two)."""
        candidates: dict[int, set[str]] = {}
        for i, hours_of_i in hit.items():
            for hour in hours_of_i:
                candidates.setdefault(hour, set()).add(keys[i])
        stored: set[str] = set()
        for hour, some in sorted(candidates.items()):
            stored |= self._log.stored_messages(sorted(some), _time(hour), _time(hour + 1))
        return stored

    def _remember(self, hour: int, fingerprints: list[int]) -> None:
        self._bucket(hour).fresh.update(fingerprints)
        self._added.append((hour, fingerprints))
        self.changed.add(hour)
        self.unsaved += len(fingerprints)

    @property
    def newest_hour(self) -> int | None:
        return self._newest

    def _bucket(self, hour: int) -> _Hour:
        bucket = self._hours.get(hour)
        if bucket is None:
            bucket = self._hours[hour] = _Hour()
        return bucket

    def _advance(self, hour: int) -> None:
        """Expire the hours out of the window once `hour` arrived; compact the past hours'
        sets (and a set grown large) into sorted arrays."""
        if self._newest is None or hour > self._newest:
            self._newest = hour
        newest = self._newest
        for old in [h for h in self._hours if h <= newest - self._window]:
            del self._hours[old]
        for h, bucket in self._hours.items():
            if bucket.fresh and (h < newest or len(bucket.fresh) >= FRESH_LIMIT):
                bucket.compact()


def _time(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * HOUR_MICROS / 1_000_000, UTC)
