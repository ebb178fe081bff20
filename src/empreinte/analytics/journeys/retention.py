"""Cohort retention: of the people who started in a week (or month), how many came back.

- A person's **start** is their first touchpoint that is the start step (any touchpoint by
  default) in the scope; their **cohort** is the week (Monday) or month of that start, in the
  workspace's time zone.
- A **return** is a touchpoint that is the return step (any touchpoint by default) after the
  start (later in time; at the same instant, later in the log).
- Buckets are calendar days, weeks or months in the workspace's time zone, counted from the
  start's own: bucket 0 is the day (week, month) of the start, bucket 1 the next, …
- **N-day retention** (bucket N, "bounded"): the share of the cohort with a return *in*
  bucket N. **Unbounded retention** (also called rolling): the share with a return in bucket
  N *or later* (any later bucket in the scope, not only up to `periods`). Unbounded ≥ N-day,
  and unbounded never rises with N.
- A bucket is reported for a cohort once it has begun for the cohort's first day by the end of
  the data (the scope's `until`, else the last touchpoint): the last one may still be open.

The engine finds the starts, joins the returns and counts people per cohort and bucket; Python
adds the small counts up (unbounded from the latest bucket down) and divides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.attributes import period_label, with_attribute
from empreinte.analytics.journeys.steps import Step, parse_step
from empreinte.analytics.journeys.touchpoints import JourneyScope, touchpoints
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

CohortPeriod = Literal["week", "month"]
Bucket = Literal["day", "week", "month"]
COHORT_PERIODS: tuple[str, ...] = get_args(CohortPeriod)
BUCKETS: tuple[str, ...] = get_args(Bucket)
DEFAULT_PERIODS = {"day": 30, "week": 12, "month": 12}
MAX_PERIODS = 400
ALL_COHORTS = "(all)"
ANY_STEP = "(any touchpoint)"
_TRUNCATE = {"day": "D", "week": "W", "month": "M"}
_EVENT_ATTRIBUTES_MISSING = ("source",)  # not a column of touchpoints


@dataclass(frozen=True)
class RetentionCell:
    """One cohort (and group) in one bucket."""

    cohort: str
    group: str | None
    size: int
    bucket: int
    returned: int  # returned in this bucket
    rate: float
    unbounded: int  # returned in this bucket or a later one
    unbounded_rate: float


@dataclass(frozen=True)
class RetentionReport:
    period: CohortPeriod
    bucket: Bucket
    start: str
    returning: str
    by: str | None
    periods: int
    cells: tuple[RetentionCell, ...]

    def to_rows(self) -> list[dict[str, Any]]:
        rows = []
        for c in self.cells:
            row: dict[str, Any] = {"cohort": c.cohort}
            if self.by is not None:
                row["group"] = c.group
            row |= {
                "size": c.size,
                "bucket": c.bucket,
                "returned": c.returned,
                "rate": c.rate,
                "unbounded": c.unbounded,
                "unbounded_rate": c.unbounded_rate,
            }
            rows.append(row)
        return rows

    def to_pandas(self) -> pd.DataFrame:
        columns = ["cohort", *(["group"] if self.by else []), "size", "bucket", "returned"]
        columns += ["rate", "unbounded", "unbounded_rate"]
        return pd.DataFrame(self.to_rows(), columns=columns)

    def matrix(self, unbounded: bool = False, group: str | None = None) -> pd.DataFrame:
        """Cohorts × buckets of rates (NaN where a bucket is not reported), the heat-map."""
        cells = [c for c in self.cells if c.group == group]
        values = {(c.cohort, c.bucket): c.unbounded_rate if unbounded else c.rate for c in cells}
        cohorts = list(dict.fromkeys(c.cohort for c in cells))
        buckets = sorted({c.bucket for c in cells})
        return pd.DataFrame(
            [[values.get((k, b), float("nan")) for b in buckets] for k in cohorts],
            index=cohorts,
            columns=buckets,
        )


def _check(
    period: str, bucket: str | None, periods: int | None
) -> tuple[CohortPeriod, Bucket, int]:
    if period not in COHORT_PERIODS:
        raise AnalyticsError(f"unknown cohort period {period!r}: use week or month")
    chosen = bucket or period
    if chosen not in BUCKETS:
        raise AnalyticsError(f"unknown bucket {chosen!r}: use day, week or month")
    count = DEFAULT_PERIODS[chosen] if periods is None else periods
    if not 1 <= count <= MAX_PERIODS:
        raise AnalyticsError(f"periods must be between 1 and {MAX_PERIODS}, got {count}")
    return period, chosen, count  # type: ignore[return-value]


def _index(log: AnalyticsLog, moment: ir.TimestampValue, bucket: Bucket) -> ir.IntegerValue:
    """The number of the day, week or month of `moment` (wall-clock time in the workspace's
    zone) since a fixed origin: differences of two are buckets apart."""
    local = log.local_time(moment)
    if bucket == "month":
        months: ir.IntegerValue = local.year().cast("int64") * 12 + local.month().cast("int64")
        return months
    days: ir.IntegerValue = local.truncate(_TRUNCATE[bucket]).epoch_seconds().cast("int64") // 86400
    # Mondays are 7k + 4 days after 1970-01-01 (a Thursday): // 7 numbers the weeks.
    return days // 7 if bucket == "week" else days


def _index_of(moment: datetime, bucket: Bucket) -> int:
    """`_index` of a wall-clock time, in Python."""
    if bucket == "month":
        return moment.year * 12 + moment.month
    days = (moment.date() - date(1970, 1, 1)).days
    if bucket == "week":
        days -= moment.weekday()
        return days // 7
    return days


def retention(
    log: AnalyticsLog,
    *,
    period: str = "week",
    bucket: str | None = None,
    start: Step | str | None = None,
    returning: Step | str | None = None,
    periods: int | None = None,
    by: str | None = None,
    scope: JourneyScope | None = None,
) -> RetentionReport:
    """Retention of the cohorts of `period` ("week" or "month") in buckets of `bucket` (day,
    week or month; the period by default), buckets 0 to `periods`; broken down by attribute
    `by` (of the person — country, generation, traits.<path> — or of the start event —
    channel, properties.<path>) when given."""
    cohort_period, unit, count = _check(period, bucket, periods)
    start_step = parse_step(start) if isinstance(start, str) else start
    return_step = parse_step(returning) if isinstance(returning, str) else returning
    if by is not None and by in _EVENT_ATTRIBUTES_MISSING:
        raise AnalyticsError(
            f"cannot break retention down by {by!r}: use channel or a profile attribute"
        )
    scope = scope or JourneyScope()
    table = touchpoints(log, scope)
    starts = table if start_step is None else table.filter(start_step.matches(log, table))
    order = ibis.row_number().over(group_by=starts.profile_id, order_by=[starts.at, starts.seq])
    first = starts.mutate(_n=order).filter(lambda t: t._n == 0).drop("_n")
    if by is not None:
        first = with_attribute(log, first, by, "group")
    else:
        first = first.mutate(group=ibis.literal(""))
    cohorts = first.select(
        f_profile="profile_id",
        f_at="at",
        f_seq="seq",
        group="group",
        cohort=log.local_time(first.at).truncate(_TRUNCATE[cohort_period]),
        f_index=_index(log, first.at, unit),
    )
    returns = table if return_step is None else table.filter(return_step.matches(log, table))
    returns = returns.select("profile_id", "at", "seq", r_index=_index(log, returns.at, unit))
    joined = cohorts.join(
        returns,
        [
            cohorts.f_profile == returns.profile_id,
            (returns.at > cohorts.f_at)
            | ((returns.at == cohorts.f_at) & (returns.seq > cohorts.f_seq)),
        ],
    )
    came_back = joined.select(
        "cohort", "group", profile_id=joined.f_profile, n=(joined.r_index - joined.f_index)
    ).distinct()
    in_bucket = came_back.filter(came_back.n <= count)
    bounded = in_bucket.group_by(["cohort", "group", "n"]).agg(people=in_bucket.count())
    latest = came_back.group_by(["cohort", "group", "profile_id"]).agg(last=came_back.n.max())
    capped = latest.mutate(last=ibis.least(latest.last, count))
    unbounded = capped.group_by(["cohort", "group", "last"]).agg(people=capped.count())
    sizes = cohorts.group_by(["cohort", "group"]).agg(people=cohorts.count())
    # One query (Ibis compiles each expression anew): sizes, returns per bucket, the latest
    # bucket of each person's returns, and the last touchpoint, told apart by `kind`.
    parts = [
        sizes.select(
            kind=ibis.literal("size"),
            cohort="cohort",
            group="group",
            n=ibis.literal(0, "int64"),
            people="people",
        ),
        bounded.select(
            kind=ibis.literal("bucket"),
            cohort="cohort",
            group="group",
            n=bounded.n.cast("int64"),
            people="people",
        ),
        unbounded.select(
            kind=ibis.literal("last"),
            cohort="cohort",
            group="group",
            n=unbounded["last"].cast("int64"),
            people="people",
        ),
    ]
    if scope.until is None:
        local = table.select(moment=log.local_time(table.at))
        parts.append(
            local.aggregate(cohort=local.moment.max()).select(
                kind=ibis.literal("end"),
                cohort="cohort",
                group=ibis.null("string"),
                n=ibis.literal(0, "int64"),
                people=ibis.literal(0, "int64"),
            )
        )
    frame = log.execute(ibis.union(*parts))
    if not (frame.kind.isin(["bucket", "last"])).any():
        for step in (start_step, return_step):
            if step is not None:
                _check_known(log, step)
    cells = _cells(
        cohort_period,
        unit,
        count,
        _end(log, frame, scope),
        frame[frame.kind == "size"],
        frame[frame.kind == "bucket"],
        frame[frame.kind == "last"],
        by is not None,
    )
    return RetentionReport(
        period=cohort_period,
        bucket=unit,
        start=start_step.label if start_step else ANY_STEP,
        returning=return_step.label if return_step else ANY_STEP,
        by=by,
        periods=count,
        cells=cells,
    )


def _check_known(log: AnalyticsLog, step: Step) -> None:
    everyone = touchpoints(log, JourneyScope(consented_only=False))
    found = log.execute(everyone.filter(everyone.step == step.event).limit(1).count())
    if not int(found):
        raise AnalyticsError(f"unknown step {step.event!r}: no touchpoint has this name")


def _end(log: AnalyticsLog, frame: pd.DataFrame, scope: JourneyScope) -> datetime | None:
    """The last wall-clock moment the data covers: just before `until`, else the last
    touchpoint's (None when there is none)."""
    if scope.until is not None:
        local = scope.until.astimezone(ZoneInfo(log.settings.timezone)).replace(tzinfo=None)
        return local - timedelta(microseconds=1)
    last = frame[frame.kind == "end"].cohort
    if last.empty or pd.isna(last.iloc[0]):
        return None
    moment: datetime = pd.Timestamp(last.iloc[0]).to_pydatetime()
    return moment.replace(tzinfo=None)


def key(record: dict[str, Any]) -> tuple[datetime, str]:
    """(the cohort's start, the group) of a row of counts."""
    start: datetime = pd.Timestamp(record["cohort"]).to_pydatetime()
    return start, str(record["group"])


def _cells(
    period: CohortPeriod,
    unit: Bucket,
    count: int,
    end: datetime | None,
    sizes: pd.DataFrame,
    bounded: pd.DataFrame,
    unbounded: pd.DataFrame,
    grouped: bool,
) -> tuple[RetentionCell, ...]:
    if end is None or sizes.empty:
        return ()
    returned = {(*key(r), int(r["n"])): int(r["people"]) for r in bounded.to_dict("records")}
    last: dict[tuple[datetime, str], dict[int, int]] = {}
    for r in unbounded.to_dict("records"):
        last.setdefault(key(r), {})[int(r["n"])] = int(r["people"])
    cells: list[RetentionCell] = []
    pooled: dict[tuple[str, int], list[int]] = {}
    for r in sorted(sizes.to_dict("records"), key=lambda r: (key(r)[1], key(r)[0])):
        start, group = key(r)
        size = int(r["people"])
        observable = min(count, _index_of(end, unit) - _index_of(start, unit))
        ends = last.get((start, group), {})
        still = sum(ends.values())
        label = period_label(start, period)
        for n in range(observable + 1):
            back = returned.get((start, group, n), 0)
            cells.append(
                RetentionCell(
                    label,
                    group if grouped else None,
                    size,
                    n,
                    back,
                    back / size,
                    still,
                    still / size,
                )
            )
            still -= ends.get(n, 0)
            total = pooled.setdefault((group, n), [0, 0, 0])
            total[0] += size
            total[1] += back
            total[2] += cells[-1].unbounded
    for (group, n), (size, back, later) in sorted(pooled.items()):
        cells.append(
            RetentionCell(
                ALL_COHORTS,
                group if grouped else None,
                size,
                n,
                back,
                back / size,
                later,
                later / size,
            )
        )
    return tuple(cells)
