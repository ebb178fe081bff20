"""Year-in-review benchmark: every buyer's story of a year, and the PNG of each.

Not a test: it prints figures. One run, on a copy of a demo workspace (`make demo` or
`empreinte demo --no-serve --dir DIR`; the copy is made so the original is never written):

1. loads the demo catalogue into the copy (as `empreinte demo` does);
2. times the product: `year_report` (every buyer's figures, the community and the ranks: one
   engine query), one person's story (`Stories.story`: the consent gates, then that query's
   result, computed, or reused as a share page's later views reuse it), and one PNG;
3. times a reference on the same log in the same run: `purchases()` (analytics/know), the
   orders of the year per person with their value, the report the value models start from;
4. prints the times (best of `--repeat`) and the ratios to the reference, and the batch
   throughput this implies (stories a minute on one core).

    .venv/bin/python bench/stories.py --workspace /tmp/act-demo [--year 2025] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import empreinte
from empreinte.activate.stories.demo import seed_demo
from empreinte.activate.stories.figures import year_bounds, year_report
from empreinte.activate.stories.service import REPORTS
from empreinte.analytics.know.purchases import purchases


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-stories-") as folder:
        copy = Path(folder) / "ws"
        shutil.copytree(args.workspace, copy)
        ws = empreinte.open(copy, create=False)
        try:
            seed_demo(ws)
            with ws.analytics() as log:
                since, until = year_bounds(args.year, log.settings.timezone)
                year_report(log, args.year)  # derived tables brought up to date once
                t_all, report = best(args.repeat, lambda: year_report(log, args.year))
                t_ref, _ = best(
                    args.repeat,
                    lambda: log.execute(purchases(log, since=since, until=until).table.count()),
                )
            person = next(p for p in sorted(report.people))

            def cold() -> Any:
                REPORTS.clear()
                return ws.stories.story(person, args.year)

            t_cold, story = best(args.repeat, cold)
            t_one, story = best(args.repeat, lambda: ws.stories.story(person, args.year))
            t_png, image = best(args.repeat, lambda: ws.stories.png(story))
        finally:
            ws.close()
    people = len(report.people)
    print(f"year {args.year}: {people:,} stories to tell, community {report.community}")
    print(f"every buyer's figures (one engine query): {t_all:.2f} s")
    print(f"reference, the year's orders per person (purchases): {t_ref:.2f} s")
    print(f"  ratio: {t_all / t_ref:.1f}×")
    print(f"one person's story, figures computed (query, consent gates, texts): {t_cold:.2f} s")
    print(f"one person's story, figures reused (consent gates, texts): {t_one:.2f} s")
    print(f"one PNG 1080×1920: {t_png * 1000:.0f} ms, {len(image) / 1024:.0f} KiB")
    batch = t_all + people * t_png
    print(f"batch of every story: about {batch:.0f} s ({people / batch * 60:,.0f} a minute)")


if __name__ == "__main__":
    main()
