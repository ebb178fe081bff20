"""Analytics on Spark over the published log itself (publish/), with no export of a workspace.

Reports read the tables of store/analytics.py. From the published log, one manifest version at
a time, a *snapshot* of those tables is prepared on the cluster, once, in a work directory
(`prepare`), then read by `SparkAnalytics` like an export:

- `events`: every file the manifest lists, in the log's one order, arrival (`received_at`),
  then collector, then the collector's own seq, numbered anew 1…n (`number_in_order`): the
  order the identity rebuild resolves in, and the seq every other table refers to;
- `identities`: the identity graph rebuilt from those events on the cluster
  (identity/at_scale.py: large-star/small-star, the dirty components replayed on the driver);
- `consent_state` and `profile_facts`: derived by the same Ibis expressions the workspace
  runs on DuckDB, here on the snapshot's events and identities;
- `pii_vault`: empty. Raw personal values never reach the published log (they are
  pseudonymised before publication and stay in each collector's vault), so what is derived
  from them (a birth year, a generation) cannot be reported from it: `SparkAnalytics` says so
  (`personal_values`) and reports refuse rather than answer "unknown" for everyone;
- `products`: the workspace's catalogue (not events: a table the team imports);
  `segment_members`, `computed_traits`, `voc_texts`: empty, they are the workspace's results
  over its own events (a saved segment's membership, a model's scores, understood verbatims),
  not facts of the published log.

The snapshot's directory is named by the manifest version and a digest of everything its rows
depend on (identity rules and overrides, salt, settings, consent policy), so a report reuses it
until the log or the settings change; it is written to a temporary name and renamed whole, and
older snapshots are removed when a newer one is ready. An erasure removes them all at once
(`drop_snapshots`, from privacy/erasure.py): they copy published rows. A snapshot holds
pseudonymised events and no secret: the salt is a literal of the identity job, never the key.
"""

from __future__ import annotations

import hashlib
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from empreinte.errors import StorageError
from empreinte.store.analytics import ANALYTICS_TABLES

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from pyspark.sql import DataFrame, SparkSession

    from empreinte.store.spark.backend import SparkAnalytics

PREFIX = "published-"
#: Tables a published snapshot leaves empty (module docstring), with their columns.
EMPTY = ("pii_vault", "segment_members", "computed_traits", "voc_texts")
_ABANDONED_SECONDS = 3600
# Spark's monotonically_increasing_id: the partition index above bit 33, the row below.
_PARTITION_SHIFT = 33


def number_in_order(spark: SparkSession, files: list[str], scratch: Path) -> DataFrame:
    """The published rows of `files` in the log's order, `seq` renumbered 1…n in that order
    (`collector` and the collector's seq kept as `collector`, `collector_seq`).

    Dense numbers without collecting the log to one partition: after a range-partitioned
    sort, partition i holds the i-th range, so monotonically_increasing_id follows the order;
    those ids are frozen to `scratch` (recomputed, they could differ), each partition's count
    gives its offset (a table of one row per partition), and seq = offset + row + 1."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rows = spark.read.parquet(*files)
    ordered = rows.orderBy("received_at", "collector", "seq").withColumn(
        "_id", F.monotonically_increasing_id()
    )
    ordered.write.mode("overwrite").parquet(str(scratch))
    frozen = spark.read.parquet(str(scratch))
    part = F.shiftright(F.col("_id"), _PARTITION_SHIFT)
    counts = frozen.groupBy(part.alias("_part")).agg(F.count(F.lit(1)).alias("_n"))
    before = Window.orderBy("_part").rowsBetween(Window.unboundedPreceding, -1)
    offsets = counts.select("_part", F.coalesce(F.sum("_n").over(before), F.lit(0)).alias("_at"))
    numbered = frozen.withColumn("_part", part).join(F.broadcast(offsets), "_part")
    row = F.col("_id") - F.shiftleft(F.col("_part"), _PARTITION_SHIFT)
    return numbered.select(
        (F.col("_at") + row + 1).alias("seq"),
        *(F.col(c) for c in rows.columns if c not in ("seq", "collector")),
        F.col("collector"),
        F.col("seq").alias("collector_seq"),
    )


def spark_url(url: str) -> str:
    """A published file's URL as Spark's Hadoop connectors spell it (`s3://` is `s3a://`)."""
    return "s3a://" + url.removeprefix("s3://") if url.startswith("s3://") else url


def snapshot_name(version: int, basis: str) -> str:
    digest = hashlib.sha256(basis.encode()).hexdigest()[:16]
    return f"{PREFIX}{version:012d}-{digest}"


def prepare(
    spark: SparkSession,
    version: int,
    files: Sequence[str],
    work: Path,
    *,
    basis: str,
    identities: Callable[[str, Path], None],
    derive: Callable[[SparkAnalytics], Mapping[str, ir.Table | pa.Table]],
    workspace_tables: Callable[[Path], None],
) -> Path:
    """The snapshot of the published log's manifest `version`, which lists `files` (their
    URLs), for `basis` in `work` (module docstring), prepared unless it is there already; its
    directory (one Parquet file or directory per table of store/analytics.py).

    `identities(events_path, output)` rebuilds the identity graph of the snapshot's events
    into `output` (identity/at_scale.py); `derive(backend)` gives the derived tables (Ibis
    expressions over `backend`, or Arrow tables) from a backend over the events and
    identities; `workspace_tables(directory)` writes the workspace's `products` and the
    tables left empty (`EMPTY`, with their columns) into `directory` as `<table>.parquet`."""
    from empreinte.store.spark.backend import SparkAnalytics
    from empreinte.store.spark.identity import IDENTITIES, current_run

    if not files:
        raise StorageError("nothing is published yet: no snapshot to report on")
    work.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = work / snapshot_name(version, basis)
    if (target / "DONE").exists():
        return target
    building = work / f".{target.name}-{uuid.uuid4().hex[:8]}.tmp"
    building.mkdir(mode=0o700)
    try:
        urls = [spark_url(url) for url in files]
        events = number_in_order(spark, urls, building / "_ordered")
        events.write.parquet(str(building / "events.parquet"))
        shutil.rmtree(building / "_ordered")
        identities(str(building / "events.parquet"), building / "_identity")
        run = current_run(building / "_identity")
        if run is None:
            raise StorageError("the identity rebuild of the published log left no result")
        (run / IDENTITIES).rename(building / "identities.parquet")
        shutil.rmtree(building / "_identity")
        workspace_tables(building)
        partial = SparkAnalytics(spark, building, ("events", "identities", *EMPTY))
        try:
            for table, rows in derive(partial).items():
                path = building / f"{table}.parquet"
                if isinstance(rows, pa.Table):
                    pq.write_table(rows, path)
                else:  # an Ibis expression, written by the executors
                    partial.connection.to_parquet(rows, str(path))
        finally:
            partial.close()
        missing = [t for t in ANALYTICS_TABLES if not (building / f"{t}.parquet").exists()]
        if missing:
            raise StorageError(f"a published snapshot lacks {', '.join(missing)}")
        (building / "DONE").write_text(f"{version}\n")
        try:
            building.rename(target)
        except OSError:
            if not (target / "DONE").exists():  # not another report's identical snapshot
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    drop_snapshots(work, keep=target.name)
    return target


def drop_snapshots(work: Path, keep: str | None = None) -> int:
    """Remove every published snapshot in `work` but `keep`, and the half-built ones a killed
    report left (an hour old: a live build is younger); how many. An erasure removes them
    all (`keep=None`): they copy published rows."""
    removed = 0
    if not work.is_dir():
        return 0
    for path in work.iterdir():
        stale = time.time() - path.stat().st_mtime > _ABANDONED_SECONDS
        done = path.name.startswith(PREFIX) and path.name != keep
        if done or (path.name.startswith("." + PREFIX) and (stale or keep is None)):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed
