"""The partner reports compared on DuckDB and Spark by test_spark_parity.py: name → a function
of an `AnalyticsLog` returning rows (the counts in the engine, then the protected report made
from them: same counts, same suppression)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from empreinte.analytics.log import AnalyticsLog
from empreinte.analytics.partners.counts import partner_counts, report_lines
from empreinte.analytics.partners.service import brand_list, partner_report

K = 10


def _brands(log: AnalyticsLog) -> list[dict[str, Any]]:
    lines = report_lines(log, since=None, until=None, sources=None)
    return brand_list(log, lines, K).to_rows()


def _top(log: AnalyticsLog) -> str:
    lines = report_lines(log, since=None, until=None, sources=None)
    return brand_list(log, lines, K).brands[0].name


def _counts(by: Any) -> Callable[[AnalyticsLog], list[dict[str, Any]]]:
    def run(log: AnalyticsLog) -> list[dict[str, Any]]:
        lines = report_lines(log, since=None, until=None, sources=None)
        table = partner_counts(log, lines, _top(log), by)
        ordered = table.order_by(["category", "grp", "kind", "switch"])
        return log.execute(ordered).to_dict("records")  # type: ignore[no-any-return]

    return run


def _report(by: Any) -> Callable[[AnalyticsLog], list[dict[str, Any]]]:
    def run(log: AnalyticsLog) -> list[dict[str, Any]]:
        report = partner_report(log, _top(log), by=by, since=None, until=None, k=K, sources=None)
        return report.to_rows()

    return run


CASES: dict[str, Callable[[AnalyticsLog], Any]] = {
    "partner brands": _brands,
    "partner counts by generation": _counts("generation"),
    "partner counts by city": _counts("city"),
    "partner report by country": _report("country"),
}
