"""NPS, CSAT and CES reports: by period, by attribute, with n, intervals and change tests.

The engine counts (one `Tally` per period × group, in one Ibis aggregate over the answers);
Python turns the counts into figures (score_stats.py). Every row carries its n and is flagged
not reliable below `min_n` answers rather than hidden. Over time, each period is tested against
the group's previous period; any two groups or periods can be compared with `compare`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import ibis
import pandas as pd

from empreinte.analytics.attributes import Period, check_period, period_label, with_attribute
from empreinte.analytics.cx import score_stats as st
from empreinte.analytics.cx.answers import (
    ALL_ANSWERS,
    AnswerScope,
    Survey,
    check_survey,
    survey_answers,
)
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

HEADLINES = {"nps": "NPS", "csat": "CSAT (% top-2-box)", "ces": "CES (mean, 1-7)"}
_COMPARE: dict[str, Callable[[st.Tally, st.Tally], st.Difference]] = {
    "nps": st.compare_nps,
    "csat": st.compare_shares,
    "ces": st.compare_means,
}


@dataclass(frozen=True)
class ScoreRow:
    """The figure of one period and/or group."""

    period: str | None
    group: str | None
    tally: st.Tally
    reliable: bool
    score: st.Estimate  # NPS in points; CSAT % top-2-box; CES mean
    details: dict[
        str, st.Estimate
    ]  # NPS: promoters/passives/detractors %; CSAT: mean; CES: agree %
    change: st.Difference | None = None  # against `previous`, the group's previous period
    previous: str | None = None
    # `change`'s p-value adjusted for every change of the report (Benjamini-Hochberg)
    change_q_value: float | None = None

    @property
    def n(self) -> int:
        return self.tally.n

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"period": self.period, "group": self.group, "n": self.n}
        row["reliable"] = self.reliable
        row |= _estimate("score", self.score)
        for name, estimate in self.details.items():
            row |= _estimate(name, estimate)
        row["previous"] = self.previous
        row["change"] = self.change.delta if self.change else None
        row["change_p_value"] = self.change.p_value if self.change else None
        row["change_significant"] = self.change.significant if self.change else None
        row["change_q_value"] = self.change_q_value
        return row


def _estimate(name: str, estimate: st.Estimate) -> dict[str, float | None]:
    return {name: estimate.value, f"{name}_low": estimate.low, f"{name}_high": estimate.high}


@dataclass(frozen=True)
class ScoreReport:
    """A CX figure over periods and/or groups."""

    survey: Survey
    period: Period | None
    by: str | None
    min_n: int
    rows: tuple[ScoreRow, ...]
    scope: AnswerScope = field(default_factory=AnswerScope)

    @property
    def headline(self) -> str:
        return HEADLINES[self.survey]

    @property
    def n(self) -> int:
        return sum(row.n for row in self.rows)

    def to_rows(self) -> list[dict[str, Any]]:
        return [row.to_dict() for row in self.rows]

    def to_pandas(self) -> pd.DataFrame:
        columns = list(self.to_rows()[0]) if self.rows else ["period", "group", "n"]
        return pd.DataFrame(self.to_rows(), columns=columns)

    def _tally(self, label: str) -> st.Tally:
        matched = [
            row.tally
            for row in self.rows
            if label in (row.group, row.period, f"{row.period}/{row.group}")
        ]
        if not matched:
            known = sorted({str(r.group if r.group is not None else r.period) for r in self.rows})
            raise AnalyticsError(f"nothing to compare: no {label!r} in this report ({known})")
        total = matched[0]
        for tally in matched[1:]:
            total += tally
        return total

    def compare(self, a: str, b: str) -> st.Difference:
        """Whether b differs from a beyond noise: a and b are groups ("web"), periods
        ("2026-Q3") or "period/group"; a group's periods are pooled."""
        return _COMPARE[self.survey](self._tally(a), self._tally(b))


def figures(survey: Survey, tally: st.Tally) -> tuple[st.Estimate, dict[str, st.Estimate]]:
    """The headline estimate of `survey` and its detail estimates, from a tally."""
    if survey == "nps":
        promoters = st.share(tally)
        detractors = st.share(st.Tally(tally.n, 0, 0, tally.low, 0))
        passives = st.share(st.Tally(tally.n, 0, 0, tally.n - tally.high - tally.low, 0))
        return st.nps(tally), {
            "promoters": promoters,
            "passives": passives,
            "detractors": detractors,
        }
    if survey == "csat":
        return st.share(tally), {"mean": st.mean(tally)}
    return st.mean(tally), {"agree": st.share(tally)}


def score_report(
    log: AnalyticsLog,
    survey: str,
    *,
    period: str | None = None,
    by: str | None = None,
    scope: AnswerScope = ALL_ANSWERS,
    scale: int = 5,
    min_n: int | None = None,
    answers: str | None = None,
) -> ScoreReport:
    """NPS, CSAT or CES of the answers in `scope`, by `period` and/or attribute `by`.

    `min_n` and `answers` ("latest" or "all") default to the workspace's `[cx]` settings.
    """
    kind = check_survey(survey)
    checked_period = check_period(period)
    settings = log.settings.cx
    rule = answers or settings.answers
    if rule not in ("latest", "all"):
        raise AnalyticsError(f'answers must be "latest" or "all", got {rule!r}')
    threshold = settings.min_n if min_n is None else min_n
    if threshold < 1:
        raise AnalyticsError(f"min_n must be at least 1, got {threshold}")
    table = survey_answers(
        log, kind, scope, period=checked_period, latest_only=rule == "latest", scale=scale
    )
    keys = []
    if checked_period is not None:
        keys.append("period")
    if by is not None:
        table = with_attribute(log, table, by, "group")
        keys.append("group")
    score = table.score
    high = {"nps": score >= 9, "csat": score >= scale - 1, "ces": score >= 5}[kind]
    low = score <= 6 if kind == "nps" else score < 0  # only NPS has a low band
    counts = table.aggregate(
        by=keys,
        n=table.count(),
        total=score.sum(),
        squares=(score * score).sum(),
        high=ibis.ifelse(high, 1, 0).sum(),
        low=ibis.ifelse(low, 1, 0).sum(),
    )
    frame = log.execute(counts)
    rows = _rows(kind, checked_period, frame, threshold)
    return ScoreReport(kind, checked_period, by, threshold, tuple(rows), scope)


def _rows(survey: Survey, period: Period | None, frame: pd.DataFrame, min_n: int) -> list[ScoreRow]:
    records = [r for r in frame.to_dict("records") if r["n"]]  # no answers: no row
    ordered = sorted(
        records,
        key=lambda r: (str(r.get("group", "")), r["period"] if period else datetime.min),
    )
    rows: list[ScoreRow] = []
    for record in ordered:
        tally = st.Tally(
            int(record["n"]),
            float(record["total"]),
            float(record["squares"]),
            int(record["high"]),
            int(record["low"]),
        )
        group = record.get("group")
        label = period_label(record["period"], period) if period else None
        score, details = figures(survey, tally)
        change = previous = None
        before = rows[-1] if rows else None
        if period and before is not None and before.group == group:
            change, previous = _COMPARE[survey](before.tally, tally), before.period
        rows.append(
            ScoreRow(label, group, tally, tally.n >= min_n, score, details, change, previous)
        )
    q_values = iter(st.q_values([row.change.p_value for row in rows if row.change]))
    return [replace(row, change_q_value=next(q_values)) if row.change else row for row in rows]
