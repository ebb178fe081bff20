"""Attribution: which channels (or campaigns) deserve the credit for the conversions.

    report = attribution_report(log, PathRules(goal="Order Completed", value="revenue"))
    report.to_pandas()   # one row per channel, every model's conversions and value side by side

The paths come from conversion_paths.py. The heuristic models give each converting path's
conversion (1) and value to its touches by weights that sum to 1, computed in the engine with
window functions over the touches; only one row per label and model comes back:

- `first_touch`, `last_touch`: all to the first, the last touch;
- `linear`: 1/n to each of the n touches;
- `time_decay`: proportional to 2^(−age / half-life), age = time from the touch to the
  conversion (half-life 7 days by default);
- `position_based`: 40 % to the first, 40 % to the last, 20 % shared by the others; one touch
  takes 100 %, two take 50 % each.

`markov_<k>` is the Markov-chain removal effect of order k (markov.py): the transitions
between states (the last k touches) of all paths, converting or not, are counted in the
engine; the chain is solved in Python with scipy.sparse over those counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.journeys import markov
from empreinte.analytics.journeys.conversion_paths import PathRules, path_tables
from empreinte.analytics.journeys.touchpoints import JourneyScope
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

HEURISTIC_MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based")
DEFAULT_MARKOV_ORDERS = (1, 2)
MAX_MARKOV_ORDER = 4
DEFAULT_HALF_LIFE = timedelta(days=7)

# How a state of the chain travels from the engine: its touches joined by a separator no
# channel or campaign name holds, and the two ends of a path as markers.
_SEP = "\x1f"
_CONVERSION = "\x1e+"
_NULL = "\x1e-"

Execute = Callable[[ir.Expr], Any]


def markov_model(order: int) -> str:
    return f"markov_{order}"


def model_names(
    models: Sequence[str] | str, orders: Sequence[int] = DEFAULT_MARKOV_ORDERS
) -> list[str]:
    """The models asked for: names, or "all" (the heuristics and Markov of `orders`),
    "heuristic" or "markov"."""
    names = [models] if isinstance(models, str) else list(models)
    chosen: list[str] = []
    for name in names:
        if name == "all":
            expanded = [*HEURISTIC_MODELS, *(markov_model(o) for o in orders)]
        elif name == "heuristic":
            expanded = list(HEURISTIC_MODELS)
        elif name == "markov":
            expanded = [markov_model(o) for o in orders]
        else:
            expanded = [name]
        for model in expanded:
            if model not in chosen:
                chosen.append(model)
    if not chosen:
        raise AnalyticsError("attribution: no model asked for")
    for model in chosen:
        _check_model(model)
    return chosen


def _check_model(model: str) -> None:
    if model in HEURISTIC_MODELS:
        return
    order = _markov_order(model)
    if order is None:
        known = ", ".join([*HEURISTIC_MODELS, "markov_<order>", "all"])
        raise AnalyticsError(f"attribution: unknown model {model!r}: use {known}")
    if not 1 <= order <= MAX_MARKOV_ORDER:
        raise AnalyticsError(
            f"attribution: Markov order {order} out of range: 1 to {MAX_MARKOV_ORDER}"
        )


def _markov_order(model: str) -> int | None:
    prefix, _, order = model.partition("_")
    if prefix != "markov" or not order.isdigit():
        return None
    return int(order)


# -- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credit:
    """What one model gives one channel (or campaign)."""

    touch: str
    model: str
    conversions: float
    value: float


@dataclass(frozen=True)
class AttributionReport:
    """Attributed conversions and value per channel (or campaign) and model."""

    goal: str
    value_property: str | None
    by: str
    lookback: timedelta
    half_life: timedelta
    models: tuple[str, ...]
    conversions: int
    """Conversions with at least one touch: what every model shares out."""
    value: float
    non_converting: int
    """Paths that did not convert (Markov models read them)."""
    without_touch: int
    """Conversions with no touch in their lookback (only when the goal is not a touch)."""
    credits: tuple[Credit, ...]
    removal_effects: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per Markov model: each touch's removal effect."""
    conversion_probability: dict[str, float] = field(default_factory=dict)
    """Per Markov model: the chain's probability of conversion from the start."""

    @property
    def touches(self) -> list[str]:
        return sorted({credit.touch for credit in self.credits})

    def credit(self, model: str, touch: str) -> Credit:
        for credit in self.credits:
            if credit.model == model and credit.touch == touch:
                return credit
        return Credit(touch, model, 0.0, 0.0)

    def to_rows(self) -> list[dict[str, Any]]:
        """One row per touch: `<model>_conversions` and `<model>_value` for every model,
        side by side (and `<model>_removal_effect` for the Markov models)."""
        rows = []
        for touch in self.touches:
            row: dict[str, Any] = {self.by: touch}
            for model in self.models:
                credit = self.credit(model, touch)
                row[f"{model}_conversions"] = credit.conversions
                row[f"{model}_value"] = credit.value
            for model, effects in self.removal_effects.items():
                row[f"{model}_removal_effect"] = effects.get(touch, 0.0)
            rows.append(row)
        return rows

    def to_long_rows(self) -> list[dict[str, Any]]:
        """One row per touch and model (for charts and parity)."""
        return [
            {self.by: c.touch, "model": c.model, "conversions": c.conversions, "value": c.value}
            for c in sorted(self.credits, key=lambda c: (c.touch, self.models.index(c.model)))
        ]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows())


def attribution_report(
    log: AnalyticsLog,
    rules: PathRules | None = None,
    scope: JourneyScope | None = None,
    *,
    models: Sequence[str] | str = "all",
    markov_orders: Sequence[int] = DEFAULT_MARKOV_ORDERS,
    half_life: timedelta = DEFAULT_HALF_LIFE,
) -> AttributionReport:
    """Every model's attributed conversions and value per channel (or campaign)."""
    rules = rules or PathRules()
    if half_life <= timedelta(0):
        raise AnalyticsError(f"attribution: the half-life must be positive, not {half_life}")
    chosen = model_names(models, markov_orders)
    tables = path_tables(log, rules, scope)
    # Three queries whatever the models: the totals, the heuristics, every Markov order;
    # the paths' touches (most of the work) computed once for the three.
    touches = log.materialize(tables.touches)
    totals = _totals(log.execute, touches, tables.conversions)
    credits: list[Credit] = []
    heuristic = [m for m in chosen if m in HEURISTIC_MODELS]
    if heuristic:
        credits += heuristic_credits(log.execute, touches, half_life, heuristic)
    orders = [o for o in (_markov_order(m) for m in chosen) if o is not None]
    effects: dict[str, dict[str, float]] = {}
    probabilities: dict[str, float] = {}
    for order, transitions in markov_transitions(log.execute, touches, orders).items():
        model = markov_model(order)
        result = markov.removal_effects(transitions)
        effects[model] = result.effects
        probabilities[model] = result.conversion_probability
        credits += [
            Credit(touch, model, totals.conversions * share, totals.value * share)
            for touch, share in sorted(result.shares().items())
        ]
    return AttributionReport(
        goal=rules.goal,
        value_property=rules.value,
        by=rules.by,
        lookback=rules.lookback,
        half_life=half_life,
        models=tuple(chosen),
        conversions=totals.conversions,
        value=totals.value,
        non_converting=totals.non_converting,
        without_touch=totals.without_touch,
        credits=tuple(credits),
        removal_effects=effects,
        conversion_probability=probabilities,
    )


@dataclass(frozen=True)
class _Totals:
    conversions: int
    value: float
    non_converting: int
    without_touch: int


def _totals(execute: Execute, touches: ir.Table, conversions: ir.Table) -> _Totals:
    paths = touches.filter(touches.position == 0)
    counts = paths.aggregate(
        converted=paths.converted.cast("int64").sum().fill_null(0),
        value=ibis.ifelse(paths.converted, paths.value, 0.0).sum().fill_null(0.0),
        paths=paths.count(),
    )
    every = conversions.aggregate(conversions=conversions.count())
    row = execute(counts.cross_join(every)).iloc[0]
    converted = int(row["converted"])
    return _Totals(
        converted,
        float(row["value"]),
        int(row["paths"]) - converted,
        int(row["conversions"]) - converted,
    )


# -- heuristic models, in the engine ------------------------------------------------------------


def heuristic_weights(touches: ir.Table, half_life: timedelta) -> ir.Table:
    """The converting paths' touches with each heuristic model's weight (they sum to 1 over a
    path for every model)."""
    converting = touches.filter(touches.converted)
    last = converting.touches - 1
    path = ibis.window(group_by=[converting.profile_id, converting.k])
    # In microseconds: both engines count them exactly (whole seconds are rounded apart).
    age = converting.goal_at.delta(converting.touch_at, unit="microsecond").cast("float64") / 1e6
    # Ages from the path's latest touch, so that old paths and short half-lives cannot
    # underflow every weight to 0: the ratio is the same.
    relative = age - age.min().over(path)
    decay = (relative * (-math.log(2) / half_life.total_seconds())).exp()
    weighted = converting.mutate(_decay=decay)
    n = weighted.touches
    pos = weighted.position
    middle = 0.2 / (n - 2).cast("float64")
    return weighted.mutate(
        first_touch=ibis.ifelse(pos == 0, 1.0, 0.0),
        last_touch=ibis.ifelse(pos == last, 1.0, 0.0),
        linear=1.0 / n.cast("float64"),
        time_decay=weighted._decay / weighted._decay.sum().over(path),
        position_based=ibis.cases(
            (n == 1, 1.0),
            (n == 2, 0.5),
            ((pos == 0) | (pos == last), 0.4),
            else_=middle,
        ),
    ).drop("_decay")


def heuristic_credits(
    execute: Execute, touches: ir.Table, half_life: timedelta, models: Sequence[str]
) -> list[Credit]:
    weights = heuristic_weights(touches, half_life)
    sums: dict[str, ir.Value] = {}
    for model in models:
        sums[f"{model}__conversions"] = weights[model].sum()
        sums[f"{model}__value"] = (weights[model] * weights.value).sum()
    frame: pd.DataFrame = execute(weights.group_by("label").agg(**sums).order_by("label"))
    credits = []
    for record in frame.to_dict("records"):
        for model in models:
            credits.append(
                Credit(
                    str(record["label"]),
                    model,
                    float(record[f"{model}__conversions"]),
                    float(record[f"{model}__value"]),
                )
            )
    return credits


# -- Markov transitions, counted in the engine -------------------------------------------------


def transition_table(touches: ir.Table, order: int) -> ir.Table:
    """(`order`, `source`, `target`, `n`) of the chain of `order`: states are the last
    `order` labels joined by a separator, "" the start, two markers the ends."""
    if not 1 <= order <= MAX_MARKOV_ORDER:
        raise AnalyticsError(
            f"attribution: Markov order {order} out of range: 1 to {MAX_MARKOV_ORDER}"
        )
    path = ibis.window(group_by=[touches.profile_id, touches.k], order_by=touches.position)
    lags = {f"_lag{j}": touches.label.lag(j).over(path) for j in range(1, order)}
    t = touches.mutate(**lags) if lags else touches
    state: ir.StringValue = t.label
    for j in range(1, order):
        previous = t[f"_lag{j}"]
        state = ibis.ifelse(previous.isnull(), state, previous.concat(_SEP, state))
    t = t.mutate(_state=state)
    again = ibis.window(group_by=[t.profile_id, t.k], order_by=t.position)
    t = t.mutate(_source=t._state.lag().over(again).fill_null(""))
    steps = t.select(source=t._source, target=t._state)
    ends = t.filter(t.position == t.touches - 1)
    ends = ends.select(source=ends._state, target=ibis.ifelse(ends.converted, _CONVERSION, _NULL))
    both = steps.union(ends, distinct=False)
    counts = both.group_by(["source", "target"]).agg(n=both.count())
    return counts.mutate(order=ibis.literal(order, "int64"))


def markov_transitions(
    execute: Execute, touches: ir.Table, orders: Sequence[int]
) -> dict[int, list[markov.Transition]]:
    """The transition counts of the chain of each of `orders` (one query), for
    markov.removal_effects."""
    if not orders:
        return {}
    tables = [transition_table(touches, order) for order in orders]
    union = tables[0]
    for table in tables[1:]:
        union = union.union(table, distinct=False)
    frame: pd.DataFrame = execute(union)
    found: dict[int, list[markov.Transition]] = {order: [] for order in orders}
    for row in frame.itertuples(index=False):
        found[int(row.order)].append(
            (_state(str(row.source)), _target(str(row.target)), float(row.n))
        )
    return found


def _state(text: str) -> markov.State:
    return tuple(text.split(_SEP)) if text else markov.START


def _target(text: str) -> markov.State | str:
    if text == _CONVERSION:
        return markov.CONVERSION
    if text == _NULL:
        return markov.NULL
    return _state(text)
