"""Funnel benchmark: a 5-step funnel with a 7-day window over 10 million touchpoints of a
million people, on DuckDB (empreinte's funnel core), ClickHouse (`windowFunnel` in the
embedded chdb) and pandas.

Not a test: it prints figures. One run:

1. generates `--events` touchpoints of `--people` people with numpy (person, microsecond
   time over 90 days, one of 10 event names, 5 of them the funnel's steps; a person's
   actions cluster in time, so funnels do convert), written once to a Parquet file and
   loaded into an in-memory DuckDB table and an in-memory ClickHouse table (`Memory`
   engine) from that same file: the touchpoints shape (`profile_id`, `at`, `seq`, `step`)
   with the owner already resolved — the identity-graph join of `touchpoints()` is NOT in
   these timings (bench/cx.py times reports from the raw log);
2. times (median and best of `--repeat` runs) the people reaching each step:
   (a) empreinte, what a workspace's funnel report runs on DuckDB in ordered mode: the steps
       marked and the funnel's touchpoints sorted by DuckDB, walked in this process
       (funnels_walk.walked_attempts), the count by furthest step in DuckDB; and for
       reference its SQL plan (`funnels_core.attempts`, one ASOF join per step: what an
       engine out of process would run), also executed by DuckDB;
   (b) ClickHouse: `windowFunnel(window)(at, step = 's1', …)` per person, then the count by
       level, on the same rows (microsecond timestamps as UInt64, the window in
       microseconds: a step exactly at the window's end counts in both);
   (c) pandas: the same chained rule with `groupby().cummax()`, vectorised;
3. checks they all give the same count at every step and prints times and ratios (and,
   apart, how much of the SQL plan's figure is Ibis building and compiling the SQL); with
   `--strict`, also compares strict mode with windowFunnel's 'strict_order' (over every
   touchpoint, not only the funnel's).

    .venv/bin/python bench/funnel.py [--people 1000000] [--events 10000000] [--repeat 3]
        [--string-ids]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from empreinte.analytics.journeys.funnels_core import attempts
from empreinte.analytics.journeys.funnels_walk import walked_attempts
from empreinte.store.duckdb.analytics import DuckDBAnalytics

STEPS = ("Product Viewed", "Product Added", "Cart Viewed", "Checkout Started", "Order Completed")
OTHERS = ("Page Viewed", "Search", "Review Read", "Newsletter Opened", "Support Chat")
# Mostly early steps, few orders, as in a shop.
WEIGHTS = (0.28, 0.14, 0.1, 0.06, 0.04, 0.18, 0.08, 0.05, 0.04, 0.03)
START = datetime(2026, 1, 1)
SPAN_US = 90 * 86400 * 1_000_000


def generate(people: int, events: int, seed: int, string_ids: bool = False) -> pa.Table:
    """Touchpoints: each person has a home moment and acts around it (days apart at most),
    so that 7-day funnels convert for some and not for others. With `string_ids`, a
    person's id is text like a workspace's ("p_" and 16 hex digits, distinct: the person's
    number times an odd constant, modulo 2^64), not a number."""
    rng = np.random.default_rng(seed)
    person = rng.integers(0, people, size=events, dtype=np.int64)
    home = rng.integers(0, SPAN_US, size=people, dtype=np.int64)
    offset = rng.exponential(3 * 86400 * 1_000_000, size=events).astype(np.int64)
    micros = home[person] + offset
    names = pa.array(STEPS + OTHERS, pa.string())
    index = rng.choice(len(names), size=events, p=np.array(WEIGHTS) / sum(WEIGHTS))
    step = pa.DictionaryArray.from_arrays(pa.array(index.astype(np.int8)), names)
    at = np.datetime64(START, "us") + micros.astype("timedelta64[us]")
    profile: pa.Array = pa.array(person)
    if string_ids:
        keys = np.arange(people, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        profile = pa.array([f"p_{k:016x}" for k in keys.tolist()]).take(profile)
    return pa.table(
        {
            "profile_id": profile,
            "at": pa.array(at, pa.timestamp("us")),
            "seq": pa.array(np.arange(1, events + 1, dtype=np.int64)),
            "step": step.cast(pa.string()),
        }
    )


def reach(levels: Any, people: Any) -> list[int]:
    """People reaching each step, from the number of people by furthest step."""
    levels, people = np.asarray(levels, dtype=np.int64), np.asarray(people, dtype=np.int64)
    return [int(people[levels >= k].sum()) for k in range(1, len(STEPS) + 1)]


def with_marks(table: ibis.Table) -> ibis.Table:
    """`table` with `m1` … `mN`: the touchpoint is the funnel's step k."""
    return table.mutate(**{f"m{k}": table.step == name for k, name in enumerate(STEPS, start=1)})


def by_depth(found: ibis.Table) -> ibis.Table:
    return found.group_by("depth").agg(people=found.count())


def engine_expression(
    table: ibis.Table, window: timedelta, mode: str, plan: str = "auto"
) -> ibis.Table:
    marked = with_marks(table)
    if mode != "strict":
        marked = marked.filter(marked.step.isin(list(STEPS)))
    return by_depth(attempts(marked, len(STEPS), window, mode=mode, plan=plan))


def compile_seconds(con: Any, window: timedelta, mode: str, plan: str, runs: int) -> float:
    """Median time to build the Ibis expression and compile it to SQL, which every timed
    run of `engine_counts` also does (Python, one core): the part of the figure that is not
    DuckDB. The product keeps compiled SQL per expression shape (store/duckdb/analytics.py,
    `CompiledSql`), so a report run again skips it; the timed runs here never do."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        ibis.to_sql(engine_expression(con.table("touchpoints"), window, mode, plan), "duckdb")
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def walked_counts(database: Any, window: timedelta) -> list[int]:
    """What a workspace's funnel report runs on DuckDB in ordered mode, on a cursor of its
    own as a report has (`Workspace.analytics()`), closed after: the steps marked in SQL,
    the walk in this process (funnels_walk), the count by furthest step in SQL. (One cursor
    for every run kept each run's walked table, and the runs slowed down: 0.8 s to 1.15 s
    over ten.)"""
    engine = DuckDBAnalytics(database.cursor())
    try:
        marked = with_marks(engine.connection.table("touchpoints"))
        frame = engine.execute(by_depth(walked_attempts(engine, marked, len(STEPS), window)))
    finally:
        engine.close()
    return reach(frame["depth"].to_numpy(), frame["people"].to_numpy())


def engine_counts(con: Any, window: timedelta, mode: str, plan: str = "auto") -> list[int]:
    frame = con.execute(engine_expression(con.table("touchpoints"), window, mode, plan))
    return reach(frame["depth"].to_numpy(), frame["people"].to_numpy())


def clickhouse_counts(session: Any, window: timedelta, mode: str) -> list[int]:
    conditions = ", ".join(f"step = '{name}'" for name in STEPS)
    option = ", 'strict_order'" if mode == "strict" else ""
    where = "" if mode == "strict" else f"WHERE step IN ({', '.join(repr(s) for s in STEPS)})"
    micros = int(window.total_seconds()) * 1_000_000
    sql = f"""
        SELECT level, count() AS people FROM (
            SELECT profile_id,
                   windowFunnel({micros}{option})(
                       toUInt64(toUnixTimestamp64Micro(at)), {conditions}) AS level
            FROM touchpoints {where} GROUP BY profile_id)
        GROUP BY level"""
    frame = session.query(sql, "DataFrame")
    return reach(frame["level"].to_numpy(), frame["people"].to_numpy())


def pandas_counts(frame: pd.DataFrame, window: timedelta) -> list[int]:
    """Ordered mode: for a step-k touchpoint, the latest step-1 start among the person's
    earlier touchpoints that reached step k-1; reached when within the window."""
    rows = frame[frame["step"].isin(STEPS)].sort_values(["profile_id", "at", "seq"])
    person = rows["profile_id"].to_numpy()
    at = rows["at"].to_numpy().astype("datetime64[us]").astype(np.int64)
    step = rows["step"].to_numpy()
    span = int(window.total_seconds()) * 1_000_000
    level = np.zeros(len(rows), dtype=np.int64)
    start = np.where(step == STEPS[0], at, -1)
    level[start >= 0] = 1
    groups = pd.Series(person)
    for k in range(2, len(STEPS) + 1):
        # the latest start of a step-(k-1) row strictly before each row, in the person
        carried = pd.Series(start).groupby(groups).cummax()
        previous = carried.groupby(groups).shift(1).fillna(-1).to_numpy().astype(np.int64)
        valid = (step == STEPS[k - 1]) & (previous >= 0) & (at <= previous + span)
        level[valid] = np.maximum(level[valid], k)
        start = np.where(valid, previous, -1)
    furthest = pd.Series(level).groupby(groups).max().value_counts()
    return reach(furthest.index, furthest.to_numpy())


def timed(
    runs: int, works: dict[str, Callable[[], list[int]]]
) -> dict[str, tuple[float, float, float, list[int]]]:
    """For each work, (median, best, median CPU, result) of `runs` runs. The works take turns
    within each run, so that a change in the load of the machine (it is shared) falls on all
    of them alike and their ratio holds; the median is the figure to compare, the best what
    an idle machine would come closer to, and the CPU of this process (every thread:
    DuckDB's, chdb's) the steadier figure."""
    times: dict[str, list[float]] = {name: [] for name in works}
    cpu: dict[str, list[float]] = {name: [] for name in works}
    results: dict[str, list[int]] = {}
    for _ in range(runs):
        for name, work in works.items():
            began, began_cpu = time.perf_counter(), time.process_time()
            results[name] = work()
            times[name].append(time.perf_counter() - began)
            cpu[name].append(time.process_time() - began_cpu)
    return {
        name: (
            statistics.median(times[name]),
            min(times[name]),
            statistics.median(cpu[name]),
            results[name],
        )
        for name in works
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--window-days", type=float, default=7.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--threads", type=int, default=0, help="engine threads (0: all)")
    parser.add_argument("--strict", action="store_true", help="also compare strict mode")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument(
        "--string-ids",
        action="store_true",
        help="people's ids as text like a workspace's (p_ and 16 hex digits), not numbers",
    )
    parser.add_argument(
        "--plan",
        default="auto",
        choices=["auto", "walk", "asof", "layered", "chained"],
        help="ordered mode's plan (auto: the walk, as a workspace's reports on DuckDB; "
        "the others: funnels_core's SQL plans)",
    )
    args = parser.parse_args()
    window = timedelta(days=args.window_days)

    import chdb.session
    import duckdb

    with tempfile.TemporaryDirectory(prefix="empreinte-funnel-") as tmp:
        began = time.perf_counter()
        data = generate(args.people, args.events, args.seed, args.string_ids)
        parquet = Path(tmp) / "touchpoints.parquet"
        pq.write_table(data, parquet)
        print(
            f"generated {args.events:,} touchpoints of {args.people:,} people in "
            f"{time.perf_counter() - began:.1f} s; funnel: {' > '.join(STEPS)}, "
            f"window {window}; ids: {'text' if args.string_ids else 'numbers'}"
        )
        raw = duckdb.connect()
        if args.threads:
            raw.execute(f"SET threads = {args.threads}")
        raw.execute(f"CREATE TABLE touchpoints AS SELECT * FROM read_parquet('{parquet}')")
        con = ibis.duckdb.from_connection(raw)
        session = chdb.session.Session()
        if args.threads:
            session.query(f"SET max_threads = {args.threads}")
        session.query(
            f"CREATE TABLE touchpoints ENGINE = Memory AS SELECT * FROM file('{parquet}', Parquet)"
        )
        modes = ["ordered", "strict"] if args.strict else ["ordered"]
        for mode in modes:
            walks = mode == "ordered" and args.plan in ("auto", "walk")
            works: dict[str, Callable[[], list[int]]] = {
                "engine": (lambda: walked_counts(raw, window))
                if walks
                else (lambda m=mode: engine_counts(con, window, m, args.plan)),
                "clickhouse": lambda m=mode: clickhouse_counts(session, window, m),
            }
            if walks:  # the SQL plan a Spark-free engine would run, for reference
                works["sql"] = lambda: engine_counts(con, window, "ordered", "asof")
            found = timed(args.repeat, works)
            t_engine, b_engine, u_engine, c_engine = found["engine"]
            t_ch, b_ch, u_ch, c_ch = found["clickhouse"]
            if walks:
                t_sql, b_sql, u_sql, c_sql = found["sql"]
            if mode == "ordered" and not args.skip_pandas:
                # Built only now, and dropped after: pandas' copy of the rows (10 M Python
                # strings) is not what the other contenders run beside (it cost the walk
                # 0.01-0.06 s a run when held during its runs).
                frame = data.to_pandas()
                began = time.perf_counter()
                c_pd = pandas_counts(frame, window)
                t_pd = time.perf_counter() - began
                del frame
            print(f"\n{mode} mode — people reaching each step:")
            print(f"  empreinte on DuckDB:        {c_engine}")
            print(f"  ClickHouse windowFunnel:    {c_ch}")
            agree = c_engine == c_ch
            if walks:
                print(f"  empreinte's SQL plan (asof): {c_sql}")
                agree = agree and c_sql == c_engine
            if mode == "ordered" and not args.skip_pandas:
                print(f"  pandas:                     {c_pd}")
                agree = agree and c_pd == c_engine
            print(f"  counts agree: {'yes' if agree else 'NO'}")
            label = "walk in process" if walks else f"{args.plan} plan"
            print(
                f"  empreinte on DuckDB ({label}): median {t_engine:.2f} s (best {b_engine:.2f}),"
                f" CPU {u_engine:.2f} s"
            )
            if walks:
                print(
                    f"  empreinte's SQL plan (asof): median {t_sql:.2f} s (best {b_sql:.2f}),"
                    f" CPU {u_sql:.2f} s"
                )
            plan = "asof" if walks else args.plan
            t_compile = compile_seconds(con, window, mode, plan, args.repeat)
            print(f"    the SQL plan's Ibis build + compile: median {t_compile:.2f} s")
            print(
                f"  ClickHouse windowFunnel (chdb):  median {t_ch:.2f} s (best {b_ch:.2f}),"
                f" CPU {u_ch:.2f} s"
            )
            print(f"  ratio ClickHouse / empreinte (medians): {t_ch / t_engine:.2f}x")
            if mode == "ordered" and not args.skip_pandas:
                print(f"  pandas (vectorised, one run):    {t_pd:.2f} s")
                print(f"  ratio pandas / empreinte: {t_pd / t_engine:.2f}x")
        print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(
            "\nnot timed: the owner of each touchpoint through the identity graph "
            "(touchpoints()); the data here already has its person."
        )


if __name__ == "__main__":
    main()
