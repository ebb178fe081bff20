"""How well the personas find the demo generator's planted ones, and why not better.

Not a test: it prints figures (docs/personas.md, "Does it find real personas?"). One run:

1. generates the demo (`--people`, `--seed`, 12 months) into a temporary workspace whose
   people allow analytics and profiling by default, and traces every profile back to its
   generated person (user id, cookie ids, loyalty card) to read its planted persona;
2. clusters the persona features as the product does (seed 0: the people with at least
   `MIN_TOUCHPOINTS` touchpoints) and prints the coverage (the share of profiles clustered)
   and the adjusted Rand index (ARI) with the planted personas, on the traced people
   clustered, at the k the silhouette picks and at k = 7; then what the nearest persona
   would be worth for the people with too little history (their ARI);
3. prints the supervised ceiling: a random forest *trained on the planted labels* (200 trees,
   3-fold cross-validation) on the same standardised features, its accuracy and ARI, and its
   accuracy by how many touchpoints a person left (how much evidence is behind the features);
   the same on the people clustered alone, and the silhouette their planted personas would
   have next to the one k-means reaches (the silhouette can only pick the planted personas if
   theirs is higher);
4. prints, per feature, how far apart the planted personas sit compared to the spread within
   each (the variance of the persona means over the mean within-persona variance, on the
   standardised features of people with 5 touchpoints or more): a feature near 0 carries no
   persona in the generator.

    .venv/bin/python bench/persona_agreement.py [--people 2000] [--seed 7]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import adjusted_rand_score, silhouette_score
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    frame, planted = demo_features(args.people, args.seed)
    traced = planted.notna().to_numpy()
    truth = planted[traced].to_numpy()
    ids = frame["profile_id"][traced]
    print(f"{len(frame)} profiles read, {traced.sum()} traced to a planted persona")

    chosen = cluster(frame, seed=0)
    for k in (None, 7):
        result = chosen if k is None else cluster(frame, k=k, seed=0)
        labels = result.people.set_index("profile_id")["cluster"]
        mine = ids[ids.isin(labels.index)]
        ari = adjusted_rand_score(planted[mine.index], labels.loc[mine])
        how = "silhouette" if k is None else "asked"
        print(
            f"k = {result.k} ({how}): {result.total} of {result.read} profiles clustered"
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
    clustered = (frame["touchpoints"].to_numpy() >= MIN_TOUCHPOINTS) & traced
    inside = standardised(frame[clustered], features)
    guess_in = cross_val_predict(forest, inside, planted[clustered].to_numpy(), cv=3)
    truth_in = planted[clustered].to_numpy()
    print(
        f"  on the people clustered ({MIN_TOUCHPOINTS}+ touchpoints, scaled among them):"
        f" accuracy {np.mean(guess_in == truth_in):.3f}, ARI"
        f" {adjusted_rand_score(truth_in, guess_in):.3f}; silhouette of the planted"
        f" personas {silhouette_score(inside, truth_in):.3f} (k-means' at the chosen k:"
        f" {max(s.silhouette for s in chosen.scores):.3f})"
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
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
