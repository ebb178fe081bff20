"""Group commit: many concurrent requests share one durable append to the log.

Requests hand their validated rows to a single writer thread and wait. The thread takes
everything that is waiting, drops retried messages (same source and messageId), appends the
rest in one transaction and wakes every request of the group once it is committed. A request
is answered 200 only after that commit.

Back-pressure is measured in time, not rows: the writer knows how many rows a second its
commits take, so it refuses new work (`Overloaded`, a 429) once what is queued would take longer
than its share of the latency budget to drain, or once the oldest waiting rows have waited that
long (a stalled disk). `max_pending` stays as a hard cap on the rows held in memory.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter, deque
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from empreinte.collect.dedup import RecentIds
from empreinte.errors import Overloaded, StorageError
from empreinte.store.engine import Engine
from empreinte.store.records import EventRow

if TYPE_CHECKING:
    from empreinte.privacy.suppression import Suppression

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WriteResult:
    """What became of the rows of one submission."""

    stored: int
    duplicates: int
    suppressed: int = 0  # carried an identifier of an erased person: dropped, not stored


@dataclass
class _Pending:
    rows: list[EventRow]
    future: Future[WriteResult]
    queued_at: float  # time.monotonic()


# Weight of the latest commit in the measured throughput (an exponential moving average).
_RATE_WEIGHT = 0.3
# Smaller groups (an idle writer's) measure the fixed cost of a commit, not the rate under load.
_MEASURED_GROUP = 1_000


class EventWriter:
    """The single writer of a workspace's event log."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_pending: int = 100_000,
        max_group: int = 100_000,
        dedup_hours: int = 25,
        storage_retry_after: int = 5,
        queue_budget: float = 1.0,
        suppression: Suppression | None = None,
    ):
        """`suppression`: the identifiers of erased people; rows carrying one are dropped
        (and counted) instead of stored. `queue_budget`: seconds rows may wait for their
        commit; beyond it new work is refused (see `accepting`)."""
        self._engine = engine
        self._suppression = suppression
        self._max_pending = max_pending
        self._queue_budget = queue_budget
        self._rows_per_second: float | None = None  # of commits, measured
        self._committing_since: float | None = None  # queued_at of the group being written
        self._max_group = max_group
        self._storage_retry_after = storage_retry_after
        self._queue: deque[_Pending] = deque()
        self._pending_rows = 0
        self._cond = threading.Condition()
        self._closed = False
        self._failing_since: float | None = None
        self._seen = RecentIds(dedup_hours)
        since = datetime.now(UTC) - timedelta(hours=dedup_hours)
        for source, message_id, received_at in engine.message_ids_since(since):
            micros = int(received_at.timestamp() * 1_000_000)
            self._seen.add(RecentIds.key(source, message_id), micros)
        self._next_seq = engine.max_seq() + 1
        self.commits = 0
        self._thread = threading.Thread(target=self._run, name="empreinte-writer", daemon=True)
        self._thread.start()

    # -- submitting -----------------------------------------------------------------------

    def submit(self, rows: list[EventRow]) -> Future[WriteResult]:
        """Queue rows for the next group commit; the future resolves once they are durable.

        Raises `Overloaded` (retry later) instead of queueing what cannot be kept up with,
        and `StorageError` while the storage is failing.
        """
        with self._cond:
            self._check(len(rows))
            future: Future[WriteResult] = Future()
            self._queue.append(_Pending(rows, future, time.monotonic()))
            self._pending_rows += len(rows)
            self._cond.notify()
        return future

    def write(self, rows: list[EventRow]) -> WriteResult:
        """Submit and wait: for the CLI and the Python API."""
        return self.submit(rows).result()

    async def write_async(self, rows: list[EventRow]) -> WriteResult:
        """Submit and await: for the HTTP collector."""
        return await asyncio.wrap_future(self.submit(rows))

    def ensure_accepting(self) -> None:
        """Raise what `submit` would raise now: a cheap check the collector makes before it
        reads, parses and validates a request it would then have to refuse."""
        with self._cond:
            self._check(1)

    def accepting(self) -> bool:
        """Whether a new submission would be queued now."""
        try:
            self.ensure_accepting()
        except (Overloaded, StorageError):
            return False
        return True

    def _check(self, rows: int) -> None:
        """Raise unless `rows` more rows can be queued now. Called holding the lock."""
        if self._closed:
            raise StorageError("the event writer is shut down", self._storage_retry_after)
        if self._failing_since is not None:
            raise StorageError(
                "the event log cannot be written right now; retry later", self._storage_retry_after
            )
        refusal = self._refusal(rows) if rows else None  # `flush()` submits nothing: never refused
        if refusal is not None:
            raise Overloaded(f"{refusal}; retry shortly", retry_after=1)

    def _refusal(self, rows: int) -> str | None:
        """Why `rows` more rows cannot be queued now, or None. Called holding the lock."""
        if not self._pending_rows:
            return None  # an idle writer takes anything: a lone request is never refused
        if self._pending_rows + rows > self._max_pending:
            return f"{self._pending_rows} events are waiting to be written"
        oldest = self._committing_since or self._queue[0].queued_at
        waited = time.monotonic() - oldest
        if waited > self._queue_budget:
            return f"the oldest events waiting to be written have waited {waited:.1f} s"
        if self._rows_per_second is not None:
            drain = (self._pending_rows + rows) / self._rows_per_second
            if drain > self._queue_budget:
                return (
                    f"{self._pending_rows} events are waiting to be written "
                    f"(about {drain:.1f} s of work)"
                )
        return None

    @property
    def rows_per_second(self) -> float | None:
        """The measured commit throughput (None before the first commit)."""
        return self._rows_per_second

    @property
    def storage_retry_after(self) -> int:
        return self._storage_retry_after

    # -- the writer thread ----------------------------------------------------------------

    def _take_group(self) -> list[_Pending] | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if not self._queue:
                return None
            group: list[_Pending] = []
            size = 0
            while self._queue and (not group or size + len(self._queue[0].rows) <= self._max_group):
                item = self._queue.popleft()
                group.append(item)
                size += len(item.rows)
            self._committing_since = group[0].queued_at
            return group

    def _run(self) -> None:
        while (group := self._take_group()) is not None:
            self._commit(group)

    def _commit(self, group: list[_Pending]) -> None:
        started = time.monotonic()
        fresh: list[EventRow] = []
        added: list[str] = []
        counts: list[tuple[int, int, int]] = []
        dropped: Counter[tuple[date, str]] = Counter()
        for item in group:
            rows = item.rows
            if self._suppression is not None:
                rows, suppressed = self._suppression.split(rows)
                dropped.update(suppressed)
            stored = self._drop_retries(rows, fresh, added)
            counts.append((stored, len(rows) - stored, len(item.rows) - len(rows)))
        error: StorageError | None = None
        try:
            self._engine.append(fresh, self._next_seq)
            self._next_seq += len(fresh)
            self.commits += 1
        except StorageError as exc:
            error = exc
        except Exception as exc:  # an engine bug must not kill the writer thread
            log.exception("unexpected error while appending events")
            error = StorageError(f"could not append events: {exc}")
        with self._cond:
            size = sum(len(item.rows) for item in group)
            self._pending_rows -= size
            self._committing_since = None
            if error is None:
                self._failing_since = None
                self._measure(size, time.monotonic() - started)
            else:
                self._failing_since = time.monotonic()
                # Nothing was stored: forget the ids so that the client's retry is accepted.
                self._seen.forget(added)
        if error is None and dropped and self._suppression is not None:
            self._suppression.record(dropped)
        for item, (stored, duplicates, suppressed_rows) in zip(group, counts, strict=True):
            if error is None:
                item.future.set_result(WriteResult(stored, duplicates, suppressed_rows))
            else:
                item.future.set_exception(error)
        if error is not None:
            self._probe_later()

    def _measure(self, rows: int, seconds: float) -> None:
        """Fold one commit of `rows` rows into the measured throughput."""
        if rows < _MEASURED_GROUP or seconds <= 0:
            return
        rate = rows / seconds
        if self._rows_per_second is None:
            self._rows_per_second = rate
        else:
            self._rows_per_second += _RATE_WEIGHT * (rate - self._rows_per_second)

    def _drop_retries(self, rows: list[EventRow], fresh: list[EventRow], added: list[str]) -> int:
        """Add to `fresh` the rows whose (source, messageId) was not seen before; how many."""
        keys = [RecentIds.key(row.source, row.message_id) for row in rows]
        arrivals = {row.received_at for row in rows}
        if len(arrivals) == 1:
            # One request, one arrival time: the window judges all its ids at once.
            verdicts = self._seen.claim(keys, arrivals.pop())
        else:
            verdicts = [
                self._seen.claim([key], row.received_at)[0]
                for key, row in zip(keys, rows, strict=True)
            ]
        if all(verdicts):
            fresh.extend(rows)
            added.extend(keys)
            return len(rows)
        kept = 0
        for row, key, new in zip(rows, keys, verdicts, strict=True):
            if new:
                fresh.append(row)
                added.append(key)
                kept += 1
        return kept

    def _probe_later(self) -> None:
        """After a failed commit, refuse new work for a while, then let it through again."""

        def reopen() -> None:
            time.sleep(self._storage_retry_after)
            with self._cond:
                self._failing_since = None

        threading.Thread(target=reopen, daemon=True).start()

    def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()


__all__ = ["EventWriter", "WriteResult"]
