"""The five answers to a Kano question, as people give them: a code 1-5, an English or a French
label. The collector checks `Kano Answered` events with this at ingestion, and the Kano report
(analytics/cx/kano.py) classifies the pairs; it lives here, below both, so that the collector
loads no analytics.
"""

from __future__ import annotations

import enum
import unicodedata

from empreinte.errors import EmpreinteError


class Answer(enum.Enum):
    """The five answers to a functional or dysfunctional Kano question (codes 1-5)."""

    LIKE = 1
    EXPECT = 2  # "must-be": I expect it that way
    NEUTRAL = 3
    LIVE_WITH = 4  # I can live with it
    DISLIKE = 5

    @property
    def code(self) -> int:
        """The conventional code, 1 (like) ... 5 (dislike)."""
        return self.value

    @property
    def label(self) -> str:
        """The canonical English name, e.g. ``"live_with"``."""
        return self.name.lower()


class UnknownKanoAnswer(EmpreinteError):
    """An answer is not one of the five Kano answers (by name, code 1-5 or French label)."""

    status = 400
    code = "unknown_kano_answer"

    def __init__(self, answer: object) -> None:
        self.answer = answer
        accepted = ", ".join(f"{a.code}/{a.label}" for a in Answer)
        super().__init__(
            f"unknown Kano answer {answer!r}; expected one of {accepted} "
            "(or the French labels: j'aime, je m'y attends, neutre, "
            "je peux m'en accommoder, je n'aime pas)"
        )


def _normalise(text: str) -> str:
    # Lower-case, strip accents, unify apostrophes, hyphens and underscores to single spaces.
    text = unicodedata.normalize("NFKD", text.strip().lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    for quote in ("\u2019", "\u2018", "`", "\u00b4"):
        text = text.replace(quote, "'")
    text = text.replace("_", " ").replace("-", " ")
    return " ".join(text.split())


_LABELS: dict[str, Answer] = {
    _normalise(label): answer
    for answer, labels in {
        Answer.LIKE: ("like", "i like it", "j'aime", "j'aime bien"),
        Answer.EXPECT: ("expect", "must-be", "must be", "i expect it", "je m'y attends"),
        Answer.NEUTRAL: ("neutral", "i am neutral", "neutre", "je suis neutre"),
        Answer.LIVE_WITH: (
            "live_with",
            "live with",
            "i can live with it",
            "je peux m'en accommoder",
            "je peux vivre avec",
            "tolerate",
            "i can tolerate it",
            "je peux le tolerer",
        ),
        Answer.DISLIKE: ("dislike", "i dislike it", "je n'aime pas"),
    }.items()
    for label in labels
}


def parse_answer(value: Answer | int | str) -> Answer:
    """Read an answer given as an :class:`Answer`, a code 1-5, or an English or French label.

    Raises :class:`UnknownKanoAnswer` naming the value when it is none of these.
    """
    if isinstance(value, Answer):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if 1 <= value <= 5:
            return Answer(value)
        raise UnknownKanoAnswer(value)
    if isinstance(value, str):
        key = _normalise(value)
        if key in _LABELS:
            return _LABELS[key]
        if key in {"1", "2", "3", "4", "5"}:
            return Answer(int(key))
    raise UnknownKanoAnswer(value)
