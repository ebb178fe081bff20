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
from pathlib import Path
from typing import TYPE_CHECKING

from empreinte.collect.dedup import RecentIds
from empreinte.collect.window_file import SAVE_EVERY, WindowFile
from empreinte.errors import Overloaded, StorageError
from empreinte.store.columns import ColumnarRows, concat
from empreinte.store.engine import Engine
from empreinte.store.records import EventRow, message_key

if TYPE_CHECKING:
    import pyarrow as pa

    from empreinte.privacy.suppression import Suppression

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WriteResult:
    """What became of the rows of one submission."""

    stored: int
    duplicates: int
    suppressed: int = 0  # carried an identifier of an erased person: dropped, not stored


# Rows as the collector's worker processes send them (store/columns.py), or as Python rows.
Rows = list[EventRow] | ColumnarRows


@dataclass
class _Pending:
    rows: Rows
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
        window_dir: Path | None = None,
    ):
        """`suppression`: the identifiers of erased people; rows carrying one are dropped
        (and counted) instead of stored. `window_dir`: where the dedup window is saved, so
        that a restart reads it back rather than the log (see window_file.py). `queue_budget`:
        seconds rows may wait for their commit; beyond it new work is refused (see
        `accepting`)."""
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
        # The dedup window is loaded by the writer thread before its first commit: the server
        # answers (and queues) at once, whatever the size of the window.
        self._dedup_hours = dedup_hours
        self._seen = RecentIds(engine, dedup_hours)
        self._window_file = WindowFile(window_dir) if window_dir is not None else None
        self._saved_hour: int | None = None
        self._next_seq = engine.max_seq() + 1
        self.commits = 0
        self._thread = threading.Thread(target=self._run, name="empreinte-writer", daemon=True)
        self._thread.start()

    # -- submitting -----------------------------------------------------------------------

    def submit(self, rows: Rows) -> Future[WriteResult]:
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

    def write(self, rows: Rows) -> WriteResult:
        """Submit and wait: for the CLI and the Python API."""
        return self.submit(rows).result()

    async def write_async(self, rows: Rows) -> WriteResult:
        """Submit and await: for the HTTP collector."""
        return await asyncio.wrap_future(self.submit(rows))

    def ensure_accepting(self) -> None:
        """Raise what `submit` would raise now: a cheap check the collector makes before it
        reads, parses and validates a request it would then have to refuse."""
        with self._cond:
            self._check(1)

    @property
    def busy(self) -> bool:
        """Whether rows are waiting for their commit or being committed."""
        return self._pending_rows > 0

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
        while not self._load_window():
            if not self._wait_to_retry():
                return
        if self._seen.unsaved >= SAVE_EVERY:  # read from the log: save it for next time
            self._save_window()
        while (group := self._take_group()) is not None:
            self._commit(group)
            if self._seen.unsaved >= SAVE_EVERY or self._seen.newest_hour != self._saved_hour:
                self._save_window()
        self._save_window()

    def _load_window(self) -> bool:
        """Fill the dedup window: from the saved files and the events after them, or else
        from the log. On a storage error, refuse work (503) and fail what is queued, since
        nothing can be judged a retry or not."""
        since = datetime.now(UTC) - timedelta(hours=self._dedup_hours)
        try:
            self._seen = RecentIds(self._engine, self._dedup_hours)
            after = self._read_saved_window()
            if after < self._next_seq - 1:  # events the files do not hold (after kill -9)
                self._seen.load(*self._engine.recent_messages(since, after))
            self._saved_hour = self._seen.newest_hour
        except Exception as exc:
            log.exception("could not load the dedup window; retrying")
            error = exc if isinstance(exc, StorageError) else StorageError(str(exc))
            with self._cond:
                self._failing_since = time.monotonic()
                failed = list(self._queue)
                self._queue.clear()
                self._pending_rows = 0
            for item in failed:
                item.future.set_exception(error)
            return False
        with self._cond:
            self._failing_since = None
        return True

    def _read_saved_window(self) -> int:
        """The saved window, if it matches the log: the last event number it covers (0 when
        there is nothing usable: the whole window is then read from the log)."""
        if self._window_file is None:
            return 0
        return self._window_file.read_into(self._seen, self._engine, self._next_seq - 1)

    def _save_window(self) -> None:
        """Save the hours that changed; a failure is logged, the window stays in memory."""
        self._saved_hour = self._seen.newest_hour
        if self._window_file is not None and self._seen.changed:
            self._window_file.save(self._seen, self._engine, self._next_seq - 1)

    def _wait_to_retry(self) -> bool:
        """Sleep `storage_retry_after` seconds, or until closed: False when closed."""
        with self._cond:
            self._cond.wait_for(lambda: self._closed, timeout=self._storage_retry_after)
            return not self._closed

    def _commit(self, group: list[_Pending]) -> None:
        started = time.monotonic()
        dropped: Counter[tuple[date, str]] = Counter()
        # Per submission, what is left after suppression: Python rows, or encoded rows and the
        # indexes of those left; then every message key of the group, and its arrival time.
        kept: list[list[EventRow] | tuple[ColumnarRows, list[int]]] = []
        keys: list[str] = []
        times: list[int] = []
        for item in group:
            if isinstance(item.rows, ColumnarRows):
                encoded, left = self._unsuppressed(item.rows, dropped)
                kept.append((encoded, left))
                keys += [message_key(encoded.source, encoded.message_ids[i]) for i in left]
                times += [encoded.received_at] * len(left)
                continue
            rows = item.rows
            if self._suppression is not None:
                rows, suppressed = self._suppression.split(rows)
                dropped.update(suppressed)
            kept.append(rows)
            keys += [message_key(row.source, row.message_id) for row in rows]
            times += [row.received_at for row in rows]
        fresh: list[EventRow] = []
        tables: list[pa.Table] = []  # the fresh rows of encoded submissions
        counts: list[tuple[int, int, int]] = []
        error: StorageError | None = None
        try:
            # The whole group is judged at once: one fingerprint lookup, and a retry of a
            # message earlier in the group (not committed yet) is seen as one.
            verdicts = self._seen.claim(keys, times)
            start = 0
            for item, part in zip(group, kept, strict=True):
                size = len(part[1]) if isinstance(part, tuple) else len(part)
                mine = verdicts[start : start + size]
                start += size
                new = sum(mine)
                counts.append((new, size - new, len(item.rows) - size))
                if isinstance(part, tuple):
                    encoded, indexes = part
                    if new == len(encoded):  # the usual case: every row is new
                        tables.append(encoded.table())
                    elif new:
                        keep = [False] * len(encoded)
                        for index, fresh_one in zip(indexes, mine, strict=True):
                            keep[index] = fresh_one
                        tables.append(encoded.table(keep))
                else:
                    fresh += (
                        part if new == size else [r for r, v in zip(part, mine, strict=True) if v]
                    )
            appended = concat(fresh, tables) if tables else fresh
            self._engine.append(appended, self._next_seq)
            self._next_seq += len(appended)
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
                # Nothing was stored: the client's retry is new (forgetting spares a lookup).
                self._seen.forget()
        if error is None and dropped and self._suppression is not None:
            self._suppression.record(dropped)
        if error is not None:
            for item in group:
                item.future.set_exception(error)
            self._probe_later()
            return
        for item, (stored, duplicates, suppressed_rows) in zip(group, counts, strict=True):
            item.future.set_result(WriteResult(stored, duplicates, suppressed_rows))

    def _unsuppressed(
        self, rows: ColumnarRows, dropped: Counter[tuple[date, str]]
    ) -> tuple[ColumnarRows, list[int]]:
        """The encoded rows (new ones if erased identifiers were stripped from some) and the
        indexes of those to store; the rows dropped by suppression are counted in `dropped`."""
        if self._suppression is None:
            return rows, list(range(len(rows)))
        rows, suppressed = self._suppression.screen(rows)
        if not suppressed:
            return rows, list(range(len(rows)))
        dropped[(self._suppression.day(rows.received_at), rows.source)] += len(suppressed)
        gone = set(suppressed)
        return rows, [i for i in range(len(rows)) if i not in gone]

    def _measure(self, rows: int, seconds: float) -> None:
        """Fold one commit of `rows` rows into the measured throughput."""
        if rows < _MEASURED_GROUP or seconds <= 0:
            return
        rate = rows / seconds
        if self._rows_per_second is None:
            self._rows_per_second = rate
        else:
            self._rows_per_second += _RATE_WEIGHT * (rate - self._rows_per_second)

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
