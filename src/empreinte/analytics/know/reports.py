"""The know-the-user reports of a workspace, as one object: `workspace.know`.

    ws = empreinte.open("shop")
    ws.know.rfm(by="generation").to_pandas()
    ws.know.clv(discount_rate=0.01).to_pandas()   # P(alive), expected purchases, CLV
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
    from empreinte.analytics.know.clv import ClvReport
    from empreinte.analytics.know.generations_report import GenerationsReport
    from empreinte.analytics.know.icp import IcpReport, IdealCustomer
    from empreinte.analytics.know.persona_cards import PersonaReport
    from empreinte.analytics.know.rfm import RfmReport


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

    # -- RFM and customer value (analytics/know/rfm.py, clv.py; docs/value.md) ---------------

    def rfm(
        self,
        *,
        at: datetime | None = None,
        since: datetime | None = None,
        currency: str | None = None,
        by: str | None = None,
    ) -> RfmReport:
        """RFM scores and named segments at `at` (default: the day after the latest order),
        with sizes, shares and revenue; by a profile attribute (generation, country…) when
        `by` is given."""
        from empreinte.analytics.know.rfm import rfm_report

        with self._open_log() as log:
            return rfm_report(
                log,
                at=None if at is None else self._local(at),
                since=None if since is None else self._local(since),
                currency=currency,
                by=by,
            )

    def clv(
        self,
        *,
        calibration_end: date | None = None,
        holdout_end: date | None = None,
        unit: str = "week",
        since: datetime | None = None,
        currency: str | None = None,
        horizon_months: int = 12,
        discount_rate: float = 0.01,
    ) -> ClvReport:
        """BG/NBD + Gamma-Gamma fitted on the purchases up to `calibration_end` (default: the
        latest order's day); each customer's P(alive), expected purchases and CLV over
        `horizon_months` at a monthly `discount_rate`; with `holdout_end`, the holdout check."""
        from empreinte.analytics.know.clv import clv_report
        from empreinte.analytics.know.summary import UNITS
        from empreinte.errors import AnalyticsError

        if unit not in UNITS:
            raise AnalyticsError(f"time unit: {unit!r} is not one of {', '.join(UNITS)}")
        with self._open_log() as log:
            return clv_report(
                log,
                calibration_end=calibration_end,
                holdout_end=holdout_end,
                unit=unit,  # type: ignore[arg-type]  # checked above
                since=None if since is None else self._local(since),
                currency=currency,
                horizon_months=horizon_months,
                discount_rate=discount_rate,
            )

    # -- predictions (docs/predictions.md) -------------------------------------------------

    def churn(
        self, horizon: timedelta | str = "90d", *, now: datetime | None = None
    ) -> ChurnReport:
        """The churn model evaluated in time (AUC, Brier, calibration) and everyone's risk of
        placing no order within `horizon` from `now` (default: just after the last event)."""
        from empreinte.analytics.know.churn import churn_report
        from empreinte.durations import parse_duration

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
        a diagonal Gaussian mixture (k chosen by stability over 2..10 unless given; seeded),
        each written up as
        a card in `lang` (docs/personas.md)."""
        from empreinte.analytics.journeys.touchpoints import JourneyScope
        from empreinte.analytics.know.persona_cards import persona_report

        scope = JourneyScope(
            since=None if since is None else self._local(since),
            until=None if until is None else self._local(until),
        )
        with self._open_log() as log:
            return persona_report(log, scope, k=k, seed=seed, lang=lang)
