"""The know-the-user reports of a workspace, as one object: `workspace.know`.

Each method opens the log (on the workspace's analytics engine: DuckDB, or Spark when chosen),
computes in the engine, fits its model in Python on what comes back, and returns the typed
report of its module (`to_rows()`, `to_pandas()`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from empreinte.analytics.log import AnalyticsLog


class KnowReports:
    """RFM, customer value, churn risk, personas and generations of one workspace."""

    def __init__(self, open_log: Callable[[], AnalyticsLog], local: Callable[[datetime], datetime]):
        """`open_log()` opens the log for one report (`Workspace.analytics`); `local` reads
        a datetime without an offset in the workspace's time zone."""
        self._open_log = open_log
        self._local = local
