"""The attribution reports compared on DuckDB and Spark by test_spark_parity.py: name → a function
of an `AnalyticsLog` returning rows of numbers and labels (lists of dicts, or a dict).

Figures are rounded to 3 decimals: the engines add floating-point numbers in different orders,
and the last bits of a sum are not a difference in the report. They are shifted by a small odd
amount first: money (two decimals) × 0.4 or 0.5 often lands exactly half-way between two
rounded values, where those last bits would round one engine up and the other down."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from empreinte.analytics.journeys.attribution import attribution_report
from empreinte.analytics.journeys.conversion_paths import PathRules, TouchBy
from empreinte.analytics.journeys.touchpoints import JourneyScope
from empreinte.analytics.log import AnalyticsLog

_SHIFT = 0.0000314159


def _rounded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: round(v + _SHIFT, 3) if isinstance(v, float) else v for k, v in row.items()}
        for row in rows
    ]


def _models(
    by: TouchBy, models: str, orders: tuple[int, ...], **rules: Any
) -> Callable[[AnalyticsLog], Any]:
    def run(log: AnalyticsLog) -> list[dict[str, Any]]:
        report = attribution_report(
            log, PathRules(by=by, **rules), JourneyScope(), models=models, markov_orders=orders
        )
        totals = {
            by: "(total)",
            "conversions": float(report.conversions),
            "value": report.value,
            "non_converting": float(report.non_converting),
            "without_touch": float(report.without_touch),
        }
        return _rounded([*report.to_rows(), totals])

    return run


# Two cases, not one per option: each costs Spark a few plans of the whole path query.
CASES: dict[str, Callable[[AnalyticsLog], Any]] = {
    "attribution: every model by channel": _models("channel", "all", (1, 2)),
    "attribution: channel / campaign, 7-day lookback, goal not a touch, repeats kept": _models(
        "channel_campaign",
        "all",
        (1,),
        lookback=timedelta(days=7),
        goal_touch=False,
        collapse=False,
    ),
}
