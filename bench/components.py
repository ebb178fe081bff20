"""Connected components on Spark (large-star/small-star, store/spark/components.py) against
scipy's `connected_components` on one machine, on the same edges in the same run.

Not a test: it prints figures. The graph has the identity graph's shape: `--keys` identifier
keys grouped into people of 1–9 keys (each person's keys linked in a star, as an event links
its keys), plus shared keys (2 % of the keys: family tablets linking 2–4 random people, one in
fifty a switchboard number linking 40: with 200,000 keys, 28,645 components, the largest of
31,932 keys); node ids are shuffled so that no numbering helps. Each repetition times:

- Spark: read the edges from Parquet, compute the components, write the labels to Parquet
  (`--master`: `local[2]` by default, or `cluster` for a standalone master and two workers on
  loopback, as the test suite starts; or any master URL);
- scipy: build the sparse matrix from the same edges (in memory) and label the components.

It checks that both give the same partition, and prints the medians, their ratio, the rounds
and the load average. Run it under the machine's benchmark lock:

    flock /tmp/bench.lock .venv/bin/python bench/components.py --keys 200000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components as scipy_components

from empreinte.store.spark.components import connected_components
from empreinte.store.spark.session import spark_session
from empreinte.store.spark.standalone import start_cluster

Ints = npt.NDArray[np.int64]


def graph(keys: int, seed: int) -> tuple[Ints, Ints]:
    """(u, v) edges over node ids 0..keys-1 (shuffled), identity-shaped."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 10, size=keys // 3)
    sizes = sizes[np.cumsum(sizes) <= keys * 0.98]
    people = len(sizes)
    start = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    owner = np.repeat(np.arange(people), sizes)
    hub = start[owner]
    own = np.arange(len(owner)) != hub  # each person's keys in a star to her first key
    u, v = np.arange(len(owner))[own], hub[own]
    shared_first = len(owner)
    shared = keys - shared_first
    # Most shared keys link 2-4 people (a tablet, a household's e-mail); one in fifty is a
    # switchboard number that links 40.
    links = np.where(rng.random(shared) < 0.02, 40, rng.integers(2, 5, size=shared))
    su = np.repeat(np.arange(shared_first, keys), links)
    sv = start[rng.integers(0, people, size=len(su))]
    ids = rng.permutation(keys).astype(np.int64)
    return ids[np.concatenate((u, su))], ids[np.concatenate((v, sv))]


def scipy_labels(u: Ints, v: Ints, n: int) -> Ints:
    matrix = csr_matrix((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n, n))
    _, labels = scipy_components(matrix, directed=False)
    return np.asarray(labels, dtype=np.int64)


def same_partition(a: Ints, b: Ints) -> bool:
    """Whether labellings `a` and `b` of the same nodes group them alike."""
    pairs = np.unique(np.stack((a, b), axis=1), axis=0)
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--master", default="local[2]", help="local[N], cluster, or a URL")
    parser.add_argument("--partitions", type=int, default=4, help="shuffle partitions")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    u, v = graph(args.keys, args.seed)
    n = args.keys
    print(f"{n:,} keys, {len(u):,} edges; load average {os.getloadavg()}")
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        master = args.master
        if master == "cluster":
            cluster = stack.enter_context(start_cluster(work / "cluster", workers=2, memory="2g"))
            master = cluster.url
        spark = spark_session(master, args.partitions)
        stack.callback(spark.stop)
        pq.write_table(pa.table({"u": u, "v": v}), work / "edges.parquet")
        nodes = pa.table({"node": np.arange(n, dtype=np.int64)})
        pq.write_table(nodes, work / "nodes.parquet")

        spark_times, scipy_times, rounds = [], [], []
        reference = scipy_labels(u, v, n)
        for i in range(args.repeat):
            began = time.perf_counter()
            edges = spark.read.parquet(str(work / "edges.parquet"))
            found = connected_components(edges, spark.read.parquet(str(work / "nodes.parquet")))
            out = work / f"labels-{i}"
            found.labels.write.parquet(str(out))
            spark_times.append(time.perf_counter() - began)
            rounds.append(found.rounds)

            began = time.perf_counter()
            labels = scipy_labels(u, v, n)
            scipy_times.append(time.perf_counter() - began)

            table = pq.read_table(out).sort_by("node")
            assert table.num_rows == n, table.num_rows
            assert same_partition(table.column("component").to_numpy(), labels)
            assert same_partition(labels, reference)
            print(
                f"  run {i + 1}: spark {spark_times[-1]:.2f} s ({found.rounds} rounds),"
                f" scipy {scipy_times[-1]:.3f} s; same components"
            )
        a, b = statistics.median(spark_times), statistics.median(scipy_times)
        print(
            f"SPARK ({args.master}) median {a:.2f} s, rounds {sorted(set(rounds))};"
            f" SCIPY median {b:.3f} s; ratio spark/scipy {a / b:.0f}×;"
            f" components {len(np.unique(reference)):,}; load average {os.getloadavg()}"
        )


if __name__ == "__main__":
    main()
