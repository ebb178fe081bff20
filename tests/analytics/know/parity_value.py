"""The value reports compared on DuckDB and Spark by test_spark_parity.py: name → a function
of an `AnalyticsLog` returning rows of numbers and labels (lists of dicts, or a dict)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from empreinte.analytics.know.clv import clv_report, latest_day, summary
from empreinte.analytics.know.rfm import rfm_report
from empreinte.analytics.know.summary import Periods
from empreinte.analytics.log import AnalyticsLog


def _rfm(log: AnalyticsLog) -> list[dict[str, Any]]:
    report = rfm_report(log)
    head = {"reference": report.reference.isoformat(), "currency": report.currency}
    return [head, *report.customers.to_dict("records")]


def _summary(log: AnalyticsLog) -> list[dict[str, Any]]:
    end = latest_day(log)
    periods = Periods(calibration_end=end.replace(month=6, day=30), holdout_end=end)
    frame, currency, excluded = summary(log, periods)
    return [{"currency": currency, "excluded": excluded}, *frame.to_dict("records")]


def _fit(log: AnalyticsLog) -> dict[str, Any]:
    # Fitted on each engine's own summary: equal summaries give equal parameters.
    diagnostics = clv_report(log).diagnostics()
    return {"bgnbd": diagnostics["bgnbd"], "gamma_gamma": diagnostics["gamma_gamma"]}


CASES: dict[str, Callable[[AnalyticsLog], Any]] = {
    "rfm customers": _rfm,
    "clv summary with holdout": _summary,
    "clv fitted parameters": _fit,
}
