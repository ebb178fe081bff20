"""The engine side of funnels: from a table of touchpoints marked with the steps they match, the
attempt that counts for each person (or entry), as one Ibis expression.

Input columns: `profile_id`, `at`, `seq`, `m1` … `mN` (booleans: the row matches step k),
and `entry` when counting entries, `pos` (row number of the person's touchpoints in time
order) when the breakdown is a property of the attempt's first touchpoint.

Touchpoints of a person are ordered by (`at`, `seq`): a later step must be a later
touchpoint in that order (one touchpoint never serves two steps of one attempt).

ordered, strict — window functions over the person's touchpoints, one per step, no join:
for a row matching step k, the start of the latest attempt that has reached step k-1 on an
earlier row (`max` over the preceding rows; `lag` of the row just before in strict mode),
kept when the row is within the window of that start (`at <= start + window`). The latest
start dominates: any later step an earlier attempt can reach within its window, the latest
can too (ClickHouse's `windowFunnel` walks the same way). Every value carried (start, time of
each step, entry, position) only grows along the person's rows, so the first row that
reaches a level, and its chain, are found with `min` in a group-by.

unordered — for each of the person's funnel touchpoints taken as the start of an attempt,
the first time at or after it of each step (`min` over the following rows); the attempt
reaches step k when steps 1..k all happen within the window of its start.

Output (`attempts`): one row per person (or person and entry) who reached step 1: `depth`
(the furthest step), `t1` … `tN` (when the attempt that counts reached each step, NULL
beyond `depth`) and `start_pos` when asked.
"""

from __future__ import annotations

from datetime import timedelta

import ibis
import ibis.expr.types as ir

from empreinte.errors import AnalyticsError


def window_seconds(window: timedelta) -> int:
    seconds = window.total_seconds()
    if seconds != int(seconds) or seconds <= 0:
        raise AnalyticsError(f"the conversion window must be whole seconds, not {window}")
    return int(seconds)


def _null_time() -> ir.TimestampValue:
    return ibis.null("timestamp")


def add_entries(table: ir.Table, window: timedelta, *, first_step_only: bool) -> ir.Table:
    """`table` with `entry`: the number of the person's entry into the funnel. An entry is a
    run of step-1 touchpoints (of any funnel touchpoint, `first_step_only=False`, for the
    unordered mode), each less than or exactly `window` after the previous one; a touchpoint
    more than `window` after the previous starts the next entry."""
    span = ibis.interval(seconds=window_seconds(window))
    starts = table.m1 if first_step_only else _any_step(table)
    before = ibis.window(group_by=table.profile_id, order_by=[table.at, table.seq], rows=(None, -1))
    last = ibis.ifelse(starts, table.at, _null_time()).max().over(before)
    marked = table.mutate(
        _new=ibis.ifelse(starts & (last.isnull() | (table.at > last + span)), 1, 0)
    )
    running = ibis.window(
        group_by=marked.profile_id, order_by=[marked.at, marked.seq], rows=(None, 0)
    )
    return marked.mutate(entry=marked._new.sum().over(running).cast("int64")).drop("_new")


def _any_step(table: ir.Table) -> ir.BooleanValue:
    n = 1
    while f"m{n + 1}" in table.columns:
        n += 1
    matched: ir.BooleanValue = table.m1
    for k in range(2, n + 1):
        matched = matched | table[f"m{k}"]
    return matched


def _carried(level: int, entries: bool, positions: bool) -> list[str]:
    names = [f"l{level}_t{j}" for j in range(1, level + 1)]
    if entries:
        names.append(f"l{level}_e")
    if positions:
        names.append(f"l{level}_p")
    return names


def chained_levels(
    table: ir.Table,
    steps: int,
    window: timedelta,
    *,
    strict: bool,
    entries: bool = False,
    positions: bool = False,
) -> ir.Table:
    """`table` with, for each step k, the chain of the attempt reaching step k on this row
    (`lK_t1` … `lK_tK`, and `lK_e`, `lK_p`), NULL when the row does not reach it."""
    span = ibis.interval(seconds=window_seconds(window))
    null_int = ibis.null("int64")
    first = {"l1_t1": ibis.ifelse(table.m1, table.at, _null_time())}
    if entries:
        first["l1_e"] = ibis.ifelse(table.m1, table.entry, null_int)
    if positions:
        first["l1_p"] = ibis.ifelse(table.m1, table.pos, null_int)
    current = table.mutate(**first)
    for k in range(2, steps + 1):
        previous = _carried(k - 1, entries, positions)
        order = [current.at, current.seq]
        if strict:
            frame = ibis.window(group_by=current.profile_id, order_by=order)
            incoming = {f"_in_{c}": current[c].lag().over(frame) for c in previous}
        else:
            frame = ibis.window(group_by=current.profile_id, order_by=order, rows=(None, -1))
            incoming = {f"_in_{c}": current[c].max().over(frame) for c in previous}
        current = current.mutate(**incoming)
        start = current[f"_in_l{k - 1}_t1"]
        valid = current[f"m{k}"] & start.notnull() & (current.at <= start + span)
        level: dict[str, ir.Value] = {}
        for j in range(1, k):
            level[f"l{k}_t{j}"] = ibis.ifelse(valid, current[f"_in_l{k - 1}_t{j}"], _null_time())
        level[f"l{k}_t{k}"] = ibis.ifelse(valid, current.at, _null_time())
        if entries:
            level[f"l{k}_e"] = ibis.ifelse(valid, current[f"_in_l{k - 1}_e"], null_int)
        if positions:
            level[f"l{k}_p"] = ibis.ifelse(valid, current[f"_in_l{k - 1}_p"], null_int)
        current = current.mutate(**level).drop(*incoming)
    return current


def _first_level(table: ir.Table, entries: bool, positions: bool) -> tuple[ir.Table, list[str]]:
    """The attempts at step 1 (`profile_id`, `at`, `seq`, `t1` and the carried extras), and
    the names of those extras (`entry`, `start_pos`)."""
    carried_extra = (["entry"] if entries else []) + (["start_pos"] if positions else [])
    source = {"entry": "entry", "start_pos": "pos"}
    first = table.filter(table.m1)
    reached = first.select(
        "profile_id",
        "at",
        "seq",
        t1=first.at,
        **{c: first[source[c]] for c in carried_extra},
    )
    return reached, carried_extra


def _reached(valid: ir.Table, carried: list[str], k: int) -> ir.Table:
    """The step-k touchpoints that extend an attempt, with its chain (`_in_*`) carried."""
    return valid.select(
        "profile_id",
        "at",
        "seq",
        **{c: valid[f"_in_{c}"] for c in carried},
        **{f"t{k}": valid.at},
    )


def layered_chains(
    table: ir.Table,
    steps: int,
    window: timedelta,
    *,
    entries: bool = False,
    positions: bool = False,
) -> ir.Table:
    """Ordered mode, level by level on ever fewer rows: the attempts that reached step k-1
    (their chains) together with the touchpoints of step k, one window each. One row per
    touchpoint and level it reaches: `level`, `t1` … `tN`, `entry`, `start_pos`."""
    span = ibis.interval(seconds=window_seconds(window))
    reached, carried_extra = _first_level(table, entries, positions)
    levels = [reached.mutate(level=ibis.literal(1, "int64"))]
    for k in range(2, steps + 1):
        carried = [f"t{j}" for j in range(1, k)] + carried_extra
        kinds = {c: reached[c].type() for c in carried}
        earlier = reached.select("profile_id", "at", "seq", *carried, _kind=ibis.literal(0))
        matching = table.filter(table[f"m{k}"])
        candidates = matching.select(
            "profile_id",
            "at",
            "seq",
            **{c: ibis.null(kinds[c]) for c in carried},
            _kind=ibis.literal(1),
        )
        both = earlier.union(candidates)
        # A touchpoint's own copy as an earlier attempt sorts after it: never chained to itself.
        frame = ibis.window(
            group_by=both.profile_id,
            order_by=[both.at, both.seq, ibis.desc(both._kind)],
            rows=(None, 0),
        )
        looked = both.mutate(**{f"_in_{c}": both[c].max().over(frame) for c in carried})
        valid = looked.filter(
            (looked._kind == 1) & looked._in_t1.notnull() & (looked.at <= looked._in_t1 + span)
        )
        reached = _reached(valid, carried, k)
        levels.append(reached.mutate(level=ibis.literal(k, "int64")))
    return _padded(levels, steps, table.at.type(), carried_extra)


def asof_chains(
    table: ir.Table,
    steps: int,
    window: timedelta,
    *,
    entries: bool = False,
    positions: bool = False,
) -> ir.Table:
    """Ordered mode as ASOF joins (DuckDB): level by level, each step-k touchpoint looks up
    the person's latest touchpoint before it (in (`at`, `seq`) order) that reached step k-1,
    a sort-merge instead of a window over both sets of rows. That latest row carries the
    largest value of every carried column (they all grow along the person's rows), so it is
    the row `layered_chains`' running `max` finds: same rows, same chains. One row per
    touchpoint and level it reaches: `level`, `t1` … `tN`, `entry`, `start_pos`."""
    span = ibis.interval(seconds=window_seconds(window))
    reached, carried_extra = _first_level(table, entries, positions)
    levels = [reached.mutate(level=ibis.literal(1, "int64"))]
    for k in range(2, steps + 1):
        carried = [f"t{j}" for j in range(1, k)] + carried_extra
        earlier = reached.select(
            _r_person="profile_id",
            _r_at="at",
            _r_seq="seq",
            **{f"_in_{c}": reached[c] for c in carried},
        )
        matching = table.filter(table[f"m{k}"])
        joined = _latest_before(matching.select("profile_id", "at", "seq"), earlier, carried)
        valid = joined.filter(joined._in_t1.notnull() & (joined.at <= joined._in_t1 + span))
        reached = _reached(valid, carried, k)
        levels.append(reached.mutate(level=ibis.literal(k, "int64")))
    return _padded(levels, steps, table.at.type(), carried_extra)


def _latest_before(candidates: ir.Table, earlier: ir.Table, carried: list[str]) -> ir.Table:
    """For each candidate (`profile_id`, `at`, `seq`), the `_in_*` columns of the person's
    latest `earlier` row strictly before it in (`at`, `seq`) order; candidates without one
    are left out.

    An ASOF join on the time alone (a plain integer sort) finds the latest earlier row at or
    before the candidate's instant. When that row is at an earlier instant, it is the answer:
    no row shares the candidate's instant. Only when it shares it (a tie, or the candidate
    itself when one touchpoint matches two steps) is the (`at`, `seq`) order needed: those
    few candidates are looked up again with a struct key, which sorts several times slower,
    against the rows of their own people only."""
    values = [f"_in_{c}" for c in carried]
    near = candidates.asof_join(
        earlier,
        on=candidates.at >= earlier._r_at,
        predicates=[candidates.profile_id == earlier._r_person],
    ).select("profile_id", "at", "seq", "_r_at", *values)  # read twice: kept narrow
    clear = near.filter(near._r_at < near.at).select("profile_id", "at", "seq", *values)
    tied = near.filter(near._r_at == near.at).select("profile_id", "at", "seq")
    theirs = earlier.semi_join(tied, earlier._r_person == tied.profile_id)
    exact = tied.asof_join(
        theirs,
        on=ibis.struct({"at": tied.at, "seq": tied.seq})
        > ibis.struct({"at": theirs._r_at, "seq": theirs._r_seq}),
        predicates=[tied.profile_id == theirs._r_person],
    )
    return clear.union(exact.select("profile_id", "at", "seq", *values))


def _padded(
    levels: list[ir.Table], steps: int, time_type: object, carried_extra: list[str]
) -> ir.Table:
    """The rows of every level as one table: `profile_id`, `level`, `t1` … `tN` (NULL beyond
    the level), then `carried_extra`."""
    padded = []
    for k, rows in enumerate(levels, start=1):
        padded.append(
            rows.select(
                "profile_id",
                "level",
                *[
                    rows[f"t{j}"] if j <= k else ibis.null(time_type).name(f"t{j}")
                    for j in range(1, steps + 1)
                ],
                *carried_extra,
            )
        )
    return ibis.union(*padded)


def _collapse_chains(levels: ir.Table, steps: int, entries: bool, positions: bool) -> ir.Table:
    """One row per touchpoint that reaches step 1 or further: its furthest level and that
    level's chain (`level`, `t1` … `tN`, `entry`, `start_pos`)."""
    reached = [(levels[f"l{k}_t1"].notnull(), k) for k in range(steps, 0, -1)]
    level = ibis.cases(*reached, else_=0)

    def pick(suffix: str, kind: str, lowest: int = 1) -> ir.Value:
        branches = [(level == k, levels[f"l{k}_{suffix}"]) for k in range(steps, lowest - 1, -1)]
        return ibis.cases(*branches, else_=ibis.null(kind))

    columns: dict[str, ir.Value] = {"level": level}
    for j in range(1, steps + 1):
        columns[f"t{j}"] = pick(f"t{j}", "timestamp", lowest=j)
    if entries:
        columns["entry"] = pick("e", "int64")
    if positions:
        columns["start_pos"] = pick("p", "int64")
    rows = levels.select("profile_id", **columns)
    return rows.filter(rows.level >= 1)


def unordered_levels(
    table: ir.Table,
    steps: int,
    window: timedelta,
    *,
    entries: bool = False,
    positions: bool = False,
) -> ir.Table:
    """Each funnel touchpoint as the start of an attempt: `level` (steps 1..level all within
    the window), `t1` … `tN` (when the attempt has done steps 1..j: the latest of their first
    times), `entry`, `start_pos`."""
    span = ibis.interval(seconds=window_seconds(window))
    rows = table.filter(_any_step(table))
    ahead = ibis.window(group_by=rows.profile_id, order_by=[rows.at, rows.seq], rows=(0, None))
    nexts = rows.mutate(
        **{
            f"_n{j}": ibis.ifelse(rows[f"m{j}"], rows.at, _null_time()).min().over(ahead)
            for j in range(1, steps + 1)
        }
    )
    end = nexts.at + span
    done: list[ir.BooleanValue] = []
    inside: ir.BooleanValue = ibis.literal(True)
    for j in range(1, steps + 1):
        inside = inside & nexts[f"_n{j}"].notnull() & (nexts[f"_n{j}"] <= end)
        done.append(inside)
    level = ibis.cases(*[(done[k - 1], k) for k in range(steps, 0, -1)], else_=0)
    columns: dict[str, ir.Value] = {"level": level}
    latest = nexts._n1
    for j in range(1, steps + 1):
        if j > 1:
            latest = ibis.greatest(latest, nexts[f"_n{j}"])
        columns[f"t{j}"] = ibis.ifelse(done[j - 1], latest, _null_time())
    if entries:
        columns["entry"] = nexts.entry
    if positions:
        columns["start_pos"] = nexts.pos
    anchored = nexts.select("profile_id", **columns)
    return anchored.filter(anchored.level >= 1)


def _plan(table: ir.Table, plan: str) -> str:
    """How ordered mode is computed: `asof` (an ASOF join per step, the fastest on DuckDB;
    Ibis cannot compile ASOF joins for Spark), `layered` (a window per step over ever fewer
    rows) or `chained` (every window over the same rows: one linear plan, what Spark, which
    does not share a subplan used twice, runs fastest). All give the same attempts
    (tests/analytics/journeys/test_funnels_reference.py checks each)."""
    if plan != "auto":
        return plan
    try:
        engine = ibis.get_backend(table).name
    except Exception:  # an unbound table: any plan will do
        engine = "duckdb"
    return "asof" if engine == "duckdb" else "chained"


def attempts(
    table: ir.Table,
    steps: int,
    window: timedelta,
    *,
    mode: str,
    entries: bool = False,
    positions: bool = False,
    plan: str = "auto",
) -> ir.Table:
    """The attempt that counts, one row per person (or person and `entry`): `depth`,
    `t1` … `tN`, `start_pos`: the furthest step reached; among attempts reaching it, the
    first to reach it (its own chain, see the module's docstring). `plan`: see `_plan`."""
    if mode == "unordered":
        rows = unordered_levels(table, steps, window, entries=entries, positions=positions)
    elif mode == "ordered" and _plan(table, plan) == "asof":
        rows = asof_chains(table, steps, window, entries=entries, positions=positions)
    elif mode == "ordered" and _plan(table, plan) == "layered":
        rows = layered_chains(table, steps, window, entries=entries, positions=positions)
    else:
        levels = chained_levels(
            table, steps, window, strict=mode == "strict", entries=entries, positions=positions
        )
        rows = _collapse_chains(levels, steps, entries, positions)
    keys = ["profile_id", "entry"] if entries else ["profile_id"]
    values = [f"t{j}" for j in range(1, steps + 1)] + (["start_pos"] if positions else [])
    # The first row reaching each level: every carried value grows along the rows.
    per_level = rows.group_by([*keys, "level"]).agg(**{v: rows[v].min() for v in values})
    best = per_level.group_by(keys).agg(
        depth=per_level.level.max(),
        **{v: per_level[v].argmax(per_level.level) for v in values},
    )
    return best
