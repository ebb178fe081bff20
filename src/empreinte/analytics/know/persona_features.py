"""Behaviour features per person, the input of persona clustering (personas.py).

One row per person who allows `analytics` (as every journey report) and allows `profiling`
(clustering people is profiling: `consent_state`, the workspace's consent rule). Everything is
computed in the engine (Ibis: the same numbers on DuckDB and Spark) from the person's own
touchpoints (journeys/channels.py: a delivered e-mail is the brand's, a clicked one the
person's) plus, for e-mail engagement, the messages the brand sent them:

- `touchpoints`: how many own touchpoints (the evidence behind the other figures);
- `share_<channel>`: the share of their own touchpoints on each channel of `CHANNELS`
  (`share_messaging`: clicks in e-mails, SMS and push); `channels`: how many channels;
- `orders_per_month`, `sessions_per_month`, `contacts_per_month`: counts per month of
  *tenure* (from their first touchpoint to the latest touchpoint of the log, at least one
  month of 30.44 days); sessions are per channel (30 minutes of inactivity);
  contacts are `Call Started` and `Chat Started`;
- `mean_order_value` (`revenue`, else `total`, of `Order Completed`; 0 without an order),
  `items_per_order` (product lines per order) and `store_order_share` (the share of their
  orders completed in a shop; 0 without an order): where they buy, next to where they look;
- `cat_<category>`: the share of their product views and adds (`properties.category`) in each
  of the log's `top_categories` most viewed categories;
- `morning` (6–12 h), `afternoon` (12–18 h), `evening` (18–24 h), `night` (0–6 h): shares of
  their touchpoints by the hour in the workspace's time zone;
- `mobile_share`: of their web and app touchpoints, those in the app or on a phone's browser
  (a user agent naming Mobile, Android, iPhone or iPad);
- `second_hand_share`: of their product views and adds with a `properties.condition`, those
  refurbished, used or second-hand;
- `nps`: their latest NPS answer (NULL when none; `nps_answered` 0/1);
- `email_open_rate`, `email_click_rate`: e-mails opened, links clicked per e-mail delivered
  (0 when none was delivered).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.cx.answers import AnswerScope, survey_answers
from empreinte.analytics.cx.consented import only_profiled
from empreinte.analytics.journeys.channels import own_touchpoints
from empreinte.analytics.journeys.touchpoints import JourneyScope, sessions, touchpoints
from empreinte.analytics.json import JsonDoc
from empreinte.analytics.know.purchases import order_value
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

CHANNELS = ("web", "app", "store", "phone", "chat", "social", "voice")
MESSAGING = ("email", "sms", "push")
ORDER_STEP = "Order Completed"
PRODUCT_STEPS = ("Product Viewed", "Product Added")
CONTACT_STEPS = ("Call Started", "Chat Started")
DAYPARTS = (("night", 0, 6), ("morning", 6, 12), ("afternoon", 12, 18), ("evening", 18, 24))
MOBILE_AGENT = "Mobile|Android|iPhone|iPad"
SECOND_HAND = ("refurbished", "used", "second-hand")
DEFAULT_TOP_CATEGORIES = 8
MONTH_SECONDS = 30.44 * 24 * 3600

#: Counts and amounts: long-tailed, clustered on log1p (personas.py).
COUNT_FEATURES = (
    "touchpoints",
    "channels",
    "orders_per_month",
    "sessions_per_month",
    "contacts_per_month",
    "mean_order_value",
    "items_per_order",
)


def top_categories(log: AnalyticsLog, scope: JourneyScope, n: int) -> list[str]:
    """The `n` categories most viewed or added by the people of `scope` (ties by name)."""
    if n < 0:
        raise AnalyticsError(f"top categories must be >= 0, not {n}")
    if n == 0:
        return []
    table = only_profiled(log, touchpoints(log, scope, steps=PRODUCT_STEPS))
    table = table.mutate(category=JsonDoc(log, table.properties).text("category"))
    counts = table.filter(table.category.notnull()).group_by("category").agg(n=ibis._.count())
    frame = log.execute(counts.order_by([ibis.desc("n"), "category"]).limit(n))
    return [str(value) for value in frame["category"]]


def feature_names(categories: Sequence[str]) -> tuple[str, ...]:
    """The feature columns, in order, for these categories."""
    return (
        "touchpoints",
        *(f"share_{c}" for c in CHANNELS),
        "share_messaging",
        "channels",
        "orders_per_month",
        "sessions_per_month",
        "contacts_per_month",
        "mean_order_value",
        "items_per_order",
        "store_order_share",
        *(f"cat_{c}" for c in categories),
        *(name for name, _, _ in DAYPARTS),
        "mobile_share",
        "second_hand_share",
        "nps",
        "nps_answered",
        "email_open_rate",
        "email_click_rate",
    )


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """num / den as a double, 0 when den is 0 or NULL."""
    safe = ibis.ifelse(den.fill_null(0) > 0, den, ibis.null("float64"))
    ratio: ir.FloatingValue = (num.cast("float64") / safe.cast("float64")).fill_null(0.0)
    return ratio


def persona_features(
    log: AnalyticsLog,
    scope: JourneyScope | None = None,
    *,
    categories: Sequence[str] | None = None,
) -> ir.Table:
    """One row per person allowed (analytics and profiling) with touchpoints of their own in
    `scope`: `profile_id` and `feature_names(categories)`. `categories` defaults to the
    `DEFAULT_TOP_CATEGORIES` most viewed ones (`top_categories`)."""
    scope = scope or JourneyScope()
    if categories is None:
        categories = top_categories(log, scope, DEFAULT_TOP_CATEGORIES)
    own = only_profiled(log, own_touchpoints(log, scope))
    digital = own.channel.isin(["web", "app"])
    agent = JsonDoc(log, own.context).string("userAgent").fill_null("")
    mobile = (own.channel == "app") | ((own.channel == "web") & agent.re_search(MOBILE_AGENT))
    hour = log.local_time(own.at).hour()
    props = JsonDoc(log, own.properties)
    is_order = own.step == ORDER_STEP
    is_product = own.step.isin(list(PRODUCT_STEPS))
    category = props.text("category")
    condition = props.text("condition")
    revenue = order_value(props)
    # Product lines: occurrences of the key "product_id" in the order's `products` array.
    products = props.at("products").fill_null("")
    key = '"product_id"'
    lines = (products.length() - products.replace(key, "").length()) / len(key)
    flags = own.mutate(
        _digital=ibis.ifelse(digital, 1, 0),
        _mobile=ibis.ifelse(digital & mobile, 1, 0),
        _order=ibis.ifelse(is_order, 1, 0),
        _revenue=ibis.ifelse(is_order, revenue, ibis.null("float64")),
        _lines=ibis.ifelse(is_order, lines.cast("float64"), ibis.null("float64")),
        _store_order=ibis.ifelse(is_order & (own.channel == "store"), 1, 0),
        _contact=ibis.ifelse(own.step.isin(list(CONTACT_STEPS)), 1, 0),
        _product=ibis.ifelse(is_product & category.notnull(), 1, 0),
        _conditioned=ibis.ifelse(is_product & condition.notnull(), 1, 0),
        _second_hand=ibis.ifelse(is_product & condition.isin(list(SECOND_HAND)), 1, 0),
        **{f"_ch_{c}": ibis.ifelse(own.channel == c, 1, 0) for c in (*CHANNELS, *MESSAGING)},
        **{
            f"_cat_{i}": ibis.ifelse(is_product & (category == c), 1, 0)
            for i, c in enumerate(categories)
        },
        **{
            f"_part_{name}": ibis.ifelse((hour >= low) & (hour < high), 1, 0)
            for name, low, high in DAYPARTS
        },
    )
    per = flags.group_by("profile_id").agg(
        _n=flags.count(),
        _first=flags.at.min(),
        _last=flags.at.max(),
        channels=flags.channel.nunique(),
        _digital=flags._digital.sum(),
        _mobile=flags._mobile.sum(),
        _orders=flags._order.sum(),
        _revenue=flags._revenue.mean(),
        _lines=flags._lines.mean(),
        _store_orders=flags._store_order.sum(),
        _contacts=flags._contact.sum(),
        _products=flags._product.sum(),
        _conditioned=flags._conditioned.sum(),
        _second_hand=flags._second_hand.sum(),
        **{f"_ch_{c}": flags[f"_ch_{c}"].sum() for c in (*CHANNELS, *MESSAGING)},
        **{f"_cat_{i}": flags[f"_cat_{i}"].sum() for i in range(len(categories))},
        **{f"_part_{name}": flags[f"_part_{name}"].sum() for name, _, _ in DAYPARTS},
    )
    # Sessions per person and channel (the journey layer's rule).
    numbered = sessions(own.select("profile_id", "channel", "at", "seq"))
    session_counts = numbered.group_by("profile_id").agg(_sessions=numbered.session_id.nunique())
    per = per.left_join(session_counts, "profile_id").drop("profile_id_right")
    # The log's end: the latest touchpoint of anyone in scope.
    # Whole epoch seconds on both sides: engines count a `delta` in seconds differently
    # (DuckDB counts the second boundaries crossed, Spark truncates the difference).
    end = per._last.epoch_seconds().floor().max().over(ibis.window())
    seconds = (end - per._first.epoch_seconds().floor()).cast("float64")
    months = ibis.greatest(seconds / MONTH_SECONDS, ibis.literal(1.0))
    per = per.mutate(_months=months)
    features = per.select(
        "profile_id",
        touchpoints=per._n.cast("float64"),
        **{f"share_{c}": _ratio(per[f"_ch_{c}"], per._n) for c in CHANNELS},
        share_messaging=_ratio(sum((per[f"_ch_{c}"] for c in MESSAGING), ibis.literal(0)), per._n),
        channels=per.channels.cast("float64"),
        orders_per_month=per._orders.cast("float64") / per._months,
        sessions_per_month=per._sessions.fill_null(0).cast("float64") / per._months,
        contacts_per_month=per._contacts.cast("float64") / per._months,
        mean_order_value=per._revenue.fill_null(0.0),
        items_per_order=per._lines.fill_null(0.0),
        store_order_share=_ratio(per._store_orders, per._orders),
        **{f"cat_{c}": _ratio(per[f"_cat_{i}"], per._products) for i, c in enumerate(categories)},
        **{name: _ratio(per[f"_part_{name}"], per._n) for name, _, _ in DAYPARTS},
        mobile_share=_ratio(per._mobile, per._digital),
        second_hand_share=_ratio(per._second_hand, per._conditioned),
    )
    features = features.left_join(_latest_nps(log), "profile_id").drop("profile_id_right")
    features = features.mutate(nps_answered=ibis.ifelse(features.nps.notnull(), 1.0, 0.0))
    features = features.left_join(_email_rates(log, scope), "profile_id").drop("profile_id_right")
    return features.select(
        "profile_id",
        *feature_names(categories)[:-2],
        email_open_rate=features.email_open_rate.fill_null(0.0),
        email_click_rate=features.email_click_rate.fill_null(0.0),
    )


def _latest_nps(log: AnalyticsLog) -> ir.Table:
    """profile_id, nps: each person's latest NPS answer (the survey's own rule, any time)."""
    answers = survey_answers(log, "nps", AnswerScope(), latest_only=False)
    rank = ibis.row_number().over(
        group_by="profile_id", order_by=[ibis.desc(answers.timestamp), ibis.desc(answers.seq)]
    )
    latest = answers.mutate(_rank=rank).filter(lambda t: t._rank == 0)
    return latest.select("profile_id", nps=latest.score.cast("float64"))


def _email_rates(log: AnalyticsLog, scope: JourneyScope) -> ir.Table:
    """profile_id, email_open_rate, email_click_rate: per e-mail delivered to them."""
    steps = ("Email Delivered", "Email Opened", "Email Link Clicked")
    mail = touchpoints(log, scope, steps=steps)
    counts = mail.group_by("profile_id").agg(
        _delivered=(mail.step == steps[0]).cast("int64").sum(),
        _opened=(mail.step == steps[1]).cast("int64").sum(),
        _clicked=(mail.step == steps[2]).cast("int64").sum(),
    )
    return counts.select(
        "profile_id",
        email_open_rate=ibis.least(_ratio(counts._opened, counts._delivered), 1.0),
        email_click_rate=ibis.least(_ratio(counts._clicked, counts._delivered), 1.0),
    )


def feature_frame(
    log: AnalyticsLog,
    scope: JourneyScope | None = None,
    *,
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """`persona_features` executed, sorted by profile id (one row per person)."""
    table = persona_features(log, scope, categories=categories)
    frame: pd.DataFrame = log.execute(table.order_by("profile_id"))
    return frame.reset_index(drop=True)


def scope_between(since: datetime | None, until: datetime | None) -> JourneyScope:
    return JourneyScope(since=since, until=until)
