"""Which survey answers a CX figure counts (cx/answers.py, through `workspace.cx`): a person's
latest answer per survey (and period) across all their identifiers, the window, survey_id,
touchpoint, relational / transactional, erased people and bots left out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import empreinte
from empreinte.analytics.cx.answers import AnswerScope
from empreinte.errors import AnalyticsError
from empreinte.privacy import erasure
from empreinte.workspace import Workspace

BOT_AGENT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def nps(who: str, score: int, when: str, *, anon: bool = False, **props: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "NPS Answered",
        "anonymousId" if anon else "userId": who,
        "properties": {"score": score, **props},
        "timestamp": f"{when}T09:00:00Z",
    }


DELIVERY = {"survey_id": "nps-delivery", "touchpoint": "delivery"}
RELATIONAL = {"survey_id": "nps-relational"}

# Who answered what (scores in time order). The default survey_id is the event name.
MESSAGES: list[dict[str, Any]] = [
    # ann answers the relational survey twice: 3 in January, 9 in February
    nps("ann", 3, "2026-01-10"),
    nps("ann", 9, "2026-02-15"),
    # bob answers two programmes: delivery 10 then 2; relational 8
    nps("bob", 10, "2026-01-20", **DELIVERY),
    nps("bob", 2, "2026-03-01", **DELIVERY),
    nps("bob", 8, "2026-03-05", **RELATIONAL),
    # cy answers 0 anonymously, is identified, then answers 7 as a user: one person, 7
    nps("anon-cy", 0, "2026-02-01", anon=True),
    {
        "type": "identify",
        "userId": "cy",
        "anonymousId": "anon-cy",
        "timestamp": "2026-02-02T09:00:00Z",
    },
    nps("cy", 7, "2026-02-20"),
    # dee answers 4 as a user, then 10 anonymously, and is aliased later: one person, 10
    nps("dee", 4, "2026-01-06"),
    nps("anon-dee", 10, "2026-01-08", anon=True),
    {"type": "alias", "previousId": "anon-dee", "userId": "dee", "timestamp": "2026-01-09"},
    # fay answers 5 then 10 at the same instant: the one logged last counts
    nps("fay", 5, "2026-03-10"),
    nps("fay", 10, "2026-03-10"),
    # eve is erased below: her answers must not count
    nps("eve", 1, "2026-01-15"),
    nps("eve", 2, "2026-02-15"),
    # a crawler's answer is not a customer's
    {**nps("crawler", 0, "2026-02-03"), "context": {"userAgent": BOT_AGENT}},
]


@dataclass(frozen=True)
class Built:
    ws: Workspace
    n_all_before_erasure: int


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    ws = empreinte.open(Path(tmp_path_factory.mktemp("answers")) / "ws")
    try:
        report = ws.ingest(MESSAGES, source="web")
        assert not report.rejected, report.rejected
        ws.flush()
        before = ws.cx.nps(answers="all").n
        eve = ws.profiles.find("userId", "eve")
        assert eve is not None
        erasure.erase(ws, eve, "test")
        yield Built(ws, before)
    finally:
        ws.close()


@pytest.fixture(scope="module")
def ws(built: Built) -> Workspace:
    return built.ws


def only_row(report: Any) -> Any:
    [row] = report.rows
    return row


def counts(row: Any) -> tuple[int, int, int]:
    """(n, promoters, detractors) of a row."""
    return row.n, row.tally.high, row.tally.low


def test_latest_answer_per_person_and_survey(ws: Workspace) -> None:
    # ann 9, bob delivery 2, bob relational 8, cy 7, dee 10, fay 10
    row = only_row(ws.cx.nps())
    assert counts(row) == (6, 3, 1)
    assert row.score.value == pytest.approx(100 * (3 - 1) / 6)


def test_all_answers(ws: Workspace) -> None:
    # ann 3,9; bob 10,2,8; cy 0,7; dee 4,10; fay 5,10 → 11 answers,
    # promoters 9,10,10,10 (4), detractors 3,2,0,4,5 (5)
    row = only_row(ws.cx.nps(answers="all"))
    assert counts(row) == (11, 4, 5)
    assert row.score.value == pytest.approx(-100 / 11)


def test_an_erased_persons_answers_are_gone(built: Built) -> None:
    assert built.n_all_before_erasure == 13  # eve's two answers were counted before
    assert built.ws.cx.nps(answers="all").n == 11
    assert built.ws.profiles.find("userId", "eve") is None


def test_the_latest_rule_is_per_period(ws: Workspace) -> None:
    # January: ann 3, bob delivery 10, dee 10 (4 then 10); February: ann 9, cy 7 (0 then 7);
    # March: bob delivery 2, bob relational 8, fay 10
    report = ws.cx.nps(period="month")
    assert [(r.period, *counts(r)) for r in report.rows] == [
        ("2026-01", 3, 2, 1),
        ("2026-02", 2, 1, 0),
        ("2026-03", 3, 1, 1),
    ]


def test_an_anonymous_answer_and_a_later_identified_one_are_one_person(ws: Workspace) -> None:
    # cy's 0 (anonymous) and 7 (identified) in February: one answer, the 7
    row = only_row(ws.cx.nps(since=datetime(2026, 2, 1, tzinfo=UTC), until=_at(2026, 2, 3)))
    assert counts(row) == (1, 0, 1)  # only the 0 is in this window
    row = only_row(ws.cx.nps(by="source", since=_at(2026, 2, 1), until=_at(2026, 3, 1)))
    # ann 9 and cy 7 (cy's 0 replaced by the later 7)
    assert counts(row) == (2, 1, 0)
    assert row.group == "web"


def test_an_anonymous_answer_can_be_the_latest(ws: Workspace) -> None:
    # dee answered 4 as a user, then 10 anonymously: the 10 counts, once
    row = only_row(ws.cx.nps(since=_at(2026, 1, 6), until=_at(2026, 1, 9)))
    assert counts(row) == (1, 1, 0)


def test_same_instant_answers_keep_the_one_logged_last(ws: Workspace) -> None:
    row = only_row(ws.cx.nps(since=_at(2026, 3, 10), until=_at(2026, 3, 11)))
    assert (row.n, row.tally.total) == (1, 10.0)


def test_bots_are_left_out(ws: Workspace) -> None:
    # only the crawler answered on 3 February
    assert ws.cx.nps(since=_at(2026, 2, 3), until=_at(2026, 2, 4)).rows == ()


def _at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def test_window_is_since_inclusive_until_exclusive(ws: Workspace) -> None:
    # in [1 Feb, 1 Mar): ann 9 (15 Feb), cy 0 (1 Feb 09:00) and 7 (20 Feb);
    # bob's 2 of 1 March 09:00 is after `until`
    latest = only_row(ws.cx.nps(since=_at(2026, 2, 1), until=_at(2026, 3, 1)))
    assert counts(latest) == (2, 1, 0)
    every = only_row(ws.cx.nps(since=_at(2026, 2, 1), until=_at(2026, 3, 1), answers="all"))
    assert counts(every) == (3, 1, 1)
    # 1 March 09:00 is in a window that starts then
    starts = ws.cx.nps(since=datetime(2026, 3, 1, 9, tzinfo=UTC), until=_at(2026, 3, 2))
    assert counts(only_row(starts)) == (1, 0, 1)


def test_survey_id_and_touchpoint(ws: Workspace) -> None:
    delivery = only_row(ws.cx.nps(survey_id="nps-delivery"))
    assert (delivery.n, delivery.tally.total) == (1, 2.0)  # bob's latest delivery answer
    assert only_row(ws.cx.nps(touchpoint="delivery")).tally == delivery.tally
    every = only_row(ws.cx.nps(survey_id="nps-delivery", answers="all"))
    assert (every.n, every.tally.total) == (2, 12.0)
    relational = only_row(ws.cx.nps(survey_id="nps-relational"))
    assert (relational.n, relational.tally.total) == (1, 8.0)


def test_relational_and_transactional(ws: Workspace) -> None:
    # relational: no touchpoint → ann 9, bob relational 8, cy 7, dee 10, fay 10
    relational = only_row(ws.cx.nps(kind="relational"))
    assert (relational.n, relational.tally.total) == (5, 44.0)
    # transactional: bob's delivery survey (latest: 2)
    transactional = only_row(ws.cx.nps(kind="transactional"))
    assert (transactional.n, transactional.tally.total) == (1, 2.0)
    assert only_row(ws.cx.nps()).n == relational.n + transactional.n


def test_by_survey_id(ws: Workspace) -> None:
    report = ws.cx.nps(by="survey_id")
    # rows without a survey_id are grouped under "(none)" (ann, cy, dee, fay)
    assert {r.group: r.n for r in report.rows} == {
        "(none)": 4,
        "nps-delivery": 1,
        "nps-relational": 1,
    }


def test_scope_errors() -> None:
    with pytest.raises(AnalyticsError, match="since must be before until"):
        AnswerScope(since=_at(2026, 2, 1), until=_at(2026, 1, 1))
    with pytest.raises(AnalyticsError, match="'sometimes'"):
        AnswerScope(kind="sometimes")  # type: ignore[arg-type]


def test_unknown_survey_and_rule(ws: Workspace) -> None:
    with pytest.raises(AnalyticsError, match="'xps'"):
        ws.cx.score("xps")
    with pytest.raises(AnalyticsError, match="'first'"):
        ws.cx.nps(answers="first")


def test_a_scope_with_no_answers_is_an_empty_report(ws: Workspace) -> None:
    report = ws.cx.nps(survey_id="no-such-survey")
    assert (report.rows, report.n) == ((), 0)
    assert ws.cx.nps(period="quarter", survey_id="no-such-survey").rows == ()


def test_numeric_survey_ids_are_kept_apart(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        ws.ingest(
            [nps("gus", 9, "2026-02-10", survey_id=1), nps("gus", 3, "2026-02-11", survey_id=2)]
        )
        ws.flush()
        assert ws.cx.nps().n == 2  # two surveys, one latest answer each
        assert ws.cx.nps(survey_id="1").n == 1
