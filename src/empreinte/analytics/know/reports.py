"""The know-the-user reports of a workspace, as one object: `workspace.know`.

Each method opens the log (on the workspace's analytics engine: DuckDB, or Spark when chosen),
computes in the engine, fits its model in Python on what comes back, and returns the typed
report of its module (`to_rows()`, `to_pandas()`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from empreinte.analytics.log import AnalyticsLog

if TYPE_CHECKING:
    from empreinte.analytics.know.persona_cards import PersonaReport


class KnowReports:
    """RFM, customer value, churn risk, personas and generations of one workspace."""

    def __init__(self, open_log: Callable[[], AnalyticsLog], local: Callable[[datetime], datetime]):
        """`open_log()` opens the log for one report (`Workspace.analytics`); `local` reads
        a datetime without an offset in the workspace's time zone."""
        self._open_log = open_log
        self._local = local

    # -- personas -----------------------------------------------------------------------

    def personas(
        self,
        k: int | None = None,
        seed: int = 0,
        *,
        lang: str = "en",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> PersonaReport:
        """Personas from behaviour: people who allow analytics and profiling clustered by
        k-means (k chosen by silhouette over 2..8 unless given; seeded), each written up as
        a card in `lang` (docs/personas.md)."""
        from empreinte.analytics.journeys.touchpoints import JourneyScope
        from empreinte.analytics.know.persona_cards import persona_report

        scope = JourneyScope(
            since=None if since is None else self._local(since),
            until=None if until is None else self._local(until),
        )
        with self._open_log() as log:
            return persona_report(log, scope, k=k, seed=seed, lang=lang)
