"""Intervals of a proportion, with the standard library only.

Kept apart from experiments.py (numpy, scipy) because the Kano module uses them and the
collector imports the Kano answer vocabulary: ingestion must not load scipy to start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

Z95 = NormalDist().inv_cdf(0.975)


@dataclass(frozen=True, slots=True)
class Interval:
    """A two-sided confidence interval."""

    low: float
    high: float

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high

    @property
    def width(self) -> float:
        return self.high - self.low


def wilson(successes: int, n: int, z: float = Z95) -> Interval:
    """Wilson score interval of successes / n (n > 0; always inside [0, 1])."""
    size = float(n)
    p = successes / size
    denom = 1.0 + z * z / size
    center = (p + z * z / (2.0 * size)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / size + z * z / (4.0 * size * size))
    low = 0.0 if successes == 0 else max(0.0, min(p, center - half))
    high = 1.0 if successes == n else min(1.0, max(p, center + half))
    return Interval(low, high)
