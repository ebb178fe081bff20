"""Called after the web, per page: of the web and app sessions that viewed a page, the share
that a contact (a call, a chat) of the same person followed within `within`.

A session is *followed by a contact* when one of its touchpoints is at most `within` before a
contact of the same person (`touchpoint.at ≤ contact.at ≤ touchpoint.at + within`): exactly
the sessions that voc/before_calls.py attaches to a call. A session *viewed* a page when it
holds a page or screen view of that name (friction.with_pages' names, "(no page)" never
counts). `rate = called / sessions`, with its Wilson 95 % interval.

Example: 200 sessions viewed "Checkout", 14 of them were followed by a call within 24 h:
rate 7 %. The friction report's exit-page ranking says which pages *end* the sessions before
calls; this rate says how often a page's visitors call, whatever they did after it.

The contacts are any table of `profile_id` and `at`: friction's (`Call Started` on `phone`,
not outbound) by default, or the voice of the customer's resolved calls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.cx.proportions import wilson
from empreinte.analytics.journeys.friction import (
    CONTACT_CHANNELS,
    CONTACT_STEPS,
    DEFAULT_WITHIN,
    DIGITAL_CHANNELS,
    contact_touchpoints,
    with_pages,
)
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


@dataclass(frozen=True)
class PageRate:
    page: str
    sessions: int  # sessions that viewed the page
    called: int  # of them, followed by a contact within the window
    rate: float
    low: float
    high: float


@dataclass(frozen=True)
class PageRateReport:
    within: timedelta
    sessions: int  # digital sessions in scope
    called: int  # of them, followed by a contact
    rows: tuple[PageRate, ...]  # most called first

    def to_rows(self) -> list[dict[str, Any]]:
        return [dict(r.__dict__) for r in self.rows]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows(), columns=list(PageRate.__dataclass_fields__))


def digital_sessions(
    log: AnalyticsLog,
    scope: JourneyScope | None = None,
    *,
    digital_channels: Sequence[str] = DIGITAL_CHANNELS,
    session_gap: timedelta = DEFAULT_SESSION_GAP,
) -> ir.Table:
    """The web and app touchpoints in `scope` with `session_id` and `page`."""
    if not digital_channels:
        raise AnalyticsError("give at least one digital channel")
    table = touchpoints(log, scope)
    return with_pages(
        sessions(table.filter(table.channel.isin(list(digital_channels))), session_gap)
    )


def followed_sessions(digital: ir.Table, contacts: ir.Table, within: timedelta) -> ir.Table:
    """`session_id` of each session of `digital` one of whose touchpoints is at most `within`
    before a contact of `contacts` (`profile_id`, `at`) of the same person."""
    window = ibis.interval(microseconds=within // timedelta(microseconds=1))
    c = contacts.select(_p="profile_id", _at="at")
    hits = digital.join(
        c, [digital.profile_id == c._p, c._at >= digital.at, c._at <= digital.at + window]
    )
    return hits.select("session_id").distinct()


def page_rates(digital: ir.Table, contacts: ir.Table, within: timedelta) -> ir.Table:
    """One row per page: `sessions` that viewed it, `called` of them followed by a contact;
    and the row `page = NULL` holding every session (the base)."""
    called = followed_sessions(digital, contacts, within).select(_sid="session_id")
    views = digital.filter(digital.step.isin([PAGE_STEP, SCREEN_STEP]))
    viewed = views.select("session_id", "page").distinct()
    every = digital.select("session_id", page=ibis.null("string")).distinct()
    both = ibis.union(viewed, every, distinct=False)
    joined = both.left_join(called, both.session_id == called._sid)
    return joined.group_by("page").agg(
        sessions=joined.session_id.nunique(),
        called=joined._sid.notnull().cast("int64").sum(),
    )


def rate_report(log: AnalyticsLog, rates: ir.Table, within: timedelta) -> PageRateReport:
    """`page_rates` computed and ranked: most called first, then by rate and name."""
    frame = log.execute(rates)
    total_sessions = total_called = 0
    rows = []
    for r in frame.itertuples(index=False):
        n, x = int(r.sessions), int(r.called)
        if r.page is None or (isinstance(r.page, float) and math.isnan(r.page)):
            total_sessions, total_called = n, x
            continue
        interval = wilson(x, n)
        rows.append(PageRate(str(r.page), n, x, x / n, interval.low, interval.high))
    rows.sort(key=lambda r: (-r.called, -r.rate, r.page))
    return PageRateReport(within, total_sessions, total_called, tuple(rows))


def called_after_web_rates(
    log: AnalyticsLog,
    scope: JourneyScope | None = None,
    *,
    within: timedelta = DEFAULT_WITHIN,
    contact_steps: Sequence[str] = CONTACT_STEPS,
    contact_channels: Sequence[str] = CONTACT_CHANNELS,
    digital_channels: Sequence[str] = DIGITAL_CHANNELS,
    session_gap: timedelta = DEFAULT_SESSION_GAP,
) -> PageRateReport:
    """The called-after-the-web rate of each page, with friction's contacts (module rule)."""
    if within < timedelta(0):
        raise AnalyticsError(f"within must not be negative, not {within}")
    if set(contact_channels) & set(digital_channels):
        raise AnalyticsError("a channel cannot be both a contact channel and a digital one")
    digital = digital_sessions(
        log, scope, digital_channels=digital_channels, session_gap=session_gap
    )
    contacts = contact_touchpoints(log, touchpoints(log, scope), contact_steps, contact_channels)
    return rate_report(log, page_rates(digital, contacts, within), within)
