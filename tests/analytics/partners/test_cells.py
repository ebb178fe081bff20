"""No published cell below k, and no withheld cell recoverable from what is published.

The attacker here is written from the documented rules alone (docs/partners.md), not from
cells.py: they read the published rows, write every relation the report's definitions imply
(a row's sums, the total row = the sum of the group rows), that counts are whole and not
negative, and ask an integer program for the least and the greatest value of each suppressed
cell. A cell whose least and greatest values are equal is recovered.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from empreinte.analytics.partners.cells import Mark, Relation, protect
from empreinte.analytics.partners.report import (
    BUYER_SUMS,
    COUNTS,
    SWITCH_SUMS,
    PartnerRow,
    _Group,
    build_rows,
)

TABLES = {
    "buyers": ("repeat_buyers", "one_time_buyers", "other_buyers"),
    "switching": ("kept", "lost", "won", "never"),
}
SUMS = {
    "brand_buyers": ("repeat_buyers", "one_time_buyers"),
    "category_buyers": ("repeat_buyers", "one_time_buyers", "other_buyers"),
    "from_brand": ("kept", "lost"),
    "from_other": ("won", "never"),
    "switch_base": ("kept", "lost", "won", "never"),
}


def recovered(rows: list[PartnerRow], k: int) -> list[tuple[str, str]]:
    """The withheld cells (group, column) whose value the attacker can compute."""
    out = []
    for atoms in TABLES.values():
        columns = [*atoms, *(s for s, parts in SUMS.items() if set(parts) <= set(atoms))]
        cells = [(r.group, c) for r in rows for c in columns]
        hidden = [cell for cell in cells if _count(rows, cell).value is None]
        if not hidden:
            continue
        at = {cell: i for i, cell in enumerate(hidden)}
        equations: list[tuple[dict[int, float], float]] = []

        groups = [r.group for r in rows]
        for group in groups:
            for name, parts in SUMS.items():
                if name in columns:
                    _equation(rows, at, equations, (group, name), [(group, p) for p in parts])
        if len(groups) > 1:
            for column in columns:
                _equation(
                    rows, at, equations, (groups[0], column), [(g, column) for g in groups[1:]]
                )
        matrix = np.zeros((max(len(equations), 1), len(hidden)))
        rhs = np.zeros(max(len(equations), 1))
        for i, (row, value) in enumerate(equations):
            for j, coefficient in row.items():
                matrix[i, j] = coefficient
            rhs[i] = value
        bounds = Bounds([0.0] * len(hidden), [np.inf] * len(hidden))
        for j, cell in enumerate(hidden):
            extremes = []
            for sense in (1.0, -1.0):
                objective = np.zeros(len(hidden))
                objective[j] = sense
                result = milp(
                    objective,
                    constraints=LinearConstraint(matrix, rhs, rhs),
                    bounds=bounds,
                    integrality=np.ones(len(hidden)),
                )
                extremes.append(None if result.x is None else round(result.x[j]))
            if extremes[0] is not None and extremes[0] == extremes[1]:
                out.append(cell)
    return out


def _equation(
    rows: list[PartnerRow],
    at: dict[tuple[str, str], int],
    equations: list[tuple[dict[int, float], float]],
    total: tuple[str, str],
    parts: list[tuple[str, str]],
) -> None:
    """total = sum(parts), unknowns on the left, published values on the right."""
    row: dict[int, float] = {}
    rhs = 0.0
    for cell, sign in [(total, 1.0)] + [(p, -1.0) for p in parts]:
        value = _count(rows, cell).value
        if value is None:
            row[at[cell]] = row.get(at[cell], 0.0) + sign
        else:
            rhs -= sign * value
    if row:
        equations.append((row, rhs))


def _count(rows: list[PartnerRow], cell: tuple[str, str]) -> Any:
    group, column = cell
    return next(r for r in rows if r.group == group).counts[column]


def _group(values: list[int]) -> _Group:
    names = ("repeat_buyers", "one_time_buyers", "other_buyers", "kept", "lost", "won", "never")
    return _Group(atoms=dict(zip(names, values, strict=True)))


# Counts skewed small, so that most tables have cells below k.
COUNT = st.one_of(st.integers(0, 6), st.integers(0, 40))
GROUP = st.lists(COUNT, min_size=7, max_size=7)


@settings(max_examples=20, deadline=None)
@given(groups=st.lists(GROUP, min_size=1, max_size=4), k=st.sampled_from([5, 10]))
def test_no_cell_below_k_and_none_recoverable(groups: list[list[int]], k: int) -> None:
    parts = {f"g{i}": _group(values) for i, values in enumerate(groups)}
    total = _Group()
    for group in parts.values():
        total.add(group)
    alone = build_rows("c", total, {}, k, None)
    split = build_rows("c", total, parts, k, alone.total_marks)
    for row in [*alone.rows, *split.rows]:
        for name in COUNTS:
            value = row.counts[name].value
            assert value is None or value >= k, (row.group, name, value)
    # The total row is suppressed alike with and without the breakdown…
    assert split.total_marks == alone.total_marks
    # …and neither table, nor the two together (same total row), gives a cell away.
    assert recovered(alone.rows, k) == []
    assert recovered(split.rows, k) == []


def test_the_classic_differencing_attack_is_stopped() -> None:
    # Two groups, 25 and 3 buyers, total 28: the 3 are below k, and publishing 25 and 28
    # would give them away; the 25 is suppressed too.
    result = protect([28, 25, 3], [Relation(0, (1, 2))], k=10)
    assert result.marks == (Mark.SHOWN, Mark.SUPPRESSED, Mark.SUPPRESSED)
    assert (result.primary, result.rounds) == (1, 1)


def test_a_zero_is_suppressed_not_shown() -> None:
    # 12 = 12 + 0: the 0 is suppressed, and so is one of the 12s (else 12 - 12 gives it).
    result = protect([12, 12, 0], [Relation(0, (1, 2))], k=10)
    assert result.marks[2] is Mark.SUPPRESSED
    assert result.marks.count(Mark.SUPPRESSED) == 2


def test_integer_bounds_catch_what_single_relations_miss() -> None:
    # A 2×2 table with margins where every relation has two suppressed cells, yet the
    # non-negative whole numbers leave one solution: a = 0 forces b = 0 via the margins.
    #     a  b | 0+?      cells: 0 a, 1 b, 2 c, 3 d, 4 row1, 5 row2, 6 col1, 7 col2, 8 total
    #     c  d |
    relations = [
        Relation(4, (0, 1)),
        Relation(5, (2, 3)),
        Relation(6, (0, 2)),
        Relation(7, (1, 3)),
        Relation(8, (4, 5)),
        Relation(8, (6, 7)),
    ]
    values = [0, 0, 20, 20, 0, 40, 20, 20, 40]
    result = protect(values, relations, k=10)
    hidden = [i for i, mark in enumerate(result.marks) if mark is Mark.SUPPRESSED]
    # a, b and the row total are 0: suppressed; whatever else, nothing is left pinned.
    assert {0, 1, 4} <= set(hidden)
    assert result.complete


def test_sums_inside_a_row_are_protected() -> None:
    # N = 25 buyers, X = 20 non-brand buyers: B = 5 brand buyers is below k, and N - X would
    # give it; so would R + O (3 + 2).
    total = _Group(atoms={"repeat_buyers": 3, "one_time_buyers": 2, "other_buyers": 20})
    rows = build_rows("c", total, {}, 10, None).rows
    counts = rows[0].counts
    assert counts["brand_buyers"].mark is Mark.SUPPRESSED
    shown = {name for name in BUYER_SUMS["category_buyers"] if counts[name].value is not None}
    assert not (counts["category_buyers"].value is not None and "other_buyers" in shown)
    assert recovered(rows, 10) == []
    assert set(SWITCH_SUMS) <= set(COUNTS)
