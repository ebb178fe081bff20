"""Markov-chain attribution: the removal effect of each channel, from transition counts.

A conversion path is a walk START → s1 → s2 → … → CONVERSION (or NULL, a path that did not
convert). The states of a chain of order k are the tuples of the last k touches (shorter at
the start of a path: ("a",), then ("a", "b"), …). From the counts of the observed transitions
the chain's probabilities are P(i → j) = n(i → j) / Σ_j' n(i → j').

The probability of converting from START is the absorbing probability of CONVERSION: with Q
the transient-to-transient probabilities and r the transient-to-CONVERSION ones, the vector x
of conversion probabilities solves (I − Q) x = r, a sparse linear system (scipy.sparse), not
a simulation. Removing a channel c sends every walk that would enter a state containing c to
NULL: the same system restricted to the states without c. The removal effect of c is
RE(c) = 1 − P(conversion without c) / P(conversion); the conversions (and value) attributed to
c are the total × RE(c) / Σ_c' RE(c'). docs/attribution.md works the maths through an example.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from empreinte.errors import AnalyticsError

State = tuple[str, ...]
START: State = ()
"""The state every path leaves from (the empty tuple: no touch yet)."""
CONVERSION = "conversion"
NULL = "null"
"""The two absorbing states, the ends of a path."""

Transition = tuple[State, State | str, float]
"""(from state, to state or CONVERSION/NULL, count)."""


@dataclass(frozen=True)
class RemovalEffects:
    """A chain's probability of conversion and each channel's removal effect."""

    conversion_probability: float
    effects: dict[str, float]
    states: int

    def shares(self) -> dict[str, float]:
        """Each channel's share of the sum of removal effects (0 for all when none)."""
        total = sum(self.effects.values())
        if total <= 0:
            return {channel: 0.0 for channel in self.effects}
        return {channel: effect / total for channel, effect in self.effects.items()}


def removal_effects(transitions: Iterable[Transition]) -> RemovalEffects:
    """The removal effect of every channel seen in `transitions` (counts of observed
    transitions, any order of chain: a state is a tuple of channels)."""
    rows: list[Transition] = list(transitions)
    for source, target, count in rows:
        if count < 0:
            raise AnalyticsError(f"markov: negative transition count {count} from {source}")
        if isinstance(target, str) and target not in (CONVERSION, NULL):
            raise AnalyticsError(f"markov: unknown absorbing state {target!r}")
    transient: dict[State, int] = {START: 0}
    for source, target, _ in rows:
        for state in (source, target):
            if isinstance(state, tuple) and state not in transient:
                transient[state] = len(transient)
    channels = sorted({channel for state in transient for channel in state})
    n = len(transient)
    src = np.fromiter((transient[s] for s, _, _ in rows), dtype=np.int64, count=len(rows))
    counts = np.fromiter((c for _, _, c in rows), dtype=np.float64, count=len(rows))
    to_state = np.array([isinstance(t, tuple) for _, t, _ in rows], dtype=bool)
    to_conversion = np.array([t == CONVERSION for _, t, _ in rows], dtype=bool)
    dst = np.fromiter(
        (transient[t] if isinstance(t, tuple) else -1 for _, t, _ in rows),
        dtype=np.int64,
        count=len(rows),
    )
    out = np.bincount(src, weights=counts, minlength=n)
    probability = np.divide(counts, out[src], out=np.zeros_like(counts), where=out[src] > 0)
    q = sp.csr_matrix(
        (probability[to_state], (src[to_state], dst[to_state])), shape=(n, n), dtype=np.float64
    )
    r = np.bincount(src[to_conversion], weights=probability[to_conversion], minlength=n)
    base = _conversion_from_start(q, r, np.ones(n, dtype=bool))
    membership = _membership(list(transient), channels)
    effects: dict[str, float] = {}
    for column, channel in enumerate(channels):
        without = _conversion_from_start(q, r, ~membership[:, column])
        effects[channel] = 0.0 if base <= 0 else max(0.0, 1.0 - without / base)
    return RemovalEffects(base, effects, n)


def _membership(states: Sequence[State], channels: Sequence[str]) -> np.ndarray:
    """A boolean matrix: state i contains channel j."""
    index = {channel: j for j, channel in enumerate(channels)}
    matrix = np.zeros((len(states), len(channels)), dtype=bool)
    for i, state in enumerate(states):
        for channel in state:
            matrix[i, index[channel]] = True
    return matrix


def _conversion_from_start(q: sp.csr_matrix, r: np.ndarray, kept: np.ndarray) -> float:
    """P(absorbed in CONVERSION | START) when only the `kept` states can be entered (the
    others lead to NULL): solves (I − Q_kept) x = r_kept."""
    keep = np.flatnonzero(kept)  # START (index 0) is always kept: it contains no channel
    sub = q[keep][:, keep]
    system = (sp.identity(len(keep), format="csc") - sub).tocsc()
    rhs = r[keep]
    if not rhs.any():
        return 0.0
    x = np.atleast_1d(spsolve(system, rhs))
    return float(x[0])


def attributed(total: float, effects: RemovalEffects) -> dict[str, float]:
    """`total` (conversions or value) shared by the removal effects."""
    return {channel: total * share for channel, share in effects.shares().items()}


def path_transitions(
    paths: Iterable[tuple[Sequence[str], bool, float]], order: int = 1
) -> list[Transition]:
    """The transition counts of a chain of `order` from paths (touches, converted, count):
    for small examples and tests; reports count transitions in the engine."""
    if order < 1:
        raise AnalyticsError(f"markov order must be at least 1, not {order}")
    counts: dict[tuple[State, State | str], float] = {}
    for touches, converted, weight in paths:
        if not touches:
            continue
        previous: State = START
        for i in range(len(touches)):
            state = tuple(touches[max(0, i - order + 1) : i + 1])
            counts[(previous, state)] = counts.get((previous, state), 0.0) + weight
            previous = state
        end = CONVERSION if converted else NULL
        counts[(previous, end)] = counts.get((previous, end), 0.0) + weight
    return [(source, target, count) for (source, target), count in counts.items()]
