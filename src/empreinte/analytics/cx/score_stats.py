"""Statistics of NPS, CSAT and CES from sufficient counts, so the engine only has to count.

An aggregate row of answers is summarised by `Tally` (n, the score's sum and sum of squares,
and the counts of the bands that matter); every estimate, interval and test below is a pure
function of tallies. Methods:

* **NPS** = 100 (p_P - p_D) with p_P, p_D the promoter (9-10) and detractor (0-6) shares. Each
  answer is a draw of +1 / 0 / -1. The interval is the adjusted Wald interval, the best of six
  methods in Rocks (2016, The American Statistician 70:4): 3/4 of a promoter and 3/4 of a
  detractor are added (n + 3 answers), then with those shares p~_P, p~_D,
  Var = (p~_P + p~_D - (p~_P - p~_D)^2) / (n + 3) and the interval is
  100 (p~_P - p~_D) +/- 1.96 * 100 * sqrt(Var), clipped to -100..100 and widened to hold the
  observed NPS (only a single answer needs it). The plain Wald interval has no width when
  every answer falls in one band: three promoters out of three would be "100, certainly".
  Two NPS (two periods, two groups) are compared with the z statistic of the difference of
  their adjusted values, sqrt(Var_1 + Var_2) in the denominator (independent samples).
* **Shares** (CSAT top-2-box, CES % agree): Wilson score interval; two shares are compared
  with the pooled two-proportion z-test.
* **Means** (CSAT, CES): t interval mean +/- t_{n-1} s / sqrt(n); two means are compared with
  Welch's t-test (unequal variances).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from empreinte.analytics.cx.experiments import two_proportion_ztest, wilson_interval

ALPHA = 0.05
_Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True, slots=True)
class Tally:
    """What the engine counts for a group of answers."""

    n: int
    total: float  # sum of scores
    squares: float  # sum of squared scores
    high: int  # promoters (NPS), top-2-box (CSAT), agree (CES)
    low: int  # detractors (NPS); unused (0) otherwise

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.n + other.n,
            self.total + other.total,
            self.squares + other.squares,
            self.high + other.high,
            self.low + other.low,
        )


@dataclass(frozen=True, slots=True)
class Estimate:
    """A figure with its 95 % interval (None when n is too small to have one)."""

    value: float
    low: float | None
    high: float | None

    def __contains__(self, value: float) -> bool:
        return self.low is not None and self.high is not None and self.low <= value <= self.high


@dataclass(frozen=True, slots=True)
class Difference:
    """The difference between two figures (b - a) and whether it is more than noise."""

    delta: float
    statistic: float
    p_value: float
    test: str

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA


def q_values(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values: reading many changes at once, those with q < 5 %
    keep the expected share of false discoveries among them under 5 %. A change with no
    p-value (NaN: no variance on either side) is not a test: it keeps NaN and is not counted."""
    values = np.asarray(p_values, dtype=float)
    adjusted = np.full(len(values), np.nan)
    tested = np.isfinite(values)
    if tested.any():
        adjusted[tested] = stats.false_discovery_control(values[tested], method="bh")
    return [float(q) for q in adjusted]


def nps(tally: Tally) -> Estimate:
    """NPS in points (-100..100) with its adjusted Wald interval."""
    value = 100.0 * (tally.high - tally.low) / tally.n  # exact for whole-number NPS
    centre, variance = _adjusted_nps(tally)
    half = _Z95 * math.sqrt(variance)
    low = max(-100.0, 100.0 * (centre - half))
    high = min(100.0, 100.0 * (centre + half))
    return Estimate(value, min(low, value), max(high, value))


def _adjusted_nps(tally: Tally) -> tuple[float, float]:
    """The promoter-minus-detractor share (a proportion, not points) and its variance, with
    3/4 of a promoter and 3/4 of a detractor added (Rocks 2016)."""
    n = tally.n + 3
    p, d = (tally.high + 0.75) / n, (tally.low + 0.75) / n
    return p - d, max(0.0, p + d - (p - d) ** 2) / n


def share(tally: Tally) -> Estimate:
    """The share of `high` answers, in percent, with its Wilson interval."""
    interval = wilson_interval(tally.high, tally.n)
    return Estimate(100.0 * tally.high / tally.n, 100.0 * interval.low, 100.0 * interval.high)


def _variance(tally: Tally) -> float:
    mean = tally.total / tally.n
    return max(0.0, (tally.squares - tally.n * mean * mean) / (tally.n - 1))


def mean(tally: Tally) -> Estimate:
    """The mean score with its t interval (no interval for a single answer)."""
    value = tally.total / tally.n
    if tally.n < 2:
        return Estimate(value, None, None)
    half = float(stats.t.ppf(0.975, tally.n - 1)) * math.sqrt(_variance(tally) / tally.n)
    return Estimate(value, value - half, value + half)


def compare_nps(a: Tally, b: Tally) -> Difference:
    """NPS of b minus NPS of a, in points, with a two-sided z-test."""
    delta = nps(b).value - nps(a).value
    (centre_a, variance_a), (centre_b, variance_b) = _adjusted_nps(a), _adjusted_nps(b)
    # Never zero: the added answers give every group some spread.
    z = (centre_b - centre_a) / math.sqrt(variance_a + variance_b)
    return Difference(delta, z, float(2.0 * stats.norm.sf(abs(z))), "z (adjusted NPS difference)")


def compare_shares(a: Tally, b: Tally) -> Difference:
    """Share of b minus share of a, in points, with the pooled two-proportion z-test."""
    z, p = two_proportion_ztest(b.high, b.n, a.high, a.n)
    delta = 100.0 * (b.high / b.n - a.high / a.n)
    return Difference(delta, z, p, "two-proportion z")


def compare_means(a: Tally, b: Tally) -> Difference:
    """Mean of b minus mean of a with Welch's t-test (needs two answers on each side)."""
    delta = b.total / b.n - a.total / a.n
    if a.n < 2 or b.n < 2:
        return Difference(delta, math.nan, math.nan, "Welch t")
    result = stats.ttest_ind_from_stats(
        b.total / b.n,
        math.sqrt(_variance(b)),
        b.n,
        a.total / a.n,
        math.sqrt(_variance(a)),
        a.n,
        equal_var=False,
    )
    statistic, p = float(result.statistic), float(result.pvalue)
    if math.isnan(p):  # no variance on either side: equal means or certainly different
        return Difference(delta, 0.0, 1.0 if delta == 0.0 else 0.0, "Welch t")
    return Difference(delta, statistic, p, "Welch t")
