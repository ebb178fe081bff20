"""The Kano model: evaluation table, answer parsing, per-feature figures and the chart."""

from __future__ import annotations

import pytest

from empreinte.analytics.cx.kano import (
    Answer,
    Category,
    UnknownKanoAnswer,
    classify,
    kano_report,
    parse_answer,
    summarise,
)
from empreinte.errors import EmpreinteError

# The standard Kano evaluation table, written out from Berger et al. (1993) / Matzler &
# Hinterhuber (1998). Rows: functional answer; columns: dysfunctional answer, both in the order
# like, expect (must-be), neutral, live with, dislike.
LITERATURE_TABLE = """
            like  expect  neutral  live_with  dislike
like        Q     A       A        A          O
expect      R     I       I        I          M
neutral     R     I       I        I          M
live_with   R     I       I        I          M
dislike     R     R       R        R          Q
"""


def _literature_cells() -> list[tuple[str, str, str]]:
    header, *rows = LITERATURE_TABLE.strip().splitlines()
    columns = header.split()
    cells = []
    for row in rows:
        functional, *letters = row.split()
        assert len(letters) == 5
        cells += [(functional, col, letter) for col, letter in zip(columns, letters, strict=True)]
    return cells


CELLS = _literature_cells()


def test_the_written_table_has_all_25_cells() -> None:
    assert len(CELLS) == 25
    assert len({(f, d) for f, d, _ in CELLS}) == 25


@pytest.mark.parametrize(("functional", "dysfunctional", "letter"), CELLS)
def test_evaluation_table_cell(functional: str, dysfunctional: str, letter: str) -> None:
    assert classify(functional, dysfunctional) is Category(letter)


@pytest.mark.parametrize(("functional", "dysfunctional", "letter"), CELLS)
def test_evaluation_table_cell_by_code(functional: str, dysfunctional: str, letter: str) -> None:
    codes = {"like": 1, "expect": 2, "neutral": 3, "live_with": 4, "dislike": 5}
    assert classify(codes[functional], codes[dysfunctional]) is Category(letter)


def test_named_examples_from_the_brief() -> None:
    assert classify("like", "dislike") is Category.ONE_DIMENSIONAL
    assert classify("like", "neutral") is Category.ATTRACTIVE
    assert classify("neutral", "dislike") is Category.MUST_BE
    assert classify("like", "like") is Category.QUESTIONABLE
    assert classify("dislike", "like") is Category.REVERSE
    assert classify("neutral", "neutral") is Category.INDIFFERENT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, Answer.LIKE),
        (2, Answer.EXPECT),
        (3, Answer.NEUTRAL),
        (4, Answer.LIVE_WITH),
        (5, Answer.DISLIKE),
        ("3", Answer.NEUTRAL),
        (" 5 ", Answer.DISLIKE),
        ("like", Answer.LIKE),
        ("Expect", Answer.EXPECT),
        ("must-be", Answer.EXPECT),
        ("NEUTRAL", Answer.NEUTRAL),
        ("live_with", Answer.LIVE_WITH),
        ("live with", Answer.LIVE_WITH),
        ("dislike", Answer.DISLIKE),
        ("j'aime", Answer.LIKE),
        ("je m'y attends", Answer.EXPECT),
        ("neutre", Answer.NEUTRAL),
        ("je peux m'en accommoder", Answer.LIVE_WITH),
        ("je n'aime pas", Answer.DISLIKE),
        ("Je n\u2019aime pas", Answer.DISLIKE),  # typographic apostrophe
        ("J\u2019AIME", Answer.LIKE),
        (Answer.LIVE_WITH, Answer.LIVE_WITH),
    ],
)
def test_parse_answer(value: Answer | int | str, expected: Answer) -> None:
    assert parse_answer(value) is expected


def test_french_labels_classify() -> None:
    assert classify("j'aime", "je n'aime pas") is Category.ONE_DIMENSIONAL
    assert classify("neutre", "je n'aime pas") is Category.MUST_BE
    assert classify("j'aime", "je peux m'en accommoder") is Category.ATTRACTIVE


@pytest.mark.parametrize("bad", ["love it", "", 0, 6, -1, "6", True, None, 2.0])
def test_unknown_answer_is_refused_and_named(bad: object) -> None:
    with pytest.raises(UnknownKanoAnswer) as info:
        parse_answer(bad)  # type: ignore[arg-type]
    assert isinstance(info.value, EmpreinteError)
    assert repr(bad) in str(info.value)
    assert info.value.answer == bad


def test_unknown_answer_in_report_names_it() -> None:
    with pytest.raises(UnknownKanoAnswer, match="'sometimes'"):
        kano_report([("wifi", "like", "dislike"), ("wifi", "sometimes", "dislike")])


def _answers(feature: str, pairs: dict[tuple[str, str], int]) -> list[tuple[str, str, str]]:
    return [(feature, f, d) for (f, d), k in pairs.items() for _ in range(k)]


def test_worked_example_better_worse_shares() -> None:
    # Hand-checked: A=4, O=3, M=2, I=1, R=1, Q=1 -> n=12, A+O+M+I=10,
    # Better = (4+3)/10 = 0.7, Worse = -(3+2)/10 = -0.5.
    answers = _answers(
        "same-day delivery",
        {
            ("like", "neutral"): 3,  # A
            ("like", "live_with"): 1,  # A
            ("like", "dislike"): 3,  # O
            ("expect", "dislike"): 1,  # M
            ("live_with", "dislike"): 1,  # M
            ("neutral", "neutral"): 1,  # I
            ("dislike", "like"): 1,  # R
            ("dislike", "dislike"): 1,  # Q
        },
    )
    [result] = kano_report(answers)
    assert result.feature == "same-day delivery"
    assert result.n == 12
    expected_counts = {"A": 4, "O": 3, "M": 2, "I": 1, "R": 1, "Q": 1}
    assert {c.value: k for c, k in result.counts.items()} == expected_counts
    assert result.shares[Category.ATTRACTIVE] == pytest.approx(4 / 12)
    assert result.shares[Category.QUESTIONABLE] == pytest.approx(1 / 12)
    assert sum(result.shares.values()) == pytest.approx(1.0)
    assert result.better == pytest.approx(0.7)
    assert result.worse == pytest.approx(-0.5)
    assert result.dominant is Category.ATTRACTIVE
    assert result.tied == (Category.ATTRACTIVE,)
    assert not result.is_tie


def test_better_worse_none_without_aomi_answers() -> None:
    [result] = kano_report([("x", "like", "like"), ("x", "dislike", "like")])
    assert result.better is None
    assert result.worse is None


def test_worse_is_zero_not_negative_zero() -> None:
    [result] = kano_report([("x", "like", "neutral")])
    assert result.better == 1.0
    assert result.worse == 0.0
    assert str(result.worse) == "0.0"


def test_features_in_first_appearance_order() -> None:
    report = kano_report([("b", 1, 5), ("a", 1, 3), ("b", 3, 5)])
    assert [r.feature for r in report] == ["b", "a"]
    assert report[0].n == 2


@pytest.mark.parametrize(
    ("counts", "dominant", "tied"),
    [
        ({Category.MUST_BE: 3, Category.ONE_DIMENSIONAL: 3}, "M", "MO"),
        ({Category.ATTRACTIVE: 2, Category.ONE_DIMENSIONAL: 2}, "O", "OA"),
        ({Category.INDIFFERENT: 5, Category.ATTRACTIVE: 5, Category.MUST_BE: 1}, "A", "AI"),
        (
            {
                Category.ATTRACTIVE: 2,
                Category.ONE_DIMENSIONAL: 2,
                Category.MUST_BE: 2,
                Category.INDIFFERENT: 2,
            },
            "M",
            "MOAI",
        ),
        ({Category.INDIFFERENT: 1, Category.REVERSE: 1, Category.QUESTIONABLE: 1}, "I", "IRQ"),
        ({Category.REVERSE: 4, Category.MUST_BE: 1}, "R", "R"),
    ],
)
def test_dominant_category_rule_with_ties(
    counts: dict[Category, int], dominant: str, tied: str
) -> None:
    categories = [c for c, k in counts.items() for _ in range(k)]
    result = summarise("f", categories)
    assert result.dominant is Category(dominant)
    assert result.tied == tuple(Category(letter) for letter in tied)
    assert result.is_tie == (len(tied) > 1)


def test_empty_feature_has_no_dominant() -> None:
    result = summarise("f", [])
    assert result.n == 0
    assert result.dominant is None
    assert result.tied == ()
    assert result.small_sample


def test_small_sample_flag_default_30() -> None:
    small = kano_report(_answers("f", {("like", "dislike"): 29}))[0]
    enough = kano_report(_answers("f", {("like", "dislike"): 30}))[0]
    assert small.small_sample and small.min_n == 30
    assert not enough.small_sample


def test_small_sample_flag_configurable() -> None:
    answers = _answers("f", {("like", "dislike"): 10})
    assert not kano_report(answers, min_n=10)[0].small_sample
    assert kano_report(answers, min_n=11)[0].small_sample


def test_category_labels() -> None:
    assert [c.label for c in Category] == [
        "Attractive",
        "One-dimensional",
        "Must-be",
        "Indifferent",
        "Reverse",
        "Questionable",
    ]


def test_intervals_are_wilson_intervals_like_statsmodels() -> None:
    from statsmodels.stats.proportion import proportion_confint

    # 12 A, 9 O, 6 M, 3 I, 2 R: Better = 21/30, Worse = -15/30, A's share 12/32.
    a, o, m, i, r = (Category(letter) for letter in "AOMIR")
    categories = [a] * 12 + [o] * 9 + [m] * 6 + [i] * 3 + [r] * 2
    result = summarise("wrapping", categories)
    low, high = proportion_confint(21, 30, alpha=0.05, method="wilson")
    assert result.better_interval is not None and result.worse_interval is not None
    assert (result.better_interval.low, result.better_interval.high) == pytest.approx((low, high))
    low, high = proportion_confint(15, 30, alpha=0.05, method="wilson")
    assert (result.worse_interval.low, result.worse_interval.high) == pytest.approx((-high, -low))
    low, high = proportion_confint(12, 32, alpha=0.05, method="wilson")
    share = result.share_intervals[a]
    assert (share.low, share.high) == pytest.approx((low, high))
