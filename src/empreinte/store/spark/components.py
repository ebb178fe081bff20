"""Connected components of a large graph on Spark: the large-star / small-star algorithm.

Kiveris, Lattanzi, Mirrokni, Rastogi, Vassilvitskii, "Connected Components in MapReduce and
Beyond" (SoCC 2014). The graph is a DataFrame of undirected edges (u, v) of long node ids;
nodes are ordered by id, and m(u) is the smallest of u and its neighbours.

- *Large-star*: each node u links every neighbour v > u to m(u) (and drops its edges to them).
- *Small-star*: each node u links itself and every neighbour v < u to m over those.

Both keep every component connected and only ever replace an edge by edges towards smaller
ids; alternated, they end in a forest of stars, each centred on its component's smallest id,
in O(log n) rounds in practice (O(log² n) proven for the alternation). A round is one
large-star then one small-star, each a window by node and a `distinct` (four shuffles); the
test for the end is one more aggregation (every edge's larger end has exactly one neighbour,
and no smaller end is anyone's larger end).

Everything runs as DataFrame operations on the executors: the driver sees only the number of
rounds and one boolean per round, never an edge. Each round's edges are persisted (the next
round and the test read them) and every `checkpoint_every` rounds the lineage is cut with a
checkpoint (`freeze`), so that query plans do not grow with the rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from empreinte.errors import StorageError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


@dataclass(frozen=True)
class Components:
    """`labels`: (node, component) for every node, `component` the smallest node id of its
    component; `rounds`: how many large-star + small-star rounds it took."""

    labels: DataFrame
    rounds: int


def freeze(frame: DataFrame) -> DataFrame:
    """`frame` computed now and its lineage cut: a reliable checkpoint when the session has a
    checkpoint directory (`sparkContext.setCheckpointDir`, on storage every executor sees: it
    survives the loss of an executor), a local one (in the executors' block managers) if not."""
    if frame.sparkSession.sparkContext.getCheckpointDir() is not None:
        return frame.checkpoint(eager=True)
    return frame.localCheckpoint(eager=True)


def _large_star(edges: DataFrame) -> DataFrame:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    both = edges.unionByName(edges.select(F.col("v").alias("u"), F.col("u").alias("v")))
    # m(u) over each node's edges: a window (one shuffle by u), not an aggregate joined back.
    low = F.least(F.min("v").over(Window.partitionBy("u")), F.col("u"))
    return (
        both.withColumn("m", low)
        .where(F.col("v") > F.col("u"))
        .select(F.col("v").alias("u"), F.col("m").alias("v"))
        .distinct()
    )


def _small_star(edges: DataFrame) -> DataFrame:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    # Each edge once, from its larger end (u) to its smaller end (v), with m = min v of u.
    down = (
        edges.select(F.greatest("u", "v").alias("u"), F.least("u", "v").alias("v"))
        .where(F.col("u") != F.col("v"))
        .withColumn("m", F.min("v").over(Window.partitionBy("u")))
    )
    neighbours = down.select(F.col("v").alias("u"), F.col("m").alias("v"))
    itself = down.select("u", F.col("m").alias("v"))
    return neighbours.unionByName(itself).where(F.col("u") != F.col("v")).distinct()


def _is_star_forest(edges: DataFrame) -> bool:
    """Whether every component is a star centred on its smallest node: every larger end has
    exactly one edge, and no smaller end is a larger end. Both stars are then fixed points."""
    from pyspark.sql import functions as F

    ends = edges.select(
        F.greatest("u", "v").alias("n"), F.lit(1).alias("up"), F.lit(0).alias("down")
    ).unionByName(
        edges.select(F.least("u", "v").alias("n"), F.lit(0).alias("up"), F.lit(1).alias("down"))
    )
    per_node = ends.groupBy("n").agg(F.sum("up").alias("up"), F.max("down").alias("down"))
    bad = per_node.where((F.col("up") > 1) | ((F.col("up") == 1) & (F.col("down") == 1)))
    return bad.isEmpty()


def connected_components(
    edges: DataFrame,
    nodes: DataFrame | None = None,
    *,
    checkpoint_every: int = 3,
    max_rounds: int = 100,
) -> Components:
    """The connected components of the undirected graph `edges` (long columns `u`, `v`; self
    loops and duplicates allowed), plus the isolated nodes of `nodes` (long column `node`;
    every node of `edges` is labelled whether or not it is listed there).

    Raises `StorageError` if the stars have not settled after `max_rounds` rounds (it takes
    about log₂ n rounds; a bound that is hit means a bug, not a large graph)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    if checkpoint_every < 1:
        raise ValueError("checkpoint_every must be at least 1")
    current = (
        edges.select(F.col("u").cast("long"), F.col("v").cast("long"))
        .where(F.col("u") != F.col("v"))
        .distinct()
    )
    current = freeze(current)
    rounds = 0
    while not _is_star_forest(current):
        if rounds == max_rounds:
            raise StorageError(f"connected components did not settle in {max_rounds} rounds")
        rounds += 1
        following = _small_star(_large_star(current))
        if rounds % checkpoint_every == 0:
            following = freeze(following)
        else:
            following = following.persist(StorageLevel.MEMORY_AND_DISK)
        # The next round reads only `following`; the edges before it can go once it exists.
        following.count()
        current.unpersist()
        current = following
    down = current.select(F.greatest("u", "v").alias("node"), F.least("u", "v").alias("component"))
    centres = down.select(F.col("component").alias("node"), "component")
    labels = down.unionByName(centres).distinct()
    if nodes is not None:
        alone = nodes.select(F.col("node").cast("long")).join(labels, "node", "left_anti")
        labels = labels.unionByName(alone.select("node", F.col("node").alias("component")))
    return Components(labels, rounds)
