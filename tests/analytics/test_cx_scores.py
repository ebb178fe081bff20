"""NPS, CSAT and CES reports over the log (cx/scores.py through `workspace.cx`): hand-checked
figures, period labels, change against the previous period, compare, min_n, CSAT scales,
profile attributes, errors, and the engine against a plain-Python oracle on a random log."""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

import empreinte
from empreinte.errors import AnalyticsError, ConfigError
from empreinte.workspace import Workspace

Message = dict[str, Any]


def answer(
    event: str,
    who: str,
    score: int,
    when: str,
    *,
    anon: bool = False,
    channel: str | None = None,
    **props: Any,
) -> Message:
    message: Message = {
        "type": "track",
        "event": event,
        "anonymousId" if anon else "userId": who,
        "properties": {"score": score, **props},
        "timestamp": when if "T" in when else f"{when}T10:00:00Z",
    }
    if channel is not None:
        message["context"] = {"channel": channel}
    return message


def ingest(ws: Workspace, messages: list[Message]) -> None:
    report = ws.ingest(messages, source="web")
    assert not report.rejected, report.rejected
    ws.flush()


@pytest.fixture(scope="module")
def tmp_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("scores"))


# -- worked examples ---------------------------------------------------------------------------

NPS_Q1 = [9, 9, 10, 8, 7, 6, 3, 9, 10, 5]  # NPS 20, Var 0.076 (see test_cx_score_stats)
NPS_Q2 = [10] * 10  # NPS 100, no variance
CSAT_Q1 = [5, 4, 4, 3, 5, 2, 5, 4, 1, 5]  # top-2-box 70 %, mean 3.8
CSAT_Q2 = [5, 5, 4, 5, 4, 5, 5, 3]  # top-2-box 7/8
CSAT7 = [7, 6, 2, 5]  # on a 7-point scale: top-2-box (6-7) 2/4, mean 5.0
CES_Q1 = [7, 6, 5, 5, 4, 3, 2, 6, 7, 1]  # agree (5-7) 60 %, mean 4.6
CES_Q2 = [7, 7, 6, 5, 6]


@pytest.fixture(scope="module")
def examples(tmp_dir: Path) -> Iterator[Workspace]:
    ws = empreinte.open(tmp_dir / "examples")
    messages = []
    for i, score in enumerate(NPS_Q1):
        messages.append(answer("NPS Answered", f"q1-{i}", score, "2026-02-10"))
    for i, score in enumerate(NPS_Q2):
        messages.append(answer("NPS Answered", f"q2-{i}", score, "2026-05-05"))
    for i, score in enumerate(CSAT_Q1):
        messages.append(answer("CSAT Answered", f"q1-{i}", score, "2026-02-11"))
    for i, score in enumerate(CSAT_Q2):
        messages.append(answer("CSAT Answered", f"q2-{i}", score, "2026-05-06"))
    for i, score in enumerate(CSAT7):
        messages.append(answer("CSAT Answered", f"s7-{i}", score, "2026-02-12", scale=7))
    for i, score in enumerate(CES_Q1):
        messages.append(answer("CES Answered", f"q1-{i}", score, "2026-02-13"))
    for i, score in enumerate(CES_Q2):
        messages.append(answer("CES Answered", f"q2-{i}", score, "2026-05-07"))
    ingest(ws, messages)
    yield ws
    ws.close()


def test_nps_worked_example_from_the_log(examples: Workspace) -> None:
    [q1] = examples.cx.nps(until=datetime(2026, 4, 1, tzinfo=UTC)).rows
    # 5 promoters, 2 passives, 3 detractors of 10: NPS 20; adjusted Wald (n + 3 = 13, 3/4 of
    # a promoter and of a detractor added): 15.3846 ± 45.7106 (tests/analytics/test_cx_score_stats)
    assert (q1.n, q1.tally.high, q1.tally.low) == (10, 5, 3)
    assert q1.score.value == pytest.approx(20.0)
    assert (q1.score.low, q1.score.high) == pytest.approx((-30.3260, 61.0952), abs=1e-3)
    assert q1.details["promoters"].value == pytest.approx(50.0)
    assert q1.details["passives"].value == pytest.approx(20.0)
    assert q1.details["detractors"].value == pytest.approx(30.0)
    row = q1.to_dict()
    assert (row["n"], row["score"], row["promoters"]) == (10, pytest.approx(20.0), 50.0)


def test_change_against_the_previous_period(examples: Workspace) -> None:
    report = examples.cx.nps(period="quarter")
    q1, q2 = report.rows
    assert (q1.period, q2.period) == ("2026-Q1", "2026-Q2")
    assert (q1.change, q1.previous) == (None, None)
    assert q2.previous == "2026-Q1"
    assert q2.change is not None
    # 100 - 20 = 80 points; adjusted: z = 0.615385 / √0.0769231 = 2.21880; p = 0.02650
    assert q2.change.delta == pytest.approx(80.0)
    assert q2.change.statistic == pytest.approx(2.21880, abs=1e-4)
    assert q2.change.p_value == pytest.approx(0.02650, abs=1e-5)
    assert q2.to_dict()["change_significant"] is True
    compared = report.compare("2026-Q1", "2026-Q2")
    assert (compared.delta, compared.p_value) == pytest.approx((80.0, 0.02650), abs=1e-5)
    reverse = report.compare("2026-Q2", "2026-Q1")
    assert reverse.delta == pytest.approx(-80.0)
    assert reverse.p_value == pytest.approx(compared.p_value)


def test_compare_names_what_it_cannot_find(examples: Workspace) -> None:
    report = examples.cx.nps(period="quarter")
    with pytest.raises(AnalyticsError, match="2026-Q3"):
        report.compare("2026-Q1", "2026-Q3")


def test_min_n_flags_rows_without_hiding_them(examples: Workspace) -> None:
    default = examples.cx.nps(period="quarter")  # [cx] min_n defaults to 30
    assert default.min_n == 30
    assert [(r.period, r.n, r.reliable) for r in default.rows] == [
        ("2026-Q1", 10, False),
        ("2026-Q2", 10, False),
    ]
    assert [r.reliable for r in examples.cx.nps(period="quarter", min_n=10).rows] == [True, True]
    assert [r.reliable for r in examples.cx.nps(period="quarter", min_n=11).rows] == [False] * 2
    assert examples.cx.nps(period="quarter", min_n=11).to_pandas()["reliable"].tolist() == [
        False,
        False,
    ]
    with pytest.raises(AnalyticsError, match="min_n"):
        examples.cx.nps(min_n=0)


def test_csat_top_2_box_and_mean(examples: Workspace) -> None:
    q1, q2 = examples.cx.csat(period="quarter").rows
    assert (q1.n, q1.tally.high) == (10, 7)
    assert q1.score.value == pytest.approx(70.0)  # % top-2-box
    assert (q1.score.low, q1.score.high) == pytest.approx((39.68, 89.22), abs=0.01)  # Wilson
    mean = q1.details["mean"]
    assert mean.value == pytest.approx(3.8)
    low, high = stats.t.interval(0.95, 9, loc=3.8, scale=stats.sem(CSAT_Q1))
    assert (mean.low, mean.high) == pytest.approx((low, high))  # 3.8 ± 1.00036
    assert (q2.n, q2.tally.high) == (8, 7)
    # the change of a CSAT is the two-proportion z-test of the top-2-box counts
    z, p = proportions_ztest([7, 7], [8, 10])
    assert q2.change is not None
    assert (q2.change.statistic, q2.change.p_value) == pytest.approx((z, p))
    assert q2.change.delta == pytest.approx(100 * (7 / 8 - 7 / 10))


def test_csat_on_7_points_is_reported_apart(examples: Workspace) -> None:
    [seven] = examples.cx.csat(scale=7).rows
    # 7,6,2,5: top-2-box (6-7) = 2/4, mean 5.0
    assert (seven.n, seven.tally.high) == (4, 2)
    assert seven.score.value == pytest.approx(50.0)
    assert seven.details["mean"].value == pytest.approx(5.0)
    assert examples.cx.csat().n == 18  # the 5-point answers only
    with pytest.raises(AnalyticsError, match="scale"):
        examples.cx.csat(scale=10)


def test_ces_mean_and_agree(examples: Workspace) -> None:
    q1, q2 = examples.cx.ces(period="quarter").rows
    assert q1.n == 10
    assert q1.score.value == pytest.approx(4.6)
    low, high = stats.t.interval(0.95, 9, loc=4.6, scale=stats.sem(CES_Q1))
    assert (q1.score.low, q1.score.high) == pytest.approx((low, high))
    agree = q1.details["agree"]
    assert (q1.tally.high, agree.value) == (6, pytest.approx(60.0))
    # the change of a CES is Welch's t-test of the raw scores
    welch = stats.ttest_ind(CES_Q2, CES_Q1, equal_var=False)
    assert q2.change is not None
    assert q2.change.delta == pytest.approx(np.mean(CES_Q2) - 4.6)
    assert (q2.change.statistic, q2.change.p_value) == pytest.approx(
        (welch.statistic, welch.pvalue)
    )


def test_unknown_period_and_attribute_are_named(examples: Workspace) -> None:
    with pytest.raises(AnalyticsError, match="'fortnight'"):
        examples.cx.nps(period="fortnight")
    with pytest.raises(AnalyticsError, match="'colour'"):
        examples.cx.nps(by="colour")
    with pytest.raises(AnalyticsError, match=r"'traits\.'"):
        examples.cx.nps(by="traits.")


# -- period labels -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dated(tmp_dir: Path) -> Iterator[Workspace]:
    ws = empreinte.open(tmp_dir / "dated")
    ingest(
        ws,
        [
            answer("NPS Answered", "a", 9, "2026-11-18"),  # a Wednesday of ISO week 47
            answer("NPS Answered", "b", 3, "2025-12-31"),  # ISO week 1 of 2026
            # 23:30 at UTC-2 is 01:30 UTC on 1 April: the second quarter
            answer("NPS Answered", "c", 10, "2026-03-31T23:30:00-02:00"),
            answer("NPS Answered", "d", 0, "2026-03-31T23:30:00+00:00"),
        ],
    )
    yield ws
    ws.close()


@pytest.mark.parametrize(
    ("period", "labels"),
    [
        ("week", [("2026-W01", 1), ("2026-W14", 2), ("2026-W47", 1)]),
        ("month", [("2025-12", 1), ("2026-03", 1), ("2026-04", 1), ("2026-11", 1)]),
        ("quarter", [("2025-Q4", 1), ("2026-Q1", 1), ("2026-Q2", 1), ("2026-Q4", 1)]),
        ("year", [("2025", 1), ("2026", 3)]),
    ],
)
def test_period_labels(dated: Workspace, period: str, labels: list[tuple[str, int]]) -> None:
    report = dated.cx.nps(period=period)
    assert [(r.period, r.n) for r in report.rows] == labels
    # every period but the first is compared with the one before it
    assert [r.previous for r in report.rows] == [None] + [label for label, _ in labels[:-1]]


@pytest.fixture(scope="module")
def in_paris(tmp_dir: Path) -> Iterator[Workspace]:
    root = tmp_dir / "paris"
    root.mkdir()
    (root / "empreinte.toml").write_text('timezone = "Europe/Paris"\n')
    ws = empreinte.open(root)
    ingest(
        ws,
        [
            # 31 March 22:30 UTC is 1 April 00:30 in Paris (summer time): the second quarter
            answer("NPS Answered", "a", 10, "2026-03-31T22:30:00Z"),
            # 21:30 UTC is 23:30 in Paris, still 31 March
            answer("NPS Answered", "b", 0, "2026-03-31T21:30:00Z"),
            # 31 December 23:30 UTC is already 2027 in Paris (winter time, UTC+1)
            answer("NPS Answered", "c", 9, "2026-12-31T23:30:00Z"),
        ],
    )
    yield ws
    ws.close()


def test_periods_are_read_in_the_workspace_time_zone(in_paris: Workspace) -> None:
    quarters = [(r.period, r.n, r.score.value) for r in in_paris.cx.nps(period="quarter").rows]
    assert quarters == [("2026-Q1", 1, -100.0), ("2026-Q2", 1, 100.0), ("2027-Q1", 1, 100.0)]
    months = [(r.period, r.n) for r in in_paris.cx.nps(period="month").rows]
    assert months == [("2026-03", 1), ("2026-04", 1), ("2027-01", 1)]


def test_a_date_without_offset_is_midnight_in_the_workspace_time_zone(in_paris: Workspace) -> None:
    # midnight in Paris on 1 April is 22:00 UTC on 31 March
    april = in_paris.cx.nps(since=datetime(2026, 4, 1), until=datetime(2027, 1, 1))
    assert [r.n for r in april.rows] == [1]
    utc = in_paris.cx.nps(since=datetime(2026, 4, 1, tzinfo=UTC), until=datetime(2027, 1, 1))
    assert utc.rows == ()  # an explicit offset is kept: the answer at 22:30 UTC is before
    everything_before = in_paris.cx.nps(until=datetime(2026, 4, 1))
    assert [(r.n, r.score.value) for r in everything_before.rows] == [(1, -100.0)]


# -- profile attributes ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def people(tmp_dir: Path) -> Iterator[Workspace]:
    ws = empreinte.open(tmp_dir / "people")
    identify = [
        # g1 answered anonymously before being identified
        ("g1", "anon-g1", {"birthday": "1990-05-01", "address": {"country": "fr"}}),
        ("g2", None, {"birthday": "1975-12-24", "country": "US", "plan": "silver"}),
        ("g3", None, {"birthday": "2001-07-14", "plan": "gold"}),
        ("g5", None, {"birth_year": 1996, "country": "FR"}),
    ]
    messages: list[Message] = []
    for user, anon, traits in identify:
        message: Message = {
            "type": "identify",
            "userId": user,
            "traits": {**traits, "email": f"{user}@example.com"},
            "timestamp": "2026-01-01T00:00:00Z",
        }
        if anon:
            message["anonymousId"] = anon
        if user == "g3":
            message["context"] = {"locale": "de-DE"}
        messages.append(message)
    messages.append(
        {"type": "identify", "userId": "g1", "traits": {"plan": "gold"}, "timestamp": "2026-01-02"}
    )
    messages += [
        answer("NPS Answered", "anon-g1", 10, "2026-02-01", anon=True, channel="app"),
        answer("NPS Answered", "g2", 3, "2026-02-01", channel="web"),
        answer("NPS Answered", "g3", 9, "2026-02-01", channel="web"),
        answer("NPS Answered", "g4", 7, "2026-02-01", channel="store"),
        answer("NPS Answered", "g5", 6, "2026-02-01", channel="phone"),
    ]
    ingest(ws, messages)
    yield ws
    ws.close()


def groups(report: Any) -> dict[str, tuple[int, float]]:
    return {row.group: (row.n, row.tally.total) for row in report.rows}


def test_by_generation(people: Workspace) -> None:
    # 1990-05-01 and 1996 → Gen Y (Millennials); 1975 → Gen X; 2001 → Gen Z; g4 unknown
    assert groups(people.cx.nps(by="generation")) == {
        "Gen Y (Millennials)": (2, 16.0),
        "Gen X": (1, 3.0),
        "Gen Z": (1, 9.0),
        "(none)": (1, 7.0),
    }
    assert groups(people.cx.nps(by="birth_year")) == {
        "1990": (1, 10.0),
        "1975": (1, 3.0),
        "2001": (1, 9.0),
        "1996": (1, 6.0),
        "(none)": (1, 7.0),
    }


def test_by_country(people: Workspace) -> None:
    # address.country "fr" → FR; the locale of an identify de-DE → DE
    assert groups(people.cx.nps(by="country")) == {
        "FR": (2, 16.0),
        "US": (1, 3.0),
        "DE": (1, 9.0),
        "(none)": (1, 7.0),
    }


def test_by_a_trait_and_by_channel(people: Workspace) -> None:
    assert groups(people.cx.nps(by="traits.plan")) == {
        "gold": (2, 19.0),
        "silver": (1, 3.0),
        "(none)": (2, 13.0),
    }
    assert groups(people.cx.nps(by="channel")) == {
        "app": (1, 10.0),
        "web": (2, 12.0),
        "store": (1, 7.0),
        "phone": (1, 6.0),
    }
    report = people.cx.nps(by="traits.plan")
    diff = report.compare("silver", "gold")  # 9,10 (NPS 100) against 3 (NPS -100)
    assert diff.delta == pytest.approx(200.0)


@pytest.mark.parametrize("trait", ["traits.email", "traits.phone", "traits.first_name"])
def test_personal_traits_are_refused(people: Workspace, trait: str) -> None:
    with pytest.raises(AnalyticsError, match=rf"{trait} is personal data"):
        people.cx.nps(by=trait)


def test_by_country_agrees_with_the_profiles_country(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        ingest(
            ws,
            [
                {"type": "identify", "userId": "h", "traits": {"plan": "gold"}},
                {**answer("NPS Answered", "h", 9, "2026-02-01"), "context": {"locale": "de-DE"}},
            ],
        )
        profile_id = ws.profiles.find("userId", "h")
        assert profile_id is not None
        assert ws.profiles.get(profile_id).computed.country == "DE"
        assert groups(ws.cx.nps(by="country")) == {"DE": (1, 9.0)}


def test_by_preferred_channel_agrees_with_the_profiles(tmp_path: Path) -> None:
    def seen(user: str, channel: str, day: str) -> dict[str, Any]:
        return {
            "type": "track",
            "userId": user,
            "event": "Product Viewed",
            "timestamp": f"{day}T10:00:00Z",
            "context": {"channel": channel},
        }

    with empreinte.open(tmp_path / "ws") as ws:
        ingest(
            ws,
            [
                # s: two store events, one web: store. w: two of each, web the most recent.
                seen("s", "store", "2026-01-02"),
                seen("s", "store", "2026-01-03"),
                seen("s", "web", "2026-01-04"),
                seen("w", "store", "2026-01-02"),
                seen("w", "store", "2026-01-03"),
                seen("w", "web", "2026-01-04"),
                seen("w", "web", "2026-01-05"),
                {**answer("NPS Answered", "s", 9, "2026-02-01"), "context": {"channel": "email"}},
                {**answer("NPS Answered", "w", 3, "2026-02-01"), "context": {"channel": "email"}},
            ],
        )
        for user, expected in (("s", "store"), ("w", "web")):
            profile_id = ws.profiles.find("userId", user)
            assert profile_id is not None
            # The e-mailed answer counts once: not enough to make e-mail preferred.
            assert ws.profiles.get(profile_id).computed.preferred_channel == expected
        assert groups(ws.cx.nps(by="preferred_channel")) == {
            "store": (1, 9.0),
            "web": (1, 3.0),
        }


# -- settings ----------------------------------------------------------------------------------


def test_cx_settings_from_empreinte_toml(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "empreinte.toml").write_text('[cx]\nmin_n = 2\nanswers = "all"\n')
    with empreinte.open(root) as ws:
        ingest(
            ws,
            [
                answer("NPS Answered", "a", 0, "2026-02-01"),
                answer("NPS Answered", "a", 10, "2026-02-02"),
            ],
        )
        [row] = ws.cx.nps().rows
        assert (row.n, row.reliable) == (2, True)  # both answers, 2 >= min_n
        [latest] = ws.cx.nps(answers="latest").rows
        assert (latest.n, latest.reliable, latest.tally.total) == (1, False, 10.0)


@pytest.mark.parametrize(
    "section",
    ["[cx]\nmin_n = 0\n", '[cx]\nanswers = "first"\n', "[cx]\nthreshold = 3\n"],
)
def test_bad_cx_settings_stop_open(tmp_path: Path, section: str) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "empreinte.toml").write_text(section)
    with pytest.raises(ConfigError, match=r"empreinte\.toml.*\[cx\]"):
        empreinte.open(root)


# -- the engine against a plain-Python oracle ----------------------------------------------------

CHANNELS = ("web", "app", "store", "phone")
START = datetime(2025, 7, 1, tzinfo=UTC)


def random_log(seed: int) -> tuple[list[Message], list[tuple[str, str, str, datetime, int]]]:
    """A log of ~30 people answering over a year (some anonymously before being identified,
    some several times, some at the same instant), and the answers as
    (person, survey_id, channel, time, score) in log order."""
    rng = random.Random(seed)
    messages: list[Message] = []
    answers: list[tuple[str, str, str, datetime, int]] = []
    identifies: list[Message] = []
    for person in range(rng.randint(25, 35)):
        user = f"p{person}"
        anon = f"a{person}" if rng.random() < 0.4 else None
        if anon:
            identifies.append({"type": "identify", "userId": user, "anonymousId": anon})
        previous: tuple[datetime, str] | None = None
        for _ in range(rng.randint(1, 6)):
            if previous is not None and rng.random() < 0.25:
                when, survey = previous  # answered twice at the same instant
            else:
                when = START + timedelta(days=rng.randint(0, 364), hours=rng.choice((9, 17)))
                survey = rng.choice(("nps-rel", "nps-delivery"))
            previous = (when, survey)
            channel = rng.choice(CHANNELS)
            score = rng.randint(0, 10)
            props: dict[str, Any] = {"survey_id": survey}
            if survey == "nps-delivery":
                props["touchpoint"] = "delivery"
            as_anon = anon is not None and rng.random() < 0.5
            who = anon if as_anon and anon else user
            messages.append(
                answer(
                    "NPS Answered",
                    who,
                    score,
                    when.isoformat(),
                    anon=as_anon,
                    channel=channel,
                    **props,
                )
            )
            answers.append((user, survey, channel, when, score))
    order = list(range(len(messages)))
    rng.shuffle(order)
    shuffled = [messages[i] for i in order]
    answers = [answers[i] for i in order]
    # identifies land anywhere in the log: ownership is decided by the graph as it is now
    for message in identifies:
        shuffled.insert(rng.randint(0, len(shuffled)), message)
    return shuffled, answers


def quarter_of(moment: datetime) -> str:
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def oracle(
    answers: list[tuple[str, str, str, datetime, int]], latest: bool, kind: str = "all"
) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(quarter, channel) → (n, promoters, detractors) by the rule, in plain Python."""
    if kind == "transactional":
        answers = [a for a in answers if a[1] == "nps-delivery"]
    counted: list[tuple[str, str, int]] = []
    if latest:
        best: dict[tuple[str, str, str], tuple[datetime, int, str, int]] = {}
        for index, (person, survey, channel, when, score) in enumerate(answers):
            key = (person, survey, quarter_of(when))
            candidate = (when, index, channel, score)
            if key not in best or candidate[:2] > best[key][:2]:
                best[key] = candidate
        counted = [(key[2], channel, score) for key, (_, _, channel, score) in best.items()]
    else:
        counted = [(quarter_of(when), channel, score) for _, _, channel, when, score in answers]
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for quarter, channel, score in counted:
        cell = cells[(quarter, channel)]
        cell[0] += 1
        cell[1] += score >= 9
        cell[2] += score <= 6
    return {key: (n, p, d) for key, (n, p, d) in cells.items()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nps_by_quarter_and_channel_matches_a_python_oracle(tmp_dir: Path, seed: int) -> None:
    messages, answers = random_log(seed)
    with empreinte.open(tmp_dir / f"oracle-{seed}") as ws:
        ingest(ws, messages)
        for rule in ("latest", "all"):
            for kind in ("all", "transactional"):
                report = ws.cx.nps(period="quarter", by="channel", answers=rule, kind=kind)
                expected = oracle(answers, latest=rule == "latest", kind=kind)
                got = {(r.period, r.group): (r.n, r.tally.high, r.tally.low) for r in report.rows}
                assert got == expected, (rule, kind)
                for row in report.rows:
                    n, p, d = expected[(row.period, row.group)]
                    assert row.score.value == pytest.approx(100 * (p - d) / n)
                # each group's periods are in order, each compared with the one before
                by_group: dict[str, list[Any]] = defaultdict(list)
                for row in report.rows:
                    by_group[row.group].append(row)
                for rows in by_group.values():
                    assert [r.period for r in rows] == sorted(r.period for r in rows)
                    for before, after in itertools.pairwise(rows):
                        assert after.previous == before.period
                        assert after.change is not None
                        delta = after.score.value - before.score.value
                        assert after.change.delta == pytest.approx(delta)
                        assert not math.isnan(after.change.p_value)
                # the q-values adjust every change of the report at once (Benjamini-Hochberg)
                changed = [row for row in report.rows if row.change]
                _, q_values, _, _ = multipletests(
                    [row.change.p_value for row in changed],  # type: ignore[union-attr]
                    method="fdr_bh",
                )
                assert len(changed) > 3
                assert [row.change_q_value for row in changed] == pytest.approx(list(q_values))
                assert [r.to_dict()["change_q_value"] for r in report.rows if not r.change] == [
                    None
                ] * (len(report.rows) - len(changed))


def test_profile_groups_follow_the_log_between_reports(tmp_path: Path) -> None:
    """Country and generation are read from the engine table `profile_facts`, rewritten when
    the log has changed since: a person who moves, or states a birth date, is grouped anew by
    the next report of the same open workspace (and a report with nothing new keeps them)."""
    with empreinte.open(tmp_path / "ws") as ws:
        ingest(
            ws,
            [
                answer("NPS Answered", "u1", 9, "2026-01-05"),
                answer("NPS Answered", "u2", 3, "2026-01-06"),
            ],
        )
        identify = {"type": "identify", "userId": "u1", "timestamp": "2026-01-07T10:00:00Z"}
        ingest(ws, [{**identify, "traits": {"address": {"country": "FR"}}}])
        first = {r.group: r.tally.n for r in ws.cx.nps(by="country", min_n=1).rows}
        assert first == {"FR": 1, "(none)": 1}
        assert {r.group: r.tally.n for r in ws.cx.nps(by="country", min_n=1).rows} == first
        ingest(
            ws,
            [
                {
                    **identify,
                    "traits": {"address": {"country": "DE"}},
                    "timestamp": "2026-01-08T10:00:00Z",
                },
                {**identify, "userId": "u2", "traits": {"birthday": "1990-04-02"}},
            ],
        )
        assert {r.group: r.tally.n for r in ws.cx.nps(by="country", min_n=1).rows} == {
            "DE": 1,
            "(none)": 1,
        }
        generations = {r.group: r.tally.n for r in ws.cx.nps(by="generation", min_n=1).rows}
        assert generations == {"Gen Y (Millennials)": 1, "(none)": 1}


def test_profile_facts_kept_up_to_date_equal_a_full_recomputation(tmp_path: Path) -> None:
    """`profile_facts` is updated only for the profiles that own new events; after the second
    half of a demo log (new people, merges of anonymous visitors into accounts, moves) it
    holds exactly what computing it whole gives."""
    from empreinte.analytics.attributes import profile_facts
    from empreinte.demo import generate

    messages = list(generate(120))
    half = len(messages) // 2
    with empreinte.open(tmp_path / "ws") as ws:
        ingest(ws, messages[:half])
        assert ws.cx.nps(by="country", min_n=1).rows
        ingest(ws, messages[half:])
        assert ws.cx.nps(by="generation", min_n=1).rows
        with ws.analytics() as log:
            kept = log.to_pyarrow(log.table("profile_facts")).sort_by("profile_id")
            whole = profile_facts(log).sort_by("profile_id")
    assert kept.num_rows > 100
    assert kept.select(whole.column_names).equals(
        whole.cast(kept.select(whole.column_names).schema)
    )
