"""Hostile-text benchmark: what one message of adversarial text costs at the door.

Not a test: it prints figures. For each shape of hostile text (tests/collect/
test_hostile_input.py's list), at 4 KB and 32 KB:

- `redact` (free-text masking of survey comments) and `is_bot` (bot detection, up to its
  1 KB cap) in CPU milliseconds, with the growth from 4 KB to 32 KB (8 for a linear step,
  64 for a quadratic one);
- the reference: one plain linear pass over the same text (`str.lower()` and a count), and
  the ratio to it, which says what the step costs per character compared with the cheapest
  possible reading.

    .venv/bin/python bench/hostile.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from empreinte.collect.bots import MAX_USER_AGENT, _crawler
from empreinte.privacy.redaction import redact

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "collect"))
from test_hostile_input import HOSTILE  # the tests' list of shapes


def best(call: Callable[[], object], repeat: int) -> float:
    """Best CPU time of `call()` in seconds over `repeat` runs of enough calls to time."""
    calls = 1
    while True:
        start = time.thread_time()
        for _ in range(calls):
            call()
        if time.thread_time() - start >= 0.01:
            break
        calls *= 4
    times = []
    for _ in range(repeat):
        start = time.thread_time()
        for _ in range(calls):
            call()
        times.append((time.thread_time() - start) / calls)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{'shape':18} {'redact 4K':>10} {'32K ms':>8} {'growth':>7} {'× linear':>9}"
        f" {'is_bot 1K ms':>13} {'growth':>7}"
    )
    for name, make in HOSTILE.items():
        small, large = make(4096), make(32768)
        r_small = best(lambda: redact(small, "FR"), args.repeat)  # noqa: B023
        r_large = best(lambda: redact(large, "FR"), args.repeat)  # noqa: B023
        linear = best(lambda: large.lower().count("@"), args.repeat)  # noqa: B023
        ua_small, ua_large = make(MAX_USER_AGENT // 8), make(MAX_USER_AGENT)
        b_small = best(lambda: _crawler.__wrapped__(ua_small), args.repeat)  # noqa: B023
        b_large = best(lambda: _crawler.__wrapped__(ua_large), args.repeat)  # noqa: B023
        print(
            f"{name:18} {r_small * 1e3:10.2f} {r_large * 1e3:8.2f} {r_large / r_small:7.1f}"
            f" {r_large / linear:9.0f} {b_large * 1e3:13.3f} {b_large / b_small:7.1f}"
        )


if __name__ == "__main__":
    main()
