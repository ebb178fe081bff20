"""Partner report benchmark: how long a brand's report takes on the demo data, against a
reference measured in the same run.

Not a test: it prints figures. One run:

1. copies the workspace named by `--workspace` (default: builds the default demo, 2,000 people
   over 12 months of 2025, with `empreinte demo --no-serve`) to a temporary directory;
2. times, after one warm-up (derived tables brought up to date), `--repeat` runs of
   - the reference: one aggregate over the order lines (lines per category; the cost of
     reading and unnesting the orders every partner figure starts from),
   - the brands list, and the top brand's report as a whole, by nothing, generation, country
     and city,
   - of each report, its parts: the engine's counts, and the suppression (cells.py) alone;
3. prints medians and ratios to the reference.

    .venv/bin/python bench/partners.py [--workspace DIR] [--repeat 3]
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import empreinte  # noqa: E402
from empreinte.analytics.order_lines import order_lines  # noqa: E402
from empreinte.analytics.partners.counts import ALL, partner_counts, report_lines  # noqa: E402
from empreinte.analytics.partners.report import build_rows, groups_of  # noqa: E402
from servers import serve_command  # noqa: E402

K = 10


def build_demo(directory: Path) -> Path:
    workspace = directory / "demo"
    subprocess.run(
        [*serve_command(), "demo", "--no-serve", "--dir", str(workspace)],
        check=True,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return workspace


def median(run: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, help="a built workspace (copied, not changed)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-partners-") as folder:
        if args.workspace is None:
            print("building the default demo (2,000 people)…", flush=True)
            source = build_demo(Path(folder))
        else:
            source = args.workspace
        path = Path(folder) / "copy"
        shutil.copytree(source, path, ignore=shutil.ignore_patterns("*.lock"))
        with empreinte.open(path, create=False) as ws:
            partners = ws.partners
            brands = partners.brands()  # warm-up: identity sync, derived tables
            brand = brands.brands[0].name

            def reference() -> None:
                with ws.analytics() as log:
                    lines = order_lines(log)
                    log.execute(lines.group_by("category").agg(n=lines.count()))

            rows = [("reference: order lines per category", median(reference, args.repeat))]
            rows.append(("brands list", median(partners.brands, args.repeat)))
            for by in (None, "generation", "country", "city"):
                label = f"report of {brand}, by {by or 'nothing'}"
                rows.append(
                    (label, median(lambda by=by: partners.report(brand, by=by), args.repeat))
                )
                with ws.analytics() as log:
                    lines = report_lines(log, since=None, until=None, sources=None)
                    counted: dict[str, Any] = {}

                    def count(
                        by: Any = by, lines: Any = lines, log: Any = log, counted: Any = counted
                    ) -> None:
                        counted["totals"] = groups_of(
                            log.execute(partner_counts(log, lines, brand, None)).to_dict("records")
                        )
                        counted["groups"] = (
                            groups_of(
                                log.execute(partner_counts(log, lines, brand, by)).to_dict(
                                    "records"
                                )
                            )
                            if by
                            else {}
                        )

                    rows.append(("  engine counts", median(count, args.repeat)))

                def protect(by: Any = by, counted: Any = counted) -> None:
                    for category, groups in counted["totals"].items():
                        built = build_rows(category, groups[ALL], {}, K, None)
                        if by:
                            build_rows(
                                category,
                                groups[ALL],
                                counted["groups"].get(category, {}),
                                K,
                                built.total_marks,
                            )

                rows.append(("  suppression (cells.py)", median(protect, args.repeat)))
        base = rows[0][1]
        print(f"\nbrands with at least {K} buyers: {len(brands.brands)}; top brand {brand}")
        print(f"{'what':48} {'median s':>9} {'× reference':>12}")
        for label, seconds in rows:
            print(f"{label:48} {seconds:9.3f} {seconds / base:12.1f}")


if __name__ == "__main__":
    main()
