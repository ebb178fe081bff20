"""Compaction benchmark: a simulated day of small publication rounds, with and without
compaction (docs/publish.md, "Compaction").

Not a test: it prints figures. One collector's events (rows of a real workspace's log, given
new seqs, messageIds and arrival times) are staged and published every `--interval` seconds
of a simulated clock for `--hours` hours, `--rows` rows a round: the leader's rounds on a busy
day (the server's default interval is 10 s: 8,640 rounds a day). Twice on fresh local
directories, in the same run: without compaction (the reference) and with the `[publish]`
defaults (16 files, 1,000,000 rows, 1 h grace). Then prints, for each: the newest manifest's
size and files listed, the time the whole day's publication took, and the time to read every
listed file with pyarrow (median of `--repeat`); the ratios of the two; the load average.

    flock /tmp/bench.lock .venv/bin/python bench/compact.py [--hours 24] [--interval 10]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import empreinte
from empreinte.publish.log import PublishedLog, with_collector
from empreinte.publish.publisher import Publisher
from empreinte.publish.settings import Compaction

DAY = datetime(2026, 1, 5, tzinfo=UTC).timestamp()


def template(directory: Path, rows: int) -> pa.Table:
    """`rows` rows of a real log (Segment track calls through `ingest`), as staged."""
    directory.mkdir()
    (directory / "pseudonym.key").write_bytes(secrets.token_bytes(32))
    with empreinte.open(directory) as ws:
        ws.ingest(
            [
                {
                    "type": "track",
                    "event": "Product Viewed",
                    "userId": f"user-{i}",
                    "messageId": str(uuid.uuid4()),
                    "properties": {"product_id": f"sku-{i % 300}", "price": i % 97},
                    "context": {"page": {"url": f"https://shop.example/p/{i % 300}"}},
                }
                for i in range(rows)
            ]
        )
        ws.flush()
        return with_collector(ws.engine.log_slice(0, rows), "a")


def round_table(base: pa.Table, first_seq: int, at: float) -> pa.Table:
    n = base.num_rows
    received = pa.array([int(at * 1e6) + i for i in range(n)], pa.int64())
    columns = {
        "seq": pa.array(range(first_seq, first_seq + n), pa.int64()),
        "message_id": pa.array([str(uuid.uuid4()) for _ in range(n)], pa.string()),
        "received_at": received.cast(base.schema.field("received_at").type),
    }
    for name, values in columns.items():
        index = base.schema.get_field_index(name)
        base = base.set_column(index, base.schema.field(index), values)
    return base


def simulate_day(
    url: str, base: pa.Table, args: argparse.Namespace, compaction: Compaction
) -> float:
    """Publish the day's rounds; the wall time it took."""
    log = PublishedLog(url)
    clock = [DAY]
    publisher = Publisher(log, compaction=compaction, now=lambda: clock[0])
    rounds = int(args.hours * 3600 // args.interval)
    seq = 1
    spent = 0.0
    for r in range(rounds):
        at = DAY + r * args.interval
        table = round_table(base, seq, at)
        seq += table.num_rows
        clock[0] = at + args.interval - 1  # the round runs at the end of its interval
        start = time.perf_counter()
        log.write_segment("a", table)
        publisher.publish()
        spent += time.perf_counter() - start
    return spent


def read_all(log: PublishedLog) -> tuple[float, int]:
    start = time.perf_counter()
    tables = [pq.read_table(log.path(p)) for p in sorted(log.manifest().files)]
    rows = sum(t.num_rows for t in tables)
    return time.perf_counter() - start, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--interval", type=float, default=10, help="seconds between rounds")
    parser.add_argument("--rows", type=int, default=20, help="rows a round")
    parser.add_argument("--repeat", type=int, default=3, help="reads of the day's files")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-compact-"))
    try:
        base = template(root / "ws", args.rows)
        rounds = int(args.hours * 3600 // args.interval)
        print(f"{rounds:,} rounds of {args.rows} rows, one every {args.interval:g} s (simulated)")
        results = {}
        for name, compaction in (("plain", Compaction(files=0)), ("compacted", Compaction())):
            url = str(root / name)
            spent = simulate_day(url, base, args, compaction)
            log = PublishedLog(url)
            manifest = log.manifest()
            size = len(manifest.to_json())
            reads = [read_all(log) for _ in range(args.repeat)]
            read_s = statistics.median(t for t, _ in reads)
            rows = reads[0][1]
            assert rows == rounds * args.rows, (rows, rounds * args.rows)
            results[name] = (size, len(manifest.files), len(manifest.retired), spent, read_s)
            print(
                f"{name:>9}: manifest {size / 1024:8.1f} KiB, {len(manifest.files):5,} files "
                f"listed ({len(manifest.retired)} retired), publishing the day {spent:6.1f} s, "
                f"reading it {read_s * 1000:7.1f} ms ({rows:,} rows)"
            )
        plain, compacted = results["plain"], results["compacted"]
        print(f"manifest size, plain / compacted: {plain[0] / compacted[0]:.1f}×")
        print(f"files listed, plain / compacted: {plain[1] / compacted[1]:.1f}×")
        print(f"publishing time, compacted / plain: {compacted[3] / plain[3]:.2f}×")
        print(f"reading time (pyarrow), plain / compacted: {plain[4] / compacted[4]:.1f}×")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
