"""What each customer did before a cutoff: the features of the churn model, in the engine.

One row per customer at cutoff `at`: a person with at least one `Order Completed` strictly
before `at`, who allows `analytics` (the journey layer's touchpoints) and `profiling` (a model
scores them). Every feature reads touchpoints with time < `at` only — the evaluation of
analytics/know/churn.py labels the same people with what they did after it, and a feature that
saw an event at or after the cutoff would leak the answer.

| feature | what it counts (before the cutoff) |
| --- | --- |
| `recency_days` | days since the last order |
| `frequency` | orders |
| `monetary` | revenue of those orders (`properties.revenue`, to the cent) |
| `tenure_days` | days since the first touchpoint |
| `orders_30d`, `orders_90d`, `orders_365d` | orders in the last 30/90/365 days |
| `touchpoints_90d` | track/page/screen calls in the last 90 days |
| `active_days_90d` | distinct days (workspace time zone) with a touchpoint in the last 90 days |
| `channels` | distinct channels used |
| `app_share` | share of touchpoints in the app |
| `store_visits` | `Store Visited` |
| `service_contacts` | calls and chats (`Call Started`, `Chat Started`) |
| `payment_failures` | `Payment Failed` |
| `refunds` | `Order Refunded` |
| `email_opens`, `email_clicks` | `Email Opened`, `Email Link Clicked` |
| `push_taps` | `Push Notification Tapped` |
| `last_nps` | the latest NPS score (NULL when they never answered) |
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

from empreinte.analytics.cx.consented import only_profiled
from empreinte.analytics.journeys.touchpoints import JourneyScope, touchpoints
from empreinte.analytics.json import JsonDoc
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

ORDER = "Order Completed"
DAY = 86_400
#: Counted steps: feature name → the touchpoint steps it counts.
STEP_COUNTS: dict[str, tuple[str, ...]] = {
    "store_visits": ("Store Visited",),
    "service_contacts": ("Call Started", "Chat Started"),
    "payment_failures": ("Payment Failed",),
    "refunds": ("Order Refunded",),
    "email_opens": ("Email Opened",),
    "email_clicks": ("Email Link Clicked",),
    "push_taps": ("Push Notification Tapped",),
}
#: The model's inputs, in order.
FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "orders_30d",
    "orders_90d",
    "orders_365d",
    "touchpoints_90d",
    "active_days_90d",
    "channels",
    "app_share",
    *STEP_COUNTS,
    "last_nps",
)


def _count(condition: ir.BooleanValue) -> ir.IntegerValue:
    counted: ir.IntegerValue = ibis.ifelse(condition, 1, 0).sum().cast("int64")
    return counted


def customer_touchpoints(
    log: AnalyticsLog, until: datetime | None = None, since: datetime | None = None
) -> ir.Table:
    """Touchpoints in [`since`, `until`) of people who allow analytics and profiling."""
    return only_profiled(log, touchpoints(log, JourneyScope(since=since, until=until)))


def _days(seconds: ir.IntegerValue) -> ir.FloatingValue:
    """Whole seconds as days to 4 decimals, rounded half up in integers: a double's rounding
    differs between engines on exact ties (47.40875 days became 47.4088 and 47.4087)."""
    tenths_of_millidays = (seconds * 10_000 + DAY // 2) // DAY
    days: ir.FloatingValue = tenths_of_millidays.cast("float64") / 10_000
    return days


def churn_features(log: AnalyticsLog, at: datetime) -> ir.Table:
    """The features (`FEATURES`) of every customer at cutoff `at`: columns `profile_id` and
    each feature, one row per person with an order before `at`."""
    if at.tzinfo is None:
        raise AnalyticsError(f"churn cutoff {at.isoformat()} has no time zone")
    tp = customer_touchpoints(log, until=at)
    # Seconds before the cutoff, both ends truncated to the second: engines count a
    # difference in seconds differently when it crosses a fraction of one.
    cutoff = ibis.literal(at.replace(microsecond=0))
    age = cutoff.delta(tp.at.truncate("s"), unit="second")
    is_order = tp.step == ORDER
    revenue = JsonDoc(log, tp.properties).number("revenue")
    day = log.local_time(tp.at).date()
    counts = {name: _count(tp.step.isin(list(steps))) for name, steps in STEP_COUNTS.items()}
    per_person = tp.group_by("profile_id").agg(
        frequency=_count(is_order),
        monetary=ibis.ifelse(is_order, revenue.fill_null(0.0), 0.0).sum(),
        _last_order_age=ibis.ifelse(is_order, age, ibis.null("int64")).min(),
        _first_age=age.max(),
        orders_30d=_count(is_order & (age < 30 * DAY)),
        orders_90d=_count(is_order & (age < 90 * DAY)),
        orders_365d=_count(is_order & (age < 365 * DAY)),
        touchpoints_90d=_count(age < 90 * DAY),
        active_days_90d=ibis.ifelse(age < 90 * DAY, day, ibis.null("date")).nunique(),
        channels=tp.channel.nunique(),
        _app=_count(tp.channel == "app"),
        _all=tp.count(),
        **counts,
    )
    customers = per_person.filter(per_person.frequency > 0)
    features = customers.mutate(
        recency_days=_days(customers._last_order_age),
        tenure_days=_days(customers._first_age),
        # Sums of float revenues differ in the last bits between engines: cents are exact.
        monetary=customers.monetary.round(2),
        active_days_90d=customers.active_days_90d.cast("int64"),
        channels=customers.channels.cast("int64"),
        app_share=(customers._app / customers._all).round(6),
    )
    nps = _last_nps(log, tp)
    joined = features.left_join(nps, features.profile_id == nps._person)
    return joined.select("profile_id", *FEATURES[:-1], last_nps=joined._score)


def _last_nps(log: AnalyticsLog, tp: ir.Table) -> ir.Table:
    """`_person`, `_score`: each person's latest NPS score (by time, then log order)."""
    answers = tp.filter(tp.step == "NPS Answered")
    answers = answers.mutate(_score=JsonDoc(log, answers.properties).number("score"))
    answers = answers.filter(answers._score.notnull())
    latest = ibis.window(group_by="profile_id", order_by=[answers.at.desc(), answers.seq.desc()])
    ranked = answers.mutate(_rank=ibis.row_number().over(latest))
    return ranked.filter(ranked._rank == 0).select(_person="profile_id", _score="_score")


def buyers(log: AnalyticsLog, since: datetime, until: datetime) -> ir.Table:
    """`profile_id` of the people (allowing analytics and profiling) with an order in
    [`since`, `until`)."""
    tp = customer_touchpoints(log, until=until, since=since)
    return tp.filter(tp.step == ORDER).select("profile_id").distinct()
