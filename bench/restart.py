"""Restart benchmark: how long a restarted server takes to answer, as its dedup window grows.

Not a test: it prints figures. One workspace is filled, step by step, with events received over
23 hours until now (demo events, each with its own messageId, written through the writer's bulk
path: the same dedup claim and append as the collector's), and the identity graph is synced as
a long-running server would have it. At each size (and first with a one-id window, the
reference) the real server (`empreinte serve`, a subprocess) is started `--runs` times as it
normally restarts (reading the window saved beside the log, then the events after it), and
`--runs` times with the saved window deleted (reading the whole window from the log, as the first
start after an upgrade does), each measured from process start to:

- the first 200 on /api/health,
- the first 200 on /v1/batch (a batch of one retry of a message stored 12 hours before and one
  new message; the answer must say 1 stored, 1 duplicate),

and its resident memory (RSS) at that first 200. Each server is then killed with SIGKILL, as in
a crash. In the benchmark's own process, the window is also filled both ways, to time that step
alone and size the index per id.

    .venv/bin/python bench/restart.py [--sizes 100000,1000000,2500000,5000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

import empreinte
from empreinte.collect.dedup import RecentIds
from empreinte.collect.validate import normalise, now_micros
from empreinte.collect.window_file import DIRECTORY, WindowFile
from empreinte.demo import generate
from empreinte.store.duckdb.engine import DuckDBEngine
from empreinte.store.records import EventRow
from empreinte.workspace import DATABASE_FILE, Workspace

VENV_BIN = Path(sys.executable).parent
SOURCE = "bench"
HOUR = 3_600 * 1_000_000
CHUNK = 100_000


# -- filling the window -------------------------------------------------------------------------


def templates(ws: Workspace, count: int = 2_000) -> list[EventRow]:
    """Validated demo rows, replicated below with new messageIds and arrival times."""
    received = now_micros()
    return [
        normalise(message, source=SOURCE, received_at=received, policy=ws.policy)
        for message in itertools.islice(generate(people=200, months=12, seed=5), count)
    ]


def fill(ws: Workspace, rows: list[EventRow], start: int, stop: int, total: int) -> None:
    """Write events `start`..`stop` of `total`, received evenly over 23 hours until now (the
    oldest first; the window keeps 24 to 25 hours), through the writer as the collector does."""
    now = now_micros()
    step = 23 * HOUR // total
    for low in range(start, stop, CHUNK):
        chunk = [
            rows[i % len(rows)]._replace(
                message_id=f"restart-{i}",
                received_at=now - 23 * HOUR + i * step,
            )
            for i in range(low, min(stop, low + CHUNK))
        ]
        assert ws.writer.write(chunk).stored == len(chunk)


def load_in_process(directory: Path) -> tuple[float, float, int, int]:
    """Seconds to fill the window as the writer does, from the log and from the saved files
    (each in a fresh engine, as at a start); ids; bytes the index takes."""
    since = datetime.now(UTC) - timedelta(hours=25)
    engine = DuckDBEngine(directory / DATABASE_FILE)
    try:
        started = time.perf_counter()
        window = RecentIds(engine)
        window.load(*engine.recent_messages(since))
        from_log = time.perf_counter() - started
    finally:
        engine.close()
    engine = DuckDBEngine(directory / DATABASE_FILE)
    try:
        started = time.perf_counter()
        files = WindowFile(directory / DIRECTORY)
        assert files.read_into(RecentIds(engine), engine, engine.max_seq()) > 0
        from_files = time.perf_counter() - started
    finally:
        engine.close()
    return from_log, from_files, len(window), window.nbytes


# -- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Start:
    health: float  # seconds from process start to the first 200 on /api/health
    batch: float  # ... to the first 200 on /v1/batch
    refused: int  # connection attempts refused before the first answer
    rss: float  # MB, at the first 200 on /v1/batch
    cpu: float  # the server's user + system seconds then (less sensitive to a busy machine)


def start_once(directory: Path, key: str, size: int, run: int, log: Path, retry: str) -> Start:
    port = free_port()
    command = [str(VENV_BIN / "empreinte"), "serve", "-w", str(directory), "--port", str(port)]
    batch = {
        "batch": [
            # An old event of the window (the reference's only one: `reference-0`).
            {"type": "track", "event": "Bench", "userId": "b", "messageId": retry},
            {"type": "track", "event": "Bench", "userId": "b", "messageId": f"new-{size}-{run}"},
        ]
    }
    url = f"http://127.0.0.1:{port}"
    refused = 0
    with log.open("wb") as out:
        started = time.perf_counter()
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            health = batch_at = None
            while batch_at is None:
                if server.poll() is not None:
                    raise SystemExit(f"the server exited:\n{log.read_text()}")
                try:
                    if health is None:
                        if http.get("/api/health").status_code == 200:
                            health = time.perf_counter() - started
                        continue
                    answer = http.post("/v1/batch", json=batch, auth=(key, ""))
                except httpx.TransportError:
                    refused += 1
                    time.sleep(0.01)
                    continue
                batch_at = time.perf_counter() - started
                assert answer.status_code == 200, answer.text
                counts = answer.json()
                assert (counts["stored"], counts["duplicates"]) == (1, 1), counts
            return Start(health, batch_at, refused, rss_mb(server.pid), cpu_seconds(server.pid))
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()


def measure(directory: Path, key: str, size: int, runs: int, logs: Path) -> dict[str, list[Start]]:
    """`runs` starts reading the saved window (the files a previous server or the filling
    left, and the events after them), then `runs` starts without them (the whole log)."""
    retry = f"restart-{size // 2}" if size else "reference-0"  # received 12 hours before
    out: dict[str, list[Start]] = {"saved": [], "log": []}
    for mode, starts in out.items():
        for run in range(runs):
            if mode == "log":
                shutil.rmtree(directory / DIRECTORY, ignore_errors=True)
            log = logs / f"server-{mode}-{run}.log"
            starts.append(
                start_once(directory, key, size, run + runs * (mode == "log"), log, retry)
            )
    return out


# -- the run --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000,2500000,5000000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    total = max(sizes)

    root = Path(tempfile.mkdtemp(prefix="empreinte-restart-"))
    directory = root / "ws"
    print(f"workspace in {directory}; {os.cpu_count()} cores")
    try:
        with empreinte.open(directory) as ws:
            key = ws.credentials.create_write_key(SOURCE)
            rows = templates(ws)
            ws.ingest(
                [{"type": "track", "event": "B", "userId": "b", "messageId": "reference-0"}], SOURCE
            )
        done = 0
        reference = 1.0
        for size in [0, *sizes]:
            if size > done:
                began = time.perf_counter()
                with empreinte.open(directory) as ws:
                    # Spread over 23 hours at the largest size's rate: each step adds the
                    # next hours' worth, so the window always ends close to now.
                    fill(ws, rows, done, size, total)
                    ws.identity.sync()  # as a long-running server would have it
                print(f"filled {size:,} events in {time.perf_counter() - began:.0f} s")
                done = size
            loaded = load_in_process(directory)
            starts = measure(directory, key, size, args.runs, root)
            if not size:
                reference = statistics.median(s.batch for s in starts["saved"])
                print(HEADER)
            report_row(size, starts, loaded, reference)
        print(f"(medians of {args.runs} starts each; ratio: against the first 200 on /v1/batch")
        print("with the 1-id window; CPU: the server's user + system time at that first 200)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


HEADER = (
    "ids in window | saved window: health, first 200 /v1/batch (ratio), CPU s, RSS MB "
    "| from the log: first 200 /v1/batch (ratio), CPU s, RSS MB "
    "| in process: files, log | index B/id | load average"
)


def report_row(
    size: int,
    starts: dict[str, list[Start]],
    loaded: tuple[float, float, int, int],
    reference: float,
) -> None:
    """One size's medians, printed as soon as measured (a long run shows its progress)."""

    def median(mode: str, field: str) -> float:
        return statistics.median(getattr(s, field) for s in starts[mode])

    from_log, from_files, ids, nbytes = loaded
    print(
        f"{size:>13,} | {median('saved', 'health'):.2f} s, {median('saved', 'batch'):.2f} s "
        f"({median('saved', 'batch') / reference:.2f}), {median('saved', 'cpu'):.2f} s, "
        f"{median('saved', 'rss'):.0f} MB "
        f"| {median('log', 'batch'):.2f} s ({median('log', 'batch') / reference:.2f}), "
        f"{median('log', 'cpu'):.2f} s, {median('log', 'rss'):.0f} MB "
        f"| {from_files:.2f} s, {from_log:.2f} s | {nbytes / max(ids, 1):.1f} "
        "| {:.1f}".format(os.getloadavg()[0]),
        flush=True,
    )


if __name__ == "__main__":
    main()
