"""Load benchmark: 1 and 2 collectors under an open-loop load, stepped up to the knee.

Not a test: it prints figures. Two collectors are two `empreinte serve` processes on loopback,
each durable on its own workspace (as issue 17's scale-out shape has them); the load generator
spreads requests round-robin across them, as a load balancer in front of them would. The
generator is tests/openloop.py's (the overload test's): requests leave on a fixed schedule
whatever the server answers, and a request's latency runs from its scheduled departure.

For each number of collectors the offered rate starts at `--start` events/s and grows by
`--factor` per step (`--seconds` each) until a step's p99 passes `--budget-ms` or any request is
not answered 200 (a 429, a 503, a failed connection): that step is the knee, and the sustainable
rate is the highest step before it. Each step prints p50/p99, the share refused, and CPU per
1,000 acknowledged events: the servers' process CPU time (and their validation workers') from
/proc, and this generator's own CPU, since on a 2-core machine the collectors and the generator
share the same cores. The reference, measured in the same run: the same rows, validated in this
process, appended straight to DuckDB in 5,000-row commits (bench/ingest.py's storage limit).
At the end each workspace's log is read: every acknowledged messageId must be there exactly
once, and no refused one.

Slow consumers (`--reports`): one collector on the demo workspace (`empreinte demo`, or
`--workspace DIR`, copied), an open-loop load at a fixed `--rate`, alone and then while
`--readers` analysts loop over heavy journey reports through the API (funnel, channels,
attribution, friction: each computed anew, the API keeps no cache), alternately `--repeat`
times: ingestion's throughput and p99 with and without them, and the reports' own latency;
for each `--config` (a setting of the workspace, on a fresh copy and its own server).

    python bench/load.py [--collectors 1,2] [--repeat 3] [--batch 100] [--start 2000]
                         [--factor 1.4] [--seconds 6] [--budget-ms 250] [--workers N]
    python bench/load.py --reports [--rate 2000] [--readers 2] [--workspace DIR] [--repeat 3]
                         [--config default --config collector.read_threads=40 ...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import empreinte
from empreinte.workspace import DATABASE_FILE
from ingest import (
    cpu_breakdown,
    cpu_seconds,
    free_port,
    make_workspace,
    start_server,
    storage_limit,
    thread_cpu,
    thread_names,
    validate_all,
)
from openloop import batch_bodies, closed_loop, open_loop, percentile, post_bytes
from servers import serve_command


@dataclass
class Collector:
    directory: Path
    key: str
    port: int
    server: Any  # subprocess.Popen
    acked: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)  # answered 429/503: must not be stored
    unknown: set[str] = field(default_factory=set)  # the connection failed: either way


@dataclass
class Step:
    offered: float  # events/s
    acked: float  # events/s acknowledged
    refused: float  # share of requests answered 429 or 503
    errors: dict[int, int]  # other statuses (0: the connection failed)
    p50: float
    p99: float
    server_cpu_ms: float  # per 1,000 acknowledged events, servers and their workers
    server_cores: float  # their CPU seconds per second
    generator_cores: float

    def ok(self, budget: float) -> bool:
        return self.p99 < budget and not self.refused and not self.errors


@dataclass
class Ramp:
    collectors: int
    steps: list[Step]
    budget: float

    @property
    def sustainable(self) -> Step | None:
        good = [s for s in self.steps if s.ok(self.budget)]
        return good[-1] if good else None

    @property
    def knee(self) -> Step | None:
        bad = [s for s in self.steps if not s.ok(self.budget)]
        return bad[0] if bad else None


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def start_collectors(root: Path, count: int, workers: int | None) -> list[Collector]:
    out = []
    for n in range(count):
        directory = root / f"ws{n}"
        key = make_workspace(directory)
        port = free_port()
        server = start_server(directory, port, root / f"server{n}.log", workers)
        out.append(Collector(directory, key, port, server))
    return out


def warm_up(collectors: list[Collector], batch: int) -> None:
    """Arrow, DuckDB and caches warm, the dedup window loaded: not counted in any step."""
    for c in collectors:
        bodies = batch_bodies(f"warm{c.port}", 40, batch)
        asyncio.run(closed_loop(c.port, [post_bytes(c.port, c.key, b) for _, b in bodies], 4))
        c.acked.update(i for ids, _ in bodies for i in ids)


def step(collectors: list[Collector], label: str, rate: float, args: argparse.Namespace) -> Step:
    """One open-loop step at `rate` events/s, spread round-robin over the collectors."""
    count = max(len(collectors), round(rate * args.seconds / args.batch))
    bodies = batch_bodies(label, count, args.batch)
    targets = [collectors[i % len(collectors)] for i in range(count)]
    requests = [
        post_bytes(c.port, c.key, body) for c, (_, body) in zip(targets, bodies, strict=True)
    ]
    before = [sum(cpu_seconds(c.server.pid)) for c in collectors]
    mine = time.process_time()
    run = asyncio.run(open_loop([c.port for c in collectors], requests, rate / args.batch))
    mine = time.process_time() - mine
    used = sum(sum(cpu_seconds(c.server.pid)) - b for c, b in zip(collectors, before, strict=True))
    for outcome in run.outcomes:
        ids, collector = bodies[outcome.index][0], targets[outcome.index]
        if outcome.status == 200:
            collector.acked.update(ids)
        elif outcome.status in (429, 503):
            collector.refused.update(ids)
        else:
            collector.unknown.update(ids)
    ok = [o.latency for o in run.with_status(200)]
    acked_events = len(ok) * args.batch
    statuses = run.statuses
    return Step(
        offered=rate,
        acked=acked_events / run.seconds,
        refused=(statuses[429] + statuses[503]) / len(run.outcomes),
        errors={s: n for s, n in statuses.items() if s not in (200, 429, 503)},
        p50=percentile(ok, 0.5) if ok else float("inf"),
        p99=percentile(ok, 0.99) if ok else float("inf"),
        server_cpu_ms=used / acked_events * 1e6 if acked_events else float("inf"),
        server_cores=used / run.seconds,
        generator_cores=mine / run.seconds,
    )


def wait_idle(seconds: float) -> None:
    """Let the writers drain between steps (their queues are bounded by the latency budget)."""
    time.sleep(seconds)


def ramp(root: Path, count: int, args: argparse.Namespace, run_no: int) -> Ramp:
    collectors = start_collectors(root / f"c{count}-r{run_no}", count, args.workers)
    result = Ramp(count, [], args.budget_ms / 1000)
    try:
        warm_up(collectors, args.batch)
        wait_idle(1.0)
        rate = args.start
        print(
            f"\n{count} collector(s), run {run_no + 1}: {'offered':>9} {'acked':>9} "
            f"{'refused':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/1k':>9} {'servers':>7} "
            f"{'generator':>9}  (ev/s; CPU in cores)"
        )
        for n in range(args.max_steps):
            s = step(collectors, f"c{count}r{run_no}s{n}", rate, args)
            result.steps.append(s)
            print(
                f"{'':>26}{s.offered:>9,.0f} {s.acked:>9,.0f} {s.refused:>7.1%} {_ms(s.p50):>7} "
                f"{_ms(s.p99):>7} {s.server_cpu_ms:>9.1f} {s.server_cores:>7.2f} "
                f"{s.generator_cores:>9.2f} {s.errors or ''}",
                flush=True,
            )
            if not s.ok(result.budget):
                break
            rate *= args.factor
            wait_idle(1.0)
    finally:
        for c in collectors:
            c.server.terminate()
        for c in collectors:
            c.server.wait(60)
    check_logs(collectors)
    return result


def check_logs(collectors: list[Collector]) -> None:
    """Every acknowledged messageId in its collector's log exactly once; no refused one."""
    lost = twice = kept = 0
    total = 0
    for c in collectors:
        con = duckdb.connect(str(c.directory / DATABASE_FILE), read_only=True)
        try:
            rows = con.execute("SELECT message_id, count(*) FROM events GROUP BY ALL").fetchall()
        finally:
            con.close()
        stored = {str(m): int(n) for m, n in rows}
        total += len(stored)
        lost += len(c.acked - stored.keys())
        twice += sum(1 for n in stored.values() if n > 1)
        kept += len(c.refused & stored.keys())
    acked = sum(len(c.acked) for c in collectors)
    print(
        f"logs: {total:,} messages, {acked:,} acknowledged; acknowledged but missing: {lost}; "
        f"stored twice: {twice}; refused but stored: {kept}"
    )
    if lost or twice or kept:
        raise SystemExit("the logs do not match what was acknowledged")


def reference(root: Path, batch: int, events: int) -> tuple[float, float]:
    """The same kind of rows, validated here and appended straight to DuckDB in 5,000-row
    commits: events/s and CPU ms per 1,000 events (this process, DuckDB's threads included)."""
    bodies = batch_bodies("reference", max(1, events // batch), batch)
    messages = [m for _, body in bodies for m in orjson.loads(body)["batch"]]
    rows, _ = validate_all(messages, batch)
    root.mkdir(parents=True, exist_ok=True)
    rate = storage_limit(rows, 5_000, root)
    return rate.per_second, rate.cpu / rate.events * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collectors", default="1,2", help="numbers of collectors to load")
    parser.add_argument("--repeat", type=int, default=1, help="ramps per number of collectors")
    parser.add_argument("--batch", type=int, default=100, help="events per request")
    parser.add_argument("--start", type=float, default=2_000, help="first step, events/s")
    parser.add_argument("--factor", type=float, default=1.4, help="rate growth per step")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each step")
    parser.add_argument("--max-steps", type=int, default=12)
    parser.add_argument("--budget-ms", type=float, default=250.0, help="p99 bound of a step")
    parser.add_argument("--workers", type=int, default=None, help="`serve --workers` of each")
    parser.add_argument("--reference-events", type=int, default=100_000)
    parser.add_argument("--reports", action="store_true", help="the slow-consumers run")
    parser.add_argument("--rate", type=float, default=2_000, help="--reports: events/s")
    parser.add_argument("--readers", default="2", help="--reports: report clients (a list)")
    parser.add_argument("--workspace", type=Path, help="--reports: a built demo (copied)")
    parser.add_argument("--people", type=int, default=2_000, help="--reports: demo size")
    parser.add_argument(
        "--config",
        action="append",
        help="--reports: a configuration to compare, `default` or section.key=value "
        "(e.g. collector.read_threads=40, storage.threads=1); repeatable",
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="empreinte-load-"))
    print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores")
    try:
        if args.reports:
            slow_consumers(root, args)
            return
        ramps: dict[int, list[Ramp]] = {}
        refs: list[tuple[float, float]] = []
        for run_no in range(args.repeat):
            refs.append(reference(root / f"ref{run_no}", args.batch, args.reference_events))
            print(f"reference: {refs[-1][0]:,.0f} events/s, {refs[-1][1]:.1f} CPU ms per 1k")
            for count in (int(c) for c in args.collectors.split(",")):
                ramps.setdefault(count, []).append(ramp(root, count, args, run_no))
        summary(ramps, refs)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def summary(ramps: dict[int, list[Ramp]], refs: list[tuple[float, float]]) -> None:
    ref_rate = statistics.median(r[0] for r in refs)
    ref_cpu = statistics.median(r[1] for r in refs)
    print(
        f"\nmedians of {len(refs)} run(s); reference (raw DuckDB append, 5,000-row commits): "
        f"{ref_rate:,.0f} events/s, {ref_cpu:.1f} CPU ms per 1,000 events"
    )
    print(
        "collectors | sustainable ev/s (ratio to reference) | p50 / p99 there | knee offered "
        "| CPU ms per 1k there (ratio) | generator cores there"
    )
    for count, runs in ramps.items():
        best = [r.sustainable for r in runs]
        knees = [r.knee.offered for r in runs if r.knee is not None]
        if not all(best):
            print(f"{count} | no step met the budget in {sum(not b for b in best)} run(s)")
            continue
        sus = [b for b in best if b is not None]
        rate = statistics.median(s.acked for s in sus)
        cpu = statistics.median(s.server_cpu_ms for s in sus)
        print(
            f"{count} | {rate:,.0f} ({rate / ref_rate:.2f}) | "
            f"{_ms(statistics.median(s.p50 for s in sus))} / "
            f"{_ms(statistics.median(s.p99 for s in sus))} ms | "
            f"{statistics.median(knees):,.0f} | {cpu:.1f} ({cpu / ref_cpu:.1f}×) | "
            f"{statistics.median(s.generator_cores for s in sus):.2f}"
            if knees
            else f"{count} | {rate:,.0f} | no knee within --max-steps"
        )


# -- slow consumers ---------------------------------------------------------------------------

# Heavy reports of the journeys API (each computed anew on every call), with parameters the
# demo's data answers.
REPORTS = (
    "/api/journeys/funnel?step=Product+Viewed&step=Product+Added&step=Order+Completed",
    "/api/journeys/channels",
    "/api/journeys/attribution",
    "/api/journeys/friction",
)


class Readers:
    """`count` analysts, each looping over `REPORTS` until stopped: latencies and statuses."""

    def __init__(self, port: int, token: str, count: int):
        self._url = f"http://127.0.0.1:{port}"
        self._token = token
        self._stop = threading.Event()
        self.latencies: list[float] = []
        self.statuses: list[int] = []
        self._threads = [
            threading.Thread(target=self._loop, args=(n,), daemon=True) for n in range(count)
        ]

    def _loop(self, offset: int) -> None:
        headers = {"Authorization": f"Bearer {self._token}"}
        with httpx.Client(base_url=self._url, headers=headers, timeout=300) as client:
            n = offset
            while not self._stop.is_set():
                started = time.perf_counter()
                status = client.get(REPORTS[n % len(REPORTS)]).status_code
                self.latencies.append(time.perf_counter() - started)
                self.statuses.append(status)
                n += 1

    def __enter__(self) -> Readers:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()


def demo_workspace(root: Path, args: argparse.Namespace) -> Path:
    """A copy of `--workspace`, or a demo built here (`empreinte demo --no-serve`)."""
    target = root / "demo"
    if args.workspace is not None:
        shutil.copytree(args.workspace, target)
        return target
    started = time.perf_counter()
    subprocess.run(
        [
            *serve_command(),
            "demo",
            "--no-serve",
            "--dir",
            str(target),
            "--people",
            f"{args.people}",
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    print(f"demo built ({args.people:,} people) in {time.perf_counter() - started:.0f} s")
    return target


def slow_consumers(root: Path, args: argparse.Namespace) -> None:
    """For each `--config`, a fresh copy of the demo and its own server."""
    demo = demo_workspace(root, args)
    for n, setting in enumerate(args.config or ["default"]):
        directory = root / f"config-{n}"
        shutil.copytree(demo, directory)
        if setting != "default":  # section.key=value, appended to the workspace's config
            name, _, value = setting.partition("=")
            section, _, key = name.partition(".")
            with (directory / "empreinte.toml").open("a") as config:
                config.write(f"\n[{section}]\n{key} = {value}\n")
        print(f"\nconfiguration: {setting}")
        consumers(root, directory, args)


def consumers(root: Path, directory: Path, args: argparse.Namespace) -> None:
    with empreinte.open(directory) as ws:
        key = ws.credentials.create_write_key("bench")
        token = ws.credentials.create_api_token("bench-analyst", "analyst")
        before = ws.count()
    port = free_port()
    server = start_server(directory, port, root / f"{directory.name}.log", args.workers)
    collector = Collector(directory, key, port, server)
    readers_of = {f"{n} reader(s)": int(n) for n in args.readers.split(",")}
    phases: dict[str, list[Step]] = {"alone": [], **{name: [] for name in readers_of}}
    report_latencies: dict[str, list[float]] = {name: [] for name in readers_of}
    try:
        warm_up([collector], args.batch)
        with Readers(port, token, 1) as warm:  # derived tables brought up to date, SQL compiled
            while len(warm.statuses) < len(REPORTS):
                time.sleep(0.1)
        if set(warm.statuses) != {200}:
            raise SystemExit(f"the reports answered {warm.statuses}: {REPORTS}")
        print(
            f"{before:,} events in the demo; reports alone: "
            + ", ".join(
                f"{r.split('?')[0]} {t:.2f} s"
                for r, t in zip(REPORTS, warm.latencies, strict=False)
            )
        )
        print(
            f"{'ingestion':>14} {'offered':>9} {'acked':>9} {'refused':>7} {'p50 ms':>7} "
            f"{'p99 ms':>7} {'CPU ms/1k':>9} {'servers':>7}  reports (n, median s)"
        )
        for run_no in range(args.repeat):
            for phase in phases:
                wait_idle(2.0)
                label = f"r{run_no}{phase.replace(' ', '')}"
                if phase == "alone":
                    s = step([collector], label, args.rate, args)
                    extra = ""
                else:
                    parts: dict[str, float] = {}
                    with Readers(port, token, readers_of[phase]) as readers:
                        time.sleep(1.0)  # the reports under way before the load starts
                        threads_before, cpu_before = thread_cpu(server.pid), cpu_seconds(server.pid)
                        s = step([collector], label, args.rate, args)
                        if run_no == 0:  # where the server's CPU went, by thread
                            names = thread_names(server.pid)
                            threads_after = thread_cpu(server.pid)
                            parts = cpu_breakdown(
                                threads_before,
                                threads_after,
                                names,
                                cpu_seconds(server.pid)[0] - cpu_before[0],
                            )
                            parts["of which the reports' threads (AnyIO's pool)"] = sum(
                                t - threads_before.get(tid, 0.0)
                                for tid, t in threads_after.items()
                                if names.get(tid, "").startswith("AnyIO")
                            )
                    report_latencies[phase] += readers.latencies
                    bad = [x for x in readers.statuses if x != 200]
                    extra = (
                        f"{len(readers.latencies)}, {statistics.median(readers.latencies):.2f}"
                        + (f" non-200: {bad}" if bad else "")
                    )
                phases[phase].append(s)
                if phase != "alone" and run_no == 0 and parts:
                    print(
                        "  server CPU s by thread while reports ran: "
                        + ", ".join(f"{k} {v:.1f}" for k, v in sorted(parts.items()) if v >= 0.05)
                    )
                print(
                    f"{phase:>14} {s.offered:>9,.0f} {s.acked:>9,.0f} {s.refused:>7.1%} "
                    f"{_ms(s.p50):>7} {_ms(s.p99):>7} {s.server_cpu_ms:>9.1f} "
                    f"{s.server_cores:>7.2f}  {extra} {s.errors or ''}",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(60)
    check_logs([collector])
    alone = phases["alone"]

    def med(steps: list[Step], attr: str) -> float:
        return statistics.median(getattr(x, attr) for x in steps)

    for name, loaded in phases.items():
        if name == "alone":
            continue
        done = report_latencies[name]
        print(
            f"medians of {args.repeat}, alone → {name}: acknowledged {med(alone, 'acked'):,.0f} → "
            f"{med(loaded, 'acked'):,.0f} events/s "
            f"({med(loaded, 'acked') / med(alone, 'acked'):.2f}); p99 {_ms(med(alone, 'p99'))} → "
            f"{_ms(med(loaded, 'p99'))} ms; p50 {_ms(med(alone, 'p50'))} → "
            f"{_ms(med(loaded, 'p50'))} ms; refused {med(alone, 'refused'):.1%} → "
            f"{med(loaded, 'refused'):.1%}; reports: {len(done)}, median "
            f"{statistics.median(done) if done else float('nan'):.2f} s"
        )


if __name__ == "__main__":
    main()
