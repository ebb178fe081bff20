"""Connected components by large-star/small-star (store/spark/components.py) on the suite's
Spark cluster: known graphs, a long path in several numberings (rounds grow like log n), random
graphs against scipy, and no edge brought to the driver."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components as scipy_components

from empreinte.store.spark.components import connected_components

pytestmark = [pytest.mark.spark, pytest.mark.timeout(1800)]

Edge = tuple[int, int]


def labels_of(
    session: Any, edges: Sequence[Edge], nodes: Sequence[int] = ()
) -> tuple[dict[int, int], int]:
    frame = session.createDataFrame(list(edges), "u long, v long")
    alone = session.createDataFrame([(n,) for n in nodes], "node long") if nodes else None
    found = connected_components(frame, alone, checkpoint_every=2)
    return {r["node"]: r["component"] for r in found.labels.collect()}, found.rounds


def partition(labels: dict[int, int]) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for node, label in labels.items():
        groups.setdefault(label, set()).add(node)
    return {frozenset(g) for g in groups.values()}


def scipy_partition(edges: Sequence[Edge], nodes: Sequence[int]) -> set[frozenset[int]]:
    index = {n: i for i, n in enumerate(sorted(set(nodes) | {x for e in edges for x in e}))}
    a = np.array([index[u] for u, _ in edges], dtype=np.int64)
    b = np.array([index[v] for _, v in edges], dtype=np.int64)
    n = len(index)
    _, label = scipy_components(csr_matrix((np.ones(len(a)), (a, b)), shape=(n, n)), directed=False)
    names = sorted(index, key=index.__getitem__)
    return partition({names[i]: int(label[i]) for i in range(n)})


def test_known_graphs(cluster_session: Any) -> None:
    star = [(100, 100 + i) for i in range(1, 30)]  # a star centred on its smallest node
    star_high = [(299, 200 + i) for i in range(30)]  # centred on its largest
    cycle = [(400 + i, 400 + (i + 1) % 12) for i in range(12)]
    clique_a = [(500 + i, 500 + j) for i in range(6) for j in range(i + 1, 6)]
    clique_b = [(600 + i, 600 + j) for i in range(6) for j in range(i + 1, 6)]
    bridge = [(505, 603)]
    loops = [(700, 700), (701, 702), (702, 701), (701, 702)]  # a self loop, duplicates
    edges = star + star_high + cycle + clique_a + clique_b + bridge + loops
    labels, rounds = labels_of(cluster_session, edges, nodes=[1, 2, 3, 100, 700])
    assert partition(labels) == {
        frozenset({1}),
        frozenset({2}),
        frozenset({3}),
        frozenset(range(100, 130)),
        frozenset([299, *range(200, 230)]),
        frozenset(range(400, 412)),
        frozenset([*range(500, 506), *range(600, 606)]),
        frozenset({700}),
        frozenset({701, 702}),
    }
    # Each component is named by its smallest node.
    assert all(labels[n] == min(g) for g in partition(labels) for n in g)
    assert rounds >= 1


def test_empty_graph(cluster_session: Any) -> None:
    assert labels_of(cluster_session, [], nodes=[7]) == ({7: 7}, 0)


def numberings(n: int) -> Iterator[tuple[str, list[int]]]:
    """Node ids along a path of n nodes: in order, reversed, interleaved from both ends
    (every step jumps across the path), and shuffled."""
    yield "ascending", list(range(n))
    yield "descending", list(range(n - 1, -1, -1))
    zigzag = [i // 2 if i % 2 == 0 else n - 1 - i // 2 for i in range(n)]
    yield "zigzag", zigzag
    shuffled = list(range(n))
    random.Random(7).shuffle(shuffled)
    yield "shuffled", shuffled


def test_long_path_converges_in_logarithmic_rounds(cluster_session: Any) -> None:
    n = 2_000
    bound = 2 * math.ceil(math.log2(n))
    for name, ids in numberings(n):
        edges = [(ids[i], ids[i + 1]) for i in range(n - 1)]
        random.Random(name).shuffle(edges)
        labels, rounds = labels_of(cluster_session, edges)
        assert set(labels.values()) == {0}, name
        assert len(labels) == n, name
        print(f"path of {n} nodes, {name}: {rounds} rounds")
        assert 1 <= rounds <= bound, (name, rounds)


def test_random_graphs_match_scipy(cluster_session: Any) -> None:
    rng = random.Random(11)
    for nodes, edges_count in ((300, 150), (300, 290), (1_000, 900)):
        ids = rng.sample(range(10**12), nodes)
        edges: list[Edge] = [(a, b) for a, b in (rng.sample(ids, 2) for _ in range(edges_count))]
        labels, _ = labels_of(cluster_session, edges, nodes=ids)
        assert partition(labels) == scipy_partition(edges, ids)


def test_no_row_reaches_the_driver(cluster_session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rounds run on the executors: the driver only learns whether the stars settled
    (a boolean computed in the JVM), never a row."""
    edges = cluster_session.createDataFrame([(i, i + 1) for i in range(200)], "u long, v long")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("rows brought to the Python driver")

    frame_class = type(edges)  # pyspark's classic DataFrame, not its abstract parent
    for name in ("collect", "toPandas", "toArrow", "toLocalIterator", "take", "head", "first"):
        monkeypatch.setattr(frame_class, name, refuse)
    with pytest.raises(AssertionError, match="driver"):
        edges.collect()  # the trap works
    found = connected_components(edges)
    monkeypatch.undo()
    assert found.labels.where("component != 0").count() == 0


def test_reliable_checkpoints_when_the_session_has_a_directory(
    cluster_session: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With a checkpoint directory (storage every executor sees), the rounds are checkpointed
    there, which survives the loss of an executor. Last in this file: the directory stays set
    for the session (Spark cannot unset it); later tests are as valid either way."""
    directory = tmp_path_factory.mktemp("checkpoints")
    cluster_session.sparkContext.setCheckpointDir(str(directory))
    ids = list(range(300))
    random.Random(5).shuffle(ids)
    labels, rounds = labels_of(cluster_session, [(ids[i], ids[i + 1]) for i in range(299)])
    assert set(labels.values()) == {0} and len(labels) == 300 and rounds >= 2
    assert any(p.is_dir() for p in directory.rglob("rdd-*"))
