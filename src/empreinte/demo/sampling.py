"""Small random draws shared by the demo modules, written for speed: they run millions of
times when a million people are generated."""

from __future__ import annotations

import bisect
import math
import random
from itertools import accumulate


def between(rng: random.Random, lo: int, hi: int) -> int:
    """An integer in [lo, hi]; `randint` is several times slower and exactness of the
    distribution at the 53rd bit does not matter here."""
    return lo + int(rng.random() * (hi - lo + 1))


def below(rng: random.Random, n: int) -> int:
    """An integer in [0, n)."""
    return int(rng.random() * n)


def weighted_index(rng: random.Random, weights: tuple[float, ...]) -> int:
    """An index drawn in proportion to `weights`, for one-off draws."""
    point = rng.random() * sum(weights)
    for i, weight in enumerate(weights):
        point -= weight
        if point < 0:
            return i
    return len(weights) - 1


class Weighted:
    """(value, weight) pairs ready for repeated draws."""

    __slots__ = ("_cumulative", "_total", "pairs", "values")

    def __init__(self, pairs: tuple[tuple[str, float], ...]) -> None:
        self.pairs = pairs
        self.values = tuple(value for value, _ in pairs)
        self._cumulative = list(accumulate(weight for _, weight in pairs))
        self._total = self._cumulative[-1]

    def draw(self, rng: random.Random) -> str:
        """A value drawn in proportion to its weight."""
        return self.values[bisect.bisect(self._cumulative, rng.random() * self._total)]


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw by Knuth's method (the means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
