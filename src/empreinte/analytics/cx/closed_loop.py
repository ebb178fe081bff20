"""Closed loop: the unhappy respondents of the last days, for someone to call back.

One line per person (their latest low answer in the period), newest first, with the comment
(personal data in it masked at ingestion, and here again for answers stored before that) and
the link to their profile, where a user allowed to see it finds how to reach them. "Low" is a
detractor for NPS (0-6), the two bottom boxes for CSAT, and 1-3 ("disagree") for CES.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis

from empreinte.analytics.cx.answers import AnswerScope, check_survey, survey_answers
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError
from empreinte.privacy.redaction import redact


@dataclass(frozen=True)
class LowAnswer:
    profile_id: str
    profile_url: str
    answered_at: datetime
    score: int
    survey_id: str
    touchpoint: str | None
    channel: str | None
    comment: str | None

    def to_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["answered_at"] = self.answered_at.isoformat()
        return row


# The highest score that counts as unhappy (CSAT: the two bottom boxes on 5 or 7 points).
LOW_CUTOFF = {"nps": 6, "csat": 2, "ces": 3}


def detractors(
    log: AnalyticsLog,
    survey: str = "nps",
    *,
    days: int = 30,
    scale: int = 5,
    touchpoint: str | None = None,
    with_comment: bool = False,
    limit: int = 500,
    now: datetime | None = None,
) -> list[LowAnswer]:
    """The people whose latest `survey` answer of the last `days` days was low, newest
    first (at most `limit`)."""
    kind = check_survey(survey)
    if days < 1:
        raise AnalyticsError(f"days must be at least 1, got {days}")
    until = now or datetime.now(UTC)
    scope = AnswerScope(since=until - timedelta(days=days), until=until, touchpoint=touchpoint)
    region = log.settings.default_region
    answers = survey_answers(log, kind, scope, scale=scale)
    # The person's latest answer, whatever the survey: someone who answered 3 then 9
    # has been heard since.
    latest = ibis.row_number().over(
        group_by="profile_id",
        order_by=[ibis.desc(answers.timestamp), ibis.desc(answers.seq)],
    )
    answers = answers.mutate(_rank=latest).filter(lambda t: t._rank == 0)
    low = answers.filter(answers.score <= LOW_CUTOFF[kind])
    if with_comment:
        low = low.filter(low.comment.notnull() & (low.comment.strip() != ""))
    rows = log.execute(
        low.order_by([ibis.desc(low.timestamp), ibis.desc(low.seq)])
        .limit(limit)
        .select("profile_id", "timestamp", "score", "survey_id", "touchpoint", "channel", "comment")
    ).to_dict("records")
    return [
        LowAnswer(
            profile_id=r["profile_id"],
            profile_url=f"/api/profiles/{r['profile_id']}",
            answered_at=r["timestamp"].to_pydatetime(),
            score=int(r["score"]),
            survey_id=r["survey_id"],
            touchpoint=_text(r["touchpoint"]),
            channel=_text(r["channel"]),
            comment=redact(r["comment"], region) if _text(r["comment"]) else None,
        )
        for r in rows
    ]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
