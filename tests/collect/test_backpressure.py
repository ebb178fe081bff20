"""The writer's back-pressure in time: refused once the queue would take longer than its budget
to drain, or its oldest rows have waited longer than that; never refused when idle."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import FaultyEngine
from empreinte.collect.admission import Admission
from empreinte.collect.validate import normalise, now_micros
from empreinte.collect.writer import EventWriter
from empreinte.errors import Overloaded
from empreinte.privacy.pii import IngestPolicy
from empreinte.privacy.pseudonym import Pseudonymiser
from empreinte.store.duckdb.engine import DuckDBEngine
from empreinte.store.records import EventFilter, EventRow

POLICY = IngestPolicy(Pseudonymiser(b"backpressure-key" * 2))


def rows(count: int, label: str) -> list[EventRow]:
    received = now_micros()
    return [
        normalise(
            {"type": "track", "event": "E", "userId": "u", "messageId": f"{label}-{n}"},
            source="s",
            received_at=received,
            policy=POLICY,
        )
        for n in range(count)
    ]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[FaultyEngine]:
    faulty = FaultyEngine(DuckDBEngine(tmp_path / "events.duckdb"))
    yield faulty
    faulty.gate.set()
    faulty.inner.close()


def test_rows_that_waited_longer_than_the_budget_refuse_new_work(engine: FaultyEngine) -> None:
    budget = 0.3
    writer = EventWriter(engine, queue_budget=budget)  # type: ignore[arg-type]
    try:
        engine.gate.clear()  # the disk stalls
        started = time.monotonic()
        first = writer.submit(rows(3, "first"))
        assert engine.stalled.wait(10)
        second = writer.submit(rows(2, "second"))  # within the budget: queued
        while writer.accepting():
            time.sleep(0.01)
        assert time.monotonic() - started >= budget  # refused only once the budget has passed
        with pytest.raises(Overloaded, match="have waited") as refused:
            writer.submit(rows(1, "refused"))
        assert refused.value.retry_after >= 1
        flush = writer.submit([])  # a flush is never refused...
        engine.gate.set()
        assert first.result(10).stored == 3 and second.result(10).stored == 2
        assert flush.result(10).stored == 0
        assert writer.accepting()  # ...and the writer takes work again once it has drained
        assert writer.write(rows(1, "later")).stored == 1
        assert engine.count_events(EventFilter()) == 6
    finally:
        engine.gate.set()
        writer.close()


def test_more_than_the_budget_of_measured_commit_time_is_refused(engine: FaultyEngine) -> None:
    budget = 5.0
    writer = EventWriter(engine, queue_budget=budget, max_pending=10**9)  # type: ignore[arg-type]
    try:
        assert writer.rows_per_second is None
        writer.write(rows(2_000, "measure"))  # a group large enough to measure the throughput
        rate = writer.rows_per_second
        assert rate is not None and rate > 0
        engine.gate.clear()
        writer.submit(rows(1, "stalled"))
        assert engine.stalled.wait(10)
        one = rows(1, "one")[0]
        # Twice the budget's worth of rows, at the measured rate: refused before it is queued.
        with pytest.raises(Overloaded, match="s of work"):
            writer.submit([one] * int(rate * budget * 2))
        assert writer.submit(rows(10, "fits")) is not None  # a small request still fits
    finally:
        engine.gate.set()
        writer.close()
    assert engine.count_events(EventFilter()) == 2_011


def test_an_idle_writer_takes_a_request_larger_than_its_cap(engine: FaultyEngine) -> None:
    writer = EventWriter(engine, max_pending=5)  # type: ignore[arg-type]
    try:
        assert writer.write(rows(20, "big")).stored == 20
    finally:
        writer.close()


def test_admission_refuses_more_validation_than_its_budget() -> None:
    admission = Admission(budget=0.5)
    try:
        over = int(0.5 / admission.seconds_per_byte) + 1  # more than the budget's worth of bytes
        with admission.admit(over):  # alone in flight: admitted whatever its size
            with pytest.raises(Overloaded, match="to validate") as refused, admission.admit(1):
                pass
            assert refused.value.retry_after >= 1
        with admission.admit(over // 2), admission.admit(over // 3):  # within the budget
            pass
        with admission.admit(over):  # released: admitted again
            pass
    finally:
        admission.close()
