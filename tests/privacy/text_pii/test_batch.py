"""`redact_many` batches the language model and answers as `redact_text` one by one;
`detect_language` says French, English or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from empreinte.privacy.text_pii import detect_language, redact_many, redact_text
from empreinte.privacy.text_pii.language import MAX_CHARS

LABELLED = Path(__file__).with_name("labelled.jsonl")


def test_many_is_the_same_as_one_by_one() -> None:
    rows = [json.loads(line) for line in LABELLED.read_text().splitlines()][::7]
    texts = [row["text"] for row in rows]
    assert len({row["lang"] for row in rows}) == 2
    assert redact_many(texts) == [redact_text(text) for text in texts]
    assert redact_many(texts, language="fr") == [redact_text(t, language="fr") for t in texts]


def test_many_of_nothing() -> None:
    assert redact_many([]) == []


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Bonjour, je voudrais savoir où en est ma commande.", "fr"),
        ("Hello, I would like to know where my order is.", "en"),
        ("ok", None),  # too short to say
        ("4970 1012 3456 7893", None),  # no words
        ("", None),
    ],
)
def test_detect_language(text: str, language: str | None) -> None:
    assert detect_language(text) == language


def test_detection_reads_only_the_head_of_a_text() -> None:
    english = "Hello, I would like to know where my order is. "
    french = "Bonjour, je voudrais savoir où en est ma commande. "
    text = english * (MAX_CHARS // len(english) + 1) + french * 2000
    assert detect_language(text) == "en"
