"""Recall and precision of redaction on a labelled set (tests/privacy/text_pii/labelled.jsonl,
bench/redaction.py).

A planted span is *recalled* when spans found of its kind cover every character of it; it
*leaks* when some character of it is covered by no span found at all (a card taken for a NIR
is a miss of CARD but no leak). A span found is *right* when it overlaps a planted span of its
kind; precision is right / found, per kind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from empreinte.privacy.text_pii.model import Found, Redacted


@dataclass
class Counts:
    planted: int = 0
    recalled: int = 0
    leaked: int = 0
    found: int = 0
    right: int = 0
    misses: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.recalled / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        return self.right / self.found if self.found else 1.0


def _covered(start: int, end: int, spans: Iterable[Found]) -> bool:
    chars = set(range(start, end))
    for span in spans:
        chars -= set(range(span.start, span.end))
    return not chars


def score(
    rows: Sequence[Mapping[str, Any]], results: Sequence[Redacted]
) -> dict[tuple[str, str], Counts]:
    """Counts per (kind, language) of `results` against the rows' planted `spans`."""
    counts: dict[tuple[str, str], Counts] = defaultdict(Counts)
    for row, result in zip(rows, results, strict=True):
        lang, text = row["lang"], row["text"]
        planted = [Found(s["kind"], s["start"], s["end"]) for s in row["spans"]]
        for span in planted:
            c = counts[(span.kind, lang)]
            c.planted += 1
            same = [f for f in result.found if f.kind == span.kind]
            if _covered(span.start, span.end, same):
                c.recalled += 1
            else:
                c.misses.append(f"{text!r} -> {result.text!r}")
            if not _covered(span.start, span.end, result.found):
                c.leaked += 1
        for got in result.found:
            c = counts[(got.kind, lang)]
            c.found += 1
            if any(p.kind == got.kind and p.start < got.end and got.start < p.end for p in planted):
                c.right += 1
            else:
                c.wrong.append(f"{text[got.start : got.end]!r} in {text!r}")
    return dict(counts)
