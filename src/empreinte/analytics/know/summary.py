"""The frequency/recency/T summary the BG/NBD and Gamma-Gamma models are fitted on, built in
the engine from the raw purchases (analytics/know/purchases.py).

Purchases on the same day are one transaction (Fader, Hardie & Lee 2005). The calibration
period ends on `calibration_end` (a date, included); a customer's clock starts at their first
purchase (their first purchase day in the log read). For each customer, in the time unit
(weeks by default: days / 7):

- `frequency` x: the number of repeat purchase days in the calibration (distinct days - 1);
- `recency` t_x: from the first purchase day to the last one in the calibration;
- `T`: from the first purchase day to `calibration_end`;
- `monetary`: the mean value of the repeat purchase days (the first day left out, as in
  Fader & Hardie 2013; 0 when x = 0);
- with a holdout period (after `calibration_end`, up to `holdout_end` included):
  `holdout_frequency` (purchase days in it) and `holdout_value` (their value).

Only customers whose first purchase is on or before `calibration_end` are in the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.know.purchases import daily, money
from empreinte.errors import AnalyticsError

Unit = Literal["day", "week", "month"]
UNITS: tuple[str, ...] = get_args(Unit)
#: Days in one time unit; a month is a twelfth of a Julian year.
UNIT_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}

COLUMNS = (
    "profile_id",
    "frequency",
    "recency",
    "T",
    "monetary",
    "holdout_frequency",
    "holdout_value",
)


@dataclass(frozen=True)
class Periods:
    """The calibration (up to `calibration_end`, included) and the optional holdout (the days
    after it up to `holdout_end`, included), in time unit `unit`."""

    calibration_end: date
    holdout_end: date | None = None
    unit: Unit = "week"

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise AnalyticsError(f"time unit: {self.unit!r} is not one of {', '.join(UNITS)}")
        if self.holdout_end is not None and self.holdout_end <= self.calibration_end:
            raise AnalyticsError("the holdout period must end after the calibration period")

    @property
    def unit_days(self) -> float:
        return UNIT_DAYS[self.unit]

    @property
    def holdout_length(self) -> float:
        """The holdout period's length in time units (0 without one)."""
        if self.holdout_end is None:
            return 0.0
        return (self.holdout_end - self.calibration_end).days / self.unit_days


def _day(value: date) -> int:
    return value.toordinal() - 719163


def summary_table(table: ir.Table, periods: Periods) -> ir.Table:
    """The summary as an Ibis table (`COLUMNS`, one row per customer) from purchases
    (`profile_id`, `day`, `revenue`), in the engine."""
    days = daily(table)
    end = _day(periods.calibration_end)
    last = _day(periods.holdout_end) if periods.holdout_end is not None else end
    days = days.filter(days.day <= last)
    calibration = days.day <= end
    in_holdout = (days.day > end).cast("int64")
    per = days.group_by("profile_id").agg(
        first=days.day.min(),
        last_cal=days.day.max(where=calibration),
        n_cal=calibration.cast("int64").sum(),
        value_cal=money(days.revenue.sum(where=calibration)),
        holdout_frequency=in_holdout.sum(),
        holdout_value=money((days.revenue * in_holdout.cast("float64")).sum()),
        # The first day's value, to leave it out of the repeat purchases' mean (a person's
        # days are distinct: one value sits at the earliest).
        first_value=days.revenue.argmin(days.day),
    )
    joined = per.filter(per.first <= end)
    unit = periods.unit_days
    x = (joined.n_cal - 1).cast("int64")
    repeat_value = joined.value_cal - joined.first_value
    monetary = ibis.ifelse(x > 0, repeat_value / x.cast("float64"), 0.0)
    return joined.select(
        "profile_id",
        frequency=x,
        recency=(joined.last_cal - joined.first).cast("float64") / unit,
        T=(ibis.literal(end) - joined.first).cast("float64") / unit,
        monetary=monetary.cast("float64"),
        holdout_frequency=joined.holdout_frequency.cast("int64"),
        holdout_value=joined.holdout_value.cast("float64"),
    )


def to_frame(result: pd.DataFrame) -> pd.DataFrame:
    """An executed summary (sorted by profile id in the engine) with its columns in order."""
    return result.loc[:, list(COLUMNS)].reset_index(drop=True)
