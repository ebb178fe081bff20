"""Statistics of an A/B test over counts: who was exposed to which variant, who converted.

Pure, typed Python over counts; the caller computes the counts from the event log (exposures
``Experiment Viewed`` {experiment, variant} and a goal event within a window after exposure).

Methods, so every number can be explained:

* conversion rate per variant with a Wilson score interval;
* absolute lift (treatment - control) with Newcombe's hybrid score interval (method 10, built on
  the two Wilson intervals); relative lift (treatment / control - 1) with the Katz log interval;
* a two-sided two-proportion z-test with pooled variance -- the same statistic and p-value as
  ``statsmodels.stats.proportion.proportions_ztest`` on the same counts;
* a Bayesian beta-binomial analysis, prior Beta(1, 1) on each rate: P(treatment beats control)
  is computed **exactly** with the closed form for two Beta variables with an integer first
  shape parameter (Evan Miller, "Formulas for Bayesian A/B Testing"); the expected loss of
  choosing each side, E[max(other - chosen, 0)], is exact too, from the same closed form on
  the size-biased posteriors. No sampling, no numerical integration;
* a sample-ratio-mismatch check: chi-square goodness of fit of the exposed counts against the
  intended split (equal by default); a mismatch is flagged when p < 0.001;
* the sample size per arm needed to detect a given absolute lift (1 point by default) with the
  arcsine effect size (Cohen's h): n = 2 (z_{1-alpha/2} + z_{power})^2 / h^2, the formula of
  ``statsmodels.stats.power.NormalIndPower`` with equal arms (its negligible opposite-tail term
  aside);
* a plain-language verdict in English and French, honest when inconclusive.

Each treatment is compared with the control separately; no correction for multiple comparisons
is applied (say so when many treatments are compared).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special, stats

from empreinte.analytics.cx.proportions import Interval, wilson
from empreinte.errors import ExperimentInputError

__all__ = [
    "ExperimentInputError",
    "ExperimentResult",
    "Interval",
    "SampleRatioCheck",
    "TreatmentComparison",
    "VariantCounts",
    "VariantResult",
    "analyze_experiment",
    "prob_beta_greater",
    "sample_size_per_arm",
    "two_proportion_ztest",
    "wilson_interval",
]

Language = Literal["en", "fr"]

SRM_THRESHOLD = 0.001
_CHUNK = 1_000_000


# --------------------------------------------------------------------------------------------
# Inputs and results


@dataclass(frozen=True, slots=True)
class VariantCounts:
    """One arm of the test: users exposed to it and, among them, users who converted."""

    name: str
    exposed: int
    converted: int


@dataclass(frozen=True, slots=True)
class VariantResult:
    name: str
    exposed: int
    converted: int
    rate: float
    ci: Interval  # Wilson score interval


@dataclass(frozen=True, slots=True)
class TreatmentComparison:
    """One treatment against the control."""

    treatment: str
    control: str
    absolute_lift: float  # treatment rate - control rate (a proportion: 0.012 = 1.2 points)
    absolute_lift_ci: Interval  # Newcombe hybrid score interval
    relative_lift: float | None  # treatment / control - 1; None when the control rate is 0
    relative_lift_ci: Interval | None  # Katz log interval; None when either arm has 0 converted
    z: float
    p_value: float  # two-sided, pooled two-proportion z-test
    significant: bool  # p_value < alpha
    prob_beats_control: float  # P(treatment rate > control rate | data), Beta(1, 1) priors
    expected_loss_treatment: float  # E[max(control - treatment, 0)]: risk of shipping it
    expected_loss_control: float  # E[max(treatment - control, 0)]: risk of keeping control
    sample_size_per_arm: int | None  # users per arm to detect `mde` with `power` at `alpha`
    mde: float
    verdict_en: str
    verdict_fr: str

    def verdict(self, language: Language = "en") -> str:
        return self.verdict_fr if language == "fr" else self.verdict_en


@dataclass(frozen=True, slots=True)
class SampleRatioCheck:
    """Chi-square goodness of fit of the exposed counts against the intended split."""

    observed: dict[str, int]
    expected: dict[str, float]
    chi2: float
    p_value: float
    mismatch: bool  # p_value < threshold
    threshold: float
    warning_en: str | None
    warning_fr: str | None


@dataclass(frozen=True, slots=True)
class ExperimentResult:
    control: str
    variants: tuple[VariantResult, ...]
    comparisons: tuple[TreatmentComparison, ...]
    srm: SampleRatioCheck
    alpha: float
    confidence: float

    def variant(self, name: str) -> VariantResult:
        for v in self.variants:
            if v.name == name:
                return v
        raise ExperimentInputError("no such variant", variant=name)

    def comparison(self, treatment: str) -> TreatmentComparison:
        for c in self.comparisons:
            if c.treatment == treatment:
                return c
        raise ExperimentInputError("no such treatment", variant=treatment)

    def verdict(self, language: Language = "en") -> str:
        """Every comparison's verdict, then the sample-ratio warning if there is one."""
        lines = [c.verdict(language) for c in self.comparisons]
        warning = self.srm.warning_fr if language == "fr" else self.srm.warning_en
        if warning:
            lines.append(warning)
        return "\n".join(lines)

    def to_rows(self) -> list[dict[str, object]]:
        """One flat row per variant (comparison columns empty for the control)."""
        by_treatment = {c.treatment: c for c in self.comparisons}
        rows: list[dict[str, object]] = []
        for v in self.variants:
            c = by_treatment.get(v.name)
            rows.append(
                {
                    "variant": v.name,
                    "is_control": v.name == self.control,
                    "exposed": v.exposed,
                    "converted": v.converted,
                    "rate": v.rate,
                    "rate_ci_low": v.ci.low,
                    "rate_ci_high": v.ci.high,
                    "absolute_lift": c.absolute_lift if c else None,
                    "absolute_lift_ci_low": c.absolute_lift_ci.low if c else None,
                    "absolute_lift_ci_high": c.absolute_lift_ci.high if c else None,
                    "relative_lift": c.relative_lift if c else None,
                    "p_value": c.p_value if c else None,
                    "prob_beats_control": c.prob_beats_control if c else None,
                    "expected_loss": c.expected_loss_treatment if c else None,
                }
            )
        return rows


# --------------------------------------------------------------------------------------------
# Building blocks


def _z_two_sided(confidence: float) -> float:
    return float(stats.norm.ppf(1.0 - (1.0 - confidence) / 2.0))


def wilson_interval(converted: int, exposed: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a binomial proportion (always inside [0, 1])."""
    if exposed <= 0:
        raise ExperimentInputError("a rate needs at least one exposed user")
    return wilson(converted, exposed, _z_two_sided(confidence))


def two_proportion_ztest(
    x_treatment: int, n_treatment: int, x_control: int, n_control: int
) -> tuple[float, float]:
    """Two-sided z-test of equal proportions with pooled variance: (z, p-value).

    Same as ``proportions_ztest([x_t, x_c], [n_t, n_c])``. When every user or no user
    converted, the difference is exactly 0 with no variance: (0.0, 1.0).
    """
    p_t = x_treatment / n_treatment
    p_c = x_control / n_control
    pooled = (x_treatment + x_control) / (n_treatment + n_control)
    var = pooled * (1.0 - pooled) * (1.0 / n_treatment + 1.0 / n_control)
    if var <= 0.0:
        return 0.0, 1.0
    z = (p_t - p_c) / math.sqrt(var)
    return z, float(2.0 * stats.norm.sf(abs(z)))


def _prob_greater_sum(a1: int, b1: float, a2: float, b2: float) -> float:
    """P(X1 > X2), X1 ~ Beta(a1, b1) with integer a1, X2 ~ Beta(a2, b2): Miller's sum."""
    total = 0.0
    const = float(special.betaln(a2, b2))
    for start in range(0, a1, _CHUNK):
        i = np.arange(start, min(a1, start + _CHUNK), dtype=np.float64)
        log_terms = (
            special.betaln(a2 + i, b1 + b2) - np.log(b1 + i) - special.betaln(1.0 + i, b1) - const
        )
        total += float(np.sum(np.exp(log_terms)))
    return total


def prob_beta_greater(a1: int, b1: int, a2: int, b2: int) -> float:
    """Exact P(X1 > X2) for independent X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2), integer shapes.

    Closed form (a finite sum of Beta-function ratios), summed over the smaller first shape
    parameter, using P(X1 > X2) = 1 - P(X2 > X1) for continuous variables.
    """
    if min(a1, b1, a2, b2) <= 0:
        raise ExperimentInputError("Beta shape parameters must be positive")
    # Sum over the smaller first shape parameter (fewer terms).
    swap = a1 > a2
    p = 1.0 - _prob_greater_sum(a2, b2, a1, b1) if swap else _prob_greater_sum(a1, b1, a2, b2)
    return min(1.0, max(0.0, p))


def _expected_loss(a_chosen: int, b_chosen: int, a_other: int, b_other: int) -> float:
    """Exact E[max(X_other - X_chosen, 0)] for independent Beta posteriors.

    E[X_o 1{X_o > X_c}] = E[X_o] P(X_o' > X_c) with X_o' ~ Beta(a_o + 1, b_o), and likewise
    for the second term; both probabilities come from `prob_beta_greater`.
    """
    mean_o = a_other / (a_other + b_other)
    mean_c = a_chosen / (a_chosen + b_chosen)
    loss = mean_o * prob_beta_greater(a_other + 1, b_other, a_chosen, b_chosen) - (
        mean_c * prob_beta_greater(a_other, b_other, a_chosen + 1, b_chosen)
    )
    return max(0.0, loss)


def sample_size_per_arm(
    baseline: float, mde: float = 0.01, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """Users per arm to detect an absolute lift `mde` over `baseline` (two-sided, equal arms).

    Arcsine effect size h = |2 asin sqrt(p2) - 2 asin sqrt(p1)| with p2 = baseline + mde (or
    baseline - mde when that would exceed 1); n = 2 (z_{1-alpha/2} + z_{power})^2 / h^2,
    rounded up. None when no such rate exists.
    """
    if not 0.0 < mde < 1.0:
        raise ExperimentInputError("the minimum detectable effect must be between 0 and 1")
    target = baseline + mde if baseline + mde <= 1.0 else baseline - mde
    if not 0.0 <= target <= 1.0:
        return None
    h = abs(2.0 * math.asin(math.sqrt(target)) - 2.0 * math.asin(math.sqrt(baseline)))
    z_sum = float(stats.norm.ppf(1.0 - alpha / 2.0) + stats.norm.ppf(power))
    return math.ceil(2.0 * (z_sum / h) ** 2)


def _newcombe(x_t: int, n_t: int, x_c: int, n_c: int, confidence: float) -> tuple[float, Interval]:
    p_t, p_c = x_t / n_t, x_c / n_c
    ci_t = wilson_interval(x_t, n_t, confidence)
    ci_c = wilson_interval(x_c, n_c, confidence)
    d = p_t - p_c
    low = d - math.sqrt((p_t - ci_t.low) ** 2 + (ci_c.high - p_c) ** 2)
    high = d + math.sqrt((ci_t.high - p_t) ** 2 + (p_c - ci_c.low) ** 2)
    return d, Interval(max(-1.0, low), min(1.0, high))


def _relative_lift(
    x_t: int, n_t: int, x_c: int, n_c: int, confidence: float
) -> tuple[float | None, Interval | None]:
    if x_c == 0:
        return None, None
    p_t, p_c = x_t / n_t, x_c / n_c
    rel = p_t / p_c - 1.0
    if x_t == 0:
        return rel, None
    se = math.sqrt((1.0 - p_t) / x_t + (1.0 - p_c) / x_c)
    z = _z_two_sided(confidence)
    log_ratio = math.log(p_t / p_c)
    return rel, Interval(math.exp(log_ratio - z * se) - 1.0, math.exp(log_ratio + z * se) - 1.0)


def _srm_check(
    variants: Sequence[VariantCounts],
    intended_split: Mapping[str, float] | None,
    threshold: float,
) -> SampleRatioCheck:
    names = [v.name for v in variants]
    if intended_split is None:
        weights = dict.fromkeys(names, 1.0)
    else:
        unknown = sorted(set(intended_split) - set(names))
        missing = sorted(set(names) - set(intended_split))
        if unknown or missing:
            raise ExperimentInputError(
                "the intended split must give a weight to every variant and only to them"
                f" (unknown: {unknown}, missing: {missing})"
            )
        weights = {}
        for name in names:
            w = intended_split[name]
            if isinstance(w, bool) or not isinstance(w, int | float):
                raise ExperimentInputError("split weight must be a number", variant=name)
            if not (math.isfinite(w) and w > 0):
                raise ExperimentInputError("split weight must be positive", variant=name)
            weights[name] = float(w)
    total_w = sum(weights.values())
    total_n = sum(v.exposed for v in variants)
    observed = {v.name: v.exposed for v in variants}
    expected = {n: total_n * weights[n] / total_w for n in names}
    chi2 = sum((observed[n] - expected[n]) ** 2 / expected[n] for n in names)
    p_value = float(stats.chi2.sf(chi2, len(names) - 1))
    mismatch = p_value < threshold
    warning_en = warning_fr = None
    if mismatch:
        shares_en = ", ".join(f"{n} {_pct(observed[n] / total_n, 'en')}" for n in names)
        shares_fr = ", ".join(f"{n} {_pct(observed[n] / total_n, 'fr')}" for n in names)
        exp_en = ", ".join(f"{n} {_pct(weights[n] / total_w, 'en')}" for n in names)
        exp_fr = ", ".join(f"{n} {_pct(weights[n] / total_w, 'fr')}" for n in names)
        warning_en = (
            f"Warning: sample ratio mismatch ({_p(p_value, 'en')}): exposures split as "
            f"{shares_en} instead of {exp_en}. Assignment or tracking is broken; do not trust "
            "these results until it is fixed."
        )
        warning_fr = (
            f"Attention : déséquilibre d'échantillonnage (SRM, {_p(p_value, 'fr')}) : "
            f"expositions réparties {shares_fr} au lieu de {exp_fr}. L'affectation ou le suivi "
            "est défaillant ; ne vous fiez pas à ces résultats avant correction."
        )
    return SampleRatioCheck(
        observed=observed,
        expected=expected,
        chi2=chi2,
        p_value=p_value,
        mismatch=mismatch,
        threshold=threshold,
        warning_en=warning_en,
        warning_fr=warning_fr,
    )


# --------------------------------------------------------------------------------------------
# Plain-language formatting


def _num(value: float, decimals: int, language: Language) -> str:
    text = f"{value:,.{decimals}f}"
    if language == "fr":
        text = text.replace(",", " ").replace(".", ",")
    return text


def _signed(value: float, decimals: int, language: Language) -> str:
    rounded = round(value, decimals)
    sign = "+" if rounded > 0 else ("-" if rounded < 0 else "±")
    return sign + _num(abs(rounded), decimals, language)


def _pts(value: float, language: Language) -> str:
    """An absolute difference of proportions in percentage points: 0.012 -> +1.2 points."""
    pts = value * 100.0
    if language == "fr":
        unit = "point" if abs(round(pts, 1)) < 2 else "points"
        return f"{_signed(pts, 1, language)} {unit}"
    return f"{_signed(pts, 1, language)} points"


def _pct(value: float, language: Language) -> str:
    return f"{_num(value * 100.0, 1, language)} %"


def _prob(value: float, language: Language) -> str:
    """A probability with its relation sign: "= 97 %", "> 99.9 %"."""
    pct = value * 100.0
    if pct > 99.9:
        return "> " + _num(99.9, 1, language) + " %"
    if pct < 0.1:
        return "< " + _num(0.1, 1, language) + " %"
    if 1.0 <= pct <= 99.0:
        return f"= {_num(pct, 0, language)} %"
    return f"= {_num(pct, 1, language)} %"


def _p(value: float, language: Language) -> str:
    if value < 0.001:
        return "p < " + _num(0.001, 3, language)
    return "p = " + _num(value, 3, language)


def _verdicts(
    t: VariantResult,
    c: VariantResult,
    diff: float,
    diff_ci: Interval,
    p_value: float,
    significant: bool,
    prob: float,
    n_needed: int | None,
    mde: float,
    confidence: float,
) -> tuple[str, str]:
    level_en = f"{_num(confidence * 100.0, 0, 'en')}%"
    level_fr = f"{_num(confidence * 100.0, 0, 'fr')} %"
    stats_en = (
        f"{_pts(diff, 'en')} ({level_en} CI {_signed(diff_ci.low * 100, 1, 'en')} to "
        f"{_signed(diff_ci.high * 100, 1, 'en')}), {_p(p_value, 'en')}; "
        f"P({t.name} > {c.name}) {_prob(prob, 'en')}"
    )
    stats_fr = (
        f"{_pts(diff, 'fr')} (IC à {level_fr} : {_signed(diff_ci.low * 100, 1, 'fr')} à "
        f"{_signed(diff_ci.high * 100, 1, 'fr')}), {_p(p_value, 'fr')} ; "
        f"P({t.name} > {c.name}) {_prob(prob, 'fr')}"
    )
    rates_en = (
        f" [{c.name}: {_pct(c.rate, 'en')} of {_num(c.exposed, 0, 'en')}; "
        f"{t.name}: {_pct(t.rate, 'en')} of {_num(t.exposed, 0, 'en')}]"
    )
    rates_fr = (
        f" [{c.name} : {_pct(c.rate, 'fr')} sur {_num(c.exposed, 0, 'fr')} ; "
        f"{t.name} : {_pct(t.rate, 'fr')} sur {_num(t.exposed, 0, 'fr')}]"
    )
    if significant and diff > 0:
        en = f"{t.name} converts better than {c.name}: {stats_en}."
        fr = f"{t.name} convertit mieux que {c.name} : {stats_fr}."
    elif significant and diff < 0:
        en = f"{t.name} converts worse than {c.name}: {stats_en}."
        fr = f"{t.name} convertit moins bien que {c.name} : {stats_fr}."
    else:
        mde_en, mde_fr = _pts(mde, "en").lstrip("+"), _pts(mde, "fr").lstrip("+")
        if n_needed is None:
            need_en = need_fr = ""
        else:
            need_en = (
                f" Users needed per arm to detect a lift of {mde_en}: {_num(n_needed, 0, 'en')}."
            )
            need_fr = (
                f" Utilisateurs nécessaires par variante pour détecter un écart de "
                f"{mde_fr} : {_num(n_needed, 0, 'fr')}."
            )
        en = (
            f"No detectable difference between {t.name} and {c.name} with this sample: "
            f"{stats_en}.{need_en}"
        )
        fr = (
            f"Pas de différence détectable entre {t.name} et {c.name} avec cet échantillon : "
            f"{stats_fr}.{need_fr}"
        )
    return en + rates_en, fr + rates_fr


# --------------------------------------------------------------------------------------------
# Entry point


def _validate(
    variants: Sequence[VariantCounts] | Mapping[str, tuple[int, int]], control: str
) -> list[VariantCounts]:
    if isinstance(variants, Mapping):
        items: list[VariantCounts] = []
        for name, pair in variants.items():
            if not (isinstance(pair, tuple | list) and len(pair) == 2):
                raise ExperimentInputError(
                    "counts must be a pair (exposed, converted)", variant=str(name)
                )
            items.append(VariantCounts(name, pair[0], pair[1]))
    else:
        items = list(variants)
    if len(items) < 2:
        raise ExperimentInputError(f"an experiment needs at least two variants, got {len(items)}")
    seen: set[str] = set()
    for v in items:
        if not isinstance(v, VariantCounts):
            raise ExperimentInputError(f"expected VariantCounts, got {type(v).__name__}")
        if not isinstance(v.name, str) or not v.name:
            raise ExperimentInputError("variant names must be non-empty strings")
        if v.name in seen:
            raise ExperimentInputError("variant appears twice", variant=v.name)
        seen.add(v.name)
        for label, value in (("exposed", v.exposed), ("converted", v.converted)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ExperimentInputError(f"{label} must be an integer count", variant=v.name)
            if value < 0:
                raise ExperimentInputError(f"{label} count is negative ({value})", variant=v.name)
        if v.converted > v.exposed:
            raise ExperimentInputError(
                f"more converted users ({v.converted}) than exposed users ({v.exposed})",
                variant=v.name,
            )
        if v.exposed == 0:
            raise ExperimentInputError("no exposed users", variant=v.name)
    if control not in seen:
        raise ExperimentInputError(
            f"unknown control variant {control!r}; variants are {sorted(seen)}"
        )
    return [VariantCounts(v.name, int(v.exposed), int(v.converted)) for v in items]


def analyze_experiment(
    variants: Sequence[VariantCounts] | Mapping[str, tuple[int, int]],
    control: str,
    *,
    intended_split: Mapping[str, float] | None = None,
    alpha: float = 0.05,
    confidence: float = 0.95,
    mde: float = 0.01,
    power: float = 0.8,
    srm_threshold: float = SRM_THRESHOLD,
) -> ExperimentResult:
    """Analyse an A/B(/n) test from counts.

    `variants`: VariantCounts(name, exposed, converted) or {name: (exposed, converted)};
    `control`: the name of the control arm; `intended_split`: {name: weight} (equal when
    omitted); `mde`: the absolute lift (0.01 = 1 point) used for the sample-size estimate.
    Raises ExperimentInputError on impossible input.
    """
    for label, value in (("alpha", alpha), ("confidence", confidence), ("power", power)):
        if not 0.0 < value < 1.0:
            raise ExperimentInputError(f"{label} must be between 0 and 1, got {value}")
    if not 0.0 < srm_threshold < 1.0:
        raise ExperimentInputError("srm_threshold must be between 0 and 1")
    if not 0.0 < mde < 1.0:
        raise ExperimentInputError("mde must be between 0 and 1 (0.01 = one point)")
    items = _validate(variants, control)
    srm = _srm_check(items, intended_split, srm_threshold)

    results = tuple(
        VariantResult(
            name=v.name,
            exposed=v.exposed,
            converted=v.converted,
            rate=v.converted / v.exposed,
            ci=wilson_interval(v.converted, v.exposed, confidence),
        )
        for v in items
    )
    ctrl = next(r for r in results if r.name == control)
    a_c, b_c = ctrl.converted + 1, ctrl.exposed - ctrl.converted + 1
    n_needed = sample_size_per_arm(ctrl.rate, mde, alpha, power)

    comparisons: list[TreatmentComparison] = []
    for t in results:
        if t.name == control:
            continue
        x_t, n_t, x_c, n_c = t.converted, t.exposed, ctrl.converted, ctrl.exposed
        diff, diff_ci = _newcombe(x_t, n_t, x_c, n_c, confidence)
        rel, rel_ci = _relative_lift(x_t, n_t, x_c, n_c, confidence)
        z, p_value = two_proportion_ztest(x_t, n_t, x_c, n_c)
        a_t, b_t = x_t + 1, n_t - x_t + 1
        prob = prob_beta_greater(a_t, b_t, a_c, b_c)
        significant = p_value < alpha
        en, fr = _verdicts(
            t, ctrl, diff, diff_ci, p_value, significant, prob, n_needed, mde, confidence
        )
        comparisons.append(
            TreatmentComparison(
                treatment=t.name,
                control=control,
                absolute_lift=diff,
                absolute_lift_ci=diff_ci,
                relative_lift=rel,
                relative_lift_ci=rel_ci,
                z=z,
                p_value=p_value,
                significant=significant,
                prob_beats_control=prob,
                expected_loss_treatment=_expected_loss(a_t, b_t, a_c, b_c),
                expected_loss_control=_expected_loss(a_c, b_c, a_t, b_t),
                sample_size_per_arm=n_needed,
                mde=mde,
                verdict_en=en,
                verdict_fr=fr,
            )
        )
    return ExperimentResult(
        control=control,
        variants=results,
        comparisons=tuple(comparisons),
        srm=srm,
        alpha=alpha,
        confidence=confidence,
    )
