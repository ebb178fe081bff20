"""Key-driver analysis: brute-force Shapley over statsmodels fits, hand-checked numbers, planted
truth, properties, awkward data."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from empreinte.analytics.cx import driver_importance as module
from empreinte.analytics.cx.driver_importance import (
    NOTE_COLLINEAR,
    NOTE_NO_VARIATION,
    DriverInputError,
    DriverReport,
    driver_importance,
)
from empreinte.errors import EmpreinteError


def _importances(report: DriverReport, names: list[str]) -> np.ndarray:
    return np.array([report.driver(name).importance for name in names])


def _correlated(seed: int, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, k)) @ rng.standard_normal((k, k)) + rng.normal(3, 1, k)
    y = x @ rng.standard_normal(k) + rng.normal(0, 2, n)
    return x, y


def _planted(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """y = 8 - 1.5 payment_failures - 0.5 delay + noise; channels does nothing."""
    rng = np.random.default_rng(seed)
    payment = rng.poisson(0.4, n)
    delay = rng.poisson(1.5 + payment)  # delays and payment failures go together
    channels = rng.poisson(3.0, n)
    y = 8.0 - 1.5 * payment - 0.5 * delay + rng.normal(0.0, 1.5, n)
    return np.column_stack([payment, delay, channels]).astype(float), y


PLANTED = ["payment_failures", "delay_days", "channels"]


# --- an independent implementation ----------------------------------------------------------


def _brute_force_shapley(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Average over all orderings of the R² each driver adds, one statsmodels OLS per subset."""
    k = x.shape[1]
    r2: dict[frozenset[int], float] = {frozenset(): 0.0}
    for size in range(1, k + 1):
        for subset in itertools.combinations(range(k), size):
            design = sm.add_constant(x[:, list(subset)], has_constant="add")
            r2[frozenset(subset)] = sm.OLS(y, design).fit().rsquared
    shares = np.zeros(k)
    orderings = list(itertools.permutations(range(k)))
    for order in orderings:
        for i, j in enumerate(order):
            shares[j] += r2[frozenset(order[: i + 1])] - r2[frozenset(order[:i])]
    return shares / len(orderings)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force_shapley_over_all_orderings(seed: int) -> None:
    x, y = _correlated(seed, n=250, k=4)
    names = ["contacts", "payment_failures", "delay_days", "returns"]
    report = driver_importance(x, y, names, bootstrap=0)
    np.testing.assert_allclose(_importances(report, names), _brute_force_shapley(x, y), atol=1e-9)


def test_coefficients_and_fit_match_statsmodels_ols() -> None:
    x, y = _correlated(3, n=400, k=5)
    names = [f"x{j}" for j in range(5)]
    report = driver_importance(x, y, names, bootstrap=0)
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    assert report.r_squared == pytest.approx(fit.rsquared, abs=1e-12)
    assert report.adj_r_squared == pytest.approx(fit.rsquared_adj, abs=1e-12)
    for j, name in enumerate(names):
        d = report.driver(name)
        assert d.coefficient == pytest.approx(fit.params[j + 1], rel=1e-9)
        assert d.std_coefficient == pytest.approx(fit.params[j + 1] * x[:, j].std() / y.std())
        assert d.direction == np.sign(fit.params[j + 1])
        assert d.correlation == pytest.approx(np.corrcoef(x[:, j], y)[0, 1], abs=1e-12)
        assert d.relative == pytest.approx(d.importance / fit.rsquared)


@pytest.mark.parametrize(("seed", "k"), [(4, 1), (5, 3), (6, 7), (7, 10)])
def test_shares_sum_to_the_full_model_r_squared(seed: int, k: int) -> None:
    x, y = _correlated(seed, n=300, k=k)
    report = driver_importance(x, y, [f"x{j}" for j in range(k)], bootstrap=0)
    rsquared = sm.OLS(y, sm.add_constant(x)).fit().rsquared
    assert sum(d.importance for d in report.drivers) == pytest.approx(rsquared, abs=1e-10)
    assert sum(d.relative for d in report.drivers) == pytest.approx(1.0, abs=1e-10)


def test_uncorrelated_drivers_get_their_squared_correlation() -> None:
    # With orthogonal drivers the R² of any subset is the sum of the members' r², so each
    # driver adds exactly its own r² whatever the order.
    rng = np.random.default_rng(8)
    raw = rng.standard_normal((200, 3))
    q, _ = np.linalg.qr(raw - raw.mean(axis=0))
    x = q * [2.0, 5.0, 0.5] + [1.0, 10.0, 3.0]
    y = x @ [1.0, -0.3, 2.0] + rng.standard_normal(200)
    names = ["a", "b", "c"]
    report = driver_importance(x, y, names, bootstrap=0)
    r = [np.corrcoef(x[:, j], y)[0, 1] for j in range(3)]
    np.testing.assert_allclose(_importances(report, names), np.square(r), atol=1e-12)


# --- a worked example by hand -----------------------------------------------------------------
# Six respondents. In deviations from the means (payment 1, contacts 1, score 6):
#   p = [1, 1, 1, -1, -1, -1]   c = [1, 1, -1, 1, -1, -1]   s = [-3, -1, -2, 0, 2, 4]
#   p.p = 6, c.c = 6, p.c = 2, p.s = -12, c.s = -8, s.s = 34
#   r_p² = 144 / (6 * 34) = 12/17 = 0.705882        r_c² = 64 / 204 = 16/51 = 0.313725
#   full model: [6 2; 2 6] b = [-12; -8]  ->  b_p = -56/32 = -1.75,  b_c = -24/32 = -0.75
#     explained = 1.75 * 12 + 0.75 * 8 = 27  ->  R² = 27/34 = 0.794118
#     adjusted R² = 1 - (7/34) * (6 - 1) / (6 - 2 - 1) = 67/102 = 0.656863
#   Shapley (two orders, each weighted 1/2), over 102:  r_p² = 72, r_c² = 32, R² = 81
#     payment  = (72 + (81 - 32)) / 2 / 102 = 121/204 = 0.593137
#     contacts = (32 + (81 - 72)) / 2 / 102 =  41/204 = 0.200980      (sum 162/204 = 27/34)

WORKED_X = [[2, 2], [2, 2], [2, 0], [0, 2], [0, 0], [0, 0]]
WORKED_Y = [3, 5, 4, 6, 8, 10]


def test_worked_example() -> None:
    report = driver_importance(WORKED_X, WORKED_Y, ["payment_failures", "contacts"], min_n=6)
    payment, contacts = report.drivers
    assert payment.name == "payment_failures"
    assert payment.importance == pytest.approx(121 / 204, abs=1e-12)
    assert contacts.importance == pytest.approx(41 / 204, abs=1e-12)
    assert report.r_squared == pytest.approx(27 / 34, abs=1e-12)
    assert report.adj_r_squared == pytest.approx(67 / 102, abs=1e-12)
    assert payment.relative == pytest.approx(121 / 162)
    assert payment.coefficient == pytest.approx(-1.75)
    assert contacts.coefficient == pytest.approx(-0.75)
    assert (payment.direction, contacts.direction) == (-1, -1)
    assert payment.correlation == pytest.approx(-math.sqrt(12 / 17))
    assert contacts.correlation == pytest.approx(-math.sqrt(16 / 51))
    assert (report.n, report.n_dropped, report.reliable) == (6, 0, True)


# --- planted truth --------------------------------------------------------------------------


def test_planted_truth_is_recovered() -> None:
    x, y = _planted(seed=10, n=3000)
    report = driver_importance(x, y, PLANTED)
    assert [d.name for d in report.drivers] == PLANTED
    payment, delay, channels = report.drivers
    assert payment.direction == delay.direction == -1
    assert payment.coefficient == pytest.approx(-1.5, abs=0.15)
    assert delay.coefficient == pytest.approx(-0.5, abs=0.1)
    assert channels.ci_low is not None and channels.ci_high is not None
    assert channels.ci_low < 0.002 and channels.ci_high < 0.01
    assert payment.ci_low is not None and payment.ci_low > delay.importance


@pytest.mark.parametrize("seed", range(5))
def test_interval_contains_the_estimate_and_narrows_as_n_grows(seed: int) -> None:
    widths = []
    for n in (300, 3000):
        report = driver_importance(*_planted(seed, n), PLANTED, seed=seed)
        for d in report.drivers[:2]:
            assert d.ci_low is not None and d.ci_high is not None
            assert d.ci_low <= d.importance <= d.ci_high
        payment = report.driver("payment_failures")
        assert payment.ci_low is not None and payment.ci_high is not None
        widths.append(payment.ci_high - payment.ci_low)
    assert widths[1] < widths[0] / 2  # about sqrt(10) narrower


def test_bootstrap_agrees_with_resampling_the_rows() -> None:
    # The weighted-count bootstrap against the naive one: copy resampled rows, analyse each.
    x, y = _planted(seed=11, n=400)
    report = driver_importance(x, y, PLANTED, bootstrap=1000, seed=1)
    rng = np.random.default_rng(2)
    naive = []
    for _ in range(1000):
        rows = rng.integers(0, 400, 400)
        naive.append(
            _importances(driver_importance(x[rows], y[rows], PLANTED, bootstrap=0), PLANTED)
        )
    low, high = np.quantile(naive, [0.025, 0.975], axis=0)
    for j, name in enumerate(PLANTED):
        d = report.driver(name)
        assert d.ci_low == pytest.approx(low[j], abs=0.02)
        assert d.ci_high == pytest.approx(high[j], abs=0.02)


def test_row_blocks_give_the_same_bootstrap_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = _planted(seed=12, n=5000)
    whole = driver_importance(x, y, PLANTED, bootstrap=400)
    monkeypatch.setattr(module, "_CELLS", 1)  # blocks of 1,024 rows
    monkeypatch.setattr(module, "_PRODUCTS_CACHE", 0)  # products recomputed per block
    blocked = driver_importance(x, y, PLANTED, bootstrap=400)
    for a, b in zip(whole.drivers, blocked.drivers, strict=True):
        assert a.importance == b.importance
        assert a.ci_low == pytest.approx(b.ci_low, abs=0.01)
        assert a.ci_high == pytest.approx(b.ci_high, abs=0.01)


def test_same_seed_same_report_and_a_generator_is_accepted() -> None:
    x, y = _planted(seed=13, n=500)
    assert driver_importance(x, y, PLANTED, seed=7) == driver_importance(x, y, PLANTED, seed=7)
    assert driver_importance(x, y, PLANTED, seed=7) != driver_importance(x, y, PLANTED, seed=8)
    a = driver_importance(x, y, PLANTED, seed=np.random.default_rng(7))
    assert a == driver_importance(x, y, PLANTED, seed=7)


def test_no_bootstrap_no_interval_and_confidence_widens_it() -> None:
    x, y = _planted(seed=14, n=500)
    assert all(
        d.ci_low is d.ci_high is None for d in driver_importance(x, y, PLANTED, bootstrap=0).drivers
    )
    narrow = driver_importance(x, y, PLANTED, confidence=0.5).driver("payment_failures")
    wide = driver_importance(x, y, PLANTED, confidence=0.99).driver("payment_failures")
    assert narrow.ci_low is not None and narrow.ci_high is not None
    assert wide.ci_low is not None and wide.ci_high is not None
    assert wide.ci_low < narrow.ci_low < narrow.ci_high < wide.ci_high


# --- properties -----------------------------------------------------------------------------


@st.composite
def survey(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Small integer data like CX counts: ties, duplicate and collinear columns are common."""
    n = draw(st.integers(3, 25))
    k = draw(st.integers(1, 5))
    x = draw(hnp.arrays(np.int64, (n, k), elements=st.integers(0, 4)))
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 10)))
    if np.ptp(y) == 0:
        y[0] = (y[0] + 1) % 11
    return x.astype(float), y.astype(float)


def _lstsq_r_squared(x: np.ndarray, y: np.ndarray) -> float:
    design = np.column_stack([np.ones(len(y)), x])
    fitted = design @ np.linalg.lstsq(design, y, rcond=1e-10)[0]
    return 1.0 - float(np.sum((y - fitted) ** 2) / np.sum((y - y.mean()) ** 2))


@given(survey())
def test_shares_are_non_negative_and_sum_to_r_squared(data: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = data
    names = [f"x{j}" for j in range(x.shape[1])]
    report = driver_importance(x, y, names, bootstrap=20)
    assert all(d.importance >= 0.0 for d in report.drivers)
    assert sum(d.importance for d in report.drivers) == pytest.approx(
        _lstsq_r_squared(x, y), abs=1e-9
    )
    assert [d.importance for d in report.drivers] == sorted(
        (d.importance for d in report.drivers), reverse=True
    )
    for d in report.drivers:
        assert d.ci_low is not None and d.ci_high is not None
        assert 0.0 <= d.ci_low <= d.ci_high <= 1.0 + 1e-12


@given(survey(), st.floats(0.01, 100.0), st.floats(-50.0, 50.0))
def test_rescaling_a_driver_changes_its_slope_not_its_importance(
    data: tuple[np.ndarray, np.ndarray], scale: float, shift: float
) -> None:
    x, y = data
    names = [f"x{j}" for j in range(x.shape[1])]
    before = driver_importance(x, y, names, bootstrap=0)
    moved = x.copy()
    moved[:, 0] = moved[:, 0] * scale + shift  # e.g. delay in hours instead of days
    after = driver_importance(moved, y, names, bootstrap=0)
    np.testing.assert_allclose(_importances(after, names), _importances(before, names), atol=1e-9)
    first_before, first_after = before.driver("x0"), after.driver("x0")
    if first_before.coefficient is not None and abs(first_before.coefficient) > 1e-6:
        assert first_after.coefficient == pytest.approx(first_before.coefficient / scale)


# --- awkward data -----------------------------------------------------------------------------


def test_a_constant_column_gets_zero_and_changes_nothing_else() -> None:
    x, y = _planted(seed=15, n=400)
    with_constant = np.column_stack([x, np.full(400, 2.0)])
    report = driver_importance(with_constant, y, [*PLANTED, "app_version"])
    constant = report.drivers[-1]
    assert constant.name == "app_version"
    assert (constant.importance, constant.relative, constant.ci_low, constant.ci_high) == (
        0,
        0,
        0,
        0,
    )
    assert constant.note == NOTE_NO_VARIATION
    assert constant.direction == 0
    assert constant.coefficient is constant.correlation is constant.std_coefficient is None
    without = driver_importance(x, y, PLANTED)
    np.testing.assert_allclose(
        _importances(report, PLANTED), _importances(without, PLANTED), atol=1e-12
    )
    assert report.adj_r_squared == pytest.approx(without.adj_r_squared)


@pytest.mark.filterwarnings("ignore:The design matrix is rank-deficient")
def test_collinear_drivers_share_r_squared_without_a_slope_of_their_own() -> None:
    x, y = _planted(seed=16, n=400)
    total = x[:, 0] + x[:, 1]  # "incidents" = payment failures + delay days
    names = [*PLANTED, "incidents"]
    report = driver_importance(np.column_stack([x, total]), y, names, bootstrap=50)
    rsquared = sm.OLS(y, sm.add_constant(x)).fit().rsquared
    assert report.r_squared == pytest.approx(rsquared, abs=1e-10)
    assert sum(d.importance for d in report.drivers) == pytest.approx(rsquared, abs=1e-10)
    np.testing.assert_allclose(
        _importances(report, names), _brute_force_shapley(np.column_stack([x, total]), y), atol=1e-9
    )
    for name in ("payment_failures", "delay_days", "incidents"):
        d = report.driver(name)
        assert (d.note, d.coefficient, d.direction) == (NOTE_COLLINEAR, None, 0)
        assert d.importance > 0
    channels = report.driver("channels")
    assert channels.note is None
    assert channels.coefficient == pytest.approx(sm.OLS(y, sm.add_constant(x)).fit().params[3])


def test_rows_with_a_missing_value_are_dropped_and_counted() -> None:
    x, y = _planted(seed=17, n=300)
    dirty_x, dirty_y = x.copy(), y.copy()
    dirty_x[[3, 10], 1] = np.nan
    dirty_x[20, 0] = np.inf
    dirty_y[[10, 50]] = np.nan
    report = driver_importance(dirty_x, dirty_y, PLANTED)
    keep = np.setdiff1d(np.arange(300), [3, 10, 20, 50])
    clean = driver_importance(x[keep], y[keep], PLANTED)
    assert (report.n, report.n_dropped) == (296, 4)
    np.testing.assert_allclose(
        _importances(report, PLANTED), _importances(clean, PLANTED), atol=1e-12
    )


def test_accepts_a_dataframe_lists_and_a_single_driver() -> None:
    frame = pd.DataFrame(WORKED_X, columns=["payment_failures", "contacts"])
    from_frame = driver_importance(frame, pd.Series(WORKED_Y), list(frame.columns))
    from_lists = driver_importance(WORKED_X, WORKED_Y, ["payment_failures", "contacts"])
    assert from_frame == from_lists
    single = driver_importance([2, 2, 2, 0, 0, 0], WORKED_Y, ["payment_failures"], bootstrap=0)
    assert single.drivers[0].importance == pytest.approx(12 / 17)


def test_below_min_n_the_report_is_flagged_not_refused() -> None:
    x, y = _planted(seed=18, n=29)
    assert driver_importance(x, y, PLANTED).reliable is False
    assert driver_importance(x, y, PLANTED, min_n=29).reliable is True
    tiny = driver_importance(x[:4], y[:4], PLANTED, min_n=0)  # R² = 1: nothing left to judge by
    assert tiny.reliable is False and tiny.adj_r_squared is None


def test_twelve_drivers_are_fine_thirteen_are_refused() -> None:
    x, y = _correlated(19, n=200, k=13)
    names = [f"x{j}" for j in range(13)]
    report = driver_importance(x[:, :12], y, names[:12], bootstrap=10)
    assert sum(d.importance for d in report.drivers) == pytest.approx(
        sm.OLS(y, sm.add_constant(x[:, :12])).fit().rsquared, abs=1e-10
    )
    with pytest.raises(DriverInputError, match="at most 12"):
        driver_importance(x, y, names)


@pytest.mark.parametrize(
    ("x", "y", "names", "message"),
    [
        ([[1, 2], [3, 4], [5, 6]], [1, 2], ["a", "b"], "3 rows of drivers but 2 scores"),
        ([[1, 2], [3, 4], [5, 6]], [1, 2, 3], ["a"], "2 driver columns but 1 names"),
        ([[1, 2], [3, 4], [5, 6]], [1, 2, 3], ["a", "a"], "unique"),
        ([[1, 2], [3, 4], [5, 6]], [1, 2, 3], "ab", "not one string"),
        ([[1, 2], [3, 4], [5, 6]], [1, 2, 3], ["a", ""], "non-empty strings"),
        ([["one"], ["two"]], [1, 2], ["a"], "must be numbers"),
        ([[1], [2], [3]], [7, 7, 7], ["a"], "no variation to explain"),
        ([[1], [np.nan], [3]], [1, 2, np.nan], ["a"], "1 usable row"),
        (np.zeros((3, 0)), [1, 2, 3], [], "no drivers"),
        (np.zeros((3, 1, 1)), [1, 2, 3], ["a"], "2-D"),
        ([[1], [2], [3]], [[1, 2], [3, 4], [5, 6]], ["a"], "one column"),
    ],
)
def test_unusable_input_is_refused_clearly(
    x: object, y: object, names: object, message: str
) -> None:
    with pytest.raises(DriverInputError, match=message):
        driver_importance(x, y, names)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options",
    [
        {"bootstrap": -1},
        {"bootstrap": 2.5},
        {"confidence": 1.0},
        {"confidence": 0.0},
        {"min_n": -3},
        {"seed": "abc"},
    ],
)
def test_bad_options_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(DriverInputError):
        driver_importance(WORKED_X, WORKED_Y, ["p", "c"], **options)  # type: ignore[arg-type]


def test_rows_for_a_table_and_lookup_by_name() -> None:
    report = driver_importance(WORKED_X, WORKED_Y, ["payment_failures", "contacts"])
    rows = report.to_rows()
    assert [(r["rank"], r["driver"]) for r in rows] == [(1, "payment_failures"), (2, "contacts")]
    assert set(rows[0]) == {
        "rank",
        "driver",
        "importance",
        "relative",
        "ci_low",
        "ci_high",
        "direction",
        "correlation",
        "std_coefficient",
        "coefficient",
        "note",
    }
    assert rows[0]["coefficient"] == pytest.approx(-1.75)
    with pytest.raises(DriverInputError, match="no driver named 'nps'") as caught:
        report.driver("nps")
    assert isinstance(caught.value, EmpreinteError)
