"""A/B tests read from the log: who saw which variant, and who reached the goal in time.

Exposure is Segment's `Experiment Viewed` {experiment, variant}. A person is assigned to the
variant of their *first* exposure; people who saw several variants are set aside (counted in
`crossed_over`: their behaviour cannot be attributed to one variant). A person converted when a
goal event (e.g. `Order Completed`) of theirs falls within `window` after that first exposure.
People whose window has not closed yet (exposed less than `window` before the end of the
observation) are left out until it has, so late exposures do not drag the rates down.
Only people who allow analytics are read (see consented.py). The counts are computed in the
engine; the statistics are experiments.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.cx.answers import ALL_ANSWERS, AnswerScope, in_window
from empreinte.analytics.cx.consented import only_consenting
from empreinte.analytics.cx.experiments import ExperimentResult, VariantCounts, analyze_experiment
from empreinte.analytics.json import JsonDoc
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

EXPOSURE_EVENT = "Experiment Viewed"
# Our names first, then Segment's A/B testing spec (names before numeric ids).
EXPERIMENT_KEYS = ("experiment", "experiment_name", "experiment_id")
VARIANT_KEYS = ("variant", "variation_name", "variation_id")


def _first_text(properties: JsonDoc, keys: tuple[str, ...]) -> ir.StringValue:
    return ibis.coalesce(*(properties.text(key) for key in keys))


@dataclass(frozen=True)
class ExperimentReport:
    """An experiment's analysis and how its population was formed."""

    experiment: str
    goal: str
    window: timedelta
    result: ExperimentResult
    crossed_over: int  # people exposed to more than one variant, set aside
    window_open: int  # people whose window has not closed yet, not counted yet
    without_consent: int  # exposed people who do not allow analytics, not read

    def to_rows(self) -> list[dict[str, object]]:
        return self.result.to_rows()

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows())

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "goal": self.goal,
            "window_days": self.window / timedelta(days=1),
            "control": self.result.control,
            "variants": self.result.to_rows(),
            "srm": {
                "p_value": self.result.srm.p_value,
                "mismatch": self.result.srm.mismatch,
            },
            "verdict": {"en": self.result.verdict("en"), "fr": self.result.verdict("fr")},
            "crossed_over": self.crossed_over,
            "window_open": self.window_open,
            "without_consent": self.without_consent,
        }


@dataclass(frozen=True)
class ExperimentSeen:
    """An experiment found in the log: its variants and when its exposures were seen."""

    name: str
    variants: tuple[str, ...]
    exposures: int  # `Experiment Viewed` events (a person seeing it twice counts twice)
    first_seen: datetime
    last_seen: datetime


def experiments_seen(log: AnalyticsLog, scope: AnswerScope = ALL_ANSWERS) -> list[ExperimentSeen]:
    """Every experiment with an exposure in `scope`'s window, the most recently seen first
    (names and variants read as `experiment_report` reads them)."""
    events = log.events()
    views = in_window(events.filter(events.event == EXPOSURE_EVENT), scope)
    doc = JsonDoc(log, views.properties)
    views = views.select(
        "timestamp",
        experiment=_first_text(doc, EXPERIMENT_KEYS),
        variant=_first_text(doc, VARIANT_KEYS),
    )
    views = views.filter(views.experiment.notnull())
    frame = log.execute(
        views.group_by(["experiment", "variant"]).agg(
            n=views.count(), first=views.timestamp.min(), last=views.timestamp.max()
        )
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for record in frame.to_dict("records"):
        found.setdefault(str(record["experiment"]), []).append(record)
    seen = [
        ExperimentSeen(
            name=name,
            variants=tuple(sorted(str(r["variant"]) for r in rows if r["variant"] is not None)),
            exposures=sum(int(r["n"]) for r in rows),
            first_seen=min(r["first"] for r in rows).to_pydatetime(),
            last_seen=max(r["last"] for r in rows).to_pydatetime(),
        )
        for name, rows in found.items()
    ]
    return sorted(seen, key=lambda e: (e.last_seen, e.name), reverse=True)


def experiment_report(
    log: AnalyticsLog,
    experiment: str,
    *,
    goal: str = "Order Completed",
    window: timedelta = timedelta(days=7),
    control: str | None = None,
    scope: AnswerScope = ALL_ANSWERS,
    intended_split: dict[str, float] | None = None,
    mde: float = 0.01,
    now: datetime | None = None,
) -> ExperimentReport:
    """Conversion per variant of `experiment` to `goal` within `window` after first exposure,
    with the frequentist and Bayesian comparisons of experiments.py. `control` defaults to
    the variant named "control" (else the first name in alphabetical order). Exposures are
    read within `scope`'s window; `now` (default: the end of that window, else the current
    time) says which windows have closed."""
    if window <= timedelta(0):
        raise AnalyticsError("the conversion window must be positive")
    end = now or scope.until or datetime.now(UTC)
    # Built from the timedelta: a window of 1.5 days mixes units ibis cannot infer by itself.
    span = ibis.interval(window)
    events = log.events()
    views = in_window(events.filter(events.event == EXPOSURE_EVENT), scope)
    views = views.select(
        "seq",
        "identifiers",
        "timestamp",
        experiment=_first_text(JsonDoc(log, views.properties), EXPERIMENT_KEYS),
        variant=_first_text(JsonDoc(log, views.properties), VARIANT_KEYS),
    )
    views = log.with_owner(views.filter(views.experiment == experiment))
    people = views.group_by("profile_id").agg(
        first=views.timestamp.min(),
        variant=views.variant.argmin(views.timestamp),
        variants=views.variant.nunique(),
    )
    totals = log.execute(
        people.aggregate(
            exposed=people.count(),
            crossed=ibis.ifelse(people.variants > 1, 1, 0).sum(),
            open_=ibis.ifelse((people.variants == 1) & (people.first + span > end), 1, 0).sum(),
        )
    ).iloc[0]
    if int(totals["exposed"]) == 0:
        raise AnalyticsError(
            f"no {EXPOSURE_EVENT!r} events for experiment {experiment!r} in this window"
        )
    eligible = people.filter((people.variants == 1) & (people.first + span <= end))
    consenting = only_consenting(log, eligible)
    goals = events.filter(events.event == goal).select("seq", "identifiers", "timestamp")
    goals = log.with_owner(goals).select(goal_profile="profile_id", goal_at="timestamp")
    reached = consenting.left_join(
        goals,
        [
            consenting.profile_id == goals.goal_profile,
            goals.goal_at > consenting.first,
            goals.goal_at <= consenting.first + span,
        ],
    )
    per_person = reached.group_by(["profile_id", "variant"]).agg(
        converted=reached.goal_at.notnull().any()
    )
    counts = log.execute(
        per_person.group_by("variant").agg(
            exposed=per_person.count(),
            converted=ibis.ifelse(per_person.converted, 1, 0).sum(),
        )
    )
    read = int(counts["exposed"].sum()) if len(counts) else 0
    variants = [
        VariantCounts(str(r["variant"]), int(r["exposed"]), int(r["converted"]))
        for r in counts.sort_values("variant").to_dict("records")
    ]
    if len(variants) < 2:
        still_open = int(totals["open_"])
        waiting = f" ({still_open} people are still within their window)" if still_open else ""
        raise AnalyticsError(
            f"experiment {experiment!r} has {len(variants)} variant(s) with people to read"
            f"{waiting}; a test needs a control and at least one treatment"
        )
    names = [v.name for v in variants]
    chosen = control or ("control" if "control" in names else names[0])
    result = analyze_experiment(variants, chosen, intended_split=intended_split, mde=mde)
    exposed, crossed, still_open = (int(totals[k]) for k in ("exposed", "crossed", "open_"))
    return ExperimentReport(
        experiment=experiment,
        goal=goal,
        window=window,
        result=result,
        crossed_over=crossed,
        window_open=still_open,
        without_consent=exposed - crossed - still_open - read,
    )
