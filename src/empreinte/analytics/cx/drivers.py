"""Key drivers: which parts of the journey move the score.

For each counted answer, the engine measures the respondent's journey in the `window` before
they answered (contacts with the service centre, payment failures, delivery delay, channels
used, returns…): one row per answer, one column per `JourneyFeature`. The scores are then
explained by those features with the Shapley decomposition of R² (driver_importance.py),
which gives each driver its share of the explained variance, its direction, its effect in
score points and a bootstrap interval. Linking answers to behaviour profiles people, so only
people who allow analytics are read (consented.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import orjson
import pandas as pd

from empreinte.analytics.cx.answers import ALL_ANSWERS, AnswerScope, check_survey, survey_answers
from empreinte.analytics.cx.consented import only_consenting
from empreinte.analytics.cx.driver_importance import DriverReport, driver_importance
from empreinte.analytics.json import JsonDoc
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

Measure = Literal["count", "max", "distinct"]


@dataclass(frozen=True)
class JourneyFeature:
    """One measured part of the journey before an answer.

    `count`: how many of `events` (those whose property `where[0]` equals `where[1]`, when
    given); `max`: the largest numeric `property` of `events` (0 when none), times `scale`;
    `distinct`: how many different values of the event column `property` (e.g. channel)
    among `events` (every event when `events` is empty).
    """

    name: str
    events: tuple[str, ...] = ()
    measure: Measure = "count"
    property: str | None = None
    where: tuple[str, Any] | None = None
    scale: float = 1.0


DEFAULT_FEATURES: tuple[JourneyFeature, ...] = (
    JourneyFeature("service_contacts", ("Call Started", "Chat Started")),
    JourneyFeature("unresolved_contacts", ("Call Ended", "Chat Ended"), where=("resolved", False)),
    JourneyFeature("longest_wait_min", ("Call Started",), "max", "queue_wait_s", scale=1 / 60),
    JourneyFeature("payment_failures", ("Payment Failed",)),
    JourneyFeature("delivery_delay_days", ("Order Delivered",), "max", "delay_days"),
    JourneyFeature("returns", ("Order Refunded",)),
    JourneyFeature("orders", ("Order Completed",)),
    JourneyFeature("channels_used", (), "distinct", "channel"),
)


@dataclass(frozen=True)
class KeyDriverReport:
    survey: str
    window: timedelta
    drivers: DriverReport
    without_consent: int  # answers of people who do not allow analytics, not read

    def to_rows(self) -> list[dict[str, object]]:
        return self.drivers.to_rows()

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows())


def _measure(log: AnalyticsLog, joined: ir.Table, feature: JourneyFeature) -> ir.NumericValue:
    hit = joined.event.isin(feature.events) if feature.events else joined.event.notnull()
    if feature.measure == "count":
        if feature.where is not None:
            key, value = feature.where
            hit &= log.json_at(joined.properties, key) == orjson.dumps(value).decode()
        return ibis.ifelse(hit, 1, 0).sum()
    if feature.property is None:
        raise AnalyticsError(f"journey feature {feature.name!r} needs a property")
    if feature.measure == "max":
        value = JsonDoc(log, joined.properties).number(feature.property) * feature.scale
        return ibis.ifelse(hit, value, None).max().fill_null(0)
    return ibis.ifelse(hit, joined[feature.property], None).nunique()


def journey_features(
    log: AnalyticsLog,
    answers: ir.Table,
    features: tuple[JourneyFeature, ...],
    window: timedelta,
) -> ir.Table:
    """One row per answer (`seq`, `score`) with each feature measured over the respondent's
    events in the `window` before the answer."""
    events = log.events()
    names = {name for f in features for name in f.events}
    if all(f.events for f in features):
        events = events.filter(events.event.isin(sorted(names)))
    owned = log.with_owner(
        events.select("seq", "identifiers", "timestamp", "event", "channel", "properties")
    ).select(
        owner="profile_id",
        at="timestamp",
        event="event",
        channel="channel",
        properties="properties",
    )
    mine = answers.select("seq", "profile_id", "timestamp", "score")
    joined = mine.left_join(
        owned,
        [
            mine.profile_id == owned.owner,
            owned.at < mine.timestamp,
            owned.at >= mine.timestamp - window,
        ],
    )
    return joined.group_by(["seq", "score"]).agg(
        **{feature.name: _measure(log, joined, feature) for feature in features}
    )


def driver_report(
    log: AnalyticsLog,
    survey: str = "nps",
    *,
    scope: AnswerScope = ALL_ANSWERS,
    window: timedelta = timedelta(days=30),
    features: tuple[JourneyFeature, ...] = DEFAULT_FEATURES,
    bootstrap: int = 200,
    seed: int = 0,
    min_n: int | None = None,
) -> KeyDriverReport:
    """The key drivers of `survey` scores in `scope`: each journey feature's share of the
    explained variance, direction, effect in points and 95 % bootstrap interval."""
    kind = check_survey(survey)
    if window <= timedelta(0):
        raise AnalyticsError("the journey window must be positive")
    if not features:
        raise AnalyticsError("key drivers need at least one journey feature")
    settings = log.settings.cx
    answers = survey_answers(log, kind, scope, latest_only=settings.answers == "latest")
    total = int(log.execute(answers.count()))
    answers = only_consenting(log, answers)
    frame = log.execute(journey_features(log, answers, features, window).order_by("seq"))
    names = [f.name for f in features]
    report = driver_importance(
        frame[names].to_numpy(dtype=float),
        frame["score"].to_numpy(dtype=float),
        names,
        bootstrap=bootstrap,
        seed=seed,
        min_n=settings.min_n if min_n is None else min_n,
    )
    return KeyDriverReport(kind, window, report, total - len(frame))
