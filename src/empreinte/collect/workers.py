"""Parsing and validation in worker processes, so that they run beside the server's GIL.

The server process keeps what must be single: HTTP, the writer thread (dedup, suppression,
group commit, durable before 200) and the identity sync. A batch body goes to a worker as
bytes; the worker parses it, validates and pseudonymises its messages with the collector's own
code (`Collector._validate`), encodes the rows as Arrow (`ColumnarRows`, which the writer
appends without touching them row by row) and sends them back with the rejections. A request
refused as a whole comes back as the reason, field and code of its `InvalidMessage`, raised
again in the server. Workers hold no state the server depends on: if one dies, the requests
it held are validated in the server and the pool is started again.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from empreinte.collect.gc_tuning import tune_for_ingest
from empreinte.collect.http import Collector, _parse
from empreinte.collect.text_redaction import warm_in_background
from empreinte.collect.writer import Rows
from empreinte.errors import InvalidMessage, Overloaded
from empreinte.privacy.pii import IngestPolicy
from empreinte.store.columns import ColumnarRows

log = logging.getLogger(__name__)

# Requests a worker may have waiting: enough to keep it busy while answers travel back, few
# enough that a flood is refused (429) rather than held in memory as bodies.
_QUEUED_PER_WORKER = 64

# What a worker returns: rows and rejections, or a whole-request refusal (reason, field, code).
_Rows = tuple[ColumnarRows, list[dict[str, Any]]]
_Refusal = tuple[str, str | None, str]


class _Validator(Collector):
    """The collector's validation alone, as a worker runs it (no credentials, no writer)."""

    def __init__(self, policy: IngestPolicy):
        self._policy = policy


_validator: _Validator | None = None


def _start_worker(policy: IngestPolicy, server: int, warm_texts: bool = False) -> None:
    global _validator
    threading.Thread(target=_watch, args=(server,), name="watch-server", daemon=True).start()
    # The server's SIGINT/SIGTERM stop it; the worker is stopped by the pool's shutdown.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _validator = _Validator(policy)
    tune_for_ingest()
    if warm_texts:
        warm_in_background()


def _watch(server: int) -> None:
    """End this worker when the server is gone (killed with -9, nothing told it): a worker
    re-parented away from the server has nobody to work for. (Linux's PR_SET_PDEATHSIG, tried
    first, left workers of a killed `empreinte serve` running; this needs nothing of the OS.)"""
    while os.getppid() == server:
        time.sleep(0.5)
    os._exit(0)


def _validate_in_worker(
    raw: bytes, kind: str | None, source: str, received_at: int
) -> _Rows | _Refusal:
    assert _validator is not None, "the worker was not initialised"
    try:
        body = _parse(raw)
        rows, rejected = _validator._validate(
            body, kind, source, body_size=len(raw), received_at=received_at
        )
    except InvalidMessage as exc:
        return (exc.reason, exc.field, exc.code)
    return ColumnarRows(rows, source, received_at), rejected


def _ready() -> bool:
    return _validator is not None


class ValidationPool:
    """`workers` processes that parse and validate request bodies for the collector."""

    def __init__(self, workers: int, policy: IngestPolicy, warm_texts: bool = False):
        """`warm_texts`: the workers load the text redaction's models as they start (for a
        workspace that takes conversations), not at their first text."""
        self._workers = workers
        self._policy = policy
        self._warm_texts = warm_texts
        self._limit = workers * _QUEUED_PER_WORKER
        self._queued = 0
        self._executor = self._new_executor()
        self._starting: list[Future[bool]] = []

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn, not fork: the server has threads (the writer, DuckDB's) that a fork would copy
        # in whatever state they were.
        return ProcessPoolExecutor(
            self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self._policy, os.getpid(), self._warm_texts),
        )

    @property
    def workers(self) -> int:
        return self._workers

    def start(self) -> None:
        """Start the workers now; requests are validated in the server until they are ready
        (they import the collector: seconds on a busy machine). Call it from the event loop's
        thread, which also restarts them: Linux ties a worker's life to its starter."""
        self._starting = [self._executor.submit(_ready) for _ in range(self._workers)]

    def ready(self) -> bool:
        """Whether every worker has started."""
        if self._starting and not all(future.done() for future in self._starting):
            return False
        self._starting = []
        return True

    async def validate(
        self, collector: Collector, raw: bytes, kind: str | None, source: str, received_at: int
    ) -> tuple[Rows, list[dict[str, Any]]]:
        """What `collector._validate` would return for `raw` (raising the same refusals),
        the rows encoded.
        Raises `Overloaded` when the workers already have too much waiting."""
        if not self.ready():  # off the event loop: a text's redaction takes milliseconds
            return await asyncio.to_thread(self._here, collector, raw, kind, source, received_at)
        if self._queued >= self._limit:
            raise Overloaded(
                f"{self._queued} requests are waiting to be validated; retry shortly",
                retry_after=1,
            )
        self._queued += 1
        try:
            executor = self._executor
            future = executor.submit(_validate_in_worker, raw, kind, source, received_at)
            result = await asyncio.wrap_future(future)
        except BrokenProcessPool:
            log.exception("a validation worker died; validating in the server, restarting them")
            self._restart(executor)
            return await asyncio.to_thread(self._here, collector, raw, kind, source, received_at)
        finally:
            self._queued -= 1
        if isinstance(result[0], str):
            reason, field, code = result
            raise InvalidMessage(reason, field, code)
        rows, rejected = result
        return rows, rejected

    @staticmethod
    def _here(
        collector: Collector, raw: bytes, kind: str | None, source: str, received_at: int
    ) -> tuple[Rows, list[dict[str, Any]]]:
        """The same validation, in the server."""
        body = _parse(raw)
        return collector._validate(body, kind, source, body_size=len(raw), received_at=received_at)

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        if self._executor is broken:
            broken.shutdown(wait=False, cancel_futures=True)
            self._executor = self._new_executor()
            self.start()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


__all__ = ["ValidationPool"]
