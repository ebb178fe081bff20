"""Personas from data: people clustered on their behaviour (persona_features.py).

**Scaling.** Counts and amounts (`COUNT_FEATURES`: touchpoints, channels, orders, sessions and
contacts per month, mean order value, items per order) are long-tailed: they enter as
log1p(x). The latest NPS is missing for people who never answered: it is filled with the mean
of those who did (`nps_answered` says who); likewise the basket (mean order value, items per
order) of people without an order is the mean basket of those with one (`orders_per_month`
says who buys). Every feature is then standardised (scikit-learn's `StandardScaler`: mean 0,
standard deviation 1), so no unit weighs more than another. The features of one *family* of
shares (the channel shares, the category shares, the four times of day) are divided by the
square root of the family's size, so that each family weighs as much as one feature: eight
categories do not outvote the order frequency.

**Who is clustered: people with enough history.** A person with three events has no
behaviour to cluster: their shares are noise. Only people with at least `min_touchpoints`
(`MIN_TOUCHPOINTS`, 25) touchpoints of their own are scaled, clustered and named; the others
are counted as "too little history yet" (`too_little_history`, `coverage`) and given no
persona, not the nearest one (on the demo, the nearest persona of a person with few events
is mostly wrong: docs/personas.md). The default follows a stated rule, not the result: a
share estimated from n touchpoints has a standard error of at most 1 / (2 √n) (a share of
one half), and 25 is the smallest n that keeps it within 0.1.

**Clustering.** A Gaussian mixture with a diagonal covariance per component (scikit-learn
`GaussianMixture`, `covariance_type="diag"`, `N_INIT` starts, seeded): each persona has its own
spread per feature, so it can be tight on the few features that define it and loose on the
rest, and a feature on which every group looks alike stops deciding who goes where (k-means,
before 2026-12-05, weighed every feature alike around round groups). A variance floor
(`REG_COVAR`, 0.05 in standardised units) keeps a component from collapsing onto the people
with exactly 0 on a share. Each person goes to their most probable component; a component
nobody goes to is no persona and is dropped (data with fewer groups than asked get fewer).

**Choosing k: stability** (Lange, Roth, Braun & Buhmann 2004, "Stability-based validation of
clustering solutions"). For each k in `k_range` (2..10), on a seeded sample of at most
`sample_size` (2,000) of those people, `PAIRS` times: the sample is split into random halves,
a mixture is fitted on each, and the labels the first gives the second half are compared with
the second's own labels by the adjusted Rand index (0 for chance, 1 for the same grouping, so
comparable across k). The k whose groupings come back best on other people, by the mean over
the pairs, wins (the smaller k on a tie): what a marketer needs of personas is that another
sample of customers gives the same ones. Unlike the silhouette it does not reward compact
groups only. Every k's stability is reported. The final mixture is fitted on all of those
people with that k, or the `k` asked for (then no stability is measured): the cost of the
choice is bounded by the sample, the final fit is linear in the people.

**Determinism.** The features are rounded to `DIGITS` decimals (the engines' sums may differ
in their last bits), the people are sorted by their features (then profile id) and every
random choice (the sample, the halves, the mixtures' starts) comes from `seed`: the same
behaviour and seed give the same labels, in any workspace (profile ids are keyed pseudonyms,
different in each). Clusters are numbered by size, largest first (ties by their centres), so
the numbering does not depend on the mixture's internal order.

**Names** (`persona_names`): each cluster's most distinctive features, by the mean z-score of
its members (how many standard deviations they sit above or below everyone), turned into words
from `PHRASES`: the two strongest, e.g. "App-first, phones lovers" / "Adeptes de l'appli,
amateurs de phones". Names are unique: a third feature (then a number) is added when two
clusters would share one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from empreinte.analytics.journeys.touchpoints import JourneyScope
from empreinte.analytics.know.persona_features import COUNT_FEATURES, feature_frame
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

Lang = Literal["en", "fr"]
LANGS: tuple[Lang, ...] = ("en", "fr")
DEFAULT_K_RANGE = range(2, 11)
#: The stability of each k is measured on a seeded sample of at most this many people.
DEFAULT_SAMPLE = 2_000
#: Half-sample pairs per k: on the demos the chosen k is the same with 5 as with 10.
PAIRS = 5
#: Starts of each mixture, the best likelihood kept (one start made the stability noisier
#: and picked k = 7 at ARI 0.43 on the demo where three pick 6 at 0.47).
N_INIT = 3
#: The variance floor of each component, in standardised units (a standard deviation of 0.22):
#: without it a component collapses onto the people with exactly 0 on a share.
REG_COVAR = 0.05
#: Decimals kept of each feature: the engines' sums of doubles differ in their last bits.
DIGITS = 9
MIN_PEOPLE = 10
#: Enough history to be clustered: 1 / (2 √25) = 0.1, the largest standard error of a share.
MIN_TOUCHPOINTS = 25
DAYPARTS = ("night", "morning", "afternoon", "evening")
BASKET_FEATURES = ("mean_order_value", "items_per_order", "store_order_share")
#: A feature names a cluster only when its members sit at least this far from everyone.
MIN_DISTINCTION = 0.25
_ONE_THREAD = threading.Lock()


@dataclass(frozen=True)
class KScore:
    """The stability of `k` components: the mean adjusted Rand index between the groupings of
    half-samples (see the module)."""

    k: int
    stability: float


@dataclass(frozen=True)
class PersonaClusters:
    """The clustering: one label per person with enough history, the k-selection scores, and
    per cluster the mean z-score of each feature (`profile`, clusters × features)."""

    people: pd.DataFrame  # profile_id, cluster, then the raw features: people clustered
    features: tuple[str, ...]
    k: int  # personas: the components fitted less those the mixture left empty
    seed: int
    chosen_by: Literal["stability", "asked"]
    scores: tuple[KScore, ...]
    fitted: int  # the components fitted: the k chosen by `scores`, or asked
    profile: pd.DataFrame  # index cluster (0..k-1), columns features: mean z-scores
    names: dict[Lang, tuple[str, ...]]
    read: int  # people read (allowed, with touchpoints of their own), clustered or not
    min_touchpoints: int  # the history a person needs to be clustered

    @property
    def total(self) -> int:
        """People clustered (with enough history)."""
        return len(self.people)

    @property
    def too_little_history(self) -> int:
        """People read but not clustered: fewer than `min_touchpoints` touchpoints yet."""
        return self.read - self.total

    @property
    def coverage(self) -> float:
        """The share of the people read who are clustered."""
        return self.total / self.read if self.read else 0.0

    def sizes(self) -> list[int]:
        counts = self.people["cluster"].value_counts()
        return [int(counts.get(c, 0)) for c in range(self.k)]

    def to_rows(self, lang: Lang = "en") -> list[dict[str, Any]]:
        """One row per cluster: cluster (1-based), name, people, share."""
        total = max(self.total, 1)
        return [
            {"cluster": c + 1, "name": self.names[lang][c], "people": n, "share": n / total}
            for c, n in enumerate(self.sizes())
        ]

    def to_pandas(self, lang: Lang = "en") -> pd.DataFrame:
        return pd.DataFrame(self.to_rows(lang), columns=["cluster", "name", "people", "share"])

    def score_rows(self) -> list[dict[str, Any]]:
        # The k the scores chose is the one fitted, even where a component was left empty.
        return [
            {"k": s.k, "stability": s.stability, "chosen": s.k == self.fitted} for s in self.scores
        ]

    def assignments(self, lang: Lang = "en") -> pd.DataFrame:
        """profile_id, persona (the cluster's name in `lang`)."""
        names = self.names[lang]
        return pd.DataFrame(
            {
                "profile_id": self.people["profile_id"].astype(str),
                "persona": [names[c] for c in self.people["cluster"]],
            }
        )


def check_lang(lang: str) -> Lang:
    if lang not in LANGS:
        raise AnalyticsError(f"unknown language {lang!r}: use en or fr")
    return lang


def standardised(frame: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    """The matrix the mixture reads: log1p on counts, NPS filled with the mean, standardised."""
    from sklearn.preprocessing import StandardScaler

    data = frame[list(features)].astype("float64").copy()
    for name in COUNT_FEATURES:
        if name in data:
            data[name] = np.log1p(data[name].clip(lower=0))
    if "nps" in data:
        data["nps"] = _filled(data["nps"], data["nps"].notna())
    if "orders_per_month" in data:
        # A basket is unknown, not empty, without an order: how often they buy says that.
        buyers = data["orders_per_month"] > 0
        for name in BASKET_FEATURES:
            if name in data:
                data[name] = _filled(data[name].where(buyers), buyers)
    matrix: np.ndarray = StandardScaler().fit_transform(data.fillna(0.0).to_numpy())
    families: dict[str, list[int]] = {}
    for index, name in enumerate(features):
        families.setdefault(family_of(name), []).append(index)
    for columns in families.values():
        matrix[:, columns] /= np.sqrt(len(columns))
    return matrix


def _filled(column: pd.Series, known: pd.Series) -> pd.Series:
    """`column` with its unknown values (where not `known`) set to the mean of the known."""
    mean = column[known].mean()
    return column.where(known, 0.0 if pd.isna(mean) else mean)


def family_of(feature: str) -> str:
    """The family a feature weighs in: channel shares, category shares, times of day, or
    itself."""
    if feature.startswith("share_"):
        return "channels"
    if feature.startswith("cat_"):
        return "categories"
    return "time of day" if feature in DAYPARTS else feature


def _fitted(rows: np.ndarray, k: int, seed: int) -> Any:
    """A diagonal Gaussian mixture of `k` components fitted on `rows` (see the module)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    mixture = GaussianMixture(
        n_components=k,
        covariance_type="diag",
        reg_covar=REG_COVAR,
        n_init=N_INIT,
        random_state=seed,
    )
    with warnings.catch_warnings():
        # Some starts of a large k stop at the iteration limit; the best start is kept.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return mixture.fit(rows)


def k_scores(
    matrix: np.ndarray, k_range: Sequence[int], seed: int, sample_size: int, pairs: int = PAIRS
) -> list[KScore]:
    """The stability of each k (Lange et al. 2004) on one seeded sample of at most
    `sample_size` rows: over `pairs` random splits into halves, the ARI between the labels the
    mixture fitted on one half gives the other and that other half's own mixture."""
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(seed)
    rows = matrix
    if len(matrix) > sample_size:
        rows = matrix[np.sort(rng.choice(len(matrix), size=sample_size, replace=False))]
    half = len(rows) // 2
    # The same splits and starts for every k: the k differ by their number of groups alone.
    splits = [rng.permutation(len(rows)) for _ in range(pairs)]
    starts = rng.integers(0, 2**31 - 1, size=(pairs, 2))
    scores = []
    for k in k_range:
        if k > half // 2:  # at least two people per group in a half
            break
        agreement = []
        for order, (one_seed, two_seed) in zip(splits, starts, strict=True):
            one, two = rows[order[:half]], rows[order[half : 2 * half]]
            first, second = _fitted(one, k, int(one_seed)), _fitted(two, k, int(two_seed))
            agreement.append(adjusted_rand_score(first.predict(two), second.predict(two)))
        scores.append(KScore(k, round(float(np.mean(agreement)), 6)))
    return scores


def _ordered(labels: np.ndarray, matrix: np.ndarray, k: int) -> np.ndarray:
    """Labels renumbered by cluster size (largest first), ties by their centres."""
    keys = []
    for c in range(k):
        members = matrix[labels == c]
        centre = tuple(np.round(members.mean(axis=0), 9)) if len(members) else ()
        keys.append((-len(members), centre, c))
    order = [c for _, _, c in sorted(keys)]
    mapping = np.empty(k, dtype=int)
    for new, old in enumerate(order):
        mapping[old] = new
    result: np.ndarray = mapping[labels]
    return result


def cluster(
    frame: pd.DataFrame,
    *,
    k: int | None = None,
    seed: int = 0,
    k_range: Sequence[int] = DEFAULT_K_RANGE,
    sample_size: int = DEFAULT_SAMPLE,
    min_touchpoints: int = MIN_TOUCHPOINTS,
) -> PersonaClusters:
    """Cluster the people of `frame` (profile_id and features, as `feature_frame` gives) who
    have at least `min_touchpoints` touchpoints (everyone without a `touchpoints` column)."""
    features = tuple(c for c in frame.columns if c != "profile_id")
    if not features:
        raise AnalyticsError("personas: no behaviour feature to cluster on")
    if min_touchpoints < 0:
        raise AnalyticsError(f"personas: min_touchpoints must be >= 0, not {min_touchpoints}")
    read = len(frame)
    frame = frame.assign(**{f: frame[f].astype("float64").round(DIGITS) for f in features})
    if "touchpoints" in frame:
        frame = frame[frame["touchpoints"].to_numpy() >= min_touchpoints]
    # By behaviour, not by profile id: ids are keyed pseudonyms, different in every workspace,
    # and the sample, the halves and the mixture's starts depend on the order of the rows.
    frame = frame.sort_values([*features, "profile_id"], kind="stable").reset_index(drop=True)
    if len(frame) < MIN_PEOPLE:
        raise AnalyticsError(
            f"personas: {read} people allow analytics and profiling, {len(frame)} of them with"
            f" at least {min_touchpoints} touchpoints; at least {MIN_PEOPLE} are needed to find"
            " personas"
        )
    if k is not None and not 2 <= k < len(frame):
        raise AnalyticsError(f"personas: k must be between 2 and {len(frame) - 1}, not {k}")
    if sample_size < MIN_PEOPLE:
        raise AnalyticsError(f"personas: the sample must hold at least {MIN_PEOPLE} people")
    ks = sorted(set(k_range))
    if k is None and (not ks or ks[0] < 2):
        raise AnalyticsError("personas: the k range must hold numbers of 2 or more")
    matrix = standardised(frame, features)
    # One BLAS and OpenMP thread: the mixture's products are small, and on a busy machine
    # threads that wait for each other made the fits 20 to 40 times slower (measured on 2
    # cores, docs/personas.md "Cost"). The limit is the whole process's and is restored on
    # exit: the lock keeps two reports (the dashboard computes them in threads) from restoring
    # each other's limit out of order and leaving the process on one thread.
    with _ONE_THREAD, threadpool_limits(limits=1):
        scores = k_scores(matrix, ks, seed, sample_size) if k is None else []
        if k is None and not scores:
            raise AnalyticsError("personas: too few people for any k of the range")
        chosen = max(scores, key=lambda s: (s.stability, -s.k)).k if k is None else k
        labels = _ordered(_fitted(matrix, chosen, seed).predict(matrix), matrix, chosen)
    # A component the mixture leaves empty (its people all likelier elsewhere) is no persona:
    # the empty ones are numbered last, and dropped.
    fitted, chosen = chosen, int(labels.max()) + 1
    how = "stability" if k is None else "asked"
    people = pd.concat(
        [frame[["profile_id"]], pd.Series(labels, name="cluster"), frame[list(features)]], axis=1
    )
    profile = pd.DataFrame(matrix, columns=list(features)).groupby(labels).mean()
    profile = profile.reindex(range(chosen))
    names = {lang: persona_names(profile, lang) for lang in LANGS}
    return PersonaClusters(
        people=people,
        features=features,
        k=chosen,
        seed=seed,
        chosen_by=how,  # type: ignore[arg-type]
        scores=tuple(scores),
        fitted=fitted,
        profile=profile,
        names=names,
        read=read,
        min_touchpoints=min_touchpoints,
    )


def personas(
    log: AnalyticsLog,
    scope: JourneyScope | None = None,
    *,
    k: int | None = None,
    seed: int = 0,
    k_range: Sequence[int] = DEFAULT_K_RANGE,
    sample_size: int = DEFAULT_SAMPLE,
    min_touchpoints: int = MIN_TOUCHPOINTS,
) -> PersonaClusters:
    """The features of the log's people (in the engine), clustered in Python."""
    return cluster(
        feature_frame(log, scope),
        k=k,
        seed=seed,
        k_range=k_range,
        sample_size=sample_size,
        min_touchpoints=min_touchpoints,
    )


def persona_scores(
    log: AnalyticsLog, *, k: int | None = None, seed: int = 0, lang: Lang = "en"
) -> pd.DataFrame:
    """profile_id, persona: each person's persona name (for the computed trait `persona`).
    Only people who allow analytics and profiling and have enough history (`MIN_TOUCHPOINTS`)
    are scored; the others have no persona yet."""
    return personas(log, k=k, seed=seed).assignments(check_lang(lang))


# -- names ------------------------------------------------------------------------------------

#: (feature, +1 above everyone / -1 below) → words, in English and French. `cat_<c>` is
#: handled apart ("<c> lovers").
PHRASES: dict[tuple[str, int], tuple[str, str]] = {
    ("share_web", 1): ("web shoppers", "acheteurs du web"),
    ("share_app", 1): ("app-first", "adeptes de l'appli"),
    ("share_store", 1): ("store regulars", "habitués du magasin"),
    ("share_store", -1): ("online only", "100 % en ligne"),
    ("share_phone", 1): ("phone callers", "clients du téléphone"),
    ("share_chat", 1): ("chat users", "adeptes du chat"),
    ("share_social", 1): ("social-media talkers", "clients des réseaux sociaux"),
    ("share_voice", 1): ("voice-assistant users", "utilisateurs d'assistant vocal"),
    ("share_messaging", 1): ("message clickers", "cliqueurs de messages"),
    ("channels", 1): ("multichannel", "multicanaux"),
    ("channels", -1): ("single-channel", "monocanaux"),
    ("orders_per_month", 1): ("frequent buyers", "acheteurs fréquents"),
    ("orders_per_month", -1): ("rare buyers", "acheteurs rares"),
    ("sessions_per_month", 1): ("frequent visitors", "visiteurs assidus"),
    ("sessions_per_month", -1): ("occasional visitors", "visiteurs occasionnels"),
    ("contacts_per_month", 1): ("support-heavy", "grands consommateurs de SAV"),
    ("mean_order_value", 1): ("big baskets", "gros paniers"),
    ("mean_order_value", -1): ("small baskets", "petits paniers"),
    ("items_per_order", 1): ("multi-item baskets", "paniers garnis"),
    ("store_order_share", 1): ("buy in store", "achètent en magasin"),
    ("store_order_share", -1): ("buy online", "achètent en ligne"),
    ("morning", 1): ("morning shoppers", "clients du matin"),
    ("afternoon", 1): ("afternoon shoppers", "clients de l'après-midi"),
    ("evening", 1): ("evening shoppers", "clients du soir"),
    ("night", 1): ("night owls", "couche-tard"),
    ("mobile_share", 1): ("mobile-first", "mobiles d'abord"),
    ("mobile_share", -1): ("desktop users", "sur ordinateur"),
    ("nps", 1): ("promoters", "promoteurs"),
    ("nps", -1): ("unhappy", "mécontents"),
    ("nps_answered", 1): ("survey responders", "répondants aux enquêtes"),
    ("email_open_rate", 1): ("e-mail readers", "lecteurs d'e-mails"),
    ("email_click_rate", 1): ("e-mail clickers", "cliqueurs d'e-mails"),
}


def _phrase(feature: str, sign: int, lang: Lang) -> str | None:
    index = LANGS.index(lang)
    if feature.startswith("cat_"):
        if sign < 0:
            return None
        category = feature.removeprefix("cat_")
        return f"{category} lovers" if lang == "en" else f"amateurs de {category}"
    words = PHRASES.get((feature, sign))
    return None if words is None else words[index]


def _candidates(row: pd.Series, lang: Lang) -> list[str]:
    """Phrases for a cluster's features, most distinctive first (ties by feature name)."""
    ranked = sorted(
        ((-abs(float(z)), str(f), 1 if z > 0 else -1) for f, z in row.items() if pd.notna(z)),
    )
    phrases = []
    for negative, feature, sign in ranked:
        if -negative < MIN_DISTINCTION:
            break
        phrase = _phrase(feature, sign, lang)
        if phrase is not None and phrase not in phrases:
            phrases.append(phrase)
    return phrases


def persona_names(profile: pd.DataFrame, lang: Lang) -> tuple[str, ...]:
    """A unique name per cluster from its two most distinctive features (see the module)."""
    fallback = "Everyday customers" if lang == "en" else "Clients ordinaires"
    options = [_candidates(profile.loc[c], lang) for c in profile.index]
    names: list[str] = []
    for phrases in options:
        name = _capitalised(", ".join(phrases[:2]) if phrases else fallback)
        extra = 3
        while name in names and extra <= len(phrases):
            name = _capitalised(", ".join(phrases[:extra]))
            extra += 1
        base, n = name, 2
        while name in names:
            name, n = f"{base} ({n})", n + 1
        names.append(name)
    return tuple(names)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
