"""Properties of the attribution models on random paths (Hypothesis): the models' engine
expressions run by DuckDB over a table of paths, as they run over the log's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from empreinte.analytics.journeys import markov
from empreinte.analytics.journeys.attribution import (
    HEURISTIC_MODELS,
    heuristic_credits,
    markov_transitions,
)
from empreinte.analytics.journeys.conversion_paths import PATH_COLUMNS

CHANNELS = ("email", "web", "app", "store", "phone")
GOAL_AT = datetime(2026, 5, 1, tzinfo=UTC)

_backend = ibis.duckdb.connect()

# A path: its touches (label, hours before the goal), whether it converted, its value.
Path = tuple[list[tuple[str, int]], bool, float]
paths_strategy = st.lists(
    st.tuples(
        st.lists(
            st.tuples(st.sampled_from(CHANNELS), st.integers(0, 24 * 30)), min_size=1, max_size=6
        ),
        st.booleans(),
        st.sampled_from([0.0, 10.0, 25.5, 100.0]),
    ),
    min_size=1,
    max_size=12,
)


def table(paths: list[Path]) -> ibis.Table:
    rows: list[dict[str, Any]] = []
    for k, (touches, converted, value) in enumerate(paths):
        ordered = sorted(touches, key=lambda t: -t[1])  # oldest first
        for position, (label, hours) in enumerate(ordered):
            rows.append(
                {
                    "profile_id": f"p{k}",
                    "k": 0,
                    "converted": converted,
                    "goal_at": GOAL_AT if converted else None,
                    "value": value if converted else 0.0,
                    "label": label,
                    "touch_at": GOAL_AT - timedelta(hours=hours, seconds=position),
                    "position": position,
                    "touches": len(ordered),
                }
            )
    schema = {
        "profile_id": "string",
        "k": "int64",
        "converted": "boolean",
        "goal_at": "timestamp('UTC')",
        "value": "float64",
        "label": "string",
        "touch_at": "timestamp('UTC')",
        "position": "int64",
        "touches": "int64",
    }
    return ibis.memtable(rows, schema=schema).select(*PATH_COLUMNS)


def totals(paths: list[Path]) -> tuple[int, float]:
    converted = [p for p in paths if p[1]]
    return len(converted), sum(p[2] for p in converted)


@settings(max_examples=25, deadline=None)
@given(paths_strategy, st.sampled_from([1.0, 24.0, 24.0 * 7]))
def test_every_model_shares_out_exactly_the_total(paths: list[Path], half_life_h: float) -> None:
    credits = heuristic_credits(
        _backend.execute, table(paths), timedelta(hours=half_life_h), HEURISTIC_MODELS
    )
    conversions, value = totals(paths)
    for model in HEURISTIC_MODELS:
        mine = [c for c in credits if c.model == model]
        assert sum(c.conversions for c in mine) == pytest.approx(conversions)
        assert sum(c.value for c in mine) == pytest.approx(value)
        assert all(c.conversions >= 0 for c in mine)
    transitions = markov_transitions(_backend.execute, table(paths), [1])[1]
    shares = markov.removal_effects(transitions).shares()
    if conversions:
        assert sum(
            markov.attributed(conversions, markov.removal_effects(transitions)).values()
        ) == (pytest.approx(conversions))
    assert all(0 <= s <= 1 for s in shares.values())


@settings(max_examples=20, deadline=None)
@given(paths_strategy)
def test_one_touch_paths_credit_first_and_last_alike(paths: list[Path]) -> None:
    single = [([touches[0]], converted, value) for touches, converted, value in paths]
    credits = heuristic_credits(
        _backend.execute, table(single), timedelta(days=7), HEURISTIC_MODELS
    )
    by_model = {
        model: {c.touch: (c.conversions, c.value) for c in credits if c.model == model}
        for model in HEURISTIC_MODELS
    }
    first, last = by_model["first_touch"], by_model["last_touch"]
    assert first.keys() == last.keys()
    for touch, figures in first.items():
        assert last[touch] == pytest.approx(figures)
        # and so does every other model: a lone touch takes it all
        assert by_model["position_based"][touch] == pytest.approx(figures)


@settings(max_examples=20, deadline=None)
@given(paths_strategy)
def test_a_channel_never_on_a_converting_path_gets_nothing(paths: list[Path]) -> None:
    # "sms" is only ever on paths that do not convert
    with_sms = [*paths, ([("sms", 3), ("web", 1)], False, 0.0)]
    credits = heuristic_credits(
        _backend.execute, table(with_sms), timedelta(days=7), HEURISTIC_MODELS
    )
    assert all(c.conversions == 0 and c.value == 0 for c in credits if c.touch == "sms")
    on_converting = {label for touches, converted, _ in paths if converted for label, _ in touches}
    assert {c.touch for c in credits if c.conversions > 0} <= on_converting
