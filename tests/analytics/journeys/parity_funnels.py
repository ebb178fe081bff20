"""The funnels reports compared on DuckDB and Spark by test_spark_parity.py: name → a function
of an `AnalyticsLog` returning rows of numbers and labels (lists of dicts, or a dict)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from empreinte.analytics.journeys.funnels import dropped, funnel_report
from empreinte.analytics.journeys.funnels_spec import Exclusion, FunnelSpec
from empreinte.analytics.journeys.steps import Step, parse_steps
from empreinte.analytics.log import AnalyticsLog

SHOP = parse_steps(
    ["Product Viewed", "Product Added", "Cart Viewed", "Checkout Started", "Order Completed"]
)


# The engines interpolate a percentile of seconds in a different order: the last bits of a
# double may differ (22951.199999999997 and 22951.199999999993 on the demo of 2026-12-05).
DIGITS = 9


def _rounded(value: Any) -> Any:
    return round(value, DIGITS) if isinstance(value, float) else value


def _rows(spec: FunnelSpec) -> Callable[[AnalyticsLog], Any]:
    def run(log: AnalyticsLog) -> Any:
        rows = funnel_report(log, spec).to_rows()
        return [{key: _rounded(value) for key, value in row.items()} for row in rows]

    return run


def _dropped(log: AnalyticsLog) -> Any:
    ids = dropped(log, FunnelSpec(steps=SHOP, window=timedelta(days=7)), 1)
    return [{"profile_id": profile} for profile in ids]


# Few cases, each combining features: every case is a Spark job of its own.
CASES: dict[str, Callable[[AnalyticsLog], Any]] = {
    "funnel ordered 7d": _rows(FunnelSpec(steps=SHOP, window=timedelta(days=7))),
    "funnel strict 1d": _rows(FunnelSpec(steps=SHOP[:3], window=timedelta(days=1), mode="strict")),
    "funnel unordered by channel of the start": _rows(
        FunnelSpec(steps=SHOP[:3], mode="unordered", by="channel")
    ),
    "funnel entries by country, payment failures excluded": _rows(
        FunnelSpec(
            steps=SHOP,
            window=timedelta(days=2),
            count="entries",
            by="country",
            exclusions=(Exclusion(Step("Payment Failed"), 1),),
        )
    ),
    "funnel dropped at step 1": _dropped,
}
