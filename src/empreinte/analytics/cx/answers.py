"""Survey answers read from the log, as an Ibis table: which answers a CX figure counts.

Answers are `track` events with conventional names (checked at ingestion, see
collect/surveys.py): `NPS Answered` {score 0-10}, `CSAT Answered` {score, scale 5 or 7},
`CES Answered` {score 1-7}, each with optional `survey_id`, `touchpoint` and `comment`. A survey
with a `touchpoint` is transactional (about one delivery, call, store visit); without one it is
relational (about the brand).

By default only a person's latest answer per survey and period counts (`[cx] answers`), so a
customer who answers twice does not weigh twice. Erased people's answers are gone from the log,
and suppressed identifiers never reached it, so neither is ever counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import ibis
import ibis.expr.types as ir

from empreinte.analytics.attributes import Period, period_start
from empreinte.analytics.json import JsonDoc
from empreinte.errors import AnalyticsError

if TYPE_CHECKING:
    from empreinte.analytics.log import AnalyticsLog

Survey = Literal["nps", "csat", "ces"]
SURVEY_EVENTS: dict[str, str] = {
    "nps": "NPS Answered",
    "csat": "CSAT Answered",
    "ces": "CES Answered",
}
# Valid score ranges (CSAT: per scale). Ingestion rejects the rest; events stored before that
# check existed are filtered here the same way rather than skewing a figure.
_RANGES: dict[str, tuple[int, int]] = {"nps": (0, 10), "ces": (1, 7)}
Kind = Literal["all", "relational", "transactional"]


@dataclass(frozen=True)
class AnswerScope:
    """Which answers a report reads: a time window (since inclusive, until exclusive), one
    survey programme, one touchpoint, or only relational / transactional surveys."""

    since: datetime | None = None
    until: datetime | None = None
    survey_id: str | None = None
    touchpoint: str | None = None
    kind: Kind = "all"

    def __post_init__(self) -> None:
        if self.kind not in ("all", "relational", "transactional"):
            raise AnalyticsError(
                f"unknown survey kind {self.kind!r}: use all, relational or transactional"
            )
        if self.since and self.until and self.since >= self.until:
            raise AnalyticsError("the window is empty: since must be before until")


ALL_ANSWERS = AnswerScope()


def check_survey(survey: str) -> Survey:
    if survey not in SURVEY_EVENTS:
        raise AnalyticsError(f"unknown survey {survey!r}: use one of {', '.join(SURVEY_EVENTS)}")
    return survey  # type: ignore[return-value]


def in_window(events: ir.Table, scope: AnswerScope) -> ir.Table:
    if scope.since is not None:
        events = events.filter(events.timestamp >= scope.since)
    if scope.until is not None:
        events = events.filter(events.timestamp < scope.until)
    return events


def answer_events(
    log: AnalyticsLog,
    event: str,
    scope: AnswerScope,
    columns: Callable[[JsonDoc], dict[str, ir.Value]],
) -> ir.Table:
    """The `track` events named `event` in `scope`'s window, with the columns every answer
    keeps (seq, identifiers, timestamp, channel, source, properties, context) and `columns`,
    read from the properties."""
    events = log.events()
    events = in_window(events.filter((events.event == event) & (events.type == "track")), scope)
    kept = ("seq", "identifiers", "timestamp", "channel", "source", "properties", "context")
    return events.select(*kept, **columns(JsonDoc(log, events.properties)))


def survey_answers(
    log: AnalyticsLog,
    survey: Survey,
    scope: AnswerScope = ALL_ANSWERS,
    *,
    period: Period | None = None,
    latest_only: bool = True,
    scale: int = 5,
) -> ir.Table:
    """One row per counted answer: seq, profile_id, timestamp, score, survey_id, touchpoint,
    comment, channel, source, properties, context (and `period`, the start of its period,
    when `period` is given). CSAT answers are those on `scale` (5 or 7)."""
    if scale not in (5, 7):
        raise AnalyticsError(f"CSAT scale must be 5 or 7, got {scale}")
    answers = answer_events(
        log,
        SURVEY_EVENTS[survey],
        scope,
        lambda props: {
            "score": props.number("score"),
            "scale": props.number("scale").fill_null(5.0),
            "survey_id": props.text("survey_id").fill_null(SURVEY_EVENTS[survey]),
            "touchpoint": props.text("touchpoint"),
            "comment": props.string("comment"),
        },
    )
    low, high = (1, scale) if survey == "csat" else _RANGES[survey]
    answers = answers.filter(
        answers.score.between(low, high), answers.score.round() == answers.score
    )
    if survey == "csat":
        answers = answers.filter(answers.scale == scale)
    if scope.survey_id is not None:
        answers = answers.filter(answers.survey_id == scope.survey_id)
    if scope.touchpoint is not None:
        answers = answers.filter(answers.touchpoint == scope.touchpoint)
    if scope.kind == "relational":
        answers = answers.filter(answers.touchpoint.isnull())
    elif scope.kind == "transactional":
        answers = answers.filter(answers.touchpoint.notnull())
    if period is not None:
        answers = answers.mutate(period=period_start(log, answers.timestamp, period))
    answers = log.with_owner(answers).drop("identifiers")
    if not latest_only:
        return answers
    keys = ["profile_id", "survey_id"] + (["period"] if period is not None else [])
    latest = ibis.row_number().over(
        group_by=keys, order_by=[ibis.desc(answers.timestamp), ibis.desc(answers.seq)]
    )
    return answers.mutate(_rank=latest).filter(lambda t: t._rank == 0).drop("_rank")
