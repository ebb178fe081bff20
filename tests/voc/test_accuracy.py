"""Sentiment and reasons on labelled sets written by hand (tests/voc/*.tsv): the accuracy is
printed (`pytest -s`) and held to a floor, per language. bench/voc_understand.py reports
the same figures with the throughput."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from empreinte.voc import sentiment
from empreinte.voc.reasons import ReasonClassifier, _examples
from empreinte.voc.settings import VocSettings

HERE = Path(__file__).parent


def _rows(name: str) -> list[list[str]]:
    lines = (HERE / name).read_text("utf-8").splitlines()
    return [line.split("\t", 2) for line in lines if line and not line.startswith("#")]


def test_the_sentiment_set_is_large_and_balanced() -> None:
    rows = _rows("sentiment_labelled.tsv")
    counts = Counter((language, label) for language, label, _ in rows)
    assert len(rows) >= 200
    assert all(counts[(lang, lab)] >= 30 for lang in ("fr", "en") for lab in sentiment.LABELS)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_sentiment_accuracy_floor(language: str) -> None:
    rows = [r for r in _rows("sentiment_labelled.tsv") if r[0] == language]
    right = sum(sentiment.label(sentiment.score(text, lang)) == lab for lang, lab, text in rows)
    accuracy = right / len(rows)
    print(f"sentiment accuracy ({language}): {accuracy:.3f} on {len(rows)} sentences")
    assert accuracy >= 0.80


def test_negation_and_language_matter() -> None:
    assert sentiment.score("Je suis content", "fr") > 0.05
    assert sentiment.score("Je ne suis pas content", "fr") < 0
    assert sentiment.score("I am not happy", "en") < 0 < sentiment.score("I am happy", "en")
    assert sentiment.score("", "en") == 0.0


def test_reason_examples_are_held_out() -> None:
    shipped = {text.lower() for _, text in _examples()}
    held_out = _rows("reasons_labelled.tsv")
    assert len(_examples()) >= 300
    assert not shipped & {text.lower() for *_, text in held_out}


def test_reason_accuracy_floor() -> None:
    rows = _rows("reasons_labelled.tsv")
    classifier = ReasonClassifier(VocSettings())
    found = classifier.classify_many([text for *_, text in rows])
    model = classifier.model_many([text for *_, text in rows])
    accuracy = sum(f.reason == r for f, (r, _, _) in zip(found, rows, strict=True)) / len(rows)
    alone = sum(m.reason == r for m, (r, _, _) in zip(model, rows, strict=True)) / len(rows)
    print(f"reason accuracy: rules+model {accuracy:.3f}, model alone {alone:.3f} on {len(rows)}")
    assert accuracy >= 0.75 and alone >= 0.72


def test_configured_reasons_and_keywords() -> None:
    settings = VocSettings.from_mapping(
        {"reasons": ["delivery", "warranty"], "keywords": {"warranty": ["garantie", "warranty"]}}
    )
    assert settings.reasons == ("delivery", "warranty", "other")
    classifier = ReasonClassifier(settings)
    by_rule, by_model = classifier.classify_many(
        ["La garantie couvre-t-elle la batterie ?", "Je voudrais être remboursé"]
    )
    assert (by_rule.reason, by_rule.by) == ("warranty", "rule")
    # Refund is not a reason of this workspace: its examples count as "other".
    assert by_model.by == "model" and by_model.reason in ("other", "delivery")


def test_language_of_a_text_that_does_not_say_it() -> None:
    from empreinte.privacy.text_pii import detect_language as detect

    assert detect("Bonjour, je voudrais savoir où est mon colis") == "fr"
    assert detect("Hello, I would like to know where my parcel is") == "en"
    assert detect("12345 <CARD>") is None
