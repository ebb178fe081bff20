"""The attribution reports compared on DuckDB and Spark by test_spark_parity.py: name → a function
of an `AnalyticsLog` returning rows of numbers and labels (lists of dicts, or a dict)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from empreinte.analytics.log import AnalyticsLog

CASES: dict[str, Callable[[AnalyticsLog], Any]] = {}
