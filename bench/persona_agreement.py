"""How well the personas find the demo generator's planted ones, and why not better.

Not a test: it prints figures (docs/personas.md, "Does it find real personas?"). One run:

1. generates the demo (`--people`, `--seed`, 12 months) into a temporary workspace whose
   people allow analytics and profiling by default, and traces every profile back to its
   generated person (user id, cookie ids, loyalty card) to read its planted persona;
2. clusters the persona features with the product (`cluster`, seed 0: the people with at
   least `MIN_TOUCHPOINTS` touchpoints, a diagonal Gaussian mixture) and prints the coverage
   (the share of profiles clustered), every k's stability, and the adjusted Rand index (ARI)
   with the planted personas, on the traced people clustered, at the k the stability picks
   and at k = 7; then what the nearest persona would be worth for the people with too little
   history (their ARI);
3. prints the supervised ceiling: a random forest *trained on the planted labels* (200 trees,
   3-fold cross-validation) on the same standardised features, its accuracy and ARI, and its
   accuracy by how many touchpoints a person left (how much evidence is behind the features);
   the same on the people clustered alone, and the silhouette their planted personas would
   have next to the personas found;
4. prints, per feature, how far apart the planted personas sit compared to the spread within
   each (the variance of the persona means over the mean within-persona variance, on the
   standardised features of people with 5 touchpoints or more): a feature near 0 carries no
   persona in the generator;
5. with `--alternatives`, other clusterings of the same people, each with the criterion that
   picks its k, none of which sees the planted labels until they are scored (docs/personas.md,
   "Tried on 2026-12-05, other methods"): k-means with k by silhouette (the product before
   2026-12-05), a diagonal Gaussian mixture with k by BIC and by stability across half-samples
   (Lange et al. 2004; 10 pairs, 5 starts: the measurement the product's bounded version
   follows), k-means with k by stability, HDBSCAN (its own number of clusters; "noise" people
   get no persona), k-means on PCA-whitened features by silhouette.

    .venv/bin/python bench/persona_agreement.py [--people 2000] [--seed 7] [--alternatives]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import cross_val_predict

import empreinte
from empreinte.analytics.know.persona_features import feature_frame
from empreinte.analytics.know.personas import (
    MIN_TOUCHPOINTS,
    PersonaClusters,
    cluster,
    standardised,
)
from empreinte.demo import generate_with_truth, planted_personas

BANDS = ((0, 5), (5, 10), (10, 20), (20, 40), (40, None))
#: The alternatives try k from 2 to 12: BIC on these features still falls at 8 (the product's
#: upper bound), so a shorter range would pick its end rather than a minimum.
ALT_KS = range(2, 13)
#: A variance floor for the mixture's components, in standardised units (a standard deviation
#: of 0.22): without it a component collapses onto the people with exactly 0 on a share.
REG_COVAR = 0.05
HALVES = 10  # half-sample pairs per k for the stability criterion


def demo_features(people: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """The feature frame of the demo and each profile's planted persona (NaN: untraced)."""
    truth = list(generate_with_truth(people, seed=seed))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "empreinte.toml").write_text(
            'timezone = "Europe/Paris"\n'
            "[consent]\ndefaults = { analytics = true, profiling = true }\n"
        )
        with empreinte.open(root) as ws:
            ws.ingest([m for _, messages in truth for m in messages])
            with ws.analytics() as log:
                ids = log.execute(log.table("identities").select("id_key", "profile_id"))
                owner = dict(zip(ids["id_key"], ids["profile_id"], strict=True))
                planted = planted_personas(owner, truth)
                frame = feature_frame(log)
    return frame, frame["profile_id"].map(planted)


def nearest_ari(frame: pd.DataFrame, planted: pd.Series, result: PersonaClusters) -> float:
    """The ARI of the people not clustered (too little history) if each were given the
    nearest persona: the centres are the clusters' means in everyone's standardised space."""
    features = list(result.features)
    matrix = standardised(frame, features)
    label = frame["profile_id"].map(result.people.set_index("profile_id")["cluster"])
    inside = label.notna().to_numpy()
    centres = np.stack(
        [matrix[inside & (label == c).to_numpy()].mean(axis=0) for c in range(result.k)]
    )
    outside = ~inside & planted.notna().to_numpy()
    if outside.sum() < 2:
        return float("nan")
    distances = ((matrix[outside][:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return float(adjusted_rand_score(planted[outside], distances.argmin(axis=1)))


def _mixture(k: int, seed: int) -> GaussianMixture:
    return GaussianMixture(
        k, covariance_type="diag", reg_covar=REG_COVAR, n_init=5, random_state=seed
    )


def _kmeans(k: int, seed: int) -> KMeans:
    return KMeans(k, n_init=10, random_state=seed)


def _stability(matrix: np.ndarray, model: Callable[[int, int], Any]) -> dict[int, float]:
    """For each k, how much two clusterings of disjoint halves agree (Lange et al. 2004):
    the model fitted on one half labels the other, which is compared (ARI, 0 by chance) with
    the model fitted on that other half; the mean over `HALVES` random splits."""
    rng = np.random.default_rng(0)
    stability = {}
    for k in ALT_KS:
        agreement = []
        for i in range(HALVES):
            order = rng.permutation(len(matrix))
            one, two = order[: len(order) // 2], order[len(order) // 2 :]
            first, second = model(k, i).fit(matrix[one]), model(k, i).fit(matrix[two])
            agreement.append(
                adjusted_rand_score(first.predict(matrix[two]), second.predict(matrix[two]))
            )
        stability[k] = float(np.mean(agreement))
    return stability


def _most_stable(stability: dict[int, float]) -> int:
    return max(stability, key=lambda k: (stability[k], -k))


def alternatives(matrix: np.ndarray, planted: pd.Series) -> None:
    """Other clusterings of the people clustered (`matrix`, their standardised features) and
    the k their own criterion picks; `planted` only scores them."""
    known = planted.notna().to_numpy()
    truth = planted[known].to_numpy()

    def ari(labels: np.ndarray) -> float:
        return float(adjusted_rand_score(truth, labels[known]))

    def line(method: str, k: int, labels: dict[int, np.ndarray], criterion: str) -> None:
        every = " ".join(f"{j}:{ari(labels[j]):.2f}" for j in sorted(labels))
        print(f"  {method}: k = {k} by {criterion}, ARI {ari(labels[k]):.3f} (every k: {every})")

    warnings.simplefilter("ignore", ConvergenceWarning)  # some starts of large k stop early
    print(f"other methods on the {len(matrix)} people clustered (k from 2 to {ALT_KS[-1]}):")
    labels = {k: _kmeans(k, 0).fit_predict(matrix) for k in range(2, 9)}
    scores = {k: silhouette_score(matrix, labels[k]) for k in labels}
    line("k-means (the product before 2026-12-05)", max(scores, key=lambda k: (scores[k], -k)),
         labels, "silhouette")  # fmt: skip
    mixtures = {k: _mixture(k, 0).fit(matrix) for k in ALT_KS}
    mixed = {k: m.predict(matrix) for k, m in mixtures.items()}
    bic = {k: m.bic(matrix) for k, m in mixtures.items()}
    line("diagonal Gaussian mixture", min(bic, key=bic.__getitem__), mixed, "BIC")
    stability = _stability(matrix, lambda k, i: _mixture(k, i))
    line("diagonal Gaussian mixture", _most_stable(stability), mixed, "stability")
    print("    stability: " + " ".join(f"{k}:{v:.2f}" for k, v in stability.items()))

    labels = {k: _kmeans(k, 0).fit_predict(matrix) for k in ALT_KS}
    stability = _stability(matrix, _kmeans)
    line("k-means", _most_stable(stability), labels, "stability")
    print("    stability: " + " ".join(f"{k}:{v:.2f}" for k, v in stability.items()))

    whitened = PCA(whiten=True, random_state=0).fit_transform(matrix)
    labels = {k: _kmeans(k, 0).fit_predict(whitened) for k in ALT_KS}
    scores = {k: silhouette_score(whitened, labels[k]) for k in ALT_KS}
    line(
        "k-means on PCA-whitened features",
        max(scores, key=lambda k: (scores[k], -k)),
        labels,
        "silhouette",
    )

    reduced = PCA(0.8, random_state=0).fit_transform(matrix)
    for name, space in (
        ("standardised features", matrix),
        (f"PCA ({reduced.shape[1]} components, 80 % of variance)", reduced),
    ):
        found = HDBSCAN(min_cluster_size=10, copy=True).fit_predict(space)
        placed = (found != -1) & known
        inside = adjusted_rand_score(planted[placed], found[placed]) if placed.sum() > 1 else 0
        print(
            f"  HDBSCAN on {name}, min_cluster_size 10: {len(set(found) - {-1})} clusters,"
            f" {np.mean(found == -1):.0%} noise (no persona); ARI {inside:.3f} on those"
            f" placed, {ari(found):.3f} with noise as one more group"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--alternatives", action="store_true", help="other clusterings too")
    args = parser.parse_args()
    started = time.perf_counter()
    frame, planted = demo_features(args.people, args.seed)
    traced = planted.notna().to_numpy()
    truth = planted[traced].to_numpy()
    ids = frame["profile_id"][traced]
    print(f"{len(frame)} profiles read, {traced.sum()} traced to a planted persona")

    chosen = cluster(frame, seed=0)
    print("stability: " + " ".join(f"{s.k}:{s.stability:.2f}" for s in chosen.scores))
    for k in (None, 7):
        result = chosen if k is None else cluster(frame, k=k, seed=0)
        labels = result.people.set_index("profile_id")["cluster"]
        mine = ids[ids.isin(labels.index)]
        ari = adjusted_rand_score(planted[mine.index], labels.loc[mine])
        print(
            f"k = {result.k} ({result.chosen_by}): {result.total} of {result.read} profiles"
            " clustered"
            f" (coverage {result.coverage:.3f}; {len(mine)} traced): ARI {ari:.3f};"
            f" nearest persona for the {result.too_little_history} others:"
            f" ARI {nearest_ari(frame, planted, result):.3f}"
        )

    features = [c for c in frame.columns if c != "profile_id"]
    matrix = standardised(frame, features)
    forest = RandomForestClassifier(n_estimators=200, random_state=0, n_jobs=1)
    guess = cross_val_predict(forest, matrix[traced], truth, cv=3)
    largest = pd.Series(truth).value_counts(normalize=True).iloc[0]
    print(
        f"supervised ceiling: accuracy {np.mean(guess == truth):.3f} (largest persona"
        f" {largest:.3f}), ARI {adjusted_rand_score(truth, guess):.3f}"
    )
    found = standardised(chosen.people, features)
    found_silhouette = silhouette_score(found, chosen.people["cluster"])
    clustered = (frame["touchpoints"].to_numpy() >= MIN_TOUCHPOINTS) & traced
    inside = standardised(frame[clustered], features)
    guess_in = cross_val_predict(forest, inside, planted[clustered].to_numpy(), cv=3)
    truth_in = planted[clustered].to_numpy()
    print(
        f"  on the people clustered ({MIN_TOUCHPOINTS}+ touchpoints, scaled among them):"
        f" accuracy {np.mean(guess_in == truth_in):.3f}, ARI"
        f" {adjusted_rand_score(truth_in, guess_in):.3f}; silhouette of the planted"
        f" personas {silhouette_score(inside, truth_in):.3f} (the personas found:"
        f" {found_silhouette:.3f})"
    )
    touchpoints = frame["touchpoints"].to_numpy()[traced]
    for low, high in BANDS:
        band = (touchpoints >= low) & (touchpoints < (high or np.inf))
        span = f"{low}+" if high is None else f"{low}-{high - 1}"
        right = np.mean(guess[band] == truth[band])
        print(f"  {span:>6} touchpoints: {band.sum():5d} people, accuracy {right:.3f}")

    enough = traced & (frame["touchpoints"].to_numpy() >= MIN_TOUCHPOINTS)
    table = pd.DataFrame(matrix[enough], columns=features)
    groups = planted[enough].to_numpy()
    ratio = table.groupby(groups).mean().var() / table.groupby(groups).var().mean()
    print("between / within persona variance, per feature:")
    for name, value in ratio.sort_values(ascending=False).items():
        print(f"  {name:<20} {value:.3f}")
    if args.alternatives:
        # The people the product clusters, scaled and ordered as cluster() does them.
        people = frame.assign(planted=planted)[frame["touchpoints"] >= MIN_TOUCHPOINTS]
        people = people.sort_values([*features, "profile_id"], kind="stable")
        alternatives(standardised(people, features), people["planted"].reset_index(drop=True))
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
