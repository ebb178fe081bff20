"""The Gamma-Gamma model of spend per transaction (Fader & Hardie 2013, after Colombo &
Jiang 1999), fitted by maximum likelihood on repeat customers' mean spend.

Each of a customer's transaction values is Gamma(p, ν); ν varies across customers as
Gamma(q, γ). For a customer with `x` repeat transactions of mean value `m` the likelihood is

    L = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · m^(px-1) · x^(px) / (γ + m x)^(px+q)

and the expected spend per transaction given (x, m) is (γ + m x) p / (p x + q - 1), a weighted
mean of the population mean γp/(q-1) and the customer's own m. The model assumes spend is
independent of purchase frequency: `spend_frequency_correlation` reports that check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, special

from empreinte.errors import AnalyticsError

Array = npt.NDArray[np.float64]
_RUNAWAY = 13.0  # |log parameter| past which it ran to a limit


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.p, self.q, self.gamma)


@dataclass(frozen=True)
class GammaGammaFit:
    params: GammaGammaParams
    log_likelihood: float
    customers: int
    iterations: int
    #: Pearson correlation of frequency and mean spend among repeat customers (should be small).
    spend_frequency_correlation: float
    #: q and γ running to infinity together mean every customer has the same spend rate ν
    #: (no heterogeneity: predictions still defined); reported, not refused.
    at_limit: tuple[str, ...] = ()


def _repeaters(x: npt.ArrayLike, m: npt.ArrayLike) -> tuple[Array, Array]:
    x, m = np.asarray(x, float), np.asarray(m, float)
    keep = x > 0
    x, m = x[keep], m[keep]
    if len(x) < 2:
        raise AnalyticsError("Gamma-Gamma: fewer than two repeat customers to fit the spend on")
    if (m <= 0).any() or not np.isfinite(m).all():
        raise AnalyticsError(
            "Gamma-Gamma: every repeat customer's mean spend must be positive (refunds or free"
            " orders left a mean ≤ 0: leave them out of the purchases)"
        )
    return x, m


def log_likelihood(params: tuple[float, float, float], x: Array, m: Array) -> Array:
    p, q, g = params
    px = p * x
    return np.asarray(
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + m * x),
        float,
    )


@dataclass(frozen=True)
class _Spend:
    """Repeat customers' (x, m) with what the likelihood needs that does not depend on the
    parameters: the distinct x (the Gamma functions are computed once per value) and sums."""

    x: Array
    m: Array
    x_values: Array
    x_counts: Array
    sum_x_ln_m: float
    sum_ln_m: float
    sum_x_ln_x: float

    @classmethod
    def of(cls, x: Array, m: Array) -> _Spend:
        values, counts = np.unique(x, return_counts=True)
        ln_m = np.log(m)
        return cls(
            x=x,
            m=m,
            x_values=values,
            x_counts=counts.astype(float),
            sum_x_ln_m=float(np.sum(x * ln_m)),
            sum_ln_m=float(np.sum(ln_m)),
            sum_x_ln_x=float(np.sum(x * np.log(x))),
        )


def _objective(theta: Array, s: _Spend) -> tuple[float, Array]:
    """Minus the mean log-likelihood and its gradient in log-parameters; per customer only
    ln(γ + m x) is computed."""
    p, q, g = np.exp(theta)
    n = float(len(s.x))
    ux, nx = s.x_values, s.x_counts
    pux = p * ux
    ln_mx = np.log(g + s.m * s.x)
    total = (
        float(np.sum(nx * (special.gammaln(pux + q) - special.gammaln(pux))))
        - n * float(special.gammaln(q))
        + n * q * np.log(g)
        + p * s.sum_x_ln_m
        - s.sum_ln_m
        + p * s.sum_x_ln_x
        - float(np.sum((p * s.x + q) * ln_mx))
    )
    psi = special.digamma(pux + q)
    d_p = (
        float(np.sum(nx * ux * (psi - special.digamma(pux))))
        + s.sum_x_ln_m
        + s.sum_x_ln_x
        - float(np.sum(s.x * ln_mx))
    )
    d_q = (
        float(np.sum(nx * psi))
        - n * float(special.digamma(q))
        + n * np.log(g)
        - float(np.sum(ln_mx))
    )
    d_g = n * q / g - float(np.sum((p * s.x + q) / (g + s.m * s.x)))
    grad = np.array([d_p * p, d_q * q, d_g * g]) / n
    return -total / n, -grad


def fit(x: npt.ArrayLike, m: npt.ArrayLike) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters over customers with x > 0."""
    x, m = _repeaters(x, m)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = optimize.minimize(
            _objective,
            np.zeros(3),
            args=(_Spend.of(x, m),),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-20.0, 20.0)] * 3,
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
        )
    params = np.exp(result.x)
    if (
        not np.isfinite(result.fun)
        or (not result.success and "ABNORMAL" not in str(result.message))
        or abs(result.x[0]) >= _RUNAWAY
    ):
        raise AnalyticsError(
            f"Gamma-Gamma: the fit did not converge ({result.message}): check the order values"
            " (one currency, no refunds) or fit on more repeat customers"
        )
    at_limit = tuple(
        name
        for name, value in zip(("p", "q", "gamma"), result.x, strict=True)
        if abs(value) >= _RUNAWAY
    )
    fitted = GammaGammaParams(*map(float, params))
    correlation = float(np.corrcoef(x, m)[0, 1]) if np.ptp(x) > 0 and np.ptp(m) > 0 else 0.0
    return GammaGammaFit(
        params=fitted,
        log_likelihood=float(log_likelihood(fitted.as_tuple(), x, m).sum()),
        customers=len(x),
        iterations=int(result.nit),
        spend_frequency_correlation=correlation,
        at_limit=at_limit,
    )


def expected_spend(params: GammaGammaParams, x: npt.ArrayLike, m: npt.ArrayLike) -> Array:
    """E(M | x, m) = (γ + m x) p / (p x + q - 1); for x = 0, the population mean γp/(q-1)."""
    p, q, g = params.as_tuple()
    if q <= 1:
        raise AnalyticsError(
            f"Gamma-Gamma: q = {q:.3g} ≤ 1, so the mean spend is unbounded: check the order values"
        )
    x, m = np.asarray(x, float), np.asarray(m, float)
    m = np.where(x > 0, m, 0.0)
    return np.asarray((g + m * x) * p / (p * x + q - 1), float)
