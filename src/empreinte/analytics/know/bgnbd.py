"""The BG/NBD model of purchase frequency (Fader, Hardie & Lee 2005), fitted by maximum
likelihood on a frequency/recency/T summary (analytics/know/summary.py).

While alive, a customer buys at rate λ ~ Gamma(r, α); after each purchase they drop out with
probability p ~ Beta(a, b). For a customer with `x` repeat purchases, the last at `t_x`, seen
for `T` (all in the summary's time unit), the likelihood is (FHL 2005, eq. 6)

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
      + [x > 0] · B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

Customers with the same (x, t_x, T) have the same likelihood, so the fit runs over the distinct
triples weighted by their counts (a million customers are a few hundred thousand triples, or
far fewer when times are whole days), in numpy, with the analytic gradient, by L-BFGS-B on the
logarithms of the four parameters (all must be positive).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, special

from empreinte.errors import AnalyticsError

Array = npt.NDArray[np.float64]
#: |log parameter| past which the fit ran away (a parameter below 2e-6 or above 4e5).
_RUNAWAY = 13.0
_NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class Triples:
    """Distinct (x, t_x, T) with how many customers have each. Each coordinate is also kept as
    its distinct values and an index into them (`x == x_values[x_index]`…): the special
    functions of x, and the logarithms of α + t_x and α + T, are computed once per distinct
    value (a few hundred), not once per triple."""

    x: Array
    t_x: Array
    T: Array
    weight: Array
    x_values: Array
    x_index: npt.NDArray[np.intp]
    t_x_values: Array
    t_x_index: npt.NDArray[np.intp]
    T_values: Array
    T_index: npt.NDArray[np.intp]

    @classmethod
    def of(cls, x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike) -> Triples:
        """The distinct triples of per-customer arrays, counted (a hash group-by)."""
        frame = pd.DataFrame(
            {"x": np.asarray(x, float), "t_x": np.asarray(t_x, float), "T": np.asarray(T, float)}
        )
        if frame.empty:
            raise AnalyticsError("BG/NBD: no customers to fit (no purchase in the calibration)")
        if not np.isfinite(frame.to_numpy()).all():
            raise AnalyticsError("BG/NBD: the summary has missing or infinite values")
        counts = frame.groupby(["x", "t_x", "T"], sort=False).size()
        index = cast(pd.MultiIndex, counts.index)
        levels = [np.asarray(level, float) for level in index.levels]
        codes = [np.asarray(code, np.intp) for code in index.codes]
        triples = cls(
            x=levels[0][codes[0]],
            t_x=levels[1][codes[1]],
            T=levels[2][codes[2]],
            weight=counts.to_numpy(float),
            x_values=levels[0],
            x_index=codes[0],
            t_x_values=levels[1],
            t_x_index=codes[1],
            T_values=levels[2],
            T_index=codes[2],
        )
        triples.check()
        return triples

    def check(self) -> None:
        if (self.x < 0).any() or (self.x != np.round(self.x)).any():
            raise AnalyticsError("BG/NBD: frequency must be a whole number of repeat purchases")
        if (self.t_x < 0).any() or (self.t_x > self.T).any():
            raise AnalyticsError("BG/NBD: recency must lie between 0 and T")
        if ((self.x > 0) & (self.t_x <= 0)).any():
            raise AnalyticsError("BG/NBD: a customer with repeat purchases must have recency > 0")
        if (self.T <= 0).all():
            raise AnalyticsError("BG/NBD: every customer has T = 0: end the calibration later")

    @property
    def customers(self) -> int:
        return int(self.weight.sum())


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.r, self.alpha, self.a, self.b)


@dataclass(frozen=True)
class BgNbdFit:
    params: BgNbdParams
    log_likelihood: float
    customers: int
    triples: int
    iterations: int
    #: Dropout parameters that ran to a limit: a → 0 or b → ∞ means no dropout is seen in the
    #: data (the NBD limit, predictions still defined); reported, not refused.
    at_limit: tuple[str, ...] = ()


def _parts(
    params: tuple[float, float, float, float], d: Triples
) -> tuple[Array, Array, Array, Array, Array, Array]:
    """Per triple: log L; the shares w3, w4 of its two terms; b + x - 1 (1 where x = 0);
    ln(α+T) and ln(α+t_x)."""
    r, alpha, a, b = params
    ux, ix = d.x_values, d.x_index
    x = d.x
    repeat = x > 0
    head = (special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha))[ix]
    betas = (special.betaln(a, b + ux) - special.betaln(a, b))[ix]
    ln_at = np.log(alpha + d.T_values)[d.T_index]
    ln_atx = np.log(alpha + d.t_x_values)[d.t_x_index]
    a3 = -(r + x) * ln_at
    # B(a+1, b+x-1)/B(a, b+x) = a/(b+x-1); only where x > 0 (the term is 0 elsewhere).
    safe = np.where(repeat, b + x - 1, 1.0)
    a4 = np.where(repeat, np.log(a) - np.log(safe) - (r + x) * ln_atx, -np.inf)
    top = np.maximum(a3, a4)
    e3, e4 = np.exp(a3 - top), np.exp(a4 - top)
    total = e3 + e4
    return head + betas + top + np.log(total), e3 / total, e4 / total, safe, ln_at, ln_atx


def _dot(w: Array, v: Array) -> float:
    """Σ w·v without BLAS: a threaded BLAS dot on a busy machine cost 10x the whole fit."""
    return float(np.sum(w * v))


def log_likelihood(params: tuple[float, float, float, float], d: Triples) -> Array:
    """log L of each triple (FHL 2005, eq. 6)."""
    return _parts(params, d)[0]


def _objective(theta: Array, d: Triples) -> tuple[float, Array]:
    """Minus the mean log-likelihood over customers, and its gradient in log-parameters."""
    r, alpha, a, b = np.exp(theta)
    x, t_x, T, w = d.x, d.t_x, d.T, d.weight
    ll, w3, w4, safe, ln_at, ln_atx = _parts((r, alpha, a, b), d)
    ux, ix = d.x_values, d.x_index
    d_r = (
        (special.digamma(r + ux) - special.digamma(r) + np.log(alpha))[ix]
        - w3 * ln_at
        - w4 * ln_atx
    )
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + t_x))
    psi_abx = special.digamma(a + b + ux)
    d_a = (special.digamma(a + b) - psi_abx)[ix] + w4 / a
    d_b = (special.digamma(b + ux) - psi_abx - special.digamma(b) + special.digamma(a + b))[
        ix
    ] - w4 / safe
    n = w.sum()
    grad = np.array(
        [_dot(w, d_r) * r, _dot(w, d_alpha) * alpha, _dot(w, d_a) * a, _dot(w, d_b) * b]
    )
    return -_dot(w, ll) / n, -grad / n


def fit(d: Triples, *, start: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)) -> BgNbdFit:
    """Maximum-likelihood BG/NBD parameters; `AnalyticsError` when the optimiser fails."""
    if (d.x == 0).all():
        raise AnalyticsError(
            "BG/NBD: no customer bought twice in the calibration period, so how often people"
            " come back cannot be estimated: lengthen the calibration period"
        )
    theta0 = np.log(np.asarray(start, float))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = optimize.minimize(
            _objective,
            theta0,
            args=(d,),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-20.0, 20.0)] * 4,
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
        )
    params = np.exp(result.x)
    if not np.isfinite(result.fun) or not np.isfinite(params).all():
        raise AnalyticsError(
            "BG/NBD: the fit did not converge (the likelihood is not finite): check the summary"
            " (a longer calibration period, more repeat customers) or change the time unit"
        )
    if not result.success and "ABNORMAL" not in str(result.message):
        raise AnalyticsError(
            f"BG/NBD: the fit did not converge ({result.message}): lengthen the calibration"
            " period, or use another time unit"
        )
    at_limit = tuple(
        name for name, value in zip(_NAMES, result.x, strict=True) if abs(value) >= _RUNAWAY
    )
    if {"r", "alpha"} & set(at_limit):
        raise AnalyticsError(
            "BG/NBD: the purchase rate ran to a limit ("
            + ", ".join(f"{n}={p:.3g}" for n, p in zip(_NAMES, params, strict=True))
            + "): the data do not identify the model; lengthen the calibration period or"
            " fit on more customers"
        )
    fitted = BgNbdParams(*map(float, params))
    return BgNbdFit(
        params=fitted,
        log_likelihood=_dot(d.weight, log_likelihood(fitted.as_tuple(), d)),
        customers=d.customers,
        triples=len(d.x),
        iterations=int(result.nit),
        at_limit=at_limit,
    )


def p_alive(p: BgNbdParams, x: Array, t_x: Array, T: Array) -> Array:
    """P(alive at T | x, t_x, T) = 1 / (1 + [x>0] a/(b+x-1) ((α+T)/(α+t_x))^(r+x))."""
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.where(
            x > 0,
            np.exp(
                np.log(p.a)
                - np.log(np.where(x > 0, p.b + x - 1, 1.0))
                + (p.r + x) * (np.log(p.alpha + T) - np.log(p.alpha + t_x))
            ),
            0.0,
        )
    return np.asarray(1.0 / (1.0 + odds), float)


def expected_purchases(p: BgNbdParams, t: float, x: Array, t_x: Array, T: Array) -> Array:
    """E[Y(t) | x, t_x, T]: expected purchases in the next `t` time units (FHL 2005, eq. 10)

        (a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x-1; t/(α+T+t))]
        · P(alive)

    Both factors change sign at a = 1 (CDNOW has a = 0.79): the product is positive."""
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    if t == 0:
        return np.zeros_like(x)
    r, alpha, a, b = p.as_tuple()
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
    first = (a + b + x - 1) / (a - 1) * (1 - ratio * hyp)
    return np.asarray(first * p_alive(p, x, t_x, T), float)


def expected_purchases_new(p: BgNbdParams, t: Array) -> Array:
    """E[X(t)] of a new customer over `t` units (FHL 2005, eq. 9), for the tracking plot."""
    r, alpha, a, b = p.as_tuple()
    t = np.asarray(t, float)
    z = t / (alpha + t)
    hyp = special.hyp2f1(r, b, a + b - 1, z)
    return np.asarray((a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp), float)
