"""The know-the-user reports of a workspace, as one object: `workspace.know`.

    ws = empreinte.open("shop")
    ws.know.churn(horizon="90d").summary()          # AUC, Brier, base rate… and everyone's risk
    ws.know.generations().to_pandas()
    ws.know.icp(industries=["technology"], employees=(10, 200)).to_rows()

Each method opens the log (on the workspace's analytics engine: DuckDB, or Spark when chosen),
computes in the engine, fits its model in Python on what comes back, and returns the typed
report of its module (`to_rows()`, `to_pandas()`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from empreinte.analytics.log import AnalyticsLog

if TYPE_CHECKING:
    from empreinte.analytics.know.churn import ChurnReport
    from empreinte.analytics.know.generations_report import GenerationsReport
    from empreinte.analytics.know.icp import IcpReport, IdealCustomer


class KnowReports:
    """RFM, customer value, churn risk, personas and generations of one workspace."""

    def __init__(
        self,
        open_log: Callable[[], AnalyticsLog],
        local: Callable[[datetime], datetime],
        *,
        icp: Mapping[str, Any] | None = None,
    ):
        """`open_log()` opens the log for one report (`Workspace.analytics`); `local` reads
        a datetime without an offset in the workspace's time zone; `icp` is the `[icp]`
        section of empreinte.toml."""
        self._open_log = open_log
        self._local = local
        self._icp = icp

    # -- predictions (docs/predictions.md) -------------------------------------------------

    def churn(
        self, horizon: timedelta | str = "90d", *, now: datetime | None = None
    ) -> ChurnReport:
        """The churn model evaluated in time (AUC, Brier, calibration) and everyone's risk of
        placing no order within `horizon` from `now` (default: just after the last event)."""
        from empreinte.analytics.journeys.steps import parse_duration
        from empreinte.analytics.know.churn import churn_report

        span = horizon if isinstance(horizon, timedelta) else parse_duration(horizon, "horizon")
        with self._open_log() as log:
            return churn_report(log, span, now=None if now is None else self._local(now))

    def generations(self, today: date | None = None) -> GenerationsReport:
        """The customer base by generation: people, share, ages, customers, revenue, NPS."""
        from empreinte.analytics.know.generations_report import generations_report

        with self._open_log() as log:
            return generations_report(log, today)

    def icp(
        self,
        profile: IdealCustomer | None = None,
        *,
        industries: Sequence[str] = (),
        employees: tuple[int, int] | None = None,
        countries: Sequence[str] = (),
        weights: Mapping[str, float] | None = None,
    ) -> IcpReport:
        """Every B2B account's fit to the ideal customer profile (`profile`, else the
        criteria given, else `[icp]`), with reasons and engagement."""
        from empreinte.analytics.know.icp import IdealCustomer, ideal_customer

        if profile is None and (industries or employees or countries):
            profile = ideal_customer(
                industries=industries, employees=employees, countries=countries, weights=weights
            )
        if profile is None:
            profile = IdealCustomer.from_mapping(self._icp)
        from empreinte.analytics.know.icp import icp_report

        with self._open_log() as log:
            return icp_report(log, profile)
