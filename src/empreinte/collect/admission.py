"""How much parsing and validation the collector takes on at once, measured in time.

Parsing and validating a batch is the collector's real CPU cost, and CPython runs it on one
core at a time, whatever the number of threads. So requests are parsed and validated one after
the other by one worker thread, off the event loop (which then stays free to accept
connections, answer 429 and `/api/health`), and a request is admitted only while the work
already admitted would be done within the budget: bytes in flight × measured seconds per byte.
Past it the collector answers 429 at once, before reading the body, and the clients (the
official Segment libraries) retry later with backoff.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from empreinte.errors import Overloaded

T = TypeVar("T")

# Before anything is measured: 100 ns a byte (10 MB/s), slower than any machine measured.
_PRIOR_SECONDS_PER_BYTE = 1e-7
# Weight of the latest request in the measured cost (an exponential moving average).
_COST_WEIGHT = 0.05
# Bodies smaller than this are handled on the event loop: a thread hop would cost more.
_INLINE_BYTES = 8 * 1024


class Admission:
    """The requests admitted and not yet handed to the writer, and their expected cost."""

    def __init__(self, budget: float):
        """`budget`: seconds a request may wait for its turn to be parsed and validated."""
        self._budget = budget
        self._bytes_in_flight = 0
        self._seconds_per_byte = _PRIOR_SECONDS_PER_BYTE
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="empreinte-validate")

    @property
    def seconds_per_byte(self) -> float:
        return self._seconds_per_byte

    @contextmanager
    def admit(self, size: int) -> Iterator[None]:
        """Count a request of `size` bytes in flight while the block runs; `Overloaded` if
        the work already admitted would not be done within the budget. A request is always
        admitted when nothing else is in flight (never refuse a lone request)."""
        # Only the event loop's thread admits and releases: no lock is needed.
        expected = self._bytes_in_flight * self._seconds_per_byte
        if self._bytes_in_flight and expected > self._budget:
            raise Overloaded(
                f"the collector has about {expected:.1f} s of requests to validate; retry shortly",
                retry_after=1,
            )
        self._bytes_in_flight += size
        try:
            yield
        finally:
            self._bytes_in_flight -= size

    async def run(self, size: int, work: Callable[[], T]) -> T:
        """`work()` (parsing and validating a body of `size` bytes) on the worker thread,
        in arrival order; its time updates the measured cost per byte."""
        if size < _INLINE_BYTES:
            return work()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._timed, size, work)

    def _timed(self, size: int, work: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return work()
        finally:
            cost = (time.perf_counter() - started) / size
            # A float store is atomic; the event loop only reads it.
            self._seconds_per_byte += _COST_WEIGHT * (cost - self._seconds_per_byte)

    def close(self) -> None:
        self._worker.shutdown(wait=True)


__all__ = ["Admission"]
