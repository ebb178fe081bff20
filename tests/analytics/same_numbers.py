"""How the parity suites compare a report on two engines: every label and count exactly, every
fraction to 1e-9 of its value.

Exact equality of doubles is not a property two engines can promise: a mean or a sum adds its
values in an order that depends on partitions and threads (DuckDB's parallel aggregation and
Spark's tasks), and the last bit moves between runs (a share of wallet came back as
0.8850235…03 on one engine and …07 on the other). Nine significant digits are far beyond what a
report shows, and still catch any real difference of semantics.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

RELATIVE = 1e-9


def as_frame(value: Any) -> pd.DataFrame:
    """A report's rows (a list of dicts) as a frame; a dict report as (key, repr) rows."""
    if isinstance(value, dict):
        value = [{"key": k, "value": repr(v)} for k, v in value.items()]
    return pd.DataFrame(value)


def assert_same_numbers(got: Any, expected: Any) -> None:
    pd.testing.assert_frame_equal(
        as_frame(got), as_frame(expected), check_exact=False, rtol=RELATIVE, atol=0.0
    )
