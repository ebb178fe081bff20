"""The persona features, and the personas clustered from them, compared on DuckDB and Spark by
test_spark_parity.py: name → a function of an `AnalyticsLog` returning rows of numbers and
labels. The clustering runs in Python on the feature table each engine gives: the same
personas (k by stability, each person's label and name) on both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from empreinte.analytics.journeys.touchpoints import JourneyScope
from empreinte.analytics.know.persona_features import feature_frame, top_categories
from empreinte.analytics.know.personas import cluster
from empreinte.analytics.log import AnalyticsLog

# Sums and means of doubles may differ in their last bits between engines.
DIGITS = 9


def _features(log: AnalyticsLog) -> list[dict[str, Any]]:
    frame = feature_frame(log).round(DIGITS)
    return frame.astype(object).where(frame.notna(), None).to_dict("records")  # type: ignore[no-any-return]


def _categories(log: AnalyticsLog) -> list[dict[str, Any]]:
    return [{"category": c} for c in top_categories(log, JourneyScope(), 8)]


def _clusters(log: AnalyticsLog) -> list[dict[str, Any]]:
    found = cluster(feature_frame(log), seed=0)
    people = found.people.assign(
        persona=[found.names["en"][c] for c in found.people["cluster"]],
        k=found.k,
        chosen_by=found.chosen_by,
        stability=max(s.stability for s in found.scores),
    )
    columns = ["profile_id", "cluster", "persona", "k", "chosen_by", "stability"]
    return people[columns].to_dict("records")  # type: ignore[no-any-return]


CASES: dict[str, Callable[[AnalyticsLog], Any]] = {
    "persona features": _features,
    "persona clusters": _clusters,
    "persona top categories": _categories,
}
