"""Memory benchmark: the resident size of a process that writes millions of events to a log.

Not a test: it prints figures. It writes through the workspace's own writer (group commits,
the dedup window, DuckDB under the `[storage]` limits), not over HTTP: HTTP adds no state that
grows with the log, and on 2 cores 10 M events over HTTP take hours. A pool of demo messages is
validated once; every write sends copies of its rows with fresh messageIds, 10,000 a commit.
At each checkpoint it prints the process's RSS, DuckDB's own figure for its buffer pool, and the
dedup window (ids and the bytes of its fingerprints: every id of the last 24 to 25 hours).

    .venv/bin/python bench/memory.py [--events 10000000] [--memory-limit 1GB] [--identity]

`--identity` also runs the identity graph's incremental sync at each checkpoint, as the server
does every second (its state is one entry per identifier, so it grows with people, not events).
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import tempfile
import time
from pathlib import Path

import empreinte
from empreinte.collect.validate import normalise, now_micros
from empreinte.demo import generate
from empreinte.store.records import EventRow

GROUP = 10_000


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pool(ws: empreinte.Workspace, size: int) -> list[EventRow]:
    """`size` validated rows of demo messages (about 50 events per person)."""
    received = now_micros()
    messages = itertools.islice(generate(people=max(50, size // 50), months=12, seed=7), size)
    return [normalise(m, source="bench", received_at=received, policy=ws.policy) for m in messages]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--memory-limit", default="1GB", help="[storage] memory_limit")
    parser.add_argument("--identity", action="store_true", help="sync the identity graph too")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="empreinte-memory-"))
    try:
        run(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(args: argparse.Namespace, root: Path) -> None:
    (root / "empreinte.toml").write_text(f'[storage]\nmemory_limit = "{args.memory_limit}"\n')
    checkpoints = {n for n in (100_000, 300_000, 1_000_000, 3_000_000, 10_000_000, args.events)}
    with empreinte.open(root) as ws:
        rows = pool(ws, 20_000)
        print(f"start: RSS {rss_mb():,.0f} MB (pool of {len(rows):,} validated rows)")
        print(
            f"{'events':>11} {'RSS MB':>8} {'DuckDB MB':>10} {'dedup ids':>10} "
            f"{'dedup MB':>10} {'events/s':>9}"
        )
        written, started = 0, time.perf_counter()
        cycle = itertools.cycle(rows)
        while written < args.events:
            n = min(GROUP, args.events - written)
            group = [
                row._replace(message_id=f"m-{written + i}")
                for i, row in zip(range(n), cycle, strict=False)
            ]
            ws.writer.write(group)
            written += n
            if any(written - n < c <= written for c in checkpoints):
                if args.identity:
                    ws.identity.sync()
                report(ws, written, time.perf_counter() - started)


def report(ws: empreinte.Workspace, written: int, seconds: float) -> None:
    cur = ws.engine._cur()  # type: ignore[attr-defined]  # DuckDB's own figure
    (usage,) = cur.execute("SELECT memory_usage FROM pragma_database_size()").fetchone()
    ids = len(ws.writer._seen)
    print(
        f"{written:>11,} {rss_mb():>8,.0f} {usage:>10} {ids:>10,} "
        f"{ws.writer._seen.nbytes / 2**20:>10,.1f} "
        f"{written / seconds:>9,.0f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
