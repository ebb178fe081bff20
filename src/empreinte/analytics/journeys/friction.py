"""Friction: steps with abnormal drop-off, repeated errors, and "called after the web".

Sessions are per person and channel (touchpoints.py, 30 minutes of inactivity by default). A
touchpoint's *page* is the name of the latest `Page Viewed`/`Screen Viewed` of its session up
to it (a page view's own name), "(no page)" before any.

**Abnormal drop-off** (`drop_off`). A *step* is a touchpoint's step, and for page and screen
views its name too ("Page Viewed: Checkout"). Without a funnel, the drop-off of a step in a
period is the share of the sessions reaching it (holding it, counted once) whose last
touchpoint is that step (the session ended there). With a funnel `[s1, …, sk]`, the drop-off
of step `si` (i < k) is the share of the sessions holding `si` that hold no `si+1` at or after
their first `si`. Sessions are placed in the period (week by default, in the workspace's time
zone) of the step's first touchpoint in the session. Each (period, step) is tested against its
*baseline*: the same step in all the other periods pooled (`baseline="others"`, the default) or
in the period before (`"previous"`), by a one-sided two-proportion z-test with pooled variance
(H1: the drop-off is higher than the baseline's); q-values by Benjamini-Hochberg over every
test of the report. A drop-off is *abnormal* when it is above the baseline and q < `alpha`
(0.05). Pairs with fewer than `min_sessions` (20) sessions on either side are not tested.

**Repeated errors** (`repeated_errors`). Error steps (`Payment Failed`, `Error Shown`,
configurable); a session with `min_errors` (2) error touchpoints or more, of any error step,
has *repeated errors*. Rows per (channel, error step, page): the errors of that kind in those
sessions, the sessions and the people.

**Called after the web** (`called_after_web`). A *contact* is a `Call Started` on channel
`phone` (contact steps and channels configurable: add `Chat Started` on `chat`); outbound calls
(`properties.direction = "outbound"`, the centre calling back) are not contacts. A contact *was
preceded by a web or app session* when the person's latest `web`/`app` touchpoint at or before
it (log order) is at most `within` (24 h) before it: 23 h 59 counts, 24 h 01 does not. The
report gives the share of contacts that were, and ranks the last pages and the last steps
before them: `calls` (contacts whose latest digital touchpoint had that page, or that step),
`share` (of the contacts preceded by a session), and `lift` = share / the share of all web and
app sessions in scope whose last touchpoint had that page (or step). A lift of 2 means the
page ends sessions followed by a call twice as often as it ends sessions in general.

All in the engine (window functions per person and session, joins on equal keys, group-bys);
the statistics run in Python over the per-(period, step) counts.

The rate per page (of the sessions that viewed a page, the share followed by a contact) is
`page_call_rates.called_after_web_rates`, with these contacts or the voice of the customer's
calls (voc/before_calls.py).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from statistics import NormalDist
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.attributes import check_period, period_label, period_start
from empreinte.analytics.cx.proportions import wilson
from empreinte.analytics.journeys.touchpoints import (
    DEFAULT_SESSION_GAP,
    PAGE_STEP,
    SCREEN_STEP,
    JourneyScope,
    sessions,
    touchpoints,
)
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

NO_PAGE = "(no page)"
ERROR_STEPS = ("Payment Failed", "Error Shown")
CONTACT_STEPS = ("Call Started",)
CONTACT_CHANNELS = ("phone",)
DIGITAL_CHANNELS = ("web", "app")
DEFAULT_WITHIN = timedelta(hours=24)
Baseline = Literal["others", "previous"]


def _labelled(table: ir.Table) -> ir.Table:
    """`table` with `label`: the step, "Page Viewed: <name>" for named page/screen views."""
    is_view = table.step.isin([PAGE_STEP, SCREEN_STEP]) & table.name.notnull()
    return table.mutate(
        label=ibis.ifelse(is_view, table.step.concat(": ", table.name), table.step),
    )


def with_pages(table: ir.Table) -> ir.Table:
    """`table` (with `session_id`) with `page`: the name of the latest page or screen view of
    the session up to each touchpoint. A running count of views numbers the stretches of a
    session; the one view of a stretch names it (no ordered "last non-null", which engines
    spell differently)."""
    is_view = table.step.isin([PAGE_STEP, SCREEN_STEP])
    running = ibis.window(group_by=table.session_id, order_by=[table.at, table.seq], rows=(None, 0))
    numbered = table.mutate(_stretch=is_view.cast("int64").sum().over(running))
    stretch = ibis.window(group_by=[numbered.session_id, numbered._stretch])
    view_name = ibis.ifelse(
        numbered.step.isin([PAGE_STEP, SCREEN_STEP]),
        numbered.name.fill_null(numbered.step),
        ibis.null("string"),
    )
    named = numbered.mutate(page=view_name.max().over(stretch).fill_null(NO_PAGE))
    return named.drop("_stretch")


# -- abnormal drop-off ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DropRow:
    period: str
    step: str
    next_step: str | None  # the funnel's next step; None: the session ended
    sessions: int
    dropped: int
    rate: float
    baseline_sessions: int
    baseline_dropped: int
    baseline_rate: float
    z: float
    p_value: float
    q_value: float
    abnormal: bool


@dataclass(frozen=True)
class DropOffReport:
    period: str
    baseline: Baseline
    funnel: tuple[str, ...] | None
    alpha: float
    rows: tuple[DropRow, ...]

    def abnormal(self) -> list[DropRow]:
        return [r for r in self.rows if r.abnormal]

    def to_rows(self) -> list[dict[str, Any]]:
        return [dict(r.__dict__) for r in self.rows]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows())


def _one_sided(x1: int, n1: int, x0: int, n0: int) -> tuple[float, float]:
    """z and P(Z ≥ z) of the pooled two-proportion test of x1/n1 > x0/n0."""
    pooled = (x1 + x0) / (n1 + n0)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n0)
    if variance <= 0:
        return 0.0, 1.0
    z = (x1 / n1 - x0 / n0) / math.sqrt(variance)
    return z, 1.0 - NormalDist().cdf(z)


def _step_sessions(
    log: AnalyticsLog,
    scope: JourneyScope | None,
    gap: timedelta,
    period: str,
    channels: Sequence[str],
) -> ir.Table:
    table = touchpoints(log, scope)
    if channels:
        table = table.filter(table.channel.isin(list(channels)))
    table = _labelled(sessions(table, gap))
    ordered = ibis.window(
        group_by=table.session_id, order_by=[ibis.desc(table.at), ibis.desc(table.seq)]
    )
    table = table.mutate(_last=ibis.row_number().over(ordered) == 0)
    return table.mutate(period=period_start(log, table.at, period))  # type: ignore[arg-type]


def drop_off(
    log: AnalyticsLog,
    scope: JourneyScope | None = None,
    *,
    funnel: Sequence[str] | None = None,
    period: str = "week",
    baseline: str = "others",
    alpha: float = 0.05,
    min_sessions: int = 20,
    session_gap: timedelta = DEFAULT_SESSION_GAP,
    channels: Sequence[str] = DIGITAL_CHANNELS,
) -> DropOffReport:
    """The drop-off of each step per period, tested against its baseline (module rule)."""
    checked = check_period(period)
    if checked is None:
        raise AnalyticsError("drop-off needs a period: week, month, quarter or year")
    if baseline not in ("others", "previous"):
        raise AnalyticsError(f"unknown baseline {baseline!r}: use others or previous")
    if not 0 < alpha < 1:
        raise AnalyticsError(f"alpha must be between 0 and 1, not {alpha}")
    if min_sessions < 1:
        raise AnalyticsError(f"min_sessions must be at least 1, not {min_sessions}")
    steps = None if funnel is None else tuple(funnel)
    if steps is not None and len(steps) < 2:
        raise AnalyticsError("a funnel needs at least two steps")
    if steps is not None and len(set(steps)) != len(steps):
        raise AnalyticsError("a funnel step is given twice")
    table = _step_sessions(log, scope, session_gap, checked, channels)
    if steps is None:
        # The period of a step's first touchpoint in the session: periods grow with time.
        per_session = table.group_by(["session_id", "label"]).agg(
            period=table.period.min(), ended=table._last.any()
        )
        counts = per_session.group_by(["period", "label"]).agg(
            sessions=per_session.session_id.nunique(),
            dropped=per_session.ended.cast("int64").sum(),
        )
        frame = log.execute(counts)
        frame["next_step"] = None
    else:
        known = set(log.execute(table.select("label").distinct()).label)
        missing = [s for s in steps if s not in known]
        if missing:
            raise AnalyticsError(
                f"unknown funnel step {missing[0]!r}: no touchpoint in scope has that step"
            )
        wanted = table.filter(table.label.isin(list(steps)))
        spans = wanted.group_by(["session_id", "label"]).agg(
            first=wanted.at.min(), last=wanted.at.max(), period=wanted.period.min()
        )
        parts = []
        for here, after in itertools.pairwise(steps):
            a = spans.filter(spans.label == here)
            b = spans.filter(spans.label == after).select(_sid="session_id", _last="last")
            joined = a.left_join(b, a.session_id == b._sid)
            went_on = joined._last.notnull() & (joined._last >= joined.first)
            step = joined.mutate(_dropped=~went_on).select(
                "period", "session_id", "_dropped", label=ibis.literal(here)
            )
            parts.append(step)
        rows = ibis.union(*parts, distinct=False)
        counts = rows.group_by(["period", "label"]).agg(
            sessions=rows.session_id.nunique(),
            dropped=rows._dropped.cast("int64").sum(),
        )
        frame = log.execute(counts)
        following = dict(itertools.pairwise(steps))
        frame["next_step"] = [following[label] for label in frame["label"]]
    return _tested(frame, checked, baseline, steps, alpha, min_sessions)  # type: ignore[arg-type]


def _tested(
    frame: pd.DataFrame,
    period: str,
    baseline: Baseline,
    funnel: tuple[str, ...] | None,
    alpha: float,
    min_sessions: int,
) -> DropOffReport:
    from empreinte.analytics.cx.score_stats import q_values

    cells: dict[tuple[str, Any], tuple[int, int, str | None]] = {}
    for r in frame.itertuples(index=False):
        cells[str(r.label), pd.Timestamp(r.period).to_pydatetime()] = (
            int(r.sessions),
            int(r.dropped),
            r.next_step,
        )
    periods = sorted({start for _, start in cells})
    labels = sorted({label for label, _ in cells}) if funnel is None else list(funnel[:-1])
    drafts = []
    for label in labels:
        mine = {start: cells[label, start] for start in periods if (label, start) in cells}
        total_n = sum(n for n, _, _ in mine.values())
        total_x = sum(x for _, x, _ in mine.values())
        for index, start in enumerate(periods):
            if start not in mine:
                continue
            n, x, next_step = mine[start]
            if baseline == "others":
                n0, x0 = total_n - n, total_x - x
            else:
                before = mine.get(periods[index - 1]) if index > 0 else None
                n0, x0 = (before[0], before[1]) if before else (0, 0)
            tested = n >= min_sessions and n0 >= min_sessions
            z, p = _one_sided(x, n, x0, n0) if tested else (math.nan, math.nan)
            drafts.append((period_label(start, period), label, next_step, n, x, n0, x0, z, p))  # type: ignore[arg-type]
    qs = q_values([d[8] for d in drafts]) if drafts else []
    rows = []
    for (label_period, label, next_step, n, x, n0, x0, z, p), q in zip(drafts, qs, strict=True):
        rate = x / n
        base = x0 / n0 if n0 else math.nan
        rows.append(
            DropRow(
                label_period,
                label,
                next_step,
                n,
                x,
                rate,
                n0,
                x0,
                base,
                z,
                p,
                q,
                bool(math.isfinite(q) and q < alpha and rate > base),
            )
        )
    rows.sort(key=lambda r: (r.period, r.step))
    return DropOffReport(period, baseline, funnel, alpha, tuple(rows))


# -- repeated errors -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorRow:
    channel: str
    step: str
    page: str
    errors: int  # error touchpoints of this kind in sessions with repeated errors
    sessions: int
    people: int


@dataclass(frozen=True)
class ErrorReport:
    error_steps: tuple[str, ...]
    min_errors: int
    people_with_errors: int
    people_repeated: int
    sessions_with_errors: int
    sessions_repeated: int
    rows: tuple[ErrorRow, ...]

    def to_rows(self) -> list[dict[str, Any]]:
        return [dict(r.__dict__) for r in self.rows]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows())


def repeated_errors(
    log: AnalyticsLog,
    scope: JourneyScope | None = None,
    *,
    error_steps: Sequence[str] = ERROR_STEPS,
    min_errors: int = 2,
    session_gap: timedelta = DEFAULT_SESSION_GAP,
) -> ErrorReport:
    """Sessions with `min_errors` errors or more, by channel, error step and page."""
    steps = tuple(dict.fromkeys(error_steps))
    if not steps:
        raise AnalyticsError("give at least one error step")
    if min_errors < 1:
        raise AnalyticsError(f"min_errors must be at least 1, not {min_errors}")
    table = with_pages(sessions(touchpoints(log, scope), session_gap))
    errors = table.filter(table.step.isin(list(steps)))
    per_session = errors.group_by("session_id").agg(
        _errors=errors.count(), _person=errors.profile_id.first()
    )
    totals = per_session.aggregate(
        sessions_with_errors=per_session.count(),
        people_with_errors=per_session._person.nunique(),
        sessions_repeated=(per_session._errors >= min_errors).cast("int64").sum(),
        people_repeated=ibis.ifelse(
            per_session._errors >= min_errors, per_session._person, ibis.null("string")
        ).nunique(),
    )
    summary = log.execute(totals).iloc[0]
    repeated = per_session.filter(per_session._errors >= min_errors).select(_sid="session_id")
    in_repeated = errors.join(repeated, errors.session_id == repeated._sid)
    by_kind = in_repeated.group_by(["channel", "step", "page"]).agg(
        errors=in_repeated.count(),
        sessions=in_repeated.session_id.nunique(),
        people=in_repeated.profile_id.nunique(),
    )
    frame = log.execute(by_kind)
    rows = sorted(
        (
            ErrorRow(
                str(r.channel),
                str(r.step),
                str(r.page),
                int(r.errors),
                int(r.sessions),
                int(r.people),
            )
            for r in frame.itertuples(index=False)
        ),
        key=lambda r: (-r.errors, r.channel, r.step, r.page),
    )

    def whole(name: str) -> int:
        value = summary[name]
        return 0 if value is None or pd.isna(value) else int(value)

    return ErrorReport(
        steps,
        min_errors,
        whole("people_with_errors"),
        whole("people_repeated"),
        whole("sessions_with_errors"),
        whole("sessions_repeated"),
        tuple(rows),
    )


# -- called after the web ------------------------------------------------------------------------


@dataclass(frozen=True)
class RankRow:
    kind: Literal["page", "step"]
    value: str
    calls: int
    share: float  # of the contacts preceded by a session
    sessions: int  # web/app sessions in scope whose last touchpoint had this page (step)
    session_share: float
    lift: float


@dataclass(frozen=True)
class CalledAfterWebReport:
    within: timedelta
    contacts: int
    after_web: int
    share: float
    share_low: float
    share_high: float
    people: int
    people_after_web: int
    sessions: int  # web/app sessions in scope: the base of the lifts
    ranking: tuple[RankRow, ...]

    def pages(self) -> list[RankRow]:
        return [r for r in self.ranking if r.kind == "page"]

    def steps(self) -> list[RankRow]:
        return [r for r in self.ranking if r.kind == "step"]

    def to_rows(self) -> list[dict[str, Any]]:
        return [dict(r.__dict__) for r in self.ranking]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows())


def contact_touchpoints(
    log: AnalyticsLog,
    table: ir.Table,
    contact_steps: Sequence[str] = CONTACT_STEPS,
    contact_channels: Sequence[str] = CONTACT_CHANNELS,
) -> ir.Table:
    """The contacts among `table` (touchpoints): a contact step on a contact channel, not
    outbound (the centre calling back)."""
    from empreinte.analytics.json import JsonDoc

    contacts = table.filter(
        table.step.isin(list(contact_steps)) & table.channel.isin(list(contact_channels))
    )
    direction = JsonDoc(log, contacts.properties).text("direction")
    return contacts.filter(direction.fill_null("") != "outbound")


def contacts_after_web(
    log: AnalyticsLog,
    scope: JourneyScope | None = None,
    *,
    within: timedelta = DEFAULT_WITHIN,
    contact_steps: Sequence[str] = CONTACT_STEPS,
    contact_channels: Sequence[str] = CONTACT_CHANNELS,
    digital_channels: Sequence[str] = DIGITAL_CHANNELS,
    session_gap: timedelta = DEFAULT_SESSION_GAP,
) -> tuple[ir.Table, ir.Table]:
    """(one row per contact: profile_id, at, seq, channel, `after_web`, and the latest digital
    touchpoint's `last_at`, `last_step`, `last_page`, `last_channel`; the digital touchpoints
    with `session_id` and `page`)."""
    if within < timedelta(0):
        raise AnalyticsError(f"within must not be negative, not {within}")
    if not contact_steps or not contact_channels or not digital_channels:
        raise AnalyticsError("give at least one contact step, contact channel and digital channel")
    if set(contact_channels) & set(digital_channels):
        raise AnalyticsError("a channel cannot be both a contact channel and a digital one")
    table = touchpoints(log, scope)
    digital = with_pages(
        sessions(table.filter(table.channel.isin(list(digital_channels))), session_gap)
    )
    contacts = contact_touchpoints(log, table, contact_steps, contact_channels)
    both = ibis.union(
        digital.select("profile_id", "at", "seq", _digital=ibis.literal(1, "int64")),
        contacts.select("profile_id", "at", "seq", _digital=ibis.literal(0, "int64")),
        distinct=False,
    )
    running = ibis.window(group_by=both.profile_id, order_by=[both.at, both.seq], rows=(None, 0))
    numbered = both.mutate(_k=both._digital.sum().over(running))
    calls = numbered.filter(numbered._digital == 0).select("profile_id", "seq", "_k")
    marks = numbered.filter(numbered._digital == 1).select(_p="profile_id", _dseq="seq", _dk="_k")
    last = digital.join(marks, digital.seq == marks._dseq).select(
        _p="profile_id",
        _dk="_dk",
        last_at="at",
        last_step="step",
        last_page="page",
        last_channel="channel",
    )
    located = contacts.select("profile_id", "at", "seq", "channel")
    keyed = calls.select(_cseq="seq", _k="_k")
    located = located.join(keyed, located.seq == keyed._cseq)
    joined = located.left_join(last, [located.profile_id == last._p, located._k == last._dk])
    seconds = int(within.total_seconds())
    after = joined.last_at.notnull() & (joined.at.delta(joined.last_at, unit="second") <= seconds)
    result = joined.mutate(after_web=after).select(
        "profile_id",
        "at",
        "seq",
        "channel",
        "after_web",
        "last_at",
        "last_step",
        "last_page",
        "last_channel",
    )
    return result, digital


def called_after_web(
    log: AnalyticsLog, scope: JourneyScope | None = None, **options: Any
) -> CalledAfterWebReport:
    """The share of contacts preceded by a web or app session within `within`, and the
    ranking of the last pages and steps before them, with their lift (module rule)."""
    within: timedelta = options.get("within", DEFAULT_WITHIN)
    calls, digital = contacts_after_web(log, scope, **options)
    # Two queries read the contacts: computed once (the sessions before them are the work).
    calls = log.materialize(calls)
    totals = log.execute(
        calls.aggregate(
            contacts=calls.count(),
            after_web=calls.after_web.cast("int64").sum(),
            people=calls.profile_id.nunique(),
            people_after_web=ibis.ifelse(
                calls.after_web, calls.profile_id, ibis.null("string")
            ).nunique(),
        )
    ).iloc[0]
    # One query for the pages and steps before the calls, one for the sessions' last ones.
    after = calls.filter(calls.after_web)
    before_calls = log.execute(
        after.group_by(page="last_page", step="last_step").agg(n=after.count())
    )
    ordered = ibis.window(
        group_by=digital.session_id, order_by=[ibis.desc(digital.at), ibis.desc(digital.seq)]
    )
    ends = digital.mutate(_n=ibis.row_number().over(ordered)).filter(lambda t: t._n == 0)
    session_ends = log.execute(ends.group_by(["page", "step"]).agg(n=ends.count()))
    n_sessions = int(session_ends.n.sum()) if len(session_ends) else 0

    def whole(name: str) -> int:
        value = totals[name]
        return 0 if value is None or pd.isna(value) else int(value)

    contacts, after_web = whole("contacts"), whole("after_web")
    ranking: list[RankRow] = []
    for kind in ("page", "step"):
        in_sessions = {str(v): int(n) for v, n in session_ends.groupby(kind).n.sum().items()}
        kind_rows = []
        for value, n in before_calls.groupby(kind).n.sum().items():
            share = int(n) / after_web
            sessions_n = in_sessions.get(str(value), 0)
            session_share = sessions_n / n_sessions if n_sessions else math.nan
            lift = share / session_share if session_share else math.nan
            kind_rows.append(
                RankRow(kind, str(value), int(n), share, sessions_n, session_share, lift)
            )
        kind_rows.sort(key=lambda r: (-r.calls, r.value))
        ranking.extend(kind_rows)
    interval = wilson(after_web, contacts) if contacts else None
    return CalledAfterWebReport(
        within,
        contacts,
        after_web,
        after_web / contacts if contacts else math.nan,
        interval.low if interval else math.nan,
        interval.high if interval else math.nan,
        whole("people"),
        whole("people_after_web"),
        n_sessions,
        tuple(ranking),
    )
