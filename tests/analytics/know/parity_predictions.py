"""The predictions' engine work compared on DuckDB and Spark by test_spark_parity.py: name → a
function of an `AnalyticsLog` returning rows of numbers and labels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from empreinte.analytics.know.churn_features import buyers, churn_features
from empreinte.analytics.know.generations_report import generation_table
from empreinte.analytics.know.icp import icp_report, ideal_customer
from empreinte.analytics.log import AnalyticsLog

# Inside the demo's year: features of everyone who ordered before it, labels after it.
CUTOFF = datetime(2025, 9, 15, 12, 30, 15, 250000, tzinfo=UTC)
LABEL_END = datetime(2025, 12, 14, tzinfo=UTC)


def _features(log: AnalyticsLog) -> list[dict[str, Any]]:
    frame = log.execute(churn_features(log, CUTOFF).order_by("profile_id"))
    return frame.to_dict("records")  # type: ignore[no-any-return]


def _buyers(log: AnalyticsLog) -> list[dict[str, Any]]:
    frame = log.execute(buyers(log, CUTOFF, LABEL_END).order_by("profile_id"))
    return frame.to_dict("records")  # type: ignore[no-any-return]


def _generations(log: AnalyticsLog) -> list[dict[str, Any]]:
    table = generation_table(log)
    frame = log.execute(table.order_by(table.generation.fill_null("")))
    return frame.to_dict("records")  # type: ignore[no-any-return]


def _icp(log: AnalyticsLog) -> list[dict[str, Any]]:
    profile = ideal_customer(
        industries=["technology", "design"], employees=(10, 50), countries=["FR"]
    )
    return icp_report(log, profile).to_rows()


CASES: dict[str, Callable[[AnalyticsLog], Any]] = {
    "churn features at a cutoff": _features,
    "buyers after a cutoff": _buyers,
    "generations table": _generations,
    "icp scores": _icp,
}
