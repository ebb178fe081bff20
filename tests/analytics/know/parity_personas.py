"""The persona features compared on DuckDB and Spark by test_spark_parity.py: name → a
function of an `AnalyticsLog` returning rows of numbers and labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from empreinte.analytics.journeys.touchpoints import JourneyScope
from empreinte.analytics.know.persona_features import feature_frame, top_categories
from empreinte.analytics.log import AnalyticsLog

# Sums and means of doubles may differ in their last bits between engines.
DIGITS = 9


def _features(log: AnalyticsLog) -> list[dict[str, Any]]:
    frame = feature_frame(log).round(DIGITS)
    return frame.astype(object).where(frame.notna(), None).to_dict("records")  # type: ignore[no-any-return]


def _categories(log: AnalyticsLog) -> list[dict[str, Any]]:
    return [{"category": c} for c in top_categories(log, JourneyScope(), 8)]


CASES: dict[str, Callable[[AnalyticsLog], Any]] = {
    "persona features": _features,
    "persona top categories": _categories,
}
