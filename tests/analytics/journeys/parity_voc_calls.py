"""The journeys before calls (voc/before_calls.py, voc/call_reports.py) compared on DuckDB and
Spark by test_spark_parity.py: the people of tests/voc_journey_calls.py added to the demo
(`MESSAGES`, their reasons written by `write_reasons`), each report as rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from empreinte.analytics.log import AnalyticsLog
from empreinte.voc.before_calls import CallScope, call_journeys
from empreinte.voc.call_reports import avoidable_calls, before_calls, page_call_rates, repeat_calls
from voc_journey_calls import ANSWERS, REASONS, T0, messages, set_reasons

PREFIX = "parity-"
# Inside the demo's year (2025): a later event would move the log's last day, which other
# cases read as "now" (segments' days_since_last_seen).
SHIFT = T0 - datetime(2025, 6, 2, 10, tzinfo=UTC)


def _shifted(message: dict[str, Any]) -> dict[str, Any]:
    at = datetime.fromisoformat(message["timestamp"]) - SHIFT
    return {**message, "timestamp": at.isoformat()}


MESSAGES = [
    _shifted(m)
    for m in messages(PREFIX, ("+33 6 00 00 01 01", "+33 6 00 00 01 02", "+33 6 00 00 01 03"))
]


def write_reasons(ws: Any) -> None:
    set_reasons(ws, {PREFIX + call: reason for call, reason in REASONS.items()})


def _journeys(log: AnalyticsLog) -> list[dict[str, Any]]:
    table = call_journeys(log, CallScope())
    columns = ["reason", "by", "linked", "sessions", "touchpoints", "errors", "last_page"]
    frame = log.execute(table.order_by("seq").select(*columns, "checkout_abandoned"))
    return frame.to_dict("records")  # type: ignore[no-any-return]


def _before(log: AnalyticsLog) -> list[dict[str, Any]]:
    report = before_calls(log)
    return [*report.reason_rows(), *report.to_rows()]


def _avoidable(log: AnalyticsLog) -> list[dict[str, Any]]:
    return avoidable_calls(log, ANSWERS).to_rows()


def _pages(log: AnalyticsLog) -> list[dict[str, Any]]:
    return page_call_rates(log).to_rows()


def _repeats(log: AnalyticsLog) -> list[dict[str, Any]]:
    return repeat_calls(log).to_rows()


CASES: dict[str, Callable[[AnalyticsLog], Any]] = {
    "voc calls: each call's journey": _journeys,
    "voc calls: before calls per reason": _before,
    "voc calls: avoidable": _avoidable,
    "voc calls: called after the web per page": _pages,
    "voc calls: repeated calls": _repeats,
}
