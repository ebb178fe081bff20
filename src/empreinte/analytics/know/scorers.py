"""The model runs that write computed traits (`ws.predict()`, `empreinte predict`).

A scorer is a function of the log returning a pandas frame: `profile_id` and one column per
trait it computes (numbers, or text for a label such as an RFM segment or a persona). Adding
one is one line in `SCORERS`. `predict` runs them, keeps only people who allow `profiling`
(whatever the scorer did), and replaces each trait's rows whole, so people no longer scored
lose theirs; people who do not allow `profiling` lose every computed trait at each run, even
those of a scorer that failed this time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from empreinte.analytics.cx.consented import PROFILING_PURPOSE
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError
from empreinte.store.computed_traits import ROWS_SCHEMA, ComputedTraits

Scorer = Callable[[AnalyticsLog], pd.DataFrame]


def _churn_risk(log: AnalyticsLog) -> pd.DataFrame:
    from empreinte.analytics.know.churn import churn_report

    return churn_report(log).to_pandas()


def _clv(log: AnalyticsLog) -> pd.DataFrame:
    from empreinte.analytics.know.clv import clv_scores

    return clv_scores(log)


def _rfm(log: AnalyticsLog) -> pd.DataFrame:
    from empreinte.analytics.know.rfm import rfm_scores

    scores = rfm_scores(log)
    return scores.rename(columns={"r": "rfm_r", "f": "rfm_f", "m": "rfm_m"})


def _persona(log: AnalyticsLog) -> pd.DataFrame:
    from empreinte.analytics.know.personas import persona_scores

    return persona_scores(log)


#: name → scorer; the traits each writes are its frame's columns.
SCORERS: dict[str, Scorer] = {
    "churn_risk": _churn_risk,  # churn_risk
    "clv": _clv,  # clv, p_alive, expected_purchases
    "rfm": _rfm,  # rfm_segment, rfm_r, rfm_f, rfm_m
    "persona": _persona,  # persona
}


@dataclass(frozen=True)
class ScorerRun:
    """What one scorer did: rows written per trait, or why it failed."""

    name: str
    traits: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"scorer": self.name, "traits": self.traits, "error": self.error}


@dataclass(frozen=True)
class PredictRun:
    computed_at: datetime
    runs: tuple[ScorerRun, ...]
    withdrawn: int  # rows deleted of people who do not allow profiling

    @property
    def ok(self) -> bool:
        return all(run.error is None for run in self.runs)

    def to_rows(self) -> list[dict[str, Any]]:
        return [
            {"scorer": run.name, "trait": trait, "people": count, "error": None}
            for run in self.runs
            for trait, count in run.traits.items()
        ] + [
            {"scorer": run.name, "trait": None, "people": 0, "error": run.error}
            for run in self.runs
            if run.error is not None
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "computedAt": self.computed_at.isoformat(),
            "ok": self.ok,
            "runs": [run.to_json() for run in self.runs],
            "withdrawn": self.withdrawn,
        }


def check_names(only: Sequence[str] | None) -> list[str]:
    names = list(SCORERS) if not only else list(dict.fromkeys(only))
    unknown = [name for name in names if name not in SCORERS]
    if unknown:
        raise AnalyticsError(f"unknown scorer(s) {', '.join(unknown)}: use {', '.join(SCORERS)}")
    return names


def profiling(log: AnalyticsLog) -> tuple[set[str], set[str]]:
    """(who allows profiling, who does not) among current profiles."""
    state = log.derived("consent_state")
    rows = log.execute(
        state.filter(state.purpose == PROFILING_PURPOSE).select("profile_id", "allowed")
    )
    allowed = rows["allowed"].astype(bool)
    return set(rows.loc[allowed, "profile_id"]), set(rows.loc[~allowed, "profile_id"])


def trait_rows(frame: pd.DataFrame, column: str) -> pa.Table:
    """One trait column of a scorer's frame as the store's rows (number or text)."""
    values = frame[column]
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    numbers = values.astype("float64") if numeric else pd.Series([None] * len(values))
    texts = pd.Series([None] * len(values)) if numeric else values.astype("object")
    return pa.table(
        {
            "profile_id": pa.array(frame["profile_id"].astype(str).tolist(), pa.string()),
            "number": pa.array([None if pd.isna(v) else float(v) for v in numbers], pa.float64()),
            "text": pa.array([None if pd.isna(v) else str(v) for v in texts], pa.string()),
        },
        schema=ROWS_SCHEMA,
    )


def predict(
    log: AnalyticsLog,
    store: ComputedTraits,
    only: Sequence[str] | None = None,
    *,
    computed_at: datetime | None = None,
) -> PredictRun:
    """Run the scorers (all, or `only` those named) and store their traits."""
    names = check_names(only)
    computed_at = computed_at or datetime.now(UTC)
    allowed, refused = profiling(log)
    withdrawn = store.delete_profiles(refused)
    runs = []
    for name in names:
        try:
            frame = SCORERS[name](log)
        except AnalyticsError as exc:
            runs.append(ScorerRun(name, error=str(exc)))
            continue
        frame = frame[frame["profile_id"].isin(allowed)]
        traits = {}
        for column in frame.columns:
            if column != "profile_id":
                traits[column] = store.replace(column, trait_rows(frame, column), computed_at)
        runs.append(ScorerRun(name, traits))
    return PredictRun(computed_at, tuple(runs), withdrawn)
