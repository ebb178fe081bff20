"""Cookie Vocal: each call (and chat) linked to the web and app journey that came before it.

**The caller.** A call is a `Call Completed` or `Chat Completed` event. Its person is the
profile that owns the event in the identity graph (store/ownership.py); when the event has no
`userId` and its caller number (`properties.callerNumber` or `caller_number`, a keyed pseudonym
since ingestion, privacy/pii.py) is the phone key of a profile (`phone:<pseudonym>` in
`identities`), that profile. A number nobody gave is a profile of its own, with no sessions.

**The sessions attached.** The person's web and app touchpoints (analytics/journeys/
touchpoints.py: people who allow analytics only; sessions per channel after 30 minutes of
inactivity) at most `window` (24 h) before the call: `call.at - window ≤ at ≤ call.at`. Only
those touchpoints count, so a session that goes on after the call is cut at the call, and a
session wholly after it, or wholly before the window, is not attached. A call is *linked*
when at least one touchpoint is attached.

**What is read of them.** The last page (friction.with_pages: the latest page or screen view
of the session up to the last touchpoint) and the last step; the errors shown (`Error Shown`,
`Payment Failed`); a *checkout abandoned*: a checkout touchpoint (`Checkout Started`,
`Checkout Step Viewed`, `Checkout Step Completed`, `Payment Info Entered`, or a view of a page
named `Checkout` or at `/checkout`) with no `Order Completed` at or after the latest one.

**The reason** of a call is `voc_texts.reason` of its event (read by `seq`), "unknown" until
the understanding has given one. All of it is one Ibis expression: it runs on DuckDB and Spark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir

from empreinte.analytics.journeys.friction import DIGITAL_CHANNELS, ERROR_STEPS
from empreinte.analytics.journeys.page_call_rates import digital_sessions
from empreinte.analytics.journeys.touchpoints import (
    DEFAULT_SESSION_GAP,
    PAGE_STEP,
    SCREEN_STEP,
    JourneyScope,
)
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError
from empreinte.voc.model import CONVERSATION_EVENTS

UNKNOWN_REASON = "unknown"
CALLER_KEYS = ("callerNumber", "caller_number")
CHECKOUT_STEPS = (
    "Checkout Started",
    "Checkout Step Viewed",
    "Checkout Step Completed",
    "Payment Info Entered",
)
CHECKOUT_PAGES = ("Checkout", "/checkout")
ORDER_STEP = "Order Completed"
DEFAULT_WINDOW = timedelta(hours=24)
MAX_WINDOW = timedelta(days=30)
MAX_REASON = 200


@dataclass(frozen=True)
class CallScope:
    """Which calls and what is attached to them: calls at `since` ≤ time < `until`, of one
    `reason` (all when None), with the sessions of the `window` before each."""

    window: timedelta = DEFAULT_WINDOW
    since: datetime | None = None
    until: datetime | None = None
    reason: str | None = None
    kinds: Sequence[str] = tuple(CONVERSATION_EVENTS)
    digital_channels: Sequence[str] = DIGITAL_CHANNELS
    error_steps: Sequence[str] = ERROR_STEPS
    checkout_steps: Sequence[str] = CHECKOUT_STEPS
    checkout_pages: Sequence[str] = CHECKOUT_PAGES
    session_gap: timedelta = DEFAULT_SESSION_GAP
    consented_only: bool = True

    def __post_init__(self) -> None:
        if not timedelta(0) < self.window <= MAX_WINDOW:
            raise AnalyticsError(f"window must be more than 0 and at most 30 days: {self.window}")
        for moment in (self.since, self.until):
            if moment is not None and moment.tzinfo is None:
                raise AnalyticsError(f"calls: {moment.isoformat()} has no time zone")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise AnalyticsError("calls: `since` must be before `until`")
        if self.reason is not None and not 0 < len(self.reason) <= MAX_REASON:
            raise AnalyticsError(f"reason must be 1 to {MAX_REASON} characters")
        if not set(self.kinds) <= set(CONVERSATION_EVENTS) or not self.kinds:
            raise AnalyticsError(f"kinds must be among {', '.join(CONVERSATION_EVENTS)}")

    def journey_scope(self) -> JourneyScope:
        """The touchpoints that can be attached: from `window` before `since` to `until`."""
        since = self.since - self.window if self.since is not None else None
        return JourneyScope(
            since=since,
            until=self.until,
            channels=tuple(self.digital_channels),
            consented_only=self.consented_only,
        )


def _interval(span: timedelta) -> ir.IntervalScalar:
    return ibis.interval(microseconds=span // timedelta(microseconds=1))


def calls(log: AnalyticsLog, scope: CallScope) -> ir.Table:
    """One row per call in scope: `seq`, `at`, `kind` (call | chat), `profile_id` (module
    rule), `by` (user | phone | graph: what resolved it), `reason`."""
    events = log.events()
    events = events.filter((events.type == "track") & events.event.isin(list(scope.kinds)))
    if scope.since is not None:
        events = events.filter(events.timestamp >= scope.since)
    if scope.until is not None:
        events = events.filter(events.timestamp < scope.until)
    caller = ibis.coalesce(*(log.json_string(events.properties, key) for key in CALLER_KEYS))
    kind = events.event.cases(*CONVERSATION_EVENTS.items(), else_="call")
    owned = log.with_owner(
        events.select("seq", "identifiers", "user_id", at="timestamp", kind=kind, _caller=caller)
    )
    ids = log.table("identities")
    phones = ids.select(_key="id_key", _phone_owner="profile_id")
    joined = owned.left_join(phones, ibis.literal("phone:").concat(owned._caller) == phones._key)
    by_phone = joined.user_id.isnull() & joined._phone_owner.notnull()
    resolved = joined.mutate(
        profile_id=ibis.ifelse(by_phone, joined._phone_owner, joined.profile_id),
        by=ibis.cases((joined.user_id.notnull(), "user"), (by_phone, "phone"), else_="graph"),
    )
    texts = log.table("voc_texts").select(_tseq="seq", _reason="reason")
    with_reason = resolved.left_join(texts, resolved.seq == texts._tseq)
    reason = with_reason._reason.fill_null(UNKNOWN_REASON)
    result = with_reason.select("seq", "at", "kind", "profile_id", "by", reason=reason)
    if scope.reason is not None:
        result = result.filter(result.reason == scope.reason)
    return result


def attached(log: AnalyticsLog, scope: CallScope, the_calls: ir.Table | None = None) -> ir.Table:
    """One row per (call, touchpoint attached to it): `call_seq`, `call_at`, `reason`,
    `profile_id`, and the touchpoint's `session_id`, `channel`, `at`, `seq`, `step`, `page`
    (the session's latest view up to it), `path` (a page view's `properties.path`),
    `viewed` (a page or screen view's name or path, NULL for other steps)."""
    the_calls = calls(log, scope) if the_calls is None else the_calls
    digital = digital_sessions(
        log,
        scope.journey_scope(),
        digital_channels=scope.digital_channels,
        session_gap=scope.session_gap,
    )
    path = log.json_string(digital.properties, "path")
    digital = digital.mutate(path=path)
    c = the_calls.select(
        call_seq="seq", call_at="at", reason="reason", _p="profile_id", kind="kind"
    )
    window = _interval(scope.window)
    joined = digital.join(
        c, [digital.profile_id == c._p, digital.at <= c.call_at, digital.at >= c.call_at - window]
    )
    return joined.select(
        "call_seq",
        "call_at",
        "reason",
        "kind",
        "profile_id",
        "session_id",
        "channel",
        "at",
        "seq",
        "step",
        "name",
        "page",
        "path",
    )


def is_checkout(table: ir.Table, scope: CallScope) -> ir.BooleanValue:
    """A checkout touchpoint of `attached` rows (module rule)."""
    pages = list(scope.checkout_pages)
    view = table.step.isin([PAGE_STEP, SCREEN_STEP])
    viewed = table.name.fill_null("").isin(pages) | table.path.fill_null("").isin(pages)
    return table.step.isin(list(scope.checkout_steps)) | (view & viewed)


def call_journeys(
    log: AnalyticsLog,
    scope: CallScope,
    the_calls: ir.Table | None = None,
    rows: ir.Table | None = None,
) -> ir.Table:
    """One row per call: the `calls` columns and `linked`, `sessions`, `touchpoints`,
    `errors`, `last_page`, `last_step`, `last_at`, `last_channel`, `checkout_abandoned`.
    `the_calls` and their `attached` `rows` when the caller computed them already."""
    the_calls = calls(log, scope) if the_calls is None else the_calls
    rows = attached(log, scope, the_calls) if rows is None else rows
    rows = rows.mutate(
        _error=rows.step.isin(list(scope.error_steps)).cast("int64"),
        _checkout_at=ibis.ifelse(is_checkout(rows, scope), rows.at, ibis.null("timestamp")),
        _order_at=ibis.ifelse(rows.step == ORDER_STEP, rows.at, ibis.null("timestamp")),
    )
    latest = ibis.window(group_by=rows.call_seq, order_by=[ibis.desc(rows.at), ibis.desc(rows.seq)])
    ranked = rows.mutate(_n=ibis.row_number().over(latest))
    last = ranked.filter(ranked._n == 0).select(
        _lseq="call_seq",
        last_page="page",
        last_step="step",
        last_at="at",
        last_channel="channel",
    )
    per_call = rows.group_by("call_seq").agg(
        sessions=rows.session_id.nunique(),
        touchpoints=rows.count(),
        errors=rows._error.sum(),
        _checkout=rows._checkout_at.max(),
        _order=rows._order_at.max(),
    )
    per_call = per_call.join(last, per_call.call_seq == last._lseq)
    joined = the_calls.left_join(per_call, the_calls.seq == per_call.call_seq)
    abandoned = joined._checkout.notnull() & (
        joined._order.isnull() | (joined._order < joined._checkout)
    )
    return joined.select(
        "seq",
        "at",
        "kind",
        "profile_id",
        "by",
        "reason",
        linked=joined.call_seq.notnull(),
        sessions=joined.sessions.fill_null(0),
        touchpoints=joined.touchpoints.fill_null(0),
        errors=joined.errors.fill_null(0),
        last_page="last_page",
        last_step="last_step",
        last_at="last_at",
        last_channel="last_channel",
        checkout_abandoned=abandoned.fill_null(False),
    )
