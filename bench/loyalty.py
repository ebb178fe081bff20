"""Loyalty benchmark: a full earning run over a demo workspace, and a run with nothing new.

Not a test: it prints figures. One run:

1. copies the workspace given (`--workspace`, a demo: `empreinte demo --no-serve`) to a
   temporary directory and clears its loyalty tables' rows (a fresh programme);
2. times the reference on the same copy: reading every `Order Completed` line with
   `order_lines` (the engine's unnest of the products, which earning reads too);
3. times `ws.loyalty.run()` from an empty ledger (earn every event, expire, settle), then a
   second run with nothing new (what the server's background loop pays every minute);
4. prints events, transactions, times, and the ratio of the full run to the reference; and
   checks the ledger's invariants (`check_ledger()` is empty).

    .venv/bin/python bench/loyalty.py --workspace demo-workspace
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import empreinte


def _fresh_programme(database: Path) -> None:
    """Delete the programme's rows (a demo made by `make demo` has run it already)."""
    import duckdb

    con = duckdb.connect(str(database))
    tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
    for table in sorted(t for t in tables if t.startswith("loyalty_")):
        con.execute(f"DELETE FROM {table}")
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=Path("demo-workspace"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "ws"
        shutil.copytree(args.workspace, copy)
        _fresh_programme(copy / "events.duckdb")
        with empreinte.open(copy) as ws:
            events = ws.count()
            from empreinte.analytics.order_lines import order_lines

            started = time.perf_counter()
            with ws.analytics("duckdb") as log:
                lines = log.to_pyarrow(order_lines(log, consented_only=False)).num_rows
            reference = time.perf_counter() - started

            started = time.perf_counter()
            first = ws.loyalty.run(now=datetime.now(UTC))
            full = time.perf_counter() - started
            started = time.perf_counter()
            ws.loyalty.run()
            idle = time.perf_counter() - started
            rows = ws.loyalty.store.rows(limit=10_000_000)
            broken = ws.loyalty.check_ledger()
    print(f"events in the log:             {events:>10,}")
    print(f"order lines (reference read):  {lines:>10,}  {reference:8.2f} s")
    print(f"first run (empty ledger):      {full:18.2f} s  ratio {full / reference:5.1f}×")
    print(f"  orders {first.orders:,}, visits and answers {first.engagements:,}, ")
    print(f"  points {first.points:,}, expired {first.expired:,}, ledger rows {len(rows):,}")
    print(f"run with nothing new:          {idle:18.2f} s")
    print(f"ledger invariants:             {broken or 'hold'}")


if __name__ == "__main__":
    main()
