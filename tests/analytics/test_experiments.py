"""A/B test statistics: hand-checked numbers, statsmodels and Monte Carlo cross-checks."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
)

from empreinte.analytics.cx.experiments import (
    ExperimentInputError,
    VariantCounts,
    analyze_experiment,
    prob_beta_greater,
    sample_size_per_arm,
    wilson_interval,
)
from empreinte.errors import EmpreinteError

# --- worked example -------------------------------------------------------------------------
# A (control): 500 of 10,000 convert (5 %); B: 600 of 10,000 (6 %).
#   pooled p = 1,100 / 20,000 = 0.055
#   se = sqrt(0.055 * 0.945 * (1/10,000 + 1/10,000)) = sqrt(1.0395e-5) = 0.0032241
#   z = 0.01 / 0.0032241 = 3.1016 ;  p = 2 * (1 - Phi(3.1016)) = 0.00192
#   Wilson A (z = 1.96): centre = (0.05 + 1.96^2 / 20,000) / (1 + 1.96^2 / 10,000) = 0.050185
#     half = 1.96 / 1.000384 * sqrt(0.05 * 0.95 / 10,000 + 1.96^2 / 4e8) = 0.0042743
#     -> [0.04591, 0.05446]
#   relative lift = 0.06 / 0.05 - 1 = 0.20
#   n per arm for 5 % -> 6 %: h = 2 asin(sqrt .06) - 2 asin(sqrt .05) = 0.04391
#     n = 2 (1.95996 + 0.84162)^2 / 0.04391^2 = 8,142.6 -> 8,143


def _example() -> dict[str, tuple[int, int]]:
    return {"A": (10_000, 500), "B": (10_000, 600)}


def test_worked_example_hand_checked() -> None:
    result = analyze_experiment(_example(), "A")
    a, b = result.variant("A"), result.variant("B")
    assert a.rate == pytest.approx(0.05)
    assert b.rate == pytest.approx(0.06)
    assert a.ci.low == pytest.approx(0.04591, abs=5e-5)
    assert a.ci.high == pytest.approx(0.05446, abs=5e-5)

    c = result.comparison("B")
    assert c.absolute_lift == pytest.approx(0.01)
    assert c.relative_lift == pytest.approx(0.20)
    assert c.z == pytest.approx(3.1016, abs=1e-4)
    assert c.p_value == pytest.approx(0.00192, abs=1e-5)
    assert c.significant
    assert c.absolute_lift_ci.low > 0 and 0.01 in c.absolute_lift_ci
    assert c.relative_lift_ci is not None and 0.20 in c.relative_lift_ci
    assert c.relative_lift_ci.low > 0
    assert c.prob_beats_control > 0.99
    # Choosing B risks almost nothing; keeping A forgoes about the full point.
    assert c.expected_loss_treatment < 1e-5
    assert c.expected_loss_control == pytest.approx(0.01, abs=2e-4)
    assert c.sample_size_per_arm == 8143
    assert not result.srm.mismatch


def test_sample_size_matches_statsmodels_normal_ind_power() -> None:
    for base, mde in [(0.05, 0.01), (0.2, 0.02), (0.5, 0.05), (0.01, 0.005), (0.995, 0.01)]:
        target = base + mde if base + mde <= 1 else base - mde
        h = abs(proportion_effectsize(target, base))
        expected = NormalIndPower().solve_power(h, alpha=0.05, power=0.8, ratio=1.0)
        ours = sample_size_per_arm(base, mde)
        assert ours is not None
        assert abs(ours - expected) <= 1.0


# --- frequentist test -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_t", "x_t", "n_c", "x_c"),
    [
        (10_000, 600, 10_000, 500),
        (1_000, 30, 1_200, 45),
        (50, 1, 70, 9),
        (123_456, 7_890, 120_001, 7_700),
        (20, 10, 20, 10),
        (5_000, 4_990, 5_100, 5_000),
        (300, 0, 310, 4),
    ],
)
def test_z_test_p_value_equals_statsmodels(n_t: int, x_t: int, n_c: int, x_c: int) -> None:
    result = analyze_experiment({"ctl": (n_c, x_c), "trt": (n_t, x_t)}, "ctl")
    c = result.comparison("trt")
    z_sm, p_sm = proportions_ztest([x_t, x_c], [n_t, n_c])
    assert c.z == pytest.approx(float(z_sm), rel=1e-9, abs=1e-12)
    assert c.p_value == pytest.approx(float(p_sm), rel=1e-9, abs=1e-15)


def test_z_test_without_variance_is_not_significant() -> None:
    c = analyze_experiment({"A": (100, 0), "B": (120, 0)}, "A").comparison("B")
    assert c.p_value == 1.0
    assert not c.significant


# --- Bayesian analysis ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_a", "x_a", "n_b", "x_b"),
    [
        (10_000, 500, 10_000, 530),
        (1_000, 100, 1_000, 110),
        (40, 3, 35, 5),
        (2_000, 60, 2_100, 58),
        (500, 250, 480, 250),
    ],
)
def test_prob_b_beats_a_agrees_with_monte_carlo(n_a: int, x_a: int, n_b: int, x_b: int) -> None:
    c = analyze_experiment({"A": (n_a, x_a), "B": (n_b, x_b)}, "A").comparison("B")
    rng = np.random.default_rng(20240601)
    draws = 200_000
    pa = rng.beta(x_a + 1, n_a - x_a + 1, draws)
    pb = rng.beta(x_b + 1, n_b - x_b + 1, draws)
    assert c.prob_beats_control == pytest.approx(float(np.mean(pb > pa)), abs=0.005)
    # Expected losses against the same draws (scaled to the rates' spread).
    tol = 0.02 * float(np.std(pb - pa)) + 1e-5
    assert c.expected_loss_treatment == pytest.approx(
        float(np.mean(np.maximum(pa - pb, 0))), abs=tol
    )
    assert c.expected_loss_control == pytest.approx(float(np.mean(np.maximum(pb - pa, 0))), abs=tol)


def test_prob_beta_greater_is_symmetric_and_exact_on_small_cases() -> None:
    # Beta(2,1) vs Beta(1,1): P(X1 > X2) = integral of 2x * x dx = 2/3.
    assert prob_beta_greater(2, 1, 1, 1) == pytest.approx(2 / 3, abs=1e-12)
    assert prob_beta_greater(1, 1, 2, 1) == pytest.approx(1 / 3, abs=1e-12)
    p = prob_beta_greater(31, 70, 45, 80)
    assert p + prob_beta_greater(45, 80, 31, 70) == pytest.approx(1.0, abs=1e-12)
    assert prob_beta_greater(7, 9, 7, 9) == pytest.approx(0.5, abs=1e-12)


# --- Wilson interval ------------------------------------------------------------------------


@given(
    n=st.integers(min_value=1, max_value=5_000),
    frac=st.floats(min_value=0.0, max_value=1.0),
    k=st.integers(min_value=2, max_value=20),
)
def test_wilson_contains_rate_and_narrows_with_n(n: int, frac: float, k: int) -> None:
    x = round(frac * n)
    ci = wilson_interval(x, n)
    assert 0.0 <= ci.low <= x / n <= ci.high <= 1.0
    bigger = wilson_interval(k * x, k * n)
    assert x / n in bigger
    assert bigger.width < ci.width


def test_wilson_matches_statsmodels() -> None:
    for x, n in [(0, 10), (3, 10), (10, 10), (500, 10_000), (1, 3)]:
        low, high = proportion_confint(x, n, alpha=0.05, method="wilson")
        ci = wilson_interval(x, n)
        assert ci.low == pytest.approx(low, abs=1e-12)
        assert ci.high == pytest.approx(high, abs=1e-12)


# --- sample ratio mismatch ------------------------------------------------------------------


def test_srm_detected_on_10000_vs_10600() -> None:
    result = analyze_experiment({"A": (10_000, 500), "B": (10_600, 530)}, "A")
    assert result.srm.mismatch
    assert result.srm.p_value < 0.001
    assert result.srm.chi2 == pytest.approx(2 * 300**2 / 10_300)
    assert result.srm.warning_en is not None and "sample ratio mismatch" in result.srm.warning_en
    assert "Warning: sample ratio mismatch" in result.verdict("en")
    assert "déséquilibre d'échantillonnage" in result.verdict("fr")


def test_srm_not_detected_on_10000_vs_10050() -> None:
    result = analyze_experiment({"A": (10_000, 500), "B": (10_050, 503)}, "A")
    assert not result.srm.mismatch
    assert result.srm.p_value > 0.5
    assert result.srm.warning_en is None and result.srm.warning_fr is None
    assert "mismatch" not in result.verdict("en")


def test_srm_uses_the_intended_split() -> None:
    counts = {"A": (10_000, 500), "B": (30_000, 1_500)}
    assert analyze_experiment(counts, "A").srm.mismatch
    assert not analyze_experiment(counts, "A", intended_split={"A": 1, "B": 3}).srm.mismatch


# --- verdicts -------------------------------------------------------------------------------


def test_verdict_significant_in_english_and_french() -> None:
    result = analyze_experiment(_example(), "A")
    c = result.comparison("B")
    assert c.verdict("en").startswith(
        "B converts better than A: +1.0 points (95% CI +0.4 to +1.6), p = 0.002; P(B > A) > 99.9 %."
    )
    assert c.verdict("fr").startswith(
        "B convertit mieux que A : +1,0 point (IC à 95 % : +0,4 à +1,6), p = 0,002 ; "
        "P(B > A) > 99,9 %."
    )
    assert "10,000" in c.verdict_en and "10 000" in c.verdict_fr


def test_verdict_worse_in_both_languages() -> None:
    c = analyze_experiment({"A": (10_000, 600), "B": (10_000, 500)}, "A").comparison("B")
    assert c.verdict_en.startswith("B converts worse than A: -1.0 points")
    assert c.verdict_fr.startswith("B convertit moins bien que A : -1,0 point")


def test_verdict_is_honest_when_inconclusive() -> None:
    result = analyze_experiment({"A": (2_000, 100), "B": (2_000, 110)}, "A")
    c = result.comparison("B")
    assert not c.significant
    assert c.verdict_en.startswith("No detectable difference between B and A with this sample")
    assert "Users needed per arm to detect a lift of 1.0 points: 8,143." in c.verdict_en
    assert c.verdict_fr.startswith("Pas de différence détectable entre B et A avec cet échantillon")
    assert "pour détecter un écart de 1,0 point : 8 143." in c.verdict_fr
    assert "converts better" not in c.verdict_en
    assert f"P(B > A) = {round(c.prob_beats_control * 100)} %" in c.verdict_en


def test_several_treatments_each_compared_with_control() -> None:
    result = analyze_experiment(
        [
            VariantCounts("control", 5_000, 250),
            VariantCounts("timer", 5_000, 320),
            VariantCounts("no-timer", 5_000, 245),
        ],
        "control",
    )
    assert [c.treatment for c in result.comparisons] == ["timer", "no-timer"]
    assert result.comparison("timer").significant
    assert not result.comparison("no-timer").significant
    rows = result.to_rows()
    assert [r["variant"] for r in rows] == ["control", "timer", "no-timer"]
    assert rows[0]["is_control"] and rows[0]["p_value"] is None


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variants", "control", "reason"),
    [
        ({"A": (100, 101), "B": (100, 5)}, "A", "more converted users (101) than exposed"),
        ({"A": (-1, 0), "B": (100, 5)}, "A", "exposed count is negative"),
        ({"A": (100, -3), "B": (100, 5)}, "A", "converted count is negative"),
        ({"A": (100, 5), "B": (100, 5)}, "C", "unknown control variant 'C'"),
        ({"A": (100, 5)}, "A", "at least two variants"),
        ({}, "A", "at least two variants"),
        ({"A": (0, 0), "B": (100, 5)}, "A", "no exposed users"),
        ({"A": (100.0, 5), "B": (100, 5)}, "A", "must be an integer count"),
    ],
)
def test_bad_input_is_refused_with_the_reason(
    variants: dict[str, tuple[int, int]], control: str, reason: str
) -> None:
    with pytest.raises(ExperimentInputError, match=re.escape(reason)) as info:
        analyze_experiment(variants, control)
    assert isinstance(info.value, EmpreinteError)


def test_bad_split_and_duplicate_names_are_refused() -> None:
    with pytest.raises(ExperimentInputError, match="intended split"):
        analyze_experiment(_example(), "A", intended_split={"A": 1, "Z": 1})
    with pytest.raises(ExperimentInputError, match="split weight must be positive"):
        analyze_experiment(_example(), "A", intended_split={"A": 1, "B": 0})
    with pytest.raises(ExperimentInputError, match="appears twice"):
        analyze_experiment([VariantCounts("A", 10, 1), VariantCounts("A", 10, 2)], "A")
    with pytest.raises(ExperimentInputError, match="alpha"):
        analyze_experiment(_example(), "A", alpha=1.5)


def test_loss_and_probability_are_consistent() -> None:
    c = analyze_experiment({"A": (800, 40), "B": (820, 47)}, "A").comparison("B")
    # E[max(B - A, 0)] - E[max(A - B, 0)] = E[B - A] exactly (posterior means).
    mean_diff = 48 / 822 - 41 / 802
    assert c.expected_loss_control - c.expected_loss_treatment == pytest.approx(
        mean_diff, abs=1e-12
    )
    assert 0.5 < c.prob_beats_control < 1.0
    assert math.isfinite(c.expected_loss_treatment)
