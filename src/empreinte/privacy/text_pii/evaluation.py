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


def read_marked(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Rows from hand-written lines `lang|text` where personal data is marked `[KIND:value]`
    (tests/privacy/text_pii/holdout.txt); `#` lines are comments. Linear: one pass a line."""
    rows: list[dict[str, Any]] = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        lang, marked = line.split("|", 1)
        text, spans, i = "", [], 0
        while i < len(marked):
            if marked[i] == "[" and (close := marked.find("]", i)) != -1 and ":" in marked[i:close]:
                kind, value = marked[i + 1 : close].split(":", 1)
                spans.append({"kind": kind, "start": len(text), "end": len(text) + len(value)})
                text += value
                i = close + 1
            else:
                text += marked[i]
                i += 1
        style = "none" if not spans else "written"
        rows.append({"id": len(rows), "lang": lang, "style": style, "text": text, "spans": spans})
    return rows
