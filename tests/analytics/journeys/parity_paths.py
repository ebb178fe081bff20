"""The paths and retention reports compared on DuckDB and Spark by test_spark_parity.py: name → a
function of an `AnalyticsLog` returning rows of numbers and labels (lists of dicts, or a dict)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from empreinte.analytics.journeys.paths import paths
from empreinte.analytics.journeys.retention import retention
from empreinte.analytics.log import AnalyticsLog


def _paths(**kwargs: Any) -> Callable[[AnalyticsLog], Any]:
    def run(log: AnalyticsLog) -> Any:
        report = paths(log, **kwargs)
        return report.to_rows() + [
            {
                "level": s.level,
                "source": "step",
                "target": s.step,
                "people": s.people,
                "transitions": s.transitions,
                "share": s.share,
            }
            for s in report.steps
        ]

    return run


def _retention(**kwargs: Any) -> Callable[[AnalyticsLog], Any]:
    return lambda log: retention(log, **kwargs).to_rows()


# Few cases, each covering several options: every query costs seconds on a local Spark.
CASES: dict[str, Callable[[AnalyticsLog], Any]] = {
    "paths next, steps, top 4": _paths(anchor="Product Viewed", depth=3, top=4),
    "paths previous, pages, collapsed, in a session": _paths(
        anchor="Order Completed",
        direction="previous",
        depth=3,
        label="page",
        collapse=True,
        within="session",
    ),
    "paths next, channel: step, within a day, first": _paths(
        anchor="Product Viewed",
        depth=2,
        label="channel_step",
        within=timedelta(days=1),
        top=3,
        anchors="first",
    ),
    "retention weekly": _retention(period="week", periods=6),
    "retention monthly by country, orders, by day": _retention(
        period="month", bucket="day", returning="Order Completed", periods=40, by="country"
    ),
}
