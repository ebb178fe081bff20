"""Cell suppression of a partner table: no published count below k, and no suppressed count
recoverable from what is published (the differencing attack).

A table is a set of counts of people (`cells`) tied by linear relations (`relations`: a total
equals the sum of its parts — a group's buyers are its repeat, one-time and non-brand buyers;
the total row is the sum of the group rows). The attacker knows every relation, every
published count, that counts are whole and non-negative, and the rule itself (a shown count
is at least k).

1. Primary suppression: every cell below k (0 included: "nobody in this group bought it" is
   a statement about the group) is suppressed.
2. Complementary suppression, until no suppressed cell is exposed: a suppressed cell is
   exposed when its value is the only one compatible with everything published, i.e. when
   the minimum and the maximum of that cell over the whole numbers satisfying the relations
   coincide. A relation with exactly one suppressed cell exposes it at once (total minus the
   other parts); otherwise the bounds are computed exactly by integer programming (HiGHS
   through `scipy.optimize.milp`) over the suppressed cells of its connected part. The
   exposed cell's relations then give up their smallest published cell (an inner cell before
   a total, a group row before the total row: least information lost), and the check runs
   again. Each round suppresses one more cell, so it ends.

Primary and complementary cells carry ONE mark, "suppressed", as statistical offices publish
them: told apart, a primary cell would be known to be below k and a complementary one at
least k, and those bounds alone can give cells away (a total of 10 = k in two groups, one
"< k" and one "suppressed ≥ k": the second can only be 10, the first 0).

The tables are small (groups × a few columns, groups below k folded into one row before),
so the integer programs are a few variables each; one feasible point of each program also
clears every other cell it moves (two different solutions: neither value is certain).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp


class Mark(StrEnum):
    """How a cell is published."""

    SHOWN = "shown"
    #: Fewer than k people, or withheld so that such a cell cannot be worked out (one mark).
    SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class Relation:
    """`cells[total] == sum(cells[part] for part in parts)`."""

    total: int
    parts: tuple[int, ...]


@dataclass(frozen=True)
class Protected:
    """The marks of a table's cells (by index), and what it took: `primary` cells below k,
    `rounds` complementary cells. `complete` is False when a suppressed cell stays exposed
    with nothing left to suppress (cells that must stay shown: `fixed`)."""

    marks: tuple[Mark, ...]
    primary: int
    rounds: int
    complete: bool = True

    def shown(self, index: int) -> bool:
        return self.marks[index] is Mark.SHOWN


def protect(
    values: Sequence[int],
    relations: Sequence[Relation],
    k: int,
    *,
    priority: Sequence[int] | None = None,
    suppressed: frozenset[int] = frozenset(),
    fixed: frozenset[int] = frozenset(),
) -> Protected:
    """The marks of `values` under `relations` at minimum cell size `k`. `priority` ranks the
    cells as complements (lower first: cheaper to withhold; default: by value). `suppressed`
    and `fixed` carry a pattern published elsewhere (the total row of another breakdown):
    `suppressed` cells stay suppressed, `fixed` cells stay shown (never chosen as complements:
    the attacker has their value from the other table anyway)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    n = len(values)
    rank = list(priority) if priority is not None else [0] * n
    marks = [Mark.SUPPRESSED if value < k else Mark.SHOWN for value in values]
    primary = marks.count(Mark.SUPPRESSED)
    for index in suppressed:
        marks[index] = Mark.SUPPRESSED
    touching: list[list[int]] = [[] for _ in range(n)]
    for number, relation in enumerate(relations):
        for cell in (relation.total, *relation.parts):
            touching[cell].append(number)
    rounds = 0
    clean: set[frozenset[int]] = set()  # parts proven safe (a part's problem is its cells')
    while True:
        exposed = _first_exposed(values, relations, marks, touching, clean)
        if exposed is None:
            return Protected(tuple(marks), primary, rounds)
        complement = _complement(exposed, values, relations, marks, rank, touching, fixed)
        if complement is None:  # nothing left to suppress
            return Protected(tuple(marks), primary, rounds, complete=False)
        marks[complement] = Mark.SUPPRESSED
        rounds += 1


def _complement(
    exposed: int,
    values: Sequence[int],
    relations: Sequence[Relation],
    marks: Sequence[Mark],
    rank: Sequence[int],
    touching: Sequence[Sequence[int]],
    fixed: frozenset[int],
) -> int | None:
    """The published cell to withhold next: one sharing a relation with `exposed`, else any;
    the cheapest by (rank, value, index)."""
    near = {
        cell
        for number in touching[exposed]
        for cell in (relations[number].total, *relations[number].parts)
        if marks[cell] is Mark.SHOWN and cell not in fixed
    }
    pool = near or {
        cell for cell, mark in enumerate(marks) if mark is Mark.SHOWN and cell not in fixed
    }
    if not pool:
        return None
    return min(pool, key=lambda cell: (rank[cell], values[cell], cell))


def _first_exposed(
    values: Sequence[int],
    relations: Sequence[Relation],
    marks: Sequence[Mark],
    touching: Sequence[Sequence[int]],
    clean: set[frozenset[int]],
) -> int | None:
    """A suppressed cell whose value can be recovered, or None; adds the parts found safe
    to `clean`."""
    hidden = [cell for cell, mark in enumerate(marks) if mark is not Mark.SHOWN]
    if not hidden:
        return None
    # A relation with one suppressed cell: that cell is its total minus its parts.
    for relation in relations:
        inside = [c for c in (relation.total, *relation.parts) if marks[c] is not Mark.SHOWN]
        if len(inside) == 1:
            return inside[0]
    # Otherwise the exact bounds, per connected part of the suppressed cells.
    for part in _components(hidden, relations, marks, touching):
        key = frozenset(part)
        if key in clean:
            continue
        exposed = _pinned(part, values, relations, touching)
        if exposed is not None:
            return exposed
        clean.add(key)
    return None


def _components(
    hidden: Sequence[int],
    relations: Sequence[Relation],
    marks: Sequence[Mark],
    touching: Sequence[Sequence[int]],
) -> list[list[int]]:
    """The suppressed cells grouped by the relations that tie them (union-find)."""
    parent = {cell: cell for cell in hidden}

    def root(cell: int) -> int:
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    for relation in relations:
        inside = [c for c in (relation.total, *relation.parts) if marks[c] is not Mark.SHOWN]
        for other in inside[1:]:
            parent[root(other)] = root(inside[0])
    groups: dict[int, list[int]] = {}
    for cell in hidden:
        groups.setdefault(root(cell), []).append(cell)
    return sorted(groups.values())


def _pinned(
    part: Sequence[int],
    values: Sequence[int],
    relations: Sequence[Relation],
    touching: Sequence[Sequence[int]],
) -> int | None:
    """A cell of `part` whose integer minimum equals its maximum, or None."""
    position = {cell: i for i, cell in enumerate(part)}
    rows: list[list[float]] = []
    rhs: list[float] = []
    numbers = sorted({number for cell in part for number in touching[cell]})
    for number in numbers:
        relation = relations[number]
        row = [0.0] * len(part)
        known = 0.0
        for cell, sign in [(relation.total, 1.0)] + [(p, -1.0) for p in relation.parts]:
            if cell in position:
                row[position[cell]] += sign
            else:
                known += sign * values[cell]
        rows.append(row)
        rhs.append(-known)
    lower = [0.0] * len(part)
    upper = [np.inf] * len(part)
    constraint = LinearConstraint(np.array(rows), np.array(rhs), np.array(rhs))
    bounds = Bounds(np.array(lower), np.array(upper))
    actual = np.array([float(values[cell]) for cell in part])
    undecided = set(range(len(part)))
    while undecided:
        i = min(undecided)
        moved = False
        for sense in (1.0, -1.0):
            objective = np.zeros(len(part))
            objective[i] = -sense  # milp minimises: -x maximises x
            found = milp(
                objective,
                constraints=constraint,
                bounds=bounds,
                integrality=np.ones(len(part)),
            )
            if found.x is None:  # unbounded above: a suppressed total, certainly not pinned
                moved = True
                break
            point = np.round(found.x)
            differs = {j for j in undecided if point[j] != actual[j]}
            undecided -= differs
            if i in differs:
                moved = True
                break
        if not moved:
            return part[i]
        undecided.discard(i)
    return None
