"""What a persona report costs: `ws.know.personas()` on the default demo, and the clustering
alone against the former method (k-means, k by silhouette) on the same people.

Not a test: it prints figures (docs/personas.md, "Cost"). One run:

1. generates the demo (`--people`, `--seed`, 12 months) into a workspace whose people allow
   analytics and profiling by default (kept in `--workspace` if given, to time again later);
2. times `ws.know.personas()` end to end (features in the engine, clustering, cards), the
   median of `--repeat` runs;
3. on the feature table, times `cluster()` (the product) and, as the reference in the same
   run, the former product: k-means (10 starts) with k from 2 to 8 by silhouette on at most
   2,000 people, then the final fit; prints the medians and their ratio; then the former
   method again with one BLAS/OpenMP thread, as the product now runs its mixtures.

    .venv/bin/python bench/persona_time.py [--people 2000] [--seed 7] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

import empreinte
from empreinte.analytics.know.persona_features import feature_frame
from empreinte.analytics.know.personas import MIN_TOUCHPOINTS, cluster, standardised
from empreinte.demo import generate_with_truth


def silhouette_kmeans(matrix: np.ndarray, seed: int = 0) -> int:
    """The former product's clustering: k from 2 to 8 by silhouette on a seeded sample of at
    most 2,000 rows, then the final k-means on everyone; returns the k chosen."""
    rng = np.random.default_rng(seed)
    rows = matrix
    if len(matrix) > 2_000:
        rows = matrix[np.sort(rng.choice(len(matrix), size=2_000, replace=False))]
    scores = {}
    for k in range(2, 9):
        labels = KMeans(k, n_init=10, random_state=seed).fit_predict(rows)
        scores[k] = silhouette_score(rows, labels)
    best = max(scores, key=lambda k: (scores[k], -k))
    KMeans(best, n_init=10, random_state=seed).fit_predict(matrix)
    return best


def timed(work: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median wall time of `repeat` runs and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workspace", type=Path, help="keep (or reuse) the demo workspace here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.workspace or Path(tmp)
        if not (root / "empreinte.toml").exists():
            root.mkdir(parents=True, exist_ok=True)
            (root / "empreinte.toml").write_text(
                'timezone = "Europe/Paris"\n'
                "[consent]\ndefaults = { analytics = true, profiling = true }\n"
            )
            with empreinte.open(root) as ws:
                truth = generate_with_truth(args.people, seed=args.seed)
                ws.ingest([m for _, messages in truth for m in messages])
        with empreinte.open(root) as ws:
            whole, report = timed(ws.know.personas, args.repeat)
            with ws.analytics() as log:
                frame = feature_frame(log)
    print(
        f"ws.know.personas(): {whole:.2f} s (median of {args.repeat}); k = {report.clusters.k}"
        f" by {report.clusters.chosen_by}, {report.clusters.total} people clustered"
    )
    ours, result = timed(lambda: cluster(frame, seed=0), args.repeat)
    people = frame[frame["touchpoints"] >= MIN_TOUCHPOINTS]
    features = [c for c in frame.columns if c != "profile_id"]
    matrix = standardised(people, features)
    former, former_k = timed(lambda: silhouette_kmeans(matrix), args.repeat)
    print(
        f"cluster(): {ours:.2f} s (k = {result.k}); former k-means by silhouette:"
        f" {former:.2f} s (k = {former_k}); ratio {ours / former:.2f}"
    )
    with threadpool_limits(limits=1):
        single, _ = timed(lambda: silhouette_kmeans(matrix), args.repeat)
    print(f"former k-means by silhouette, one thread: {single:.2f} s; ratio {ours / single:.2f}")
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
