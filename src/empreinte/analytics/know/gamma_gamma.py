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


def _objective(theta: Array, x: Array, m: Array) -> tuple[float, Array]:
    p, q, g = np.exp(theta)
    px = p * x
    ln_xm_g = np.log(g + m * x)
    psi = special.digamma(px + q)
    d_p = x * (psi - special.digamma(px) + np.log(m) + np.log(x) - ln_xm_g)
    d_q = psi - special.digamma(q) + np.log(g) - ln_xm_g
    d_g = q / g - (px + q) / (g + m * x)
    n = len(x)
    grad = np.array([d_p.sum() * p, d_q.sum() * q, d_g.sum() * g]) / n
    return -float(log_likelihood((p, q, g), x, m).sum()) / n, -grad


def fit(x: npt.ArrayLike, m: npt.ArrayLike) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters over customers with x > 0."""
    x, m = _repeaters(x, m)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = optimize.minimize(
            _objective,
            np.zeros(3),
            args=(x, m),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-20.0, 20.0)] * 3,
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
        )
    params = np.exp(result.x)
    if (
        not np.isfinite(result.fun)
        or (not result.success and "ABNORMAL" not in str(result.message))
        or (np.abs(result.x) >= 19.9).any()
    ):
        raise AnalyticsError(
            f"Gamma-Gamma: the fit did not converge ({result.message}): check the order values"
            " (one currency, no refunds) or fit on more repeat customers"
        )
    fitted = GammaGammaParams(*map(float, params))
    correlation = float(np.corrcoef(x, m)[0, 1]) if np.ptp(x) > 0 and np.ptp(m) > 0 else 0.0
    return GammaGammaFit(
        params=fitted,
        log_likelihood=float(log_likelihood(fitted.as_tuple(), x, m).sum()),
        customers=len(x),
        iterations=int(result.nit),
        spend_frequency_correlation=correlation,
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
