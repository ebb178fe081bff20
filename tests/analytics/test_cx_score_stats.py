"""The statistics of NPS, CSAT and CES (cx/score_stats.py), checked against hand-computed
numbers and against independent implementations (statsmodels, scipy) on the raw samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from empreinte.analytics.cx import score_stats as ss
from empreinte.analytics.cx.score_stats import Tally

Z95 = 1.959963984540054  # the 97.5 % quantile of the standard normal


def nps_tally(scores: list[int]) -> Tally:
    """A tally counted by hand from raw 0-10 scores (promoters 9-10, detractors 0-6)."""
    return Tally(
        n=len(scores),
        total=float(sum(scores)),
        squares=float(sum(s * s for s in scores)),
        high=sum(1 for s in scores if s >= 9),
        low=sum(1 for s in scores if s <= 6),
    )


@st.composite
def successes_of(draw: st.DrawFn, max_n: int) -> tuple[int, int]:
    """(successes, trials) with 0 <= successes <= trials: drawn valid, never filtered."""
    n = draw(st.integers(1, max_n))
    return draw(st.integers(0, n)), n


def band_tally(scores: list[int], high_from: int) -> Tally:
    """CSAT / CES tally: `high` counts the scores >= high_from."""
    return Tally(
        n=len(scores),
        total=float(sum(scores)),
        squares=float(sum(s * s for s in scores)),
        high=sum(1 for s in scores if s >= high_from),
        low=0,
    )


# -- worked examples --------------------------------------------------------------------------

NPS_SCORES = [9, 9, 10, 8, 7, 6, 3, 9, 10, 5]


def test_nps_worked_example() -> None:
    # 9,9,10,9,10 are promoters (5), 8,7 passives (2), 6,3,5 detractors (3): n = 10.
    # NPS = 100 (0.5 - 0.3) = 20.
    # Adjusted Wald (Rocks 2016): n~ = 13, p~ = 5.75 / 13 = 0.442308, d~ = 3.75 / 13 = 0.288462,
    # centre = 0.153846; Var = (0.730769 - 0.153846^2) / 13 = 0.0543924
    # half-width = 1.96 * 100 * sqrt(0.0543924) = 1.959964 * 23.32217 = 45.7106
    # CI = [15.3846 - 45.7106, 15.3846 + 45.7106] = [-30.3260, 61.0952]
    tally = nps_tally(NPS_SCORES)
    assert (tally.n, tally.high, tally.low) == (10, 5, 3)
    estimate = ss.nps(tally)
    assert estimate.value == pytest.approx(20.0)
    assert estimate.low == pytest.approx(-30.3260, abs=1e-3)
    assert estimate.high == pytest.approx(61.0952, abs=1e-3)
    centre = (estimate.low + estimate.high) / 2
    assert centre == pytest.approx(100 * 2 / 13)  # (5.75 - 3.75) / 13


def test_nps_interval_is_clipped_to_the_scale() -> None:
    # All promoters of 3: NPS 100, yet not certain: n~ = 6, p~ = 3.75 / 6 = 0.625,
    # d~ = 0.125, centre 0.5, Var = (0.75 - 0.25) / 6 = 0.083333, half = 56.58
    # → [-6.58, 100 (clipped from 106.6)].
    full = ss.nps(nps_tally([10, 9, 9]))
    assert full.value == 100.0
    assert full.low == pytest.approx(50 - Z95 * 100 * math.sqrt(0.5 / 6))
    assert full.low == pytest.approx(-6.579, abs=1e-3)
    assert full.high == 100.0
    # 2 promoters, 1 detractor of 3: NPS 33.3; n~ = 6, p~ = 2.75 / 6, d~ = 1.75 / 6,
    # centre 1/6, Var = (4.5/6 - 1/36) / 6 = 0.1203704, half = 68.0 → [-51.33, 84.67]
    small = ss.nps(nps_tally([10, 10, 0]))
    assert small.value == pytest.approx(100 / 3)
    assert small.low == pytest.approx(-51.333, abs=1e-3)
    assert small.high == pytest.approx(84.667, abs=1e-3)
    # A single promoter: the adjusted interval [-48.5, 98.5] is widened to hold the 100 seen.
    one = ss.nps(nps_tally([10]))
    assert (one.value, one.high) == (100.0, 100.0)
    assert one.low == pytest.approx(-48.499, abs=1e-3)


def test_csat_worked_example() -> None:
    # CSAT 1-5: 5,4,4,3,5,2,5,4,1,5. Top-2-box (4 or 5): 7 of 10 = 70 %.
    # Mean = 38 / 10 = 3.8; squared deviations sum to 17.6, s^2 = 17.6 / 9 = 1.95556,
    # s = 1.39841, s / sqrt(10) = 0.44222, t(0.975, 9) = 2.262157,
    # half-width = 1.00036 → [2.79964, 4.80036].
    # Wilson 7/10: centre = (0.7 + 1.96^2/20) / (1 + 1.96^2/10) = 0.64449,
    # half = 1.96 / 1.38415 * sqrt(0.021 + 0.0096040) = 0.24772 → [39.68 %, 89.22 %].
    scores = [5, 4, 4, 3, 5, 2, 5, 4, 1, 5]
    tally = band_tally(scores, high_from=4)
    top2 = ss.share(tally)
    assert top2.value == pytest.approx(70.0)
    assert top2.low == pytest.approx(39.68, abs=0.01)
    assert top2.high == pytest.approx(89.22, abs=0.01)
    mean = ss.mean(tally)
    assert mean.value == pytest.approx(3.8)
    t975 = stats.t.ppf(0.975, 9)
    assert t975 == pytest.approx(2.262157, abs=1e-6)
    half = t975 * math.sqrt(17.6 / 9) / math.sqrt(10)
    assert half == pytest.approx(1.00036, abs=1e-5)
    assert mean.low == pytest.approx(3.8 - half)
    assert mean.high == pytest.approx(3.8 + half)
    # scipy's own t interval on the raw scores says the same
    low, high = stats.t.interval(0.95, 9, loc=np.mean(scores), scale=stats.sem(scores))
    assert (mean.low, mean.high) == pytest.approx((low, high))


def test_ces_worked_example() -> None:
    # CES 1-7: 7,6,5,5,4,3,2,6,7,1. Agree (5-7): 6 of 10 = 60 %; mean 46 / 10 = 4.6.
    # Wilson 6/10 = [31.27 %, 83.18 %].
    scores = [7, 6, 5, 5, 4, 3, 2, 6, 7, 1]
    tally = band_tally(scores, high_from=5)
    agree = ss.share(tally)
    assert agree.value == pytest.approx(60.0)
    assert (agree.low, agree.high) == pytest.approx((31.27, 83.18), abs=0.01)
    assert ss.mean(tally).value == pytest.approx(4.6)


def test_mean_of_a_single_answer_has_no_interval() -> None:
    estimate = ss.mean(band_tally([4], high_from=4))
    assert (estimate.value, estimate.low, estimate.high) == (4.0, None, None)
    assert 4.0 not in estimate


def test_compare_nps_worked_example() -> None:
    # a: the worked example (adjusted 0.153846, Var 0.0543924); b: ten 10s: n~ = 13,
    # p~ = 10.75 / 13, d~ = 0.75 / 13, adjusted 0.769231, Var = (11.5/13 - 0.769231^2) / 13
    # = 0.0225307. z = 0.615385 / sqrt(0.0769231) = 2.21880; p = 2 (1 - Φ(2.2188)) = 0.02650.
    diff = ss.compare_nps(nps_tally(NPS_SCORES), nps_tally([10] * 10))
    assert diff.delta == pytest.approx(80.0)
    assert diff.statistic == pytest.approx(2.21880, abs=1e-4)
    assert diff.p_value == pytest.approx(0.02650, abs=1e-5)
    assert diff.significant


def test_compare_nps_of_tiny_groups_is_not_certain() -> None:
    # Plain Wald gives both groups no variance and calls the 200-point fall certain (p = 0).
    diff = ss.compare_nps(nps_tally([10, 9, 10, 9, 10]), nps_tally([0, 3]))
    assert diff.delta == pytest.approx(-200.0)
    assert diff.p_value > 0.0
    same = ss.compare_nps(nps_tally([10, 10]), nps_tally([9, 9, 9]))
    assert same.delta == 0.0 and not same.significant
    assert ss.compare_nps(nps_tally([10]), nps_tally([0])).p_value > ss.ALPHA


# -- properties -------------------------------------------------------------------------------

nps_scores = st.lists(st.integers(0, 10), min_size=1, max_size=60)


@given(nps_scores)
def test_nps_is_on_its_scale_and_inside_its_interval(scores: list[int]) -> None:
    estimate = ss.nps(nps_tally(scores))
    assert -100.0 <= estimate.low <= estimate.value <= estimate.high <= 100.0  # type: ignore[operator]
    assert estimate.value in estimate
    # the value is the mean of the +1/0/-1 draws, in points
    draws = [1 if s >= 9 else -1 if s <= 6 else 0 for s in scores]
    assert estimate.value == pytest.approx(100 * np.mean(draws))


@given(
    st.integers(0, 20),
    st.integers(0, 20),
    st.integers(0, 20),
    st.integers(2, 6),
)
def test_nps_interval_narrows_as_n_grows(p: int, q: int, d: int, factor: int) -> None:
    assume(p + q + d > 0)  # one draw in 9,261
    small = Tally(p + q + d, 0.0, 0.0, p, d)
    large = Tally(factor * (p + q + d), 0.0, 0.0, factor * p, factor * d)
    a, b = ss.nps(small), ss.nps(large)
    assert b.value == pytest.approx(a.value)
    width_a = a.high - a.low  # type: ignore[operator]
    width_b = b.high - b.low  # type: ignore[operator]
    assert width_b <= width_a + 1e-9
    has_variance = sum(1 for count in (p, q, d) if count) > 1
    if has_variance and a.low > -100 and a.high < 100:  # type: ignore[operator]
        assert width_b < width_a


@given(successes_of(50), st.integers(2, 6))
def test_share_interval_narrows_as_n_grows(counts: tuple[int, int], factor: int) -> None:
    high, n = counts
    a = ss.share(Tally(n, 0.0, 0.0, high, 0))
    b = ss.share(Tally(n * factor, 0.0, 0.0, high * factor, 0))
    assert a.low <= a.value <= a.high  # type: ignore[operator]
    assert b.low <= b.value <= b.high  # type: ignore[operator]
    assert b.high - b.low < a.high - a.low  # type: ignore[operator]


@given(successes_of(200))
def test_share_is_the_wilson_interval_of_statsmodels(counts: tuple[int, int]) -> None:
    high, n = counts
    estimate = ss.share(Tally(n, 0.0, 0.0, high, 0))
    low, up = proportion_confint(high, n, alpha=0.05, method="wilson")
    assert estimate.value == pytest.approx(100 * high / n)
    assert estimate.low == pytest.approx(100 * low, abs=1e-7)
    assert estimate.high == pytest.approx(100 * up, abs=1e-7)


csat_scores = st.lists(st.integers(1, 5), min_size=2, max_size=50)
ces_scores = st.lists(st.integers(1, 7), min_size=2, max_size=50)


@given(ces_scores)
def test_mean_interval_is_scipys_t_interval(scores: list[int]) -> None:
    estimate = ss.mean(band_tally(scores, high_from=5))
    assert estimate.value == pytest.approx(np.mean(scores))
    if np.std(scores) == 0:
        assert estimate.low == pytest.approx(estimate.value)
        assert estimate.high == pytest.approx(estimate.value)
        return
    low, high = stats.t.interval(
        0.95, len(scores) - 1, loc=np.mean(scores), scale=stats.sem(scores)
    )
    assert estimate.low == pytest.approx(low, rel=1e-9, abs=1e-9)
    assert estimate.high == pytest.approx(high, rel=1e-9, abs=1e-9)


@st.composite
def two_groups_with_variance(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """Two (successes, trials) whose pooled share is strictly between 0 and 1: statsmodels has
    no answer without variance (that case is tested on its own below)."""
    (high_a, n_a), (high_b, n_b) = draw(successes_of(80)), draw(successes_of(80))
    if high_a + high_b == 0:
        high_b = 1
    elif high_a + high_b == n_a + n_b:
        high_b = n_b - 1
    return high_a, n_a, high_b, n_b


@given(two_groups_with_variance())
def test_compare_shares_is_statsmodels_proportions_ztest(
    groups: tuple[int, int, int, int],
) -> None:
    high_a, n_a, high_b, n_b = groups
    diff = ss.compare_shares(Tally(n_a, 0.0, 0.0, high_a, 0), Tally(n_b, 0.0, 0.0, high_b, 0))
    z, p = proportions_ztest([high_b, high_a], [n_b, n_a])
    assert diff.delta == pytest.approx(100 * (high_b / n_b - high_a / n_a))
    assert diff.statistic == pytest.approx(z, rel=1e-9, abs=1e-12)
    assert diff.p_value == pytest.approx(p, rel=1e-9, abs=1e-12)


def test_compare_shares_without_variance() -> None:
    everyone = ss.compare_shares(Tally(5, 0.0, 0.0, 5, 0), Tally(8, 0.0, 0.0, 8, 0))
    assert (everyone.delta, everyone.p_value) == (0.0, 1.0)


# Welch's test needs variance in at least one group: the last answer differs from the first.
varied_csat_scores = csat_scores.map(lambda scores: [*scores, 5 if scores[0] < 5 else 1])


@pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")
@given(varied_csat_scores, csat_scores, st.booleans())
def test_compare_means_is_welchs_t_test_on_the_raw_samples(
    varied: list[int], other: list[int], varied_first: bool
) -> None:
    a, b = (varied, other) if varied_first else (other, varied)
    diff = ss.compare_means(band_tally(a, 4), band_tally(b, 4))
    expected = stats.ttest_ind(b, a, equal_var=False)
    assert diff.delta == pytest.approx(np.mean(b) - np.mean(a), abs=1e-12)
    assert diff.statistic == pytest.approx(expected.statistic, rel=1e-6, abs=1e-9)
    assert diff.p_value == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-9)


def test_compare_means_agrees_with_statsmodels_welch() -> None:
    from statsmodels.stats.weightstats import ttest_ind

    a, b = [5, 4, 4, 3, 5, 2, 5, 4, 1, 5], [5, 5, 4, 5, 4, 5, 5, 3]
    t, p, _ = ttest_ind(b, a, usevar="unequal")
    diff = ss.compare_means(band_tally(a, 4), band_tally(b, 4))
    assert (diff.statistic, diff.p_value) == pytest.approx((t, p))
    assert diff.test == "Welch t"


def test_compare_means_needs_two_answers_a_side() -> None:
    diff = ss.compare_means(band_tally([4], 4), band_tally([5, 3], 4))
    assert diff.delta == pytest.approx(0.0)
    assert math.isnan(diff.p_value)
    assert not diff.significant


@given(nps_scores, nps_scores)
def test_compare_nps_is_the_z_test_of_the_raw_draws(a: list[int], b: list[int]) -> None:
    def adjusted(scores: list[int]) -> tuple[float, float]:
        # The answers as draws +1 / 0 / -1 plus the adjusted Wald's pseudo-answers, weighted:
        # 3/4 of a +1, 3/4 of a -1 and 3/2 of a 0 (n + 3 answers in all).
        draws = np.array([1 if s >= 9 else -1 if s <= 6 else 0 for s in scores] + [1, -1, 0])
        weights = np.array([1.0] * len(scores) + [0.75, 0.75, 1.5])
        mean = float(np.average(draws, weights=weights))
        variance = float(np.average((draws - mean) ** 2, weights=weights))
        return mean, variance / weights.sum()

    (ca, va), (cb, vb) = adjusted(a), adjusted(b)
    diff = ss.compare_nps(nps_tally(a), nps_tally(b))
    raw = [np.mean([1 if s >= 9 else -1 if s <= 6 else 0 for s in x]) for x in (a, b)]
    assert diff.delta == pytest.approx(100 * (raw[1] - raw[0]), abs=1e-9)
    z = (cb - ca) / math.sqrt(va + vb)
    assert diff.statistic == pytest.approx(z, rel=1e-7, abs=1e-9)
    assert diff.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-7, abs=1e-12)


def test_q_values_leave_out_changes_without_a_p_value() -> None:
    """A change with no p-value (NaN: no variance on either side) is not one of the tests:
    the others are adjusted among themselves (BH by hand for 0.01, 0.04: 0.02, 0.04)."""
    adjusted = ss.q_values([0.01, math.nan, 0.04])
    assert adjusted[0] == pytest.approx(0.02)
    assert math.isnan(adjusted[1])
    assert adjusted[2] == pytest.approx(0.04)
    assert all(math.isnan(q) for q in ss.q_values([math.nan, math.nan]))
