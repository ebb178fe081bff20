"""The language of a text, French or English, with lingua (Stahl, a rule-free n-gram
detector that does well on short texts), reading at most the first `MAX_CHARS` characters."""

from __future__ import annotations

import threading
from typing import Any

MAX_CHARS = 1_000
MIN_LETTERS = 8  # fewer letters than this say nothing reliable
_MIN_DISTANCE = 0.1  # lingua's minimum relative distance: below, it answers None

_lock = threading.Lock()
_detector: Any = None


def detector() -> Any:
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                from lingua import Language, LanguageDetectorBuilder

                _detector = (
                    LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH)
                    .with_minimum_relative_distance(_MIN_DISTANCE)
                    .build()
                )
    return _detector


def detect_language(text: str) -> str | None:
    """ "fr", "en", or None when the text is too short or the detector is unsure."""
    head = text[:MAX_CHARS]
    if sum(c.isalpha() for c in head) < MIN_LETTERS:
        return None
    found = detector().detect_language_of(head)
    if found is None:
        return None
    return {"FRENCH": "fr", "ENGLISH": "en"}.get(found.name)


def guess_language(text: str) -> str | None:
    """The likelier of French and English even when `detect_language` is unsure (a redactor
    must pick a model); None without letters."""
    head = text[:MAX_CHARS]
    if not any(c.isalpha() for c in head):
        return None
    values = detector().compute_language_confidence_values(head)
    if not values:
        return None
    return {"FRENCH": "fr", "ENGLISH": "en"}.get(values[0].language.name)
