"""The Kano model: classify functional/dysfunctional answer pairs and summarise them per feature.

Each respondent answers two questions about a feature: the *functional* one ("how do you feel if
the feature is present?") and the *dysfunctional* one ("... if it is absent?"), each with one of
five answers. The standard Kano evaluation table (Berger et al. 1993; Matzler & Hinterhuber 1998)
maps the pair to a category:

============  ====  ======  =======  =========  =======
functional    like  expect  neutral  live_with  dislike   <- dysfunctional
============  ====  ======  =======  =========  =======
like          Q     A       A        A          O
expect        R     I       I        I          M
neutral       R     I       I        I          M
live_with     R     I       I        I          M
dislike       R     R       R        R          Q
============  ====  ======  =======  =========  =======

A = Attractive, O = One-dimensional, M = Must-be, I = Indifferent, R = Reverse, Q = Questionable.

Per feature the report gives counts and shares of each category, n, the dominant category, and
Berger's satisfaction coefficients Better = (A+O)/(A+O+M+I) and Worse = -(O+M)/(A+O+M+I).

Everything here is pure computation; the Better-Worse chart is drawn by charts.py.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from empreinte.analytics.cx.proportions import Interval, wilson
from empreinte.collect.kano_vocabulary import Answer, UnknownKanoAnswer, parse_answer

__all__ = [
    "DEFAULT_MIN_N",
    "DOMINANCE_ORDER",
    "EVALUATION_TABLE",
    "Answer",
    "Category",
    "FeatureResult",
    "UnknownKanoAnswer",
    "classify",
    "kano_report",
    "parse_answer",
    "summarise",
]

DEFAULT_MIN_N = 30
"""Below this many answers a feature's figures are flagged as not reliable."""


class Category(enum.Enum):
    """A Kano category; the value is its conventional one-letter code."""

    ATTRACTIVE = "A"
    ONE_DIMENSIONAL = "O"
    MUST_BE = "M"
    INDIFFERENT = "I"
    REVERSE = "R"
    QUESTIONABLE = "Q"

    @property
    def code(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        """Human-readable name, e.g. ``"One-dimensional"``."""
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS: dict[Category, str] = {
    Category.ATTRACTIVE: "Attractive",
    Category.ONE_DIMENSIONAL: "One-dimensional",
    Category.MUST_BE: "Must-be",
    Category.INDIFFERENT: "Indifferent",
    Category.REVERSE: "Reverse",
    Category.QUESTIONABLE: "Questionable",
}

DOMINANCE_ORDER: tuple[Category, ...] = (
    Category.MUST_BE,
    Category.ONE_DIMENSIONAL,
    Category.ATTRACTIVE,
    Category.INDIFFERENT,
    Category.REVERSE,
    Category.QUESTIONABLE,
)
"""Tie-break for the dominant category: Berger's M > O > A > I, then R, then Q."""


_A, _O, _M, _I, _R, _Q = (
    Category.ATTRACTIVE,
    Category.ONE_DIMENSIONAL,
    Category.MUST_BE,
    Category.INDIFFERENT,
    Category.REVERSE,
    Category.QUESTIONABLE,
)

_ROWS: dict[Answer, tuple[Category, ...]] = {
    # dysfunctional: like expect neutral live_with dislike
    Answer.LIKE: (_Q, _A, _A, _A, _O),
    Answer.EXPECT: (_R, _I, _I, _I, _M),
    Answer.NEUTRAL: (_R, _I, _I, _I, _M),
    Answer.LIVE_WITH: (_R, _I, _I, _I, _M),
    Answer.DISLIKE: (_R, _R, _R, _R, _Q),
}

EVALUATION_TABLE: Mapping[tuple[Answer, Answer], Category] = {
    (functional, dysfunctional): row[dysfunctional.code - 1]
    for functional, row in _ROWS.items()
    for dysfunctional in Answer
}
"""The standard Kano evaluation table: (functional, dysfunctional) -> category."""


def classify(functional: Answer | int | str, dysfunctional: Answer | int | str) -> Category:
    """The Kano category of one functional/dysfunctional answer pair."""
    return EVALUATION_TABLE[(parse_answer(functional), parse_answer(dysfunctional))]


@dataclass(frozen=True, slots=True)
class FeatureResult:
    """The Kano evaluation of one feature.

    ``dominant`` is the most frequent category; when several share the highest count, all of them
    are listed in ``tied`` (in :data:`DOMINANCE_ORDER`) and ``dominant`` is the first of them, i.e.
    Berger's rule M > O > A > I (then R, then Q). ``better``/``worse`` are ``None`` when no answer
    is A, O, M or I. ``small_sample`` is true when ``n < min_n``: read such figures with care.
    The intervals are 95 % Wilson score intervals: of each share (over n), and of Better and
    Worse (proportions of the A+O+M+I answers; Worse's is negative like Worse).
    """

    feature: str
    n: int
    counts: Mapping[Category, int]
    shares: Mapping[Category, float]
    dominant: Category | None
    tied: tuple[Category, ...]
    better: float | None
    worse: float | None
    min_n: int
    small_sample: bool
    share_intervals: Mapping[Category, Interval]
    better_interval: Interval | None
    worse_interval: Interval | None

    @property
    def is_tie(self) -> bool:
        return len(self.tied) > 1


def summarise(
    feature: str, categories: Iterable[Category], *, min_n: int = DEFAULT_MIN_N
) -> FeatureResult:
    """Summarise the classified answers of one feature."""
    counts = dict.fromkeys(Category, 0)
    for category in categories:
        counts[category] += 1
    n = sum(counts.values())
    shares = {c: (counts[c] / n if n else 0.0) for c in Category}
    top = max(counts.values())
    tied = tuple(c for c in DOMINANCE_ORDER if counts[c] == top) if n else ()
    a, o, m, i = (counts[c] for c in (_A, _O, _M, _I))
    denominator = a + o + m + i
    better = (a + o) / denominator if denominator else None
    worse = -(o + m) / denominator + 0.0 if denominator else None  # + 0.0 turns -0.0 into 0.0
    better_interval = worse_interval = None
    if denominator:
        better_interval = wilson(a + o, denominator)
        hurt = wilson(o + m, denominator)
        worse_interval = Interval(-hurt.high + 0.0, -hurt.low + 0.0)
    return FeatureResult(
        feature=feature,
        n=n,
        counts=counts,
        shares=shares,
        dominant=tied[0] if tied else None,
        tied=tied,
        better=better,
        worse=worse,
        min_n=min_n,
        small_sample=n < min_n,
        share_intervals={c: wilson(counts[c], n) for c in Category} if n else {},
        better_interval=better_interval,
        worse_interval=worse_interval,
    )


def kano_report(
    answers: Iterable[tuple[str, Answer | int | str, Answer | int | str]],
    *,
    min_n: int = DEFAULT_MIN_N,
) -> list[FeatureResult]:
    """Classify (feature, functional, dysfunctional) answers and summarise each feature.

    Features come back in the order they first appear. An unknown answer raises
    :class:`UnknownKanoAnswer`.
    """
    by_feature: dict[str, list[Category]] = {}
    for feature, functional, dysfunctional in answers:
        by_feature.setdefault(feature, []).append(classify(functional, dysfunctional))
    return [summarise(f, cats, min_n=min_n) for f, cats in by_feature.items()]
