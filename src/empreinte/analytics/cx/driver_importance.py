"""Key-driver analysis: how much of a score (NPS, CSAT, CES) each journey feature explains.

Given one row per respondent -- journey features X (service contacts, payment failures, delivery
delay days, ...) and the score y they gave -- each driver gets its share of the R² of the linear
regression of y on all drivers, by the **Shapley decomposition of R²**, also called LMG
(Lindeman, Merenda & Gold 1980; Grömping 2006, "Relative importance for linear regression in R:
the package relaimpo", J. Stat. Software 17(1)): a driver's share is the increase of R² it brings,
averaged over every order in which the drivers can enter the model. Unlike coefficients or
p-values, the shares are never negative and add up exactly to the full model's R², so they read
as "x % of the variation in the score goes with this driver", even when drivers are correlated.
It describes shared variance, not causes.

How it is computed, so every number can be explained:

* rows with a missing (NaN) or infinite value are dropped first, and counted;
* the R² of every subset S of drivers comes from the correlation matrix, R²_S = r_S' R_SS⁻¹ r_S,
  not from 2^k regressions over the n rows. The subsets are visited depth first, each obtained
  from its parent by one Gauss-Jordan pivot on the correlation matrix; a driver whose
  residual variance given the subset is below 1e-10 (it does not vary, or it is a linear
  combination of the subset) is not pivoted, which gives the pseudo-inverse answer: it adds no
  R². Hence at most 12 drivers (4,096 subsets);
* a driver that does not vary gets importance 0 and the note "no variation";
* direction, standardised and unstandardised coefficients come from the full multiple regression
  (least squares). A driver that is an exact linear combination of others has no coefficient of
  its own (None, direction 0, a note); its importance is still its share of the joint R²;
* the uncertainty of each importance is a bootstrap percentile interval. A resample is drawn as
  multinomial counts (how many times each row is picked), so each resample costs one weighted
  sum of cross products -- a matrix product for all resamples at once -- instead of a copy of
  the rows. Shares are positively biased for drivers that explain nothing (any noise adds R²),
  so such a driver's interval sits just above 0 and can miss its own point estimate.

Below `min_n` usable rows (or with no residual degree of freedom) the report is computed but
marked ``reliable=False``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from empreinte.errors import DriverInputError

__all__ = [
    "MAX_DRIVERS",
    "DriverImportance",
    "DriverInputError",
    "DriverReport",
    "driver_importance",
]

MAX_DRIVERS = 12
NOTE_NO_VARIATION = "no variation"
NOTE_COLLINEAR = "collinear with other drivers: its own slope cannot be separated from theirs"

_TOL = 1e-10  # residual variance (as a share of the driver's variance) treated as zero
_CONSTANT_IN_RESAMPLE = 1e-9  # variance, in full-sample standard deviations², treated as zero
_CELLS = 4_000_000  # floats per block of resampling weights (32 MB)
_RESAMPLE_CHUNK = 64  # resamples weighted together
_PRODUCTS_CACHE = 16_000_000  # floats: keep all cross products when they fit (128 MB)

Array = NDArray[np.float64]


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class DriverImportance:
    """One driver: its share of R², the interval of that share, its direction and slope."""

    name: str
    importance: float  # share of R² (absolute); the shares of all drivers sum to R²
    relative: float  # importance / R², 0-1 (0 when R² is 0)
    ci_low: float | None  # bootstrap percentile interval of `importance`; None without bootstrap
    ci_high: float | None
    direction: int  # +1 / -1: sign of the coefficient in the full model; 0 when it has none
    correlation: float | None  # simple (Pearson) correlation with the score; None: no variation
    std_coefficient: float | None  # standardised coefficient (beta) in the full model
    coefficient: float | None  # score units per unit of the driver, others held constant
    note: str | None  # "no variation", or why the coefficient is missing


@dataclass(frozen=True, slots=True)
class DriverReport:
    """All drivers, most important first, with the fit of the full model."""

    drivers: tuple[DriverImportance, ...]  # sorted by importance, descending
    n: int  # rows used
    n_dropped: int  # rows dropped for a missing or infinite value
    r_squared: float
    adj_r_squared: float | None  # None when the model has no residual degree of freedom
    reliable: bool  # n >= min_n and at least one residual degree of freedom
    bootstrap: int  # resamples behind the intervals (0: no intervals)
    confidence: float

    def driver(self, name: str) -> DriverImportance:
        for d in self.drivers:
            if d.name == name:
                return d
        raise DriverInputError(
            f"no driver named {name!r}; drivers are {[d.name for d in self.drivers]}"
        )

    def to_rows(self) -> list[dict[str, object]]:
        """One flat row per driver, ranked, for a table or a CSV file."""
        return [
            {
                "rank": rank,
                "driver": d.name,
                "importance": d.importance,
                "relative": d.relative,
                "ci_low": d.ci_low,
                "ci_high": d.ci_high,
                "direction": d.direction,
                "correlation": d.correlation,
                "std_coefficient": d.std_coefficient,
                "coefficient": d.coefficient,
                "note": d.note,
            }
            for rank, d in enumerate(self.drivers, start=1)
        ]


# --------------------------------------------------------------------------------------------
# Entry point


def driver_importance(
    X: Any,
    y: Any,
    names: Sequence[str],
    *,
    bootstrap: int = 200,
    seed: int | np.random.Generator = 0,
    confidence: float = 0.95,
    min_n: int = 30,
) -> DriverReport:
    """Shapley (LMG) importance of each driver for a score, with bootstrap intervals.

    `X`: n × k drivers (numpy array, DataFrame, nested lists; a 1-D array is one driver);
    `y`: the n scores; `names`: the k driver names, in column order. `bootstrap`: resamples
    (0 skips the intervals); `seed`: an int or a numpy Generator, so reports are reproducible.
    Raises DriverInputError when the data cannot be analysed (shapes, k > 12, a score that
    does not vary).
    """
    _check_options(bootstrap, seed, confidence, min_n)
    x, score, labels = _coerce(X, y, names)
    keep = np.isfinite(x).all(axis=1) & np.isfinite(score)
    n_dropped = int(keep.size - np.count_nonzero(keep))
    x, score = x[keep], score[keep]
    n = score.size
    if n < 2:
        raise DriverInputError(
            f"{n} usable row(s) after dropping {n_dropped} with a missing or infinite value;"
            " at least 2 are needed"
        )
    if np.ptp(score) == 0:
        raise DriverInputError(
            f"the score is {score[0]:g} for all {n} usable rows: there is no variation to explain"
        )

    k = x.shape[1]
    varying = np.ptp(x, axis=0) > 0
    z = _standardise(np.column_stack([x, score]), np.append(varying, True))
    corr = _correlation(z.T @ z / n)

    subsets = _subset_r2(corr[None])
    importance = np.maximum(_shapley(subsets)[0], 0.0)
    r2 = float(np.clip(subsets[0, -1], 0.0, 1.0))
    beta, rank, collinear = _full_regression(corr, varying)
    sd = np.append(x.std(axis=0), score.std())

    df_resid = n - rank - 1
    adj = 1.0 - (1.0 - r2) * (n - 1) / df_resid if df_resid > 0 else None

    low: list[float | None] = [None] * k
    high: list[float | None] = [None] * k
    if bootstrap:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        shares = _bootstrap_shares(z, bootstrap, rng)
        valid = shares[~np.isnan(shares).any(axis=1)]
        if valid.shape[0]:
            alpha = 1.0 - confidence
            qs = np.quantile(np.maximum(valid, 0.0), [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
            low, high = [float(v) for v in qs[0]], [float(v) for v in qs[1]]

    drivers = []
    for j, name in enumerate(labels):
        correlation = std_coef = coef = note = None
        direction = 0
        if not varying[j]:
            note = NOTE_NO_VARIATION
        else:
            correlation = float(corr[j, k])
            if collinear[j]:
                note = NOTE_COLLINEAR
            else:
                std_coef = float(beta[j])
                coef = std_coef * float(sd[k] / sd[j])
                direction = 0 if abs(std_coef) < 1e-12 else int(np.sign(std_coef))
        share = float(importance[j])
        drivers.append(
            DriverImportance(
                name=name,
                importance=share,
                relative=share / r2 if r2 > 0 else 0.0,
                ci_low=low[j],
                ci_high=high[j],
                direction=direction,
                correlation=correlation,
                std_coefficient=std_coef,
                coefficient=coef,
                note=note,
            )
        )
    drivers.sort(key=lambda d: -d.importance)
    return DriverReport(
        drivers=tuple(drivers),
        n=n,
        n_dropped=n_dropped,
        r_squared=r2,
        adj_r_squared=adj,
        reliable=n >= min_n and df_resid > 0,
        bootstrap=bootstrap,
        confidence=confidence,
    )


# --------------------------------------------------------------------------------------------
# Input checks


def _check_options(bootstrap: int, seed: object, confidence: float, min_n: int) -> None:
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 0:
        raise DriverInputError(
            f"bootstrap must be a whole number of resamples (0 for none), got {bootstrap!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.random.Generator):
        raise DriverInputError(f"seed must be an int or a numpy Generator, got {seed!r}")
    if not 0.0 < confidence < 1.0:
        raise DriverInputError(f"confidence must be between 0 and 1, got {confidence!r}")
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 0:
        raise DriverInputError(f"min_n must be a non-negative whole number, got {min_n!r}")


def _coerce(X: Any, y: Any, names: Sequence[str]) -> tuple[Array, Array, list[str]]:
    try:
        x = np.asarray(X, dtype=np.float64)
        score = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DriverInputError(f"drivers and scores must be numbers: {exc}") from exc
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise DriverInputError(f"the drivers must be a 2-D table (rows × drivers), got {x.ndim}-D")
    if score.ndim == 2 and score.shape[1] == 1:
        score = score[:, 0]
    if score.ndim != 1:
        raise DriverInputError(f"the scores must be one column, got shape {score.shape}")
    if x.shape[0] != score.size:
        raise DriverInputError(
            f"{x.shape[0]} rows of drivers but {score.size} scores: give one score per row"
        )
    if isinstance(names, str):
        raise DriverInputError("names must be a list of driver names, not one string")
    labels = list(names)
    k = x.shape[1]
    if len(labels) != k:
        raise DriverInputError(f"{k} driver columns but {len(labels)} names: name every column")
    if not all(isinstance(s, str) and s for s in labels):
        raise DriverInputError(f"driver names must be non-empty strings, got {labels}")
    if len(set(labels)) != k:
        twice = sorted({s for s in labels if labels.count(s) > 1})
        raise DriverInputError(f"driver names must be unique; repeated: {twice}")
    if k == 0:
        raise DriverInputError("no drivers given")
    if k > MAX_DRIVERS:
        raise DriverInputError(
            f"{k} drivers given, at most {MAX_DRIVERS} are supported: the Shapley decomposition"
            f" visits all 2^k subsets of drivers. Keep the {MAX_DRIVERS} most relevant (e.g. the"
            " most correlated with the score) or group related features into one"
        )
    return x, score, labels


# --------------------------------------------------------------------------------------------
# Linear algebra


def _standardise(data: Array, varying: NDArray[np.bool_]) -> Array:
    """Centred, unit-variance columns; a column that does not vary becomes all zeros."""
    z: Array = data - data.mean(axis=0)
    sd = np.sqrt(np.mean(z * z, axis=0))
    z[:, varying] /= sd[varying]
    z[:, ~varying] = 0.0
    return z


def _correlation(cov: Array) -> Array:
    """Correlations from (batched) covariances; a non-varying column gets a zero row and column.

    The last column is the score. Works on (p, p) or (B, p, p); a resample in which the score
    does not vary gets NaN.
    """
    var = np.diagonal(cov, axis1=-2, axis2=-1)
    flat = var <= _CONSTANT_IN_RESAMPLE
    sd = np.sqrt(np.where(flat, 1.0, var))
    corr = cov / (sd[..., :, None] * sd[..., None, :])
    corr = np.where(flat[..., :, None] | flat[..., None, :], 0.0, corr)
    idx = np.arange(cov.shape[-1])
    corr[..., idx, idx] = np.where(flat, 0.0, 1.0)
    corr[flat[..., -1]] = np.nan
    return corr


def _pivot(a: Array, j: int) -> Array:
    """Eliminate pivot j of (B, m, m) matrices, keeping only the rows and columns after it.

    What remains is the Schur complement: the (co)variances of the later drivers and the score
    once the pivot is regressed out -- one step of a Gauss-Jordan sweep (Goodnight 1979).
    Where the pivot (the residual variance of the driver given those already eliminated) is
    below tolerance, nothing is regressed out: the driver adds nothing (pseudo-inverse).
    """
    d = a[:, j, j]
    skip = ~(d > _TOL)
    col = a[:, j + 1 :, j]
    factor = np.where(skip, 0.0, 1.0 / np.where(skip, 1.0, d))
    rest = a[:, j + 1 :, j + 1 :]
    return rest - (col * factor[:, None])[:, :, None] * col[:, None, :]


def _subset_r2(corr: Array) -> Array:
    """R² of every subset of drivers, (B, 2^k), from (B, k+1, k+1) correlations (score last).

    Subset `mask` has driver j when bit j is set. Depth first: each subset is its parent with
    one more pivot eliminated, so the whole table costs 2^k small eliminations per resample.
    """
    k = corr.shape[-1] - 1
    r2 = np.zeros((corr.shape[0], 1 << k))

    def visit(mask: int, a: Array, first: int) -> None:
        # `a` holds drivers first..k-1 and the score, given the drivers in `mask`
        for j in range(first, k):
            child = _pivot(a, j - first)
            r2[:, mask | 1 << j] = 1.0 - child[:, -1, -1]
            visit(mask | 1 << j, child, j + 1)

    visit(0, corr, 0)
    return r2


def _shapley(r2: Array) -> Array:
    """Shapley values of the R² game: (B, 2^k) subset R² -> (B, k) shares.

    phi_j = sum over S without j of |S|! (k-|S|-1)! / k! * (R²(S + j) - R²(S)).
    """
    k = r2.shape[1].bit_length() - 1
    masks = np.arange(1 << k)
    size = np.bitwise_count(masks)
    weight = np.array(
        [math.factorial(s) * math.factorial(k - 1 - s) / math.factorial(k) for s in range(k)]
    )
    phi = np.empty((r2.shape[0], k))
    for j in range(k):
        without = masks[(masks >> j) & 1 == 0]
        phi[:, j] = (r2[:, without | 1 << j] - r2[:, without]) @ weight[size[without]]
    return phi


def _full_regression(
    corr: Array, varying: NDArray[np.bool_]
) -> tuple[Array, int, NDArray[np.bool_]]:
    """Standardised coefficients of the full model, its rank, and which drivers are collinear.

    A driver is collinear when it is (within tolerance) a linear combination of the others:
    its coefficient is then not identified. The others' coefficients are the same for every
    least-squares solution, so the minimum-norm one gives them.
    """
    k = corr.shape[0] - 1
    beta = np.zeros(k)
    collinear = np.zeros(k, dtype=bool)
    idx = np.flatnonzero(varying)
    if idx.size == 0:
        return beta, 0, collinear
    rxx = corr[np.ix_(idx, idx)]
    solution, _, rank, _ = np.linalg.lstsq(rxx, corr[idx, k], rcond=_TOL)
    beta[idx] = solution
    for pos, j in enumerate(idx):
        others = np.delete(np.arange(idx.size), pos)
        if others.size == 0:
            continue
        ro = rxx[np.ix_(others, others)]
        b = np.linalg.lstsq(ro, rxx[others, pos], rcond=_TOL)[0]
        collinear[j] = 1.0 - float(rxx[pos, others] @ b) <= _TOL
    return beta, int(rank), collinear


# --------------------------------------------------------------------------------------------
# Bootstrap


def _products(z: Array) -> Array:
    """Each row's columns followed by its pairwise products z_a z_b, a <= b (upper triangle)."""
    n, p = z.shape
    out = np.empty((n, p + p * (p + 1) // 2))
    out[:, :p] = z
    at = p
    for a in range(p):
        np.multiply(z[:, a:], z[:, a : a + 1], out=out[:, at : at + p - a])
        at += p - a
    return out


def _bootstrap_shares(z: Array, resamples: int, rng: np.random.Generator) -> Array:
    """Shapley shares for each bootstrap resample of the standardised rows: (B, k).

    Resample b picks n rows with replacement, i.e. row i with weight w_bi ~ Multinomial(n, 1/n).
    Weighted means and cross products for a chunk of resamples are one matrix product of the
    weights with the rows' products. Rows are taken in blocks, each resample's n draws first
    split between blocks (multinomial over block sizes, which is exact), so memory stays
    bounded for any n. A resample whose score does not vary gets NaN.
    """
    n, p = z.shape
    chunk = min(resamples, _RESAMPLE_CHUNK)
    rows = max(1024, _CELLS // chunk)
    starts = list(range(0, n, rows))
    sizes = np.diff([*starts, n])
    q = p + p * (p + 1) // 2
    cached = _products(z) if n * q <= _PRODUCTS_CACHE else None
    upper = np.triu_indices(p)

    sums = np.empty((resamples, q))
    for first in range(0, resamples, chunk):
        b = min(chunk, resamples - first)
        draws = rng.multinomial(n, sizes / n, size=b)  # (b, blocks)
        acc = np.zeros((b, q))
        for i, start in enumerate(starts):
            width = int(sizes[i])
            weights = np.empty((b, width))
            for r in range(b):
                weights[r] = np.bincount(rng.integers(0, width, size=draws[r, i]), minlength=width)
            block = (
                cached[start : start + width]
                if cached is not None
                else _products(z[start : start + width])
            )
            acc += weights @ block
        sums[first : first + b] = acc / n

    mean = sums[:, :p]
    second = np.empty((resamples, p, p))
    second[:, upper[0], upper[1]] = sums[:, p:]
    second[:, upper[1], upper[0]] = sums[:, p:]
    cov = second - mean[:, :, None] * mean[:, None, :]
    corr = _correlation(cov)
    bad = np.isnan(corr[:, -1, -1])
    shares = np.full((resamples, p - 1), np.nan)
    if (~bad).any():
        shares[~bad] = _shapley(_subset_r2(corr[~bad]))
    return shares
