"""Customer lifetime value: the BG/NBD model of how often each customer will buy and the
Gamma-Gamma model of how much, fitted on the summary of the raw purchases.

For a customer with summary (x, t_x, T, m), over a horizon of H months with a monthly discount
rate d (a month is `month_days` days, 365.25/12 by default, k time units):

    CLV = Σ_{i=1..H} (E[Y(i·k)] - E[Y((i-1)·k)]) · E(M | x, m) / (1 + d)^i

E[Y(t)] is the BG/NBD expected number of purchases in the next t units (bgnbd.py) and E(M)
the Gamma-Gamma expected spend per purchase (gamma_gamma.py): the purchases expected in each
month, valued at the expected spend, discounted to today (lifetimes' `customer_lifetime_value`
is the same sum). `expected_purchases` is E[Y] over the whole horizon, `p_alive` P(alive at T).

The models score only people who allow analytics and profiling (purchases.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from empreinte.analytics.know import bgnbd, gamma_gamma
from empreinte.analytics.know.purchases import purchases
from empreinte.analytics.know.summary import Periods, Unit, summary_table, to_frame
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

MONTH_DAYS = 365.25 / 12
#: The calibration frequencies of the holdout check: 0, 1, …, 6, then 7 or more.
HOLDOUT_CAP = 7


@dataclass(frozen=True)
class HoldoutRow:
    """Customers with `frequency` repeat purchases in the calibration (`label` "7+" for the
    last row): how many, and their mean purchases in the holdout, actual and predicted."""

    frequency: int
    label: str
    customers: int
    actual: float
    predicted: float


@dataclass(frozen=True)
class ClvReport:
    periods: Periods
    currency: str | None
    excluded_orders: int
    bgnbd: bgnbd.BgNbdFit
    gamma_gamma: gamma_gamma.GammaGammaFit
    horizon_months: int
    discount_rate: float
    #: One row per customer: the summary and `p_alive`, `expected_purchases`,
    #: `expected_spend`, `clv` (and `predicted_holdout` with a holdout period).
    customers: pd.DataFrame = field(repr=False)
    holdout: tuple[HoldoutRow, ...] = ()

    def to_rows(self) -> list[dict[str, Any]]:
        """Customers by CLV, highest first."""
        frame = self.to_pandas()
        return [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in frame.to_dict("records")
        ]

    def to_pandas(self) -> pd.DataFrame:
        return self.customers.sort_values(
            ["clv", "profile_id"], ascending=[False, True], kind="stable"
        ).reset_index(drop=True)

    def diagnostics(self) -> dict[str, Any]:
        """The fitted parameters and checks, as JSON-ready values."""
        b, g = self.bgnbd, self.gamma_gamma
        return {
            "calibration_end": self.periods.calibration_end.isoformat(),
            "holdout_end": None
            if self.periods.holdout_end is None
            else self.periods.holdout_end.isoformat(),
            "unit": self.periods.unit,
            "currency": self.currency,
            "excluded_orders": self.excluded_orders,
            "customers": b.customers,
            "repeat_customers": g.customers,
            "bgnbd": {
                "r": b.params.r,
                "alpha": b.params.alpha,
                "a": b.params.a,
                "b": b.params.b,
                "log_likelihood": b.log_likelihood,
                "iterations": b.iterations,
                "at_limit": list(b.at_limit),
            },
            "gamma_gamma": {
                "p": g.params.p,
                "q": g.params.q,
                "gamma": g.params.gamma,
                "log_likelihood": g.log_likelihood,
                "iterations": g.iterations,
                "spend_frequency_correlation": g.spend_frequency_correlation,
                "at_limit": list(g.at_limit),
            },
            "horizon_months": self.horizon_months,
            "discount_rate": self.discount_rate,
            "total_clv": float(self.customers["clv"].sum()),
            "holdout": [h.__dict__ for h in self.holdout],
        }


def clv_values(
    fit: bgnbd.BgNbdParams,
    spend: np.ndarray[Any, np.dtype[np.float64]],
    frame: pd.DataFrame,
    *,
    unit_days: float,
    horizon_months: int,
    discount_rate: float,
    month_days: float = MONTH_DAYS,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The CLV sum of the module docstring for each row of `frame` (frequency, recency, T)."""
    x, t_x, T = (frame[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    step = month_days / unit_days
    total = np.zeros(len(frame))
    before = np.zeros(len(frame))
    for i in range(1, horizon_months + 1):
        upto = bgnbd.expected_purchases(fit, i * step, x, t_x, T)
        total += (upto - before) * spend / (1 + discount_rate) ** i
        before = upto
    return total


def value_of(
    frame: pd.DataFrame,
    periods: Periods,
    *,
    horizon_months: int = 12,
    discount_rate: float = 0.01,
    month_days: float = MONTH_DAYS,
    currency: str | None = None,
    excluded_orders: int = 0,
) -> ClvReport:
    """Fit both models on a summary (`summary.COLUMNS`) and score each customer."""
    if horizon_months < 1:
        raise AnalyticsError("CLV horizon: at least one month")
    if not 0 <= discount_rate < 1:
        raise AnalyticsError("CLV discount rate: a monthly rate between 0 and 1, e.g. 0.01")
    if frame.empty:
        raise AnalyticsError(
            f"CLV: no customer bought on or before {periods.calibration_end.isoformat()}"
            " (check the calibration end, the currency and consent to profiling)"
        )
    x, t_x, T = (frame[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    frequency_fit = bgnbd.fit(bgnbd.Triples.of(x, t_x, T))
    spend_fit = gamma_gamma.fit(x, frame["monetary"].to_numpy(float))
    p = frequency_fit.params
    spend = gamma_gamma.expected_spend(spend_fit.params, x, frame["monetary"].to_numpy(float))
    horizon = horizon_months * month_days / periods.unit_days
    scored = frame.copy()
    scored["p_alive"] = bgnbd.p_alive(p, x, t_x, T)
    scored["expected_purchases"] = bgnbd.expected_purchases(p, horizon, x, t_x, T)
    scored["expected_spend"] = spend
    scored["clv"] = clv_values(
        p,
        spend,
        frame,
        unit_days=periods.unit_days,
        horizon_months=horizon_months,
        discount_rate=discount_rate,
        month_days=month_days,
    )
    holdout: tuple[HoldoutRow, ...] = ()
    if periods.holdout_end is not None:
        scored["predicted_holdout"] = bgnbd.expected_purchases(p, periods.holdout_length, x, t_x, T)
        holdout = holdout_check(scored)
    return ClvReport(
        periods=periods,
        currency=currency,
        excluded_orders=excluded_orders,
        bgnbd=frequency_fit,
        gamma_gamma=spend_fit,
        horizon_months=horizon_months,
        discount_rate=discount_rate,
        customers=scored,
        holdout=holdout,
    )


def holdout_check(scored: pd.DataFrame) -> tuple[HoldoutRow, ...]:
    """Mean holdout purchases, actual and predicted, by calibration frequency 0..6, 7+ (the
    conditional expectations of FHL 2005, figure 5)."""
    capped = scored["frequency"].clip(upper=HOLDOUT_CAP)
    rows = []
    for k, group in scored.groupby(capped, sort=True):
        n = int(k)
        rows.append(
            HoldoutRow(
                frequency=n,
                label=f"{n}+" if n == HOLDOUT_CAP else str(n),
                customers=len(group),
                actual=float(group["holdout_frequency"].mean()),
                predicted=float(group["predicted_holdout"].mean()),
            )
        )
    return tuple(rows)


def summary(
    log: AnalyticsLog,
    periods: Periods,
    *,
    since: datetime | None = None,
    currency: str | None = None,
    consented_only: bool = True,
) -> tuple[pd.DataFrame, str | None, int]:
    """The summary of the purchases of people who allow analytics and profiling (`since`: the
    first purchase day read), its currency and the orders left out in other currencies."""
    bought = purchases(
        log,
        since=since,
        currency=currency,
        consented_only=consented_only,
        profiled_only=consented_only,
    )
    # Sorted in the engine (in parallel; profile ids are unique, so any sort is the same).
    frame = to_frame(log.execute(summary_table(bought.table, periods).order_by("profile_id")))
    return frame, bought.currency, bought.excluded


def clv_report(
    log: AnalyticsLog,
    *,
    calibration_end: date | None = None,
    holdout_end: date | None = None,
    unit: Unit = "week",
    since: datetime | None = None,
    currency: str | None = None,
    horizon_months: int = 12,
    discount_rate: float = 0.01,
    month_days: float = MONTH_DAYS,
) -> ClvReport:
    """Fit BG/NBD and Gamma-Gamma on the log's purchases and score every customer.
    `calibration_end` defaults to the day of the latest order read."""
    if calibration_end is None:
        calibration_end = latest_day(log, currency=currency)
    periods = Periods(calibration_end=calibration_end, holdout_end=holdout_end, unit=unit)
    frame, chosen, excluded = summary(log, periods, since=since, currency=currency)
    return value_of(
        frame,
        periods,
        horizon_months=horizon_months,
        discount_rate=discount_rate,
        month_days=month_days,
        currency=chosen,
        excluded_orders=excluded,
    )


def latest_day(log: AnalyticsLog, *, currency: str | None = None) -> date:
    """The day of the latest order of the log (the default end of a calibration)."""
    bought = purchases(log, currency=currency)
    if bought.last_day is None:
        raise AnalyticsError("CLV: the log has no Order Completed event (in that currency)")
    return date.fromordinal(bought.last_day + 719163)


def clv_scores(log: AnalyticsLog, **options: Any) -> pd.DataFrame:
    """`profile_id, clv, p_alive, expected_purchases` for every customer the models may score
    (people who allow analytics and profiling), for the computed traits; options as
    `clv_report`."""
    report = clv_report(log, **options)
    frame = report.customers.loc[:, ["profile_id", "clv", "p_alive", "expected_purchases"]]
    return frame.sort_values("profile_id", kind="stable").reset_index(drop=True)
