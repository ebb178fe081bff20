"""Consent-state benchmark: the engine table `consent_state` computed by the Ibis expression
(analytics/consent_state.py, the one that runs on Spark too) against the DuckDB SQL of the
ledger's bulk rule (`privacy.consent.consent_state`: `consent_decisions` once per purpose),
on the default demo.

Not a test: it prints figures. One run:

1. builds the default demo (`empreinte demo --no-serve`: 2,000 people, 12 months) in a
   temporary directory, unless `--workspace` names one already built (it is not modified);
2. in one process and one analytics log, checks that both give the same rows, then times
   each `--repeat` times, alternating (the Ibis expression built anew each time, as
   `Workspace._prepare` does; its first run, which compiles the SQL, printed apart);
3. times each path's first call in a fresh process `--repeat` times (what a CLI report
   pays: Ibis compiles its SQL once per process);
4. prints the medians, the ratios Ibis / SQL (the reference), and the load average.

    .venv/bin/python bench/consent_state.py [--workspace DIR] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

import empreinte
from empreinte.analytics.consent_state import consent_state
from empreinte.privacy.consent import PURPOSES, policy_of
from empreinte.privacy.consent import consent_state as sql_consent_state


def build_demo(directory: Path) -> Path:
    workspace = directory / "demo"
    script = Path(sys.executable).parent / "empreinte"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "empreinte.cli"]
    subprocess.run(
        [*command, "demo", "--no-serve", "--dir", str(workspace)],
        check=True,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return workspace


def rows(table: pa.Table) -> list[tuple[str, str, bool]]:
    return sorted(
        zip(*(table[c].to_pylist() for c in ("profile_id", "purpose", "allowed")), strict=True)
    )


def timed(work: Callable[[], pa.Table]) -> tuple[float, pa.Table]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def once(path: Path, way: str) -> None:
    """One call of one path in this (fresh) process; prints its seconds."""
    ws = empreinte.open(path)
    try:
        with ws.analytics("duckdb") as log:
            if way == "ibis":
                seconds, _ = timed(
                    lambda: log.to_pyarrow(consent_state(log, policy_of(ws), PURPOSES))
                )
            else:
                seconds, _ = timed(lambda: sql_consent_state(ws, PURPOSES))
    finally:
        ws.close()
    print(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, help="a demo workspace already built")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--once", choices=("ibis", "sql"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.once:
        return once(args.workspace, args.once)
    scratch = Path(tempfile.mkdtemp(prefix="bench-consent-"))
    try:
        path = args.workspace or build_demo(scratch)
        ws = empreinte.open(path)
        try:
            policy = policy_of(ws)
            with ws.analytics("duckdb") as log:

                def ibis_path() -> pa.Table:
                    return log.to_pyarrow(consent_state(log, policy, PURPOSES))

                def sql_path() -> pa.Table:
                    return sql_consent_state(ws, PURPOSES)

                first, by_ibis = timed(ibis_path)
                _, by_sql = timed(sql_path)
                same = rows(by_ibis) == rows(by_sql)
                people = len(ws.privacy_store.profile_ids())
                print(f"{people} profiles, {by_sql.num_rows} rows, identical: {same}")
                if not same:
                    raise SystemExit("the two paths disagree")
                ibis_times: list[float] = []
                sql_times: list[float] = []
                for _ in range(args.repeat):
                    sql_times.append(timed(sql_path)[0])
                    ibis_times.append(timed(ibis_path)[0])
        finally:
            ws.close()
        # A fresh process per call: what a CLI report pays (nothing compiled yet).
        cold: dict[str, list[float]] = {"sql": [], "ibis": []}
        for _ in range(args.repeat):
            for way in cold:
                command = [sys.executable, __file__, "--workspace", str(path), "--once", way]
                done = subprocess.run(command, check=True, capture_output=True, text=True)
                cold[way].append(float(done.stdout))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    sql_median = statistics.median(sql_times)
    ibis_median = statistics.median(ibis_times)
    print(f"Ibis, first run (compiles its SQL): {first * 1000:7.1f} ms")
    print(f"SQL (reference), median of {args.repeat}:  {sql_median * 1000:7.1f} ms")
    print(f"Ibis, median of {args.repeat}:             {ibis_median * 1000:7.1f} ms")
    print(f"ratio Ibis / SQL: {ibis_median / sql_median:.2f}")
    cold_sql, cold_ibis = (statistics.median(cold[w]) for w in ("sql", "ibis"))
    print(f"in a fresh process (first call), SQL:  {cold_sql * 1000:7.1f} ms")
    print(f"in a fresh process (first call), Ibis: {cold_ibis * 1000:7.1f} ms")
    print(f"ratio Ibis / SQL, first call: {cold_ibis / cold_sql:.2f}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
