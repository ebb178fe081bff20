"""Reports on the published log: what preparing its snapshot on Spark costs.

Not a test: it prints figures. One collector ingests the demo (`--people`) and publishes it
(publish/). Then, `--repeat` times, on a `local[2]` Spark session (`--master` for another):

1. the published snapshot (store/spark/published.py): the log's files numbered in order, the
   identity graph rebuilt on Spark, consent and profile facts derived there — then one NPS
   report by channel on it;
2. the reference, in the same run: the workspace's own way to Spark, an export of its
   DuckDB tables (identity and derived tables already computed by the collector) read by
   `SparkAnalytics` — then the same report.

Prints the seconds of each (median), the ratio snapshot / export, the report's seconds on each,
and the load average. The snapshot does more (it rebuilds the identity graph the export copies)
and is made once per manifest version; the export is made for every report.

    flock /tmp/bench.lock .venv/bin/python bench/published_snapshot.py [--people 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import empreinte
from empreinte.analytics.cx.scores import score_report
from empreinte.demo import generate
from empreinte.store.engine_choice import AnalyticsEngine
from empreinte.store.spark.published import drop_snapshots
from empreinte.workspace import EXPORTS_DIR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-published-"))
    try:
        workspace = root / "collector"
        workspace.mkdir()
        (workspace / "empreinte.toml").write_text(
            f'timezone = "Europe/Paris"\n[publish]\nurl = "{root / "log"}"\ncollector_id = "a"\n'
        )
        with empreinte.open(workspace) as ws:
            events = ws.ingest(generate(args.people)).stored
            ws.published.run(publish=True)
            ws.identity.sync()
            published = AnalyticsEngine("spark", args.master, "published")
            exported = AnalyticsEngine("spark", args.master, "workspace")
            timings: dict[str, list[float]] = {k: [] for k in ("snapshot", "export", "r1", "r2")}
            for _ in range(args.repeat + 1):  # the first warms the JVM: left out
                drop_snapshots(ws.path / EXPORTS_DIR)
                for name, engine, report in (
                    ("snapshot", published, "r1"),
                    ("export", exported, "r2"),
                ):
                    start = time.perf_counter()
                    with ws.analytics(engine) as log:
                        ready = time.perf_counter()
                        rows = score_report(log, "nps", by="channel").to_rows()
                        done = time.perf_counter()
                    assert rows, "the report counted nothing"
                    timings[name].append(ready - start)
                    timings[report].append(done - ready)
            med = {k: statistics.median(v[1:]) for k, v in timings.items()}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{events:,} events, {args.people} people, Spark {args.master}, medians of {args.repeat}")
    print(f"published snapshot: {med['snapshot']:.1f} s   (report on it: {med['r1']:.2f} s)")
    print(f"workspace export:   {med['export']:.1f} s   (report on it: {med['r2']:.2f} s)")
    print(f"ratio snapshot / export: {med['snapshot'] / med['export']:.1f}x")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
