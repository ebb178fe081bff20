"""Ordered funnels walked in this process: one sort by the engine, then a pass per step in numpy.

`funnels_core` writes ordered mode as one sorting lookup per step (an ASOF join or a window),
because in SQL reaching step k needs the rows that reached step k-1. ClickHouse's
`windowFunnel` instead walks each person's touchpoints once, in order. An engine in this
process (DuckDB: `AnalyticsBackend.in_process`) can hand over the funnel's touchpoints sorted
by person and time at no transfer cost, and the walk is then a few vectorised passes:

- the touchpoints are sorted by (`profile_id`, `at`, `seq`), so each person's rows are
  consecutive and in the order of funnels_core (a later step is a later row);
- level 1: the rows matching step 1, each the start of an attempt;
- level k: for each row matching step k, the latest row before it that reached level k-1
  (`searchsorted` in that level's sorted row numbers, minus one: strictly before, so a row
  matching two steps never extends itself), kept when it is the same person's and the row is
  within the window of that row's start. That latest row is the one funnels_core's running
  `max` and ASOF join find: every value of a chain grows along a person's rows;
- the attempt that counts: the first row at the person's furthest level, and its chain back
  to level 1 by the links each level kept (funnels_core: among attempts reaching the
  furthest step, the first to reach it).

The result (`profile_id`, `depth`, `t1` … `tN`, `start_pos`) goes back to the engine as a
table of this report (`AnalyticsBackend.register_arrow`), so that exclusions, breakdowns and
the times between steps read it like funnels_core's `attempts`. Memory: a few arrays of the
funnel's touchpoints (about 40 bytes each), in this process.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from empreinte.analytics.journeys.funnels_core import window_seconds
from empreinte.store.analytics import AnalyticsBackend

_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_LONGEST = np.iinfo(np.int64).max // 2
Rows = npt.NDArray[np.int64]


def walked_attempts(
    engine: AnalyticsBackend,
    table: ir.Table,
    steps: int,
    window: timedelta,
    *,
    positions: bool = False,
) -> ir.Table:
    """funnels_core's `attempts` in ordered mode, counting people, computed by the walk: one
    row per person who reached step 1, `depth`, `t1` … `tN`, and `start_pos` when asked (the
    `pos` of the attempt's first touchpoint)."""
    marks = [f"m{k}" for k in range(1, steps + 1)]
    funnel = table.filter(ibis.or_(*[table[m] for m in marks]))
    extra = ["pos"] if positions else []
    ordered = funnel.select("profile_id", "at", "seq", *marks, *extra).order_by(
        ["profile_id", "at", "seq"]
    )
    found = walk(engine.to_pyarrow(ordered), steps, window, positions=positions)
    return engine.register_arrow(f"_funnel_walk_{uuid.uuid4().hex[:12]}", found)


def walk(rows: pa.Table, steps: int, window: timedelta, *, positions: bool = False) -> pa.Table:
    """The attempts that count (module docstring) from the funnel's touchpoints sorted by
    (`profile_id`, `at`, `seq`), with `m1` … `mN` and `pos` when `positions`."""
    at_type = rows.schema.field("at").type
    if not pa.types.is_timestamp(at_type):
        raise TypeError(f"a funnel's `at` must be a timestamp, not {at_type}")
    # Capped where it already spans every representable time: a start plus the window stays
    # within 64 bits (timedelta's largest, 999,999,999 days, is 8.6e19 µs).
    span = min(window_seconds(window) * _PER_SECOND[at_type.unit], _LONGEST)
    person = rows.column("profile_id").combine_chunks()
    at = pc.cast(rows.column("at").combine_chunks(), pa.int64()).to_numpy()
    code = _person_codes(person)
    marked = [
        pc.fill_null(rows.column(f"m{k}"), False).to_numpy(zero_copy_only=False)
        for k in range(1, steps + 1)
    ]

    # Each level: the rows reaching it (ascending), their attempt's start, and for each the
    # position in the previous level of the row it extends.
    reached: list[Rows] = [np.flatnonzero(marked[0])]
    starts = [at[reached[0]]]
    links: list[Rows] = [np.empty(0, np.int64)]
    for k in range(1, steps):
        before = reached[-1]
        candidates = np.flatnonzero(marked[k])
        latest = np.searchsorted(before, candidates) - 1
        found = latest >= 0
        latest[~found] = 0
        if len(before):
            found &= code[before[latest]] == code[candidates]
            start = starts[-1][latest]
            found &= at[candidates] <= start + span
        else:
            found[:] = False
            start = np.zeros(len(candidates), np.int64)
        reached.append(candidates[found])
        starts.append(start[found])
        links.append(latest[found])

    # The furthest level of each person, and where the first row reaching it sits.
    people = int(code[-1]) + 1 if len(code) else 0
    depth = np.zeros(people, np.int64)
    first_at = np.zeros(people, np.int64)  # position of that row in its level's array
    for k in range(steps, 0, -1):
        level = reached[k - 1]
        codes = code[level]
        firsts = _first_rows(codes)
        new = depth[codes[firsts]] == 0
        depth[codes[firsts[new]]] = k
        first_at[codes[firsts[new]]] = firsts[new]

    counted = np.flatnonzero(depth)
    pos = rows.column("pos").to_numpy() if positions else None
    times = np.zeros((steps, len(counted)), np.int64)
    start_pos = np.zeros(len(counted), np.int64)
    deepest = depth[counted]
    for d in range(1, steps + 1):  # the chains of the people whose furthest level is d
        who = np.flatnonzero(deepest == d)
        position = first_at[counted[who]]
        for k in range(d, 0, -1):
            times[k - 1, who] = at[reached[k - 1][position]]
            if k > 1:
                position = links[k - 1][position]
        if pos is not None:
            start_pos[who] = pos[reached[0][position]]

    columns: dict[str, pa.Array] = {
        "profile_id": person.take(pa.array(_first_rows(code)[counted])),
        "depth": pa.array(deepest, pa.int64()),
    }
    for k in range(1, steps + 1):
        values = pa.array(times[k - 1], pa.int64(), mask=deepest < k)
        columns[f"t{k}"] = values.view(at_type)
    if positions:
        columns["start_pos"] = pa.array(start_pos, pa.int64())
    return pa.table(columns)


def _person_codes(person: pa.Array) -> Rows:
    """0, 1, 2… for the people of rows sorted by person (a new code where the id changes)."""
    n = len(person)
    if n == 0:
        return np.empty(0, np.int64)
    change = np.ones(n, bool)
    if n > 1:
        differs = pc.not_equal(person.slice(1), person.slice(0, n - 1))
        change[1:] = pc.fill_null(differs, True).to_numpy(zero_copy_only=False)
    return np.cumsum(change, dtype=np.int64) - 1


def _first_rows(code: Rows) -> Rows:
    """Where each person's rows begin in an ascending array of person codes."""
    return np.flatnonzero(np.diff(code, prepend=-1) != 0)
