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
  (how many of that level's rows come before it, minus one: strictly before, so a row
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

import functools
import itertools
import operator
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

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
# The steps a row matches, one bit each, in the narrowest unsigned type that holds them.
_BITS = ((8, "uint8"), (16, "uint16"), (32, "uint32"))
# Rows of a part: several parts per thread, each small enough for its arrays to stay in the
# processor's cache, which takes up to a third off the walk's CPU (measured: 6.2 M rows in
# 1, 2, 16 or 32 parts); and the batches the engine sends them in.
_ROWS_PER_PART = 200_000
_BATCH_ROWS = 100_000
Rows = npt.NDArray[np.int64]
_NONE: Rows = np.empty(0, np.int64)
_NONE.flags.writeable = False  # shared: handed out as the rows of a step nobody matches
PersonKey = Callable[[ir.StringValue], ir.IntegerValue]


def _hashed(person: ir.StringValue) -> ir.IntegerValue:
    key: ir.IntegerValue = person.hash()
    return key


def walked_attempts(
    engine: AnalyticsBackend,
    table: ir.Table,
    steps: int,
    window: timedelta,
    *,
    positions: bool = False,
    person_key: PersonKey = _hashed,
) -> ir.Table:
    """funnels_core's `attempts` in ordered mode, counting people, computed by the walk: one
    row per person who reached step 1, `depth`, `t1` … `tN`, and `start_pos` when asked (the
    `pos` of the attempt's first touchpoint). Text ids are sorted by `person_key` (a hash);
    when two people's ids share one, again by the ids themselves."""
    key = person_key if table.profile_id.type().is_string() else None
    found = _walked(engine, table, steps, window, positions, key)
    if found is None:  # two people's ids share a key
        found = _walked(engine, table, steps, window, positions, None)
    assert found is not None  # sorted by the ids, people cannot mix
    return engine.register_arrow(f"_funnel_walk_{uuid.uuid4().hex[:12]}", found)


def _walked(
    engine: AnalyticsBackend,
    table: ir.Table,
    steps: int,
    window: timedelta,
    positions: bool,
    person_key: PersonKey | None,
) -> pa.Table | None:
    ordered = sorted_rows(table, steps, positions=positions, person_key=person_key)
    # Read in batches: the first people are walked while the engine still sends the next.
    threads = engine.threads
    reader = engine.to_pyarrow_batches(ordered, _BATCH_ROWS)
    try:
        return walk(reader, steps, window, positions=positions, threads=threads)
    finally:
        reader.close()


def sorted_rows(
    table: ir.Table, steps: int, *, positions: bool = False, person_key: PersonKey | None = None
) -> ir.Table:
    """The walk's input: the funnel's touchpoints of `table` (with `m1` … `mN`) sorted by
    (`profile_id`, `at`, `seq`), as `profile_id`, `at`, `_steps` and `pos` when asked; with
    `person_key`, sorted by (`_key`, `at`, `seq`) instead, `_key` (that key of the id) kept.

    Why a key: DuckDB sorts 6 M rows by a text id ("p_" and 16 hex digits) in 2.5 times the
    CPU it takes by a 64-bit hash of it. People stay whole as long as no two ids share a key,
    which the walk checks (it answers None where two share one)."""
    width = next((t for bits, t in _BITS if steps <= bits), None)
    if width is None or steps < 1:
        raise ValueError(f"the walk takes 1 to 32 steps, not {steps}")
    # One column of step bits instead of N booleans: narrower to sort, move and read (a null
    # mark is no match, as CASE WHEN NULL takes the ELSE branch).
    bits = functools.reduce(
        operator.add,
        [ibis.ifelse(table[f"m{k}"], 1 << (k - 1), 0).cast(width) for k in range(1, steps + 1)],
    )
    # Filtered on the marks themselves and the bits computed on the rows kept only: a filter
    # on the bits had DuckDB compute them for every row in the scan, then again.
    funnel = table.filter(ibis.or_(*[table[f"m{k}"] for k in range(1, steps + 1)]))
    funnel = funnel.mutate(_steps=bits)
    extra = ["pos"] if positions else []
    if person_key is None:
        ordered = funnel.order_by(["profile_id", "at", "seq"])
        return ordered.select("profile_id", "at", "_steps", *extra)
    funnel = funnel.mutate(_key=person_key(funnel.profile_id))
    ordered = funnel.order_by(["_key", "at", "seq"])
    return ordered.select("profile_id", "at", "_steps", *extra, "_key")


def walk(
    rows: pa.RecordBatchReader,
    steps: int,
    window: timedelta,
    *,
    positions: bool = False,
    part_rows: int = _ROWS_PER_PART,
    threads: int | None = None,
) -> pa.Table | None:
    """The attempts that count (module docstring) from the funnel's touchpoints sorted by
    (`profile_id`, `at`, `seq`), with `_steps` (bit k-1: the row matches step k) and `pos`
    when `positions`. People are independent: as the batches come, the rows are cut into
    parts of about `part_rows` at people's boundaries and walked by `threads` threads (all
    cores when None; numpy and Arrow release the GIL in their loops), and the results put
    end to end. None when the rows are sorted by a `_key` that two people share (their rows
    may be mixed)."""
    at_type = rows.schema.field("at").type
    if not pa.types.is_timestamp(at_type):
        raise TypeError(f"a funnel's `at` must be a timestamp, not {at_type}")
    # Capped where it already spans every representable time: a start plus the window stays
    # within 64 bits (timedelta's largest, 999,999,999 days, is 8.6e19 µs).
    span = min(window_seconds(window) * _PER_SECOND[at_type.unit], _LONGEST)
    walking: list[Future[_Chains]] = []
    with ThreadPoolExecutor(threads or os.cpu_count() or 1) as pool:
        for whole in _whole_people(rows, part_rows):
            if whole is None:
                return None
            block, change = whole
            for lo, hi in itertools.pairwise(_cuts(change, max(1, len(change) // part_rows))):
                part = block.slice(lo, hi - lo)
                walking.append(pool.submit(_walk_part, part, change[lo:hi], steps, span, positions))
        chains = [w.result() for w in walking]

    person_type = rows.schema.field("profile_id").type
    deepest = np.concatenate([_NONE] + [c.depth for c in chains])
    times = np.concatenate([np.empty((steps, 0), np.int64)] + [c.times for c in chains], axis=1)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "profile_id": pa.chunked_array([c.person for c in chains], person_type),
        "depth": pa.array(deepest, pa.int64()),
    }
    for k in range(1, steps + 1):
        values = pa.array(times[k - 1], pa.int64(), mask=deepest < k)
        columns[f"t{k}"] = values.view(at_type)
    if positions:
        start_pos = np.concatenate([_NONE] + [c.start_pos for c in chains])
        columns["start_pos"] = pa.array(start_pos, pa.int64())
    return pa.table(columns)


def _whole_people(
    rows: pa.RecordBatchReader, part_rows: int
) -> Iterator[tuple[pa.Table, npt.NDArray[np.bool_]] | None]:
    """The rows in blocks of at least `part_rows` (the last one: what is left) that hold
    whole people, each with `change` (True where a person's rows begin); the rows of the
    last person read are held back until a later person begins or the rows end. Rows sorted
    by a `_key`: None, and no more, where two people share it."""
    held: list[pa.RecordBatch] = []
    changes: list[npt.NDArray[np.bool_]] = []
    count = 0
    last: pa.RecordBatch | None = None  # the last row read
    keyed = "_key" in rows.schema.names
    for batch in rows:
        if batch.num_rows == 0:
            continue
        change = _changes(batch, "profile_id", last)
        if keyed and np.any(change & ~_changes(batch, "_key", last)):
            # Sorted by the key, the rows of people sharing one are one run of that key:
            # there, and only there, the id changes where the key does not.
            yield None
            return
        last = batch.slice(batch.num_rows - 1, 1)
        held.append(batch)
        changes.append(change)
        count += batch.num_rows
        if count < part_rows:
            continue
        every = np.concatenate(changes)
        cut = len(every) - 1 - int(np.argmax(every[::-1]))  # where the last person begins
        if cut == 0:
            continue  # one person so far
        block = pa.Table.from_batches(held, rows.schema)
        yield block.slice(0, cut), every[:cut]
        rest = block.slice(cut)
        held, changes, count = rest.to_batches(), [every[cut:]], rest.num_rows
    if count:
        yield pa.Table.from_batches(held, rows.schema), np.concatenate(changes)


@dataclass(frozen=True)
class _Chains:
    """The counted attempts of a part's people: each one's id, furthest step, time of each
    step reached (steps × people), and start position."""

    person: pa.Array
    depth: Rows
    times: Rows
    start_pos: Rows


def _walk_part(
    rows: pa.Table,
    change: npt.NDArray[np.bool_],
    steps: int,
    span: int,
    positions: bool,
) -> _Chains:
    """The walk over rows that begin with a person's first row and end with a person's last."""
    at = pc.cast(rows.column("at").combine_chunks(), pa.int64()).to_numpy()
    bits = rows.column("_steps").combine_chunks().to_numpy()
    pos = rows.column("pos").combine_chunks().to_numpy() if positions else None
    code = np.cumsum(change, dtype=np.int64) - 1

    # Each level: the rows reaching it (ascending), their attempt's start, and for each the
    # position in the previous level of the row it extends.
    matching = _rows_matching(bits, steps)
    reached: list[Rows] = [matching[0]]
    starts = [at[reached[0]]]
    links: list[Rows] = [_NONE]
    earlier = np.empty(len(bits) + 1, np.int64)  # earlier[i]: rows of the level before row i
    for k in range(1, steps):
        before, candidates = reached[-1], matching[k]
        # The latest row of the level before each candidate (strictly before: a row matching
        # two steps never extends itself), by a running count rather than a binary search
        # per candidate: one sequential pass, where the searches missed the cache.
        marked = np.zeros(len(bits), np.int64)
        marked[before] = 1
        earlier[0] = 0
        np.cumsum(marked, out=earlier[1:])
        latest = earlier[candidates] - 1
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
    first_rows = pa.array(np.flatnonzero(change)[counted])
    person = rows.column("profile_id").combine_chunks().take(first_rows)
    return _Chains(person, deepest, times, start_pos)


def _changes(
    batch: pa.RecordBatch, column: str, last: pa.RecordBatch | None
) -> npt.NDArray[np.bool_]:
    """True where `column` differs from the row before (`last` before the first row)."""
    values = batch.column(column)
    change = _person_changes(values)
    if last is not None:
        change[0] = _person_changes(pa.concat_arrays([last.column(column), values.slice(0, 1)]))[1]
    return change


def _person_changes(person: pa.Array) -> npt.NDArray[np.bool_]:
    """True where a person's rows begin, in rows sorted by person."""
    n = len(person)
    change = np.ones(n, bool)
    if n > 1:
        differs = pc.not_equal(person.slice(1), person.slice(0, n - 1))
        change[1:] = pc.fill_null(differs, True).to_numpy(zero_copy_only=False)
    return change


def _cuts(change: npt.NDArray[np.bool_], parts: int) -> list[int]:
    """0, …, len(change): about equal parts, each cut where a person's rows begin."""
    n = len(change)
    firsts = np.flatnonzero(change)
    cuts = [0]
    for i in range(1, max(parts, 1)):
        at = int(np.searchsorted(firsts, i * n // parts))
        cut = int(firsts[at]) if at < len(firsts) else n
        if cut > cuts[-1]:
            cuts.append(cut)
    if n > cuts[-1] or n == 0:
        cuts.append(n)
    return cuts


def _rows_matching(bits: npt.NDArray[np.unsignedinteger[Any]], steps: int) -> list[Rows]:
    """For each step, the rows matching it (ascending): one stable sort of the rows by the
    steps they match, where a pass per step over every row took three times as long."""
    if not len(bits):
        return [_NONE] * steps
    order = np.argsort(bits, kind="stable")
    ordered = bits[order]
    firsts = np.flatnonzero(np.diff(ordered, prepend=ordered[:1] ^ 1))
    ends = [*firsts[1:].tolist(), len(bits)]
    runs = [(int(ordered[lo]), order[lo:hi]) for lo, hi in zip(firsts.tolist(), ends, strict=True)]
    matching: list[Rows] = []
    for k in range(steps):
        mine = [rows for value, rows in runs if value >> k & 1]
        # Rows matching several steps (a repeated step) are in more than one run.
        matching.append(mine[0] if len(mine) == 1 else np.sort(np.concatenate([_NONE, *mine])))
    return matching


def _first_rows(code: Rows) -> Rows:
    """Where each person's rows begin in an ascending array of person codes."""
    return np.flatnonzero(np.diff(code, prepend=-1) != 0)
