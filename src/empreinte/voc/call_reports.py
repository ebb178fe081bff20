"""The reports on the journeys before calls (docs/voc-journeys.md gives each rule with an
example): what people saw before calling, per reason; the calls the help pages could have
avoided; the called-after-the-web rate per page; the reasons that make people call twice.

Each is a few Ibis aggregates over voc/before_calls.py's tables (so it runs on DuckDB and
Spark); only per-reason and per-page counts come back to Python.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.cx.consented import only_consenting
from empreinte.analytics.cx.proportions import wilson
from empreinte.analytics.journeys.page_call_rates import (
    PageRateReport,
    digital_sessions,
    page_rates,
    rate_report,
)
from empreinte.analytics.journeys.touchpoints import PAGE_STEP, SCREEN_STEP
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError
from empreinte.voc.before_calls import CallScope, attached, call_journeys, calls

DEFAULT_TOP = 10
MAX_TOP = 100
SeenKind = Literal["page", "step", "last_page"]


def _rows(items: Sequence[Any]) -> list[dict[str, Any]]:
    return [dict(r.__dict__) for r in items]


def _whole(value: Any) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


# -- what people saw before calling ---------------------------------------------------------------


@dataclass(frozen=True)
class ReasonRow:
    reason: str
    calls: int
    linked: int  # calls with at least one web/app touchpoint attached
    linked_share: float
    with_errors: int  # linked calls whose attached touchpoints hold an error step
    checkout_abandoned: int


@dataclass(frozen=True)
class SeenRow:
    reason: str
    kind: SeenKind  # a page viewed, a (non-view) step held, the last page before the call
    value: str
    calls: int  # linked calls of the reason that saw it
    share: float  # of the reason's linked calls


@dataclass(frozen=True)
class BeforeCallsReport:
    window: timedelta
    calls: int
    linked: int
    with_errors: int
    checkout_abandoned: int
    reasons: tuple[ReasonRow, ...]
    seen: tuple[SeenRow, ...]  # top `top` per (reason, kind), most seen first

    def to_rows(self) -> list[dict[str, Any]]:
        return _rows(self.seen)

    def reason_rows(self) -> list[dict[str, Any]]:
        return _rows(self.reasons)


def _seen_value(rows: ir.Table) -> ir.StringValue:
    """What a view shows: its name, its path when it has none."""
    return rows.name.fill_null(rows.path).fill_null(rows.step)


def before_calls(
    log: AnalyticsLog, scope: CallScope | None = None, *, top: int = DEFAULT_TOP
) -> BeforeCallsReport:
    """Per reason: calls, linked calls, errors, checkouts abandoned; the top pages viewed,
    steps held and last pages before the linked calls."""
    scope = scope or CallScope()
    if not 1 <= top <= MAX_TOP:
        raise AnalyticsError(f"top must be from 1 to {MAX_TOP}, not {top}")
    # The calls and their touchpoints are read by both queries below: computed once.
    the_calls = log.materialize(calls(log, scope))
    rows = log.materialize(attached(log, scope, the_calls))
    journeys = call_journeys(log, scope, the_calls, rows)
    linked = journeys.linked
    per_reason = log.execute(
        journeys.group_by("reason").agg(
            calls=journeys.count(),
            linked=linked.cast("int64").sum(),
            with_errors=(linked & (journeys.errors > 0)).cast("int64").sum(),
            checkout_abandoned=journeys.checkout_abandoned.cast("int64").sum(),
            _last=journeys.last_page.isnull().cast("int64").sum(),
        )
    )
    is_view = rows.step.isin([PAGE_STEP, SCREEN_STEP])
    views = rows.filter(is_view).select("call_seq", "reason", value=_seen_value(rows))
    steps = rows.filter(~is_view).select("call_seq", "reason", value="step")
    # The last page from the same attached rows (not from `journeys`: one pipeline less).
    latest = ibis.window(group_by=rows.call_seq, order_by=[ibis.desc(rows.at), ibis.desc(rows.seq)])
    ranked = rows.mutate(_n=ibis.row_number().over(latest))
    lasts = ranked.filter(ranked._n == 0).select("call_seq", "reason", value="page")
    parts = [
        views.distinct().mutate(kind=ibis.literal("page")),
        steps.distinct().mutate(kind=ibis.literal("step")),
        lasts.mutate(kind=ibis.literal("last_page")),
    ]
    seen = ibis.union(*parts, distinct=False)
    counted = log.execute(seen.group_by(["reason", "kind", "value"]).agg(calls=seen.count()))
    reasons = []
    linked_of: dict[str, int] = {}
    for r in per_reason.itertuples(index=False):
        n, k = _whole(r.calls), _whole(r.linked)
        linked_of[str(r.reason)] = k
        reasons.append(
            ReasonRow(
                str(r.reason),
                n,
                k,
                k / n if n else math.nan,
                _whole(r.with_errors),
                _whole(r.checkout_abandoned),
            )
        )
    reasons.sort(key=lambda r: (-r.calls, r.reason))
    seen_rows: list[SeenRow] = []
    groups: dict[tuple[str, str], list[SeenRow]] = {}
    for r in counted.itertuples(index=False):
        reason, calls_n = str(r.reason), _whole(r.calls)
        base = linked_of.get(reason, 0)
        row = SeenRow(reason, r.kind, str(r.value), calls_n, calls_n / base if base else math.nan)
        groups.setdefault((reason, str(r.kind)), []).append(row)
    order = {"last_page": 0, "page": 1, "step": 2}
    for key in sorted(groups, key=lambda k: (k[0], order[k[1]])):
        ranked = sorted(groups[key], key=lambda r: (-r.calls, r.value))
        seen_rows.extend(ranked[:top])
    return BeforeCallsReport(
        scope.window,
        sum(r.calls for r in reasons),
        sum(r.linked for r in reasons),
        sum(r.with_errors for r in reasons),
        sum(r.checkout_abandoned for r in reasons),
        tuple(reasons),
        tuple(seen_rows),
    )


# -- avoidable calls -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AvoidableRow:
    reason: str
    answers: tuple[str, ...]  # the pages that answer it ([voc.answers])
    calls: int
    linked: int
    reached: int  # linked calls whose journey viewed an answer page
    avoidable: int  # linked calls whose journey did not
    share: float  # avoidable / linked


@dataclass(frozen=True)
class AvoidableReport:
    window: timedelta
    calls: int  # calls of the reasons that have answers
    linked: int
    avoidable: int
    share: float
    rows: tuple[AvoidableRow, ...]

    def to_rows(self) -> list[dict[str, Any]]:
        return [{**r.__dict__, "answers": list(r.answers)} for r in self.rows]


def avoidable_calls(
    log: AnalyticsLog, answers: Mapping[str, Sequence[str]], scope: CallScope | None = None
) -> AvoidableReport:
    """Per reason with answer pages: the linked calls whose journey did not reach one."""
    scope = scope or CallScope()
    wanted = {r: tuple(p) for r, p in answers.items() if p}
    if scope.reason is not None:
        wanted = {r: p for r, p in wanted.items() if r == scope.reason}
    if not wanted:
        return AvoidableReport(scope.window, 0, 0, 0, math.nan, ())
    the_calls = calls(log, scope)
    the_calls = the_calls.filter(the_calls.reason.isin(sorted(wanted)))
    rows = attached(log, scope, the_calls)
    is_view = rows.step.isin([PAGE_STEP, SCREEN_STEP])
    name, path = rows.name.fill_null(""), rows.path.fill_null("")
    answered = ibis.or_(
        *(
            (rows.reason == reason) & (name.isin(list(pages)) | path.isin(list(pages)))
            for reason, pages in sorted(wanted.items())
        )
    )
    per_call = rows.group_by("call_seq").agg(_reached=(is_view & answered).any())
    joined = the_calls.left_join(per_call, the_calls.seq == per_call.call_seq)
    is_linked = joined.call_seq.notnull()
    counts = log.execute(
        joined.group_by("reason").agg(
            calls=joined.count(),
            linked=is_linked.cast("int64").sum(),
            reached=(is_linked & joined._reached.fill_null(False)).cast("int64").sum(),
        )
    )
    found = {str(r.reason): r for r in counts.itertuples(index=False)}
    out = []
    for reason, pages in sorted(wanted.items()):
        r = found.get(reason)
        n, k, reached = (_whole(r.calls), _whole(r.linked), _whole(r.reached)) if r else (0, 0, 0)
        out.append(
            AvoidableRow(
                reason, pages, n, k, reached, k - reached, (k - reached) / k if k else math.nan
            )
        )
    out.sort(key=lambda r: (-r.avoidable, r.reason))
    linked_n = sum(r.linked for r in out)
    avoidable_n = sum(r.avoidable for r in out)
    return AvoidableReport(
        scope.window,
        sum(r.calls for r in out),
        linked_n,
        avoidable_n,
        avoidable_n / linked_n if linked_n else math.nan,
        tuple(out),
    )


# -- called after the web, per page ----------------------------------------------------------------


def page_call_rates(log: AnalyticsLog, scope: CallScope | None = None) -> PageRateReport:
    """Of the web/app sessions that viewed each page, the share attached to a call (of the
    scope's reason, when given): analytics/journeys/page_call_rates.py with these calls."""
    scope = scope or CallScope()
    digital = digital_sessions(
        log,
        scope.journey_scope(),
        digital_channels=scope.digital_channels,
        session_gap=scope.session_gap,
    )
    if scope.since is not None:  # sessions of the period (the scope reaches back a window)
        digital = digital.filter(digital.at >= scope.since)
    return rate_report(log, page_rates(digital, calls(log, scope), scope.window), scope.window)


# -- repeated calls --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatRow:
    reason: str  # the reason of the first call
    calls: int
    repeated: int  # followed by another call of the same person within `days`
    same_reason: int  # … for the same reason
    rate: float
    low: float
    high: float


@dataclass(frozen=True)
class RepeatReport:
    days: int
    calls: int
    repeated: int
    rate: float
    rows: tuple[RepeatRow, ...]  # highest rate first among reasons with calls

    def to_rows(self) -> list[dict[str, Any]]:
        return _rows(self.rows)


def repeat_calls(
    log: AnalyticsLog, scope: CallScope | None = None, *, days: int = 7
) -> RepeatReport:
    """Per reason of a call: how many were followed by another call (or chat) of the same
    person within `days` — the processes that make people call twice."""
    scope = scope or CallScope()
    if not 1 <= days <= 90:
        raise AnalyticsError(f"days must be from 1 to 90, not {days}")
    span = timedelta(days=days)
    # The next call may fall after `until`: read `days` further, count first calls in scope.
    wider = CallScope(
        window=scope.window,
        since=scope.since,
        until=scope.until + span if scope.until is not None else None,
        kinds=scope.kinds,
        consented_only=scope.consented_only,
    )
    table = calls(log, wider)
    table = table.filter(~table.profile_id.startswith("event:"))
    if scope.consented_only:
        table = only_consenting(log, table)
    following = ibis.window(group_by=table.profile_id, order_by=[table.at, table.seq])
    table = table.mutate(
        _next_at=table.at.lead().over(following), _next_reason=table.reason.lead().over(following)
    )
    window = ibis.interval(microseconds=span // timedelta(microseconds=1))
    again = table._next_at.notnull() & (table._next_at <= table.at + window)
    table = table.mutate(_again=again, _same=again & (table._next_reason == table.reason))
    if scope.until is not None:
        table = table.filter(table.at < scope.until)
    if scope.reason is not None:
        table = table.filter(table.reason == scope.reason)
    counts = log.execute(
        table.group_by("reason").agg(
            calls=table.count(),
            repeated=table._again.cast("int64").sum(),
            same_reason=table._same.cast("int64").sum(),
        )
    )
    rows = []
    for r in counts.itertuples(index=False):
        n, x = _whole(r.calls), _whole(r.repeated)
        interval = wilson(x, n)
        rows.append(
            RepeatRow(
                str(r.reason), n, x, _whole(r.same_reason), x / n, interval.low, interval.high
            )
        )
    rows.sort(key=lambda r: (-r.rate, -r.calls, r.reason))
    n_all, x_all = sum(r.calls for r in rows), sum(r.repeated for r in rows)
    return RepeatReport(days, n_all, x_all, x_all / n_all if n_all else math.nan, tuple(rows))
