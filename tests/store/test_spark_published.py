"""The pieces of a published snapshot (store/spark/published.py): the log's order numbered
1…n on the cluster, and which snapshots are removed when."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from empreinte.store.spark.published import PREFIX, drop_snapshots, number_in_order


def _file(rng: random.Random, collector: str, rows: int) -> pa.Table:
    # Few distinct arrival times, so that collector and seq must break ties.
    return pa.table(
        {
            "seq": pa.array(range(1, rows + 1), pa.int64()),
            "message_id": [f"{collector}-{i}" for i in range(rows)],
            "received_at": pa.array(
                sorted(rng.randrange(0, 40) * 1_000_000 for _ in range(rows)),
                pa.timestamp("us", tz="UTC"),
            ),
            "collector": [collector] * rows,
        }
    )


@pytest.mark.spark
def test_the_log_order_is_numbered_densely_across_partitions(
    cluster_session: Any, tmp_path: Path
) -> None:
    rng = random.Random(3)
    files = []
    for index, (collector, rows) in enumerate([("b", 700), ("a", 1_100), ("c", 5), ("a", 300)]):
        table = _file(rng, collector, rows)
        if index == 3:  # the second file of collector a goes on from the first
            table = table.set_column(0, "seq", pc.add(table["seq"], 1_100))
        path = tmp_path / f"part-{index}.parquet"
        pq.write_table(table, path)
        files.append(str(path))
    # Small data: adaptive execution would coalesce the sort into one partition.
    coalesce = "spark.sql.adaptive.coalescePartitions.enabled"
    cluster_session.conf.set(coalesce, "false")
    try:
        numbered = number_in_order(cluster_session, files, tmp_path / "scratch")
        got = numbered.select("seq", "message_id").toPandas().sort_values("seq")
    finally:
        cluster_session.conf.unset(coalesce)
    everything = pa.concat_tables(pq.read_table(f) for f in files)
    order = pc.sort_indices(
        everything,
        [("received_at", "ascending"), ("collector", "ascending"), ("seq", "ascending")],
    )
    expected = everything.take(order)["message_id"].to_pylist()
    assert got["seq"].tolist() == list(range(1, len(expected) + 1))
    assert got["message_id"].tolist() == expected
    # The sort's partitions, each numbered from its own offset (one would prove nothing).
    ids = pq.read_table(tmp_path / "scratch")["_id"].to_pylist()
    assert len({i >> 33 for i in ids}) > 1
    kept = numbered.select("collector", "collector_seq").toPandas()
    assert len(kept.drop_duplicates()) == len(expected)  # (collector, seq) kept, unique


def test_old_and_abandoned_snapshots_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    current, older = f"{PREFIX}000000000002-aa", f"{PREFIX}000000000001-aa"
    building, abandoned = f".{PREFIX}3-x.tmp", f".{PREFIX}1-y.tmp"
    for name in (current, older, building, abandoned, "spark-export", "other.csv"):
        (tmp_path / name).mkdir()
    hour_ago = time.time() - 3_700
    os.utime(tmp_path / abandoned, (hour_ago, hour_ago))
    assert drop_snapshots(tmp_path, keep=current) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [current, building, "spark-export", "other.csv"]
    )
    # An erasure removes every snapshot, the one being built included; nothing else.
    assert drop_snapshots(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.csv", "spark-export"]
    assert drop_snapshots(tmp_path / "absent") == 0
