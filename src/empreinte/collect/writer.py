"""Group commit: many concurrent requests share one durable append to the log.

Requests hand their validated rows to a single writer thread and wait. The thread takes
everything that is waiting, drops retried messages (same source and messageId), appends the
rest in one transaction and wakes every request of the group once it is committed. A request
is answered 200 only after that commit.
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
from empreinte.store.columns import ColumnarRows, concat
from empreinte.store.engine import Engine
from empreinte.store.records import EventRow

if TYPE_CHECKING:
    import pyarrow as pa

if TYPE_CHECKING:
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


class EventWriter:
    """The single writer of a workspace's event log."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_pending: int = 250_000,
        max_group: int = 100_000,
        dedup_hours: int = 25,
        storage_retry_after: int = 5,
        suppression: Suppression | None = None,
    ):
        """`suppression`: the identifiers of erased people; rows carrying one are dropped
        (and counted) instead of stored."""
        self._engine = engine
        self._suppression = suppression
        self._max_pending = max_pending
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

    def submit(self, rows: Rows) -> Future[WriteResult]:
        """Queue rows for the next group commit; the future resolves once they are durable.

        Raises `Overloaded` (retry later) instead of queueing what cannot be kept up with,
        and `StorageError` while the storage is failing.
        """
        with self._cond:
            if self._closed:
                raise StorageError("the event writer is shut down")
            if self._failing_since is not None:
                raise StorageError("the event log cannot be written right now; retry later")
            if self._pending_rows and self._pending_rows + len(rows) > self._max_pending:
                raise Overloaded(
                    f"{self._pending_rows} events are waiting to be written; retry shortly",
                    retry_after=1,
                )
            future: Future[WriteResult] = Future()
            self._queue.append(_Pending(rows, future))
            self._pending_rows += len(rows)
            self._cond.notify()
        return future

    def write(self, rows: Rows) -> WriteResult:
        """Submit and wait: for the CLI and the Python API."""
        return self.submit(rows).result()

    async def write_async(self, rows: Rows) -> WriteResult:
        """Submit and await: for the HTTP collector."""
        return await asyncio.wrap_future(self.submit(rows))

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
            return group

    def _run(self) -> None:
        while (group := self._take_group()) is not None:
            self._commit(group)

    def _commit(self, group: list[_Pending]) -> None:
        fresh: list[EventRow] = []
        tables: list[pa.Table] = []  # the fresh rows of encoded submissions
        added: list[str] = []
        counts: list[tuple[int, int, int]] = []
        dropped: Counter[tuple[date, str]] = Counter()
        for item in group:
            if isinstance(item.rows, ColumnarRows):
                counts.append(self._keep_columnar(item.rows, tables, added, dropped))
                continue
            rows = item.rows
            if self._suppression is not None:
                rows, suppressed = self._suppression.split(rows)
                dropped.update(suppressed)
            stored = self._drop_retries(rows, fresh, added)
            counts.append((stored, len(rows) - stored, len(item.rows) - len(rows)))
        error: StorageError | None = None
        try:
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
            self._pending_rows -= sum(len(item.rows) for item in group)
            if error is None:
                self._failing_since = None
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

    def _keep_columnar(
        self,
        rows: ColumnarRows,
        tables: list[pa.Table],
        added: list[str],
        dropped: Counter[tuple[date, str]],
    ) -> tuple[int, int, int]:
        """`_drop_retries` and suppression for encoded rows: adds their fresh part to
        `tables`; (stored, duplicates, suppressed)."""
        keep = [True] * len(rows)
        suppressed = self._suppression.carriers(rows.identifiers) if self._suppression else []
        for index in suppressed:
            keep[index] = False
        if suppressed and self._suppression is not None:
            dropped[(self._suppression.day(rows.received_at), rows.source)] += len(suppressed)
        source = rows.source
        keys = [RecentIds.key(source, message_id) for message_id in rows.message_ids]
        candidates = [i for i, kept in enumerate(keep) if kept] if suppressed else None
        claimed = keys if candidates is None else [keys[i] for i in candidates]
        verdicts = self._seen.claim(claimed, rows.received_at)
        if candidates is None and all(verdicts):  # the usual case: every row is new
            added.extend(keys)
            tables.append(rows.table())
            return len(rows), 0, 0
        stored = 0
        indexes = range(len(rows)) if candidates is None else candidates
        for index, new in zip(indexes, verdicts, strict=True):
            if new:
                added.append(keys[index])
                stored += 1
            else:
                keep[index] = False
        if stored:
            tables.append(rows.table(keep))
        return stored, len(claimed) - stored, len(suppressed)

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
