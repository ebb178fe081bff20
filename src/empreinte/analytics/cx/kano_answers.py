"""Kano results read from the log: `Kano Answered` {feature, functional, dysfunctional}.

The engine counts the answer pairs per feature (and group); the 25-cell evaluation table and
the Better/Worse coefficients are kano.py's. Only a person's latest answer per feature and
survey counts, like the other surveys (`[cx] answers`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import ibis
import pandas as pd

from empreinte.analytics.attributes import NONE, with_attribute
from empreinte.analytics.cx.answers import ALL_ANSWERS, AnswerScope, answer_events
from empreinte.analytics.cx.kano import (
    Category,
    FeatureResult,
    UnknownKanoAnswer,
    classify,
    summarise,
)
from empreinte.analytics.log import AnalyticsLog

KANO_EVENT = "Kano Answered"


@dataclass(frozen=True)
class KanoGroup:
    """The Kano results of one group (or of everyone when the report has no `by`)."""

    group: str | None
    features: tuple[FeatureResult, ...]


@dataclass(frozen=True)
class KanoReport:
    by: str | None
    groups: tuple[KanoGroup, ...]
    unreadable: int  # answers whose pair could not be read (not one of the five options)

    @property
    def features(self) -> tuple[FeatureResult, ...]:
        """The features of the first group (the only one without `by`)."""
        return self.groups[0].features if self.groups else ()

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows())

    def to_rows(self) -> list[dict[str, Any]]:
        rows = []
        for group in self.groups:
            for result in group.features:
                row: dict[str, Any] = {"group": group.group, "feature": result.feature}
                row["n"] = result.n
                row["reliable"] = not result.small_sample
                row["dominant"] = result.dominant.label if result.dominant else None
                row["tied"] = ", ".join(c.label for c in result.tied) if result.is_tie else None
                for category in Category:
                    row[category.label] = result.shares[category]
                for category, interval in result.share_intervals.items():
                    row[f"{category.label}_low"] = interval.low
                    row[f"{category.label}_high"] = interval.high
                for name in ("better", "worse"):
                    interval = getattr(result, f"{name}_interval")
                    row[name] = getattr(result, name)
                    row[f"{name}_low"] = interval.low if interval else None
                    row[f"{name}_high"] = interval.high if interval else None
                rows.append(row)
        return rows


def kano_results(
    log: AnalyticsLog,
    *,
    by: str | None = None,
    scope: AnswerScope = ALL_ANSWERS,
    features: list[str] | None = None,
    min_n: int | None = None,
    answers: str | None = None,
) -> KanoReport:
    """Category shares, dominant category and Better/Worse per feature (and per group of
    attribute `by`), for the Kano answers in `scope`."""
    settings = log.settings.cx
    threshold = settings.min_n if min_n is None else min_n
    # Answers may be words or the codes 1-5: read them as text either way.
    table = answer_events(
        log,
        KANO_EVENT,
        scope,
        lambda props: {
            "feature": props.string("feature"),
            "functional": props.text("functional"),
            "dysfunctional": props.text("dysfunctional"),
            "survey_id": props.text("survey_id").fill_null(KANO_EVENT),
        },
    )
    table = table.filter(table.feature.notnull())
    if features:
        table = table.filter(table.feature.isin(features))
    if scope.survey_id is not None:
        table = table.filter(table.survey_id == scope.survey_id)
    table = log.with_owner(table)
    if (answers or settings.answers) == "latest":
        latest = ibis.row_number().over(
            group_by=["profile_id", "feature", "survey_id"],
            order_by=[ibis.desc(table.timestamp), ibis.desc(table.seq)],
        )
        table = table.mutate(_rank=latest).filter(lambda t: t._rank == 0).drop("_rank")
    keys = ["feature", "functional", "dysfunctional"]
    if by is not None:
        table = with_attribute(log, table, by, "group")
        keys.insert(0, "group")
    counts = log.execute(table.group_by(keys).agg(n=table.count()))
    tallies: dict[tuple[str | None, str], Counter[Category]] = {}
    unreadable = 0
    for record in counts.to_dict("records"):
        try:
            category = classify(_code(record["functional"]), _code(record["dysfunctional"]))
        except UnknownKanoAnswer:  # stored before ingestion checked answers
            unreadable += int(record["n"])
            continue
        key = (record.get("group", NONE) if by else None, str(record["feature"]))
        tallies.setdefault(key, Counter())[category] += int(record["n"])
    groups: dict[str | None, list[FeatureResult]] = {}
    for (group, feature), counter in sorted(tallies.items(), key=lambda kv: str(kv[0])):
        result = summarise(feature, counter.elements(), min_n=threshold)
        groups.setdefault(group, []).append(result)
    return KanoReport(
        by, tuple(KanoGroup(g, tuple(results)) for g, results in groups.items()), unreadable
    )


def _code(value: Any) -> int | str:
    text = str(value).strip().strip('"').removesuffix(".0")  # 3.0 (accepted at ingestion) is 3
    return int(text) if text.isdigit() else text
