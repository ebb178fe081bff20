"""The Markov-chain removal effect (markov.py) against a published worked example, and against
two independent methods: a Monte-Carlo simulation of the chain and the sum over every walk."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from empreinte.analytics.journeys import markov
from empreinte.analytics.journeys.markov import (
    CONVERSION,
    NULL,
    START,
    attributed,
    path_transitions,
    removal_effects,
)
from empreinte.errors import AnalyticsError

# Sergey Bryl', "Marketing Multi-Channel Attribution model with R (part 1: Markov chains
# concept)", AnalyzeCore, 2016-08-03, http://analyzecore.com/2016/08/03/attribution-model-r-part-1/
# (the example the ChannelAttribution package's users know): three paths,
# c1 > c2 > c3 converts, c1 does not, c2 > c3 does not. Published: P(conversion) = 1/3,
# removal effects c1 0.5, c2 1, c3 1, attributed conversions c1 0.2, c2 0.4, c3 0.4.
BRYL = [(["c1", "c2", "c3"], True, 1.0), (["c1"], False, 1.0), (["c2", "c3"], False, 1.0)]


def test_the_published_example() -> None:
    result = removal_effects(path_transitions(BRYL))
    assert result.conversion_probability == pytest.approx(1 / 3)
    assert result.effects == pytest.approx({"c1": 0.5, "c2": 1.0, "c3": 1.0})
    assert attributed(1, result) == pytest.approx({"c1": 0.2, "c2": 0.4, "c3": 0.4})


def test_a_worked_example_by_hand() -> None:
    """a > b converts twice, b once, a does not: P(start→a) = 3/4, P(a→b) = 2/3,
    P(b→conv) = 1. P(conv) = 3/4·2/3 + 1/4 = 3/4; without a: 1/4 (RE 2/3); without b: 0."""
    paths = [(["a", "b"], True, 2.0), (["b"], True, 1.0), (["a"], False, 1.0)]
    result = removal_effects(path_transitions(paths))
    assert result.conversion_probability == pytest.approx(0.75)
    assert result.effects == pytest.approx({"a": 2 / 3, "b": 1.0})
    assert attributed(3, result) == pytest.approx({"a": 3 * 0.4, "b": 3 * 0.6})


def test_second_order_states_are_pairs() -> None:
    """Order 2 on the published example: states (c1), (c1,c2), (c2,c3), (c2). START → (c1)
    2/3 → (c1,c2) 1/2 → (c2,c3) → conversion 1/2, and START → (c2) 1/3 → (c2,c3): 1/3 again;
    without c1 only the second route is left (1/6, RE 0.5)."""
    transitions = path_transitions(BRYL, order=2)
    states = {source for source, _, _ in transitions}
    assert states == {START, ("c1",), ("c1", "c2"), ("c2", "c3"), ("c2",)}
    result = removal_effects(transitions)
    assert result.conversion_probability == pytest.approx(1 / 3)
    assert result.effects == pytest.approx({"c1": 0.5, "c2": 1.0, "c3": 1.0})


def test_no_conversion_gives_no_effect() -> None:
    result = removal_effects(path_transitions([(["a", "b"], False, 3.0)]))
    assert result.conversion_probability == 0
    assert result.effects == {"a": 0.0, "b": 0.0}
    assert attributed(0, result) == {"a": 0.0, "b": 0.0}


def test_bad_transitions_are_refused() -> None:
    with pytest.raises(AnalyticsError, match="negative"):
        removal_effects([(START, ("a",), -1.0)])
    with pytest.raises(AnalyticsError, match="absorbing"):
        removal_effects([(("a",), "elsewhere", 1.0)])
    with pytest.raises(AnalyticsError, match="order"):
        path_transitions(BRYL, order=0)


# -- independent checks ----------------------------------------------------------------------

LOOPY = [
    (["a", "b", "a", "c"], True, 5.0),
    (["b", "c"], True, 3.0),
    (["c", "a"], False, 4.0),
    (["a", "b"], False, 6.0),
    (["b", "a", "b"], True, 2.0),
    (["c"], False, 7.0),
    (["a", "c", "b", "c"], True, 1.0),
]


def _chain(transitions: Sequence[markov.Transition]) -> tuple[list[object], np.ndarray]:
    """States (START first, then CONVERSION, NULL, the others) and the dense probabilities."""
    states: list[object] = [START, CONVERSION, NULL]
    for source, target, _ in transitions:
        for state in (source, target):
            if state not in states:
                states.append(state)
    p = np.zeros((len(states), len(states)))
    for source, target, count in transitions:
        p[states.index(source), states.index(target)] += count
    p[1, 1] = p[2, 2] = 1.0
    p /= p.sum(axis=1, keepdims=True)
    return states, p


def _removed(states: list[object], p: np.ndarray, channel: str) -> np.ndarray:
    """Entering a state that holds `channel` goes to NULL instead."""
    q = p.copy()
    for j, state in enumerate(states):
        if isinstance(state, tuple) and channel in state:
            q[:, 2] += q[:, j]
            q[:, j] = 0.0
    return q


def _by_walks(p: np.ndarray) -> float:
    """P(conversion) as the sum over walks of every length: the mass in CONVERSION after
    enough steps of the chain (the walks of the example end in a few dozen steps)."""
    mass = np.zeros(len(p))
    mass[0] = 1.0
    for _ in range(2000):
        mass = mass @ p
    return float(mass[1])


def _simulated(p: np.ndarray, walks: int, rng: np.random.Generator) -> float:
    """P(conversion) by simulating `walks` walks of the chain, all at once."""
    cumulative = np.cumsum(p, axis=1)
    at = np.zeros(walks, dtype=np.int64)
    for _ in range(500):
        moving = at > 2
        moving |= at == 0
        if not moving.any():
            break
        draws = rng.random(int(moving.sum()))
        rows = cumulative[at[moving]]
        at[moving] = np.minimum((rows < draws[:, None]).sum(axis=1), len(p) - 1)
    return float(np.mean(at == 1))


@pytest.mark.parametrize("order", [1, 2, 3])
def test_removal_effects_agree_with_summing_walks(order: int) -> None:
    transitions = path_transitions(LOOPY, order)
    result = removal_effects(transitions)
    states, p = _chain(transitions)
    base = _by_walks(p)
    assert result.conversion_probability == pytest.approx(base, abs=1e-9)
    for channel in ("a", "b", "c"):
        expected = 1 - _by_walks(_removed(states, p, channel)) / base
        assert result.effects[channel] == pytest.approx(expected, abs=1e-9)


def test_removal_effects_agree_with_a_simulation() -> None:
    transitions = path_transitions(LOOPY, 1)
    result = removal_effects(transitions)
    states, p = _chain(transitions)
    rng = np.random.default_rng(12)
    walks = 200_000
    base = _simulated(p, walks, rng)
    # 4 standard errors of a proportion over `walks` walks
    tolerance = 4 * np.sqrt(base * (1 - base) / walks)
    assert result.conversion_probability == pytest.approx(base, abs=tolerance)
    for channel in ("a", "b", "c"):
        without = _simulated(_removed(states, p, channel), walks, rng)
        expected = 1 - without / base
        # the ratio's error: both proportions' errors, relative to the base
        spread = 4 * np.sqrt(without * (1 - without) / walks) / base + tolerance / base
        assert result.effects[channel] == pytest.approx(expected, abs=spread + 1e-3)
