"""Recall and precision on the labelled set (labelled.jsonl, built by make_labelled.py): the
issue's goal of 99 % recall on card numbers and IBANs, floors for the other kinds, and the
sentences without personal data kept whole."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from empreinte.privacy.text_pii import Redacted, redact_many
from empreinte.privacy.text_pii.evaluation import Counts, read_marked, score

from . import make_labelled

LABELLED = Path(__file__).with_name("labelled.jsonl")
HOLDOUT = Path(__file__).with_name("holdout.txt")
# Floors below what is measured (docs/redaction.md), to catch a regression, not noise.
RECALL_FLOORS = {"CARD": 0.99, "IBAN": 0.99, "NIR": 0.97, "PHONE": 0.95, "EMAIL": 0.97,
                 "ADDRESS": 0.9, "PERSON": 0.9}  # fmt: skip
PRECISION_FLOOR = 0.95


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def results(rows: list[dict[str, Any]]) -> list[Redacted]:
    return redact_many([row["text"] for row in rows])


@pytest.fixture(scope="module")
def counts(rows: list[dict[str, Any]], results: list[Redacted]) -> dict[str, Counts]:
    by_kind: dict[str, Counts] = {}
    for (kind, _), c in score(rows, results).items():
        total = by_kind.setdefault(kind, Counts())
        total.planted += c.planted
        total.recalled += c.recalled
        total.leaked += c.leaked
        total.found += c.found
        total.right += c.right
    return by_kind


def test_the_set_is_what_the_script_builds(rows: list[dict[str, Any]]) -> None:
    built = make_labelled.build(random.Random(make_labelled.SEED))
    assert [{k: r[k] for k in ("id", "lang", "style", "text", "spans")} for r in built] == rows


def test_the_set_is_large_and_covers_every_kind_language_and_style(
    rows: list[dict[str, Any]],
) -> None:
    assert len(rows) >= 400
    seen = {(s["kind"], row["lang"], row["style"]) for row in rows for s in row["spans"]}
    for kind in RECALL_FLOORS:
        for lang in ("fr", "en"):
            assert (kind, lang, "written") in seen
            if kind != "IBAN":
                assert (kind, "fr", "spoken") in seen
    assert sum(row["style"] == "none" for row in rows) >= 100


@pytest.mark.parametrize("kind", ["CARD", "IBAN"])
def test_recall_on_cards_and_ibans_is_at_least_99_percent(
    counts: dict[str, Counts], kind: str
) -> None:
    assert counts[kind].planted >= 60
    assert counts[kind].recall >= 0.99, counts[kind].misses[:5]


@pytest.mark.parametrize("kind", sorted(RECALL_FLOORS))
def test_recall_and_precision_floors(counts: dict[str, Counts], kind: str) -> None:
    c = counts[kind]
    assert c.recall >= RECALL_FLOORS[kind], c.misses[:5]
    assert c.precision >= PRECISION_FLOOR, c.wrong[:5]


def test_sentences_without_personal_data_are_kept(
    rows: list[dict[str, Any]], results: list[Redacted]
) -> None:
    changed = [
        (row["text"], result.text)
        for row, result in zip(rows, results, strict=True)
        if row["style"] == "none" and result.text != row["text"]
    ]
    assert changed == []


def test_the_held_out_set_reads_its_marks() -> None:
    rows = read_marked(HOLDOUT.read_text(encoding="utf-8").splitlines())
    assert len(rows) >= 60
    assert {s["kind"] for row in rows for s in row["spans"]} == set(RECALL_FLOORS)
    first = rows[0]
    assert first["text"].startswith("Bonsoir, ici Paul Durand, je")
    span = first["spans"][0]
    assert (span["kind"], first["text"][span["start"] : span["end"]]) == ("PERSON", "Paul Durand")
    assert not any("[" in row["text"] for row in rows)


def test_the_scoring_counts_a_miss_a_leak_and_a_wrong_span() -> None:
    from empreinte.privacy.text_pii import Found

    rows = [{"lang": "fr", "text": "abcdefghij", "spans": [{"kind": "CARD", "start": 0,
             "end": 4}, {"kind": "PHONE", "start": 6, "end": 9}]}]  # fmt: skip
    found = (Found("NIR", 0, 4), Found("PHONE", 6, 8), Found("EMAIL", 9, 10))
    counts = score(rows, [Redacted("", found)])
    card, phone = counts[("CARD", "fr")], counts[("PHONE", "fr")]
    assert (card.planted, card.recalled, card.leaked) == (1, 0, 0)  # hidden, as a NIR
    assert (phone.planted, phone.recalled, phone.leaked, phone.right) == (1, 0, 1, 1)
    assert (counts[("EMAIL", "fr")].found, counts[("EMAIL", "fr")].right) == (1, 0)
