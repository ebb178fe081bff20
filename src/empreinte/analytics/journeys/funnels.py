"""Funnels: how many people (or entries) reach each step, within a conversion window, in one of
three orderings; where they drop, how long each step takes, and who dropped.

    spec = FunnelSpec(steps=parse_steps(["Product Viewed", "Page Viewed[name=Checkout]",
                                         "Order Completed"]), window=timedelta(days=7))
    report = funnel_report(log, spec)        # FunnelReport: rows per step (and group)
    ids = dropped(log, spec, step=2)         # who reached step 2 but not step 3

The engine finds the attempt that counts for each person (funnels_core.py) and counts
people by furthest step and group, with the median and 90th percentile of the time between
steps; only those aggregates come back to Python. The exact rules are in docs/funnels.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.attributes import (
    check_breakdown,
    event_attribute,
    is_profile_attribute,
    with_attribute,
)
from empreinte.analytics.journeys.funnels_core import add_entries, attempts
from empreinte.analytics.journeys.funnels_spec import Exclusion, FunnelSpec
from empreinte.analytics.journeys.funnels_walk import walked_attempts
from empreinte.analytics.journeys.steps import Step
from empreinte.analytics.journeys.touchpoints import JourneyScope, touchpoints
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

__all__ = ["FunnelReport", "FunnelRow", "dropped", "dropped_table", "funnel_report"]


@dataclass(frozen=True)
class FunnelRow:
    """One step of the funnel (of one group, when broken down)."""

    group: str | None
    step: int  # 1-based
    label: str
    count: int  # people (or entries) whose counted attempt reached this step
    conversion: float | None  # count / count at step 1
    step_conversion: float | None  # count / count at the previous step (1.0 at step 1)
    drop_off: int  # reached the previous step but not this one (0 at step 1)
    median_seconds: float | None  # time from the previous step, over those who reached it
    p90_seconds: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "step": self.step,
            "label": self.label,
            "count": self.count,
            "conversion": self.conversion,
            "step_conversion": self.step_conversion,
            "drop_off": self.drop_off,
            "median_seconds": self.median_seconds,
            "p90_seconds": self.p90_seconds,
        }


@dataclass(frozen=True)
class FunnelReport:
    spec: FunnelSpec
    rows: tuple[FunnelRow, ...]

    @property
    def groups(self) -> list[str | None]:
        return list(dict.fromkeys(row.group for row in self.rows))

    def counts(self, group: str | None = None) -> list[int]:
        return [row.count for row in self.rows if row.group == group]

    def to_rows(self) -> list[dict[str, Any]]:
        return [row.to_dict() for row in self.rows]

    def to_pandas(self) -> pd.DataFrame:
        columns = list(FunnelRow.__dataclass_fields__)
        return pd.DataFrame(self.to_rows(), columns=columns)


def funnel_rows(log: AnalyticsLog, spec: FunnelSpec, scope: JourneyScope | None) -> ir.Table:
    """The touchpoints a funnel reads, marked: `m1` … `mN` (the step matches), `x1` … (the
    exclusion matches), `pos` when needed, `entry` when counting entries. In strict mode
    every touchpoint (any one between two steps breaks the chain), else only matching ones."""
    names = [s.event for s in spec.steps] + [e.step.event for e in spec.exclusions]
    strict = spec.mode == "strict"
    table = touchpoints(log, scope, steps=None if strict else names)
    marks = {f"m{k}": s.matches(log, table) for k, s in enumerate(spec.steps, start=1)}
    marks |= {f"x{q}": e.step.matches(log, table) for q, e in enumerate(spec.exclusions)}
    if spec.by is not None and not is_profile_attribute(spec.by):
        marks["_group"] = event_attribute(log, table, spec.by)
    marked = table.mutate(**marks)
    if not strict:
        keep = ibis.or_(*[marked[name] for name in marks if name != "_group"])
        marked = marked.filter(keep)
    if _positions(spec):
        order = ibis.window(group_by=marked.profile_id, order_by=[marked.at, marked.seq])
        marked = marked.mutate(pos=ibis.row_number().over(order))
    if spec.count == "entries":
        marked = add_entries(marked, spec.window, first_step_only=spec.mode != "unordered")
    return marked


def _positions(spec: FunnelSpec) -> bool:
    return spec.by is not None and not is_profile_attribute(spec.by)


def _check(spec: FunnelSpec) -> None:
    if spec.by is not None:
        check_breakdown(spec.by)


def counted_attempts(
    log: AnalyticsLog, spec: FunnelSpec, scope: JourneyScope | None = None
) -> ir.Table:
    """One row per person (or entry) who reached step 1: `profile_id`, [`entry`], `depth`,
    `t1` … `tN`, `group` (the breakdown, "(all)" without one), exclusions applied."""
    _check(spec)
    rows = funnel_rows(log, spec, scope)
    n = len(spec.steps)
    entries = spec.count == "entries"
    if spec.mode == "ordered" and not entries and log.backend.in_process:
        found = walked_attempts(log.backend, rows, n, spec.window, positions=_positions(spec))
    else:
        found = attempts(
            rows, n, spec.window, mode=spec.mode, entries=entries, positions=_positions(spec)
        )
    keys = ["profile_id", "entry"] if entries else ["profile_id"]
    for q, exclusion in enumerate(spec.exclusions):
        found = _without_excluded(found, rows, q, exclusion, spec, keys)
    if spec.by is None:
        return found.mutate(group=ibis.literal("(all)"))
    if is_profile_attribute(spec.by):
        return with_attribute(log, found, spec.by, "group")
    starts = rows.filter(rows.m1 if spec.mode != "unordered" else rows.pos.notnull())
    starts = starts.select(_person="profile_id", _pos="pos", group="_group")
    joined = found.left_join(
        starts, (found.profile_id == starts._person) & (found.start_pos == starts._pos)
    )
    return joined.drop("_person", "_pos", "start_pos")


def _without_excluded(
    found: ir.Table,
    rows: ir.Table,
    q: int,
    exclusion: Exclusion,
    spec: FunnelSpec,
    keys: list[str],
) -> ir.Table:
    after, before = exclusion.after, spec.last_of(exclusion)
    hits = rows.filter(rows[f"x{q}"]).select(_person="profile_id", _at="at")
    reached = found.filter(found.depth >= before)
    pairs = reached.join(hits, reached.profile_id == hits._person)
    inside = (pairs._at > pairs[f"t{after}"]) & (pairs._at < pairs[f"t{before}"])
    bad = pairs.filter(inside).select(*keys).distinct()
    return found.anti_join(bad, keys)


def funnel_report(
    log: AnalyticsLog, spec: FunnelSpec, scope: JourneyScope | None = None
) -> FunnelReport:
    """Counts, conversions, drop-off and times between steps, per step and group."""
    found = counted_attempts(log, spec, scope)
    n = len(spec.steps)
    found = found.mutate(group=found.group.cast("string").fill_null("(none)"))
    # One aggregate per group: how many reached each step, and the times (one engine query).
    figures: dict[str, Any] = {
        f"reached{k}": ibis.ifelse(found.depth >= k, 1, 0).sum() for k in range(1, n + 1)
    }
    for k in range(2, n + 1):
        # On whole seconds: engines count a sub-second difference differently.
        seconds = (
            found[f"t{k}"].truncate("s").delta(found[f"t{k - 1}"].truncate("s"), unit="second")
        )
        took = ibis.ifelse(found.depth >= k, seconds, ibis.null("int64")).cast("float64")
        figures[f"median{k}"] = took.quantile(0.5)
        figures[f"p90_{k}"] = took.quantile(0.9)
    frame = log.execute(found.group_by("group").agg(**figures).order_by("group"))
    return _build(spec, frame)


def _number(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


def _build(spec: FunnelSpec, frame: pd.DataFrame) -> FunnelReport:
    n = len(spec.steps)
    records = {str(r["group"]): r for r in frame.to_dict("records")}
    rows: list[FunnelRow] = []
    for group in sorted(records) or (["(all)"] if spec.by is None else []):
        record = records.get(group, {})
        counts = [int(record.get(f"reached{k}") or 0) for k in range(1, n + 1)]
        first = counts[0]
        for k in range(1, n + 1):
            previous = counts[k - 2] if k > 1 else counts[0]
            rows.append(
                FunnelRow(
                    group=None if spec.by is None else group,
                    step=k,
                    label=spec.steps[k - 1].label,
                    count=counts[k - 1],
                    conversion=counts[k - 1] / first if first else None,
                    step_conversion=counts[k - 1] / previous if previous else None,
                    drop_off=previous - counts[k - 1] if k > 1 else 0,
                    median_seconds=_number(record.get(f"median{k}")) if k > 1 else None,
                    p90_seconds=_number(record.get(f"p90_{k}")) if k > 1 else None,
                )
            )
    return FunnelReport(spec=spec, rows=tuple(rows))


def dropped_table(
    log: AnalyticsLog,
    spec: FunnelSpec,
    step: int,
    scope: JourneyScope | None = None,
    *,
    group: str | None = None,
) -> ir.Table:
    """The profiles (`profile_id`, distinct) whose counted attempt reached step `step`
    (1-based) but not the next one — of `group` when given."""
    if not 1 <= step < len(spec.steps):
        raise AnalyticsError(
            f"dropped: step must be between 1 and {len(spec.steps) - 1} (the last step has "
            f"no next one), not {step}"
        )
    found = counted_attempts(log, spec, scope)
    found = found.filter(found.depth == step)
    if group is not None:
        found = found.filter(found.group.cast("string").fill_null("(none)") == group)
    return found.select("profile_id").distinct()


def dropped(
    log: AnalyticsLog,
    spec: FunnelSpec,
    step: int,
    scope: JourneyScope | None = None,
    *,
    group: str | None = None,
) -> list[str]:
    """`dropped_table` as a sorted list of profile ids (pseudonymous)."""
    table = dropped_table(log, spec, step, scope, group=group)
    return sorted(str(p) for p in log.execute(table.order_by("profile_id"))["profile_id"])


def labels(steps: Sequence[Step]) -> list[str]:
    return [s.label for s in steps]
