"""Hostile text: every step of text redaction stays linear. As in tests/collect/
test_hostile_input.py, each step is timed (CPU time, best of several runs) at 2 KB and at 32
KB: a linear step takes about 16 times longer on 16 times the text, a quadratic one 256 times.
No time is compared with a wall-clock constant."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from empreinte.privacy.text_pii import detect_language, redact_text, redact_turns
from empreinte.privacy.text_pii.address import address_spans
from empreinte.privacy.text_pii.contact import email_spans
from empreinte.privacy.text_pii.iban import iban_spans
from empreinte.privacy.text_pii.names import cue_name_spans, spelt_name_spans
from empreinte.privacy.text_pii.numbers import number_spans
from empreinte.privacy.text_pii.tokens import tokenize

# Timing at 32 KB with the language model takes a minute on a busy machine: `make test` runs
# these first, `make check` leaves them out.
pytestmark = pytest.mark.slow

SMALL, LARGE = 2 * 1024, 32 * 1024
SCALE = LARGE // SMALL
MAX_RATIO = 4 * SCALE  # 16 for a linear step, 256 for a quadratic one


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


HOSTILE: dict[str, Callable[[int], str]] = {
    "a": _repeat("a"),
    "digits": _repeat("1"),
    "spaced digits": _repeat("1 "),
    "cards": _repeat("4970 1012 3456 7893 "),
    "spoken digits": _repeat("quatre "),
    "spoken pairs": _repeat("quatre-vingt-dix-sept "),
    "zero six": _repeat("zéro six "),
    "thousands": _repeat("quatre mille neuf cent soixante-dix "),
    "hundreds": _repeat("cent "),
    "plus": _repeat("plus trente-trois "),
    "doubles": _repeat("double "),
    "at dot": _repeat("a point a arobase a point com "),
    "at only": _repeat("at "),
    "streets": _repeat("12 rue de "),
    "particles": _repeat("1 rue " + "de la " * 40),
    "cues": _repeat("je m'appelle , "),
    "titles": _repeat("Madame "),
    "letters": _repeat("A-"),
    "ibans": _repeat("FR76 "),
    "corsica": _repeat("2A "),
    "nirs": _repeat("1 85 05 78 006 084 91 "),
    "unicode": _repeat("é٤ß😀 "),
}


def _run(call: Callable[[], object], calls: int) -> float:
    start = time.thread_time()
    for _ in range(calls):
        call()
    return (time.thread_time() - start) / calls


def growth(step: Callable[[str], object], make: Callable[[int], str], rounds: int = 3) -> float:
    small, large = make(SMALL), make(LARGE)
    calls = 1
    while _run(lambda: step(small), calls) * calls < 0.01:
        calls *= 4
    best_small = best_large = float("inf")
    for _ in range(rounds):
        best_small = min(best_small, _run(lambda: step(small), calls))
        best_large = min(best_large, _run(lambda: step(large), max(1, calls // SCALE)))
    return best_large / best_small


def _scans(text: str) -> object:
    tokens = tokenize(text)
    return (
        number_spans([tokens]),
        email_spans(text, tokens),
        address_spans(tokens, None),
        cue_name_spans(tokens),
        spelt_name_spans(text, tokens),
        iban_spans(text, tokens),
    )


@pytest.mark.parametrize("shape", sorted(HOSTILE))
def test_every_scan_is_linear_on_hostile_text(shape: str) -> None:
    ratio = growth(_scans, HOSTILE[shape])
    assert ratio <= MAX_RATIO, f"{ratio:.1f}× the time for {SCALE}× the text"


@pytest.mark.parametrize("shape", ["cards", "cues"])
def test_the_whole_redaction_with_its_language_model_is_linear(shape: str) -> None:
    ratio = growth(lambda text: redact_text(text, language="fr"), HOSTILE[shape], rounds=2)
    assert ratio <= MAX_RATIO, f"{ratio:.1f}× the time for {SCALE}× the text"


def test_turns_are_linear_in_their_number() -> None:
    unit = [{"speaker": "customer", "text": "quatre neuf"}, {"speaker": "agent", "text": "oui"}]
    small, large = unit * 32, unit * 32 * SCALE  # up to 1,024 turns
    calls = 1
    while _run(lambda: redact_turns(small, language="fr"), calls) * calls < 0.01:
        calls *= 4
    best_small = min(_run(lambda: redact_turns(small, language="fr"), calls) for _ in range(2))
    best_large = min(_run(lambda: redact_turns(large, language="fr"), 1) for _ in range(2))
    assert best_large / best_small <= MAX_RATIO


@pytest.mark.parametrize("shape", ["a", "spoken digits", "unicode"])
def test_language_detection_reads_a_bounded_head(shape: str) -> None:
    # Bounded, not merely linear: 16 times the text takes about the same time.
    ratio = growth(detect_language, HOSTILE[shape])
    assert ratio <= 4, f"{ratio:.1f}× the time for {SCALE}× the text"
