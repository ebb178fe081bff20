"""Overload benchmark: the real server under an open-loop load, below and above its capacity.

Not a test: it prints figures. One run measures the capacity (16 back-to-back keep-alive clients
posting 500-event batches, everything answered 200), then offers requests on a fixed schedule at
a few multiples of it, whatever the server answers (tests/openloop.py), and prints for each:
offered and acknowledged events/s (goodput), the share answered 429, p50/p99 latency of the
acknowledged requests (from their scheduled departure) and /api/health p95 against its idle p95
measured in the same run. It ends by checking the log: every acknowledged message is in it once
and no message refused with 429 is.

    .venv/bin/python bench/overload.py [--ratios 0.5,1,2,4] [--seconds 10] [--batch 500]
                                       [--budget 2.0]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb

# The generator is the one the overload test uses; `ingest` is the benchmark beside this one.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from empreinte.workspace import DATABASE_FILE
from ingest import free_port, make_workspace, start_server
from openloop import (
    Run,
    batch_bodies,
    closed_loop,
    open_loop,
    percentile,
    post_bytes,
    probe_health,
)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ratios", default="0.5,1,2,4", help="offered rates / capacity")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each step")
    parser.add_argument("--batch", type=int, default=500, help="events per request")
    parser.add_argument("--budget", type=float, default=2.0, help="[collector] latency_budget")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="empreinte-overload-"))
    try:
        run(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(args: argparse.Namespace, root: Path) -> None:
    directory = root / "ws"
    key = make_workspace(directory)
    (directory / "empreinte.toml").write_text(f"[collector]\nlatency_budget = {args.budget}\n")
    port = free_port()
    server = start_server(directory, port, root / "server.log")
    acked: set[str] = set()
    refused: set[str] = set()
    try:
        warm = batch_bodies("warm", 30, args.batch)  # Arrow, DuckDB and caches warm up
        asyncio.run(closed_loop(port, [post_bytes(port, key, b) for _, b in warm], 16))
        measure = batch_bodies("capacity", 100, args.batch)
        capacity = asyncio.run(
            closed_loop(port, [post_bytes(port, key, b) for _, b in measure], 16)
        )
        acked.update(i for ids, _ in warm + measure for i in ids)
        idle = asyncio.run(probe_health(port, 60, 0.02))
        print(
            f"capacity: {capacity:,.1f} requests/s = {capacity * args.batch:,.0f} events/s "
            f"(16 closed-loop clients, batches of {args.batch}); budget {args.budget} s; "
            f"/api/health idle p95 {percentile(idle, 0.95) * 1000:.1f} ms"
        )
        print(
            f"{'offered':>8} {'offered ev/s':>13} {'goodput ev/s':>13} {'429':>6} "
            f"{'p50':>9} {'p99':>9} {'health p95':>11} {'× idle':>7} {'other':>7}"
        )
        for step, ratio in enumerate(float(r) for r in args.ratios.split(",")):
            rate = capacity * ratio
            bodies = batch_bodies(f"step{step}", max(1, round(rate * args.seconds)), args.batch)
            requests = [post_bytes(port, key, body) for _, body in bodies]
            result = asyncio.run(open_loop(port, requests, rate))
            for outcome in result.outcomes:
                ids = bodies[outcome.index][0]
                (acked if outcome.status == 200 else refused).update(ids)
            report(ratio, result, args.batch, percentile(idle, 0.95))
    finally:
        server.terminate()
        server.wait(30)
    check_log(directory, acked, refused)


def report(ratio: float, run: Run, batch: int, idle_p95: float) -> None:
    ok = run.with_status(200)
    latencies = [o.latency for o in ok]
    health = percentile(run.health, 0.95)
    errors = {s: n for s, n in run.statuses.items() if s not in (200, 429)}
    goodput = len(ok) * batch / run.seconds
    print(
        f"{ratio:>7.1f}× {run.offered_rate * batch:>13,.0f} {goodput:>13,.0f} "
        f"{len(run.with_status(429)) / len(run.outcomes):>6.0%} "
        f"{_ms(percentile(latencies, 0.5)) if ok else '-':>9} "
        f"{_ms(percentile(latencies, 0.99)) if ok else '-':>9} "
        f"{health * 1000:>8.1f} ms {health / idle_p95:>6.1f}× {errors or '':>7}"
    )


def check_log(directory: Path, acked: set[str], refused: set[str]) -> None:
    con = duckdb.connect(str(directory / DATABASE_FILE), read_only=True)
    try:
        stored = dict(
            con.execute("SELECT message_id, count(*) FROM events GROUP BY ALL").fetchall()
        )
    finally:
        con.close()
    lost = len(acked - stored.keys())
    kept = len(refused & stored.keys())
    twice = sum(1 for count in stored.values() if count > 1)
    print(
        f"log: {len(stored):,} messages; acknowledged but missing: {lost}; "
        f"refused (429) but stored: {kept}; stored twice: {twice}"
    )


if __name__ == "__main__":
    main()
