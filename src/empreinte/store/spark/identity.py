"""The identity graph's full rebuild on Spark, for logs too large for one machine.

The same method as `identity/rebuild.py` (its docstring proves it exact), with each step
where the data is:

- on the executors: the usable identifier keys of every event (blocked keys and keys of
  unknown types dropped, as `code_log` does), numbered with unique long ids; the edges (each
  event links its keys in a star to its smallest id, which gives the components of linking
  every pair); the components (`components.py`, large-star/small-star); per component the
  count of keys of each type, whether it holds a cut key, and its founder (the key
  minimising (first seq, type rank, key text)); the profile id of every key of a *clean*
  component (within every limit, at most one key of each person-level type, no cut key),
  written by the executors;
- on the driver: only the *dirty* components (shared devices, switchboard numbers, cut keys,
  aliases: a small part of a real log), their keys and their events' occurrences, handed to
  the caller's `replay`: the sequential resolver (identity/at_scale.py gives
  `identity.rebuild.replay_components`, the code the DuckDB rebuild runs; this layer, below
  identity, does not import it). The edges never leave the executors.

The result is a directory: `identities/` (Parquet: id_key, id_type, profile_id, first_seq,
last_seq; the columns of the `identities` table) and `conflicts.parquet`, in a fresh run
directory named by the file `CURRENT`, which is replaced (an atomic rename) only once
everything is written: a job killed or cancelled midway leaves the previous result as it was.
The output path must be a directory the driver and every executor see at the same path (on
one machine, any; on a cluster, a shared mount).

A killed driver (`kill -9`, a lost machine) cannot remove its run directory: each rebuild
therefore holds an exclusive lock (`flock`) on `.run-<id>.lock` beside its run from before
the run exists until it is published or removed, and removes, before it starts, every other
run that is not `CURRENT` and whose lock nobody holds (`remove_dead_runs`): the kernel
releases a dead process's locks, so a live rebuild's run — another process, another thread —
is never touched. Where the file system has no locks, or a run has no lock file, a run is
removed only once older than `stale_after` (a day by default).

The profile ids are salted (`profile_id_for`): the salt, a secret derived from the
workspace's key (never the key itself), is a literal of the job that computes them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from empreinte.errors import StorageError
from empreinte.identity.model import PROFILE_PREFIX, ConflictRow
from empreinte.store.spark.components import connected_components, freeze

if TYPE_CHECKING:
    from pyspark.sql import Column, SparkSession

CURRENT = "CURRENT"
RUN_PREFIX = "run-"
#: How old a run must be to be removed when its lock cannot tell whether it is alive.
STALE_AFTER = 24 * 3600.0
IDENTITIES = "identities"
CONFLICTS = "conflicts.parquet"
CONFLICT_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("message_id", pa.string()),
        ("id_key", pa.string()),
        ("profile_id", pa.string()),
        ("other_profile_id", pa.string()),
        ("rule", pa.string()),
        ("recorded_at", pa.int64()),
    ]
)


@dataclass(frozen=True)
class Plan:
    """What the Spark steps need of the merge rules and the overrides, as plain values (the
    identity layer, above this one, builds it: identity/at_scale.py)."""

    priority: tuple[str, ...]  # the types, most trusted first (index = rank)
    bounds: tuple[int, ...]  # per rank, the most keys of that type a clean component holds
    blocked: frozenset[str]
    cut: frozenset[str]
    salt: str


@dataclass(frozen=True)
class Replayed:
    """What the sequential resolver made of the dirty components."""

    rows: pa.Table  # id_key, id_type, profile_id, first_seq, last_seq
    conflicts: list[ConflictRow]
    events: int
    profiles: int


#: Replays the dirty components: (their keys: key, rank, first_seq, last_seq, cut; their
#: occurrences: seq, key, message_id, at) → what the resolver made of them.
Replay = Callable[[pa.Table, pa.Table], Replayed]


@dataclass(frozen=True)
class SparkRebuildReport:
    """What one rebuild on Spark did; `run` is the directory its result is in."""

    events: int
    identifiers: int
    profiles: int
    components: int
    rounds: int  # large-star + small-star rounds
    replayed_components: int
    replayed_events: int
    collected_occurrences: int  # identifier occurrences brought to the driver (dirty ones)
    conflicts: int
    run: Path
    seconds: float


def _rank(priority: Sequence[str]) -> Column:
    """The key's type rank (`code_log`'s: the last type of the priority whose "type:" prefix
    it has), null for a key of no known type."""
    from pyspark.sql import functions as F

    rank = F.lit(None).cast("int")
    for i, kind in enumerate(priority):
        rank = F.when(F.col("key").startswith(kind + ":"), F.lit(i)).otherwise(rank)
    return rank


def _profile_id(key: Column, salt: str) -> Column:
    """`profile_id_for(key, salt)` in Spark: "p_" + the first 16 hex digits of SHA-256."""
    from pyspark.sql import functions as F

    digest = F.sha2(F.concat(F.lit(salt), key), 256)
    return F.concat(F.lit(PROFILE_PREFIX), F.substring(digest, 1, 16))


def rebuild_identities(
    spark: SparkSession,
    events: str | Path | Sequence[str | Path],
    output: str | Path,
    plan: Plan,
    replay: Replay,
    *,
    upto: int | None = None,
    checkpoint_every: int = 3,
    order: Literal["seq", "arrival"] = "seq",
) -> SparkRebuildReport:
    """Rebuild the identity graph from the Parquet events at `events` (a directory, a file or
    a list of files with at least `seq`, `message_id`, `timestamp` and `identifiers`), up to
    seq `upto` (all when None), into `output` (module docstring); `replay` resolves the dirty
    components on the driver.

    `order="arrival"`: the events of a published log (publish/), whose collectors each number
    their own: they are resolved in arrival order, then by collector and local seq (a total
    order), and numbered anew in that order (increasing, not consecutive: each partition of
    the sort numbers its own range); those numbers are the result's seqs."""
    start = time.perf_counter()
    paths = [str(events)] if isinstance(events, str | Path) else [str(p) for p in events]
    if not paths:
        raise StorageError("no events to rebuild the identity graph from")
    target = Path(output)
    target.mkdir(parents=True, exist_ok=True)
    remove_dead_runs(target)
    run, lock = _start_run(target)
    try:
        report = _rebuild(spark, paths, run, plan, replay, upto, checkpoint_every, order, start)
        _publish(target, run)
    except BaseException:
        shutil.rmtree(run, ignore_errors=True)
        _pending_path(run).unlink(missing_ok=True)
        raise
    finally:
        _release(lock, _lock_path(run))
    return report


def _rebuild(
    spark: SparkSession,
    paths: list[str],
    run: Path,
    plan: Plan,
    replay: Replay,
    upto: int | None,
    checkpoint_every: int,
    order: Literal["seq", "arrival"],
    start: float,
) -> SparkRebuildReport:
    """The steps of `rebuild_identities`, writing the result into `run` (not published)."""
    from pyspark.sql import functions as F

    log = spark.read.parquet(*paths)
    if order == "arrival":
        # Sorted by range partitions, so partition i holds the i-th range: the ids
        # monotonically_increasing_id gives follow the sort. Frozen at once: recomputed,
        # they could differ.
        ordered = log.orderBy("received_at", "collector", "seq")
        log = freeze(ordered.withColumn("seq", F.monotonically_increasing_id()))
    log = log.select("seq", "message_id", "timestamp", "identifiers")
    log = log.where(F.size("identifiers") > 0)  # null or empty: no identifier
    if upto is not None:
        log = log.where(F.col("seq") <= F.lit(int(upto)))
    events_count = log.count()
    occurrences = (
        log.select("seq", F.explode("identifiers").alias("key"))
        .where(F.col("key").isNotNull())
        .distinct()  # a key listed twice in one event occurs once
        .withColumn("rank", _rank(plan.priority))
        .where(F.col("rank").isNotNull())
    )
    if plan.blocked:
        occurrences = occurrences.where(~F.col("key").isin(sorted(plan.blocked)))
    occurrences = freeze(occurrences)
    cut = F.col("key").isin(sorted(plan.cut)) if plan.cut else F.lit(False)
    # Unique long ids, frozen by a checkpoint (monotonically_increasing_id is not stable
    # across recomputations).
    keys = freeze(
        occurrences.groupBy("key")
        .agg(
            F.min("seq").alias("first_seq"),
            F.max("seq").alias("last_seq"),
            F.first("rank").alias("rank"),
        )
        .withColumn("cut", cut)
        .withColumn("id", F.monotonically_increasing_id())
    )
    coded = occurrences.join(keys.select("key", "id"), "key")
    hubs = coded.groupBy("seq").agg(F.min("id").alias("hub"))
    edges = (
        coded.join(hubs, "seq")
        .where(F.col("id") != F.col("hub"))
        .select(F.col("id").alias("u"), F.col("hub").alias("v"))
    )
    found = connected_components(
        edges, keys.select(F.col("id").alias("node")), checkpoint_every=checkpoint_every
    )
    labelled = freeze(keys.join(found.labels.withColumnRenamed("node", "id"), "id"))

    # Dirty components: a type over its limit, two keys of a person-level type, a cut key.
    bounds = spark.createDataFrame(list(enumerate(plan.bounds)), "rank int, bound int")
    over = (
        labelled.groupBy("component", "rank")
        .count()
        .join(F.broadcast(bounds), "rank")
        .where(F.col("count") > F.col("bound"))
        .select("component")
    )
    cut_components = labelled.where(F.col("cut")).select("component")
    dirty = freeze(over.unionByName(cut_components).distinct())

    # Clean components: one profile each, named by the founder.
    founders = freeze(
        labelled.join(dirty, "component", "left_anti")
        .groupBy("component")
        .agg(F.min(F.struct("first_seq", "rank", "key")).alias("f"))
        .select("component", _profile_id(F.col("f.key"), plan.salt).alias("profile_id"))
    )
    if not founders.groupBy("profile_id").count().where(F.col("count") > 1).isEmpty():
        raise RuntimeError("profile id collision; change the workspace salt")
    kinds = F.array(*[F.lit(kind) for kind in plan.priority])
    clean_rows = labelled.join(founders, "component").select(
        F.col("key").alias("id_key"),
        F.element_at(kinds, F.col("rank") + 1).alias("id_type"),
        "profile_id",
        "first_seq",
        "last_seq",
    )

    # Dirty components: their keys and occurrences (with the events' heads) to the driver.
    dirty_keys = labelled.join(dirty, "component", "left_semi")
    dirty_table = dirty_keys.select("key", "rank", "first_seq", "last_seq", "cut").toArrow()
    dirty_occurrences = (
        occurrences.join(dirty_keys.select("key"), "key", "left_semi")
        .join(
            log.select("seq", "message_id", F.unix_micros("timestamp").alias("at")),
            "seq",
        )
        .select("seq", "key", "message_id", "at")
        .toArrow()
    )
    done = replay(dirty_table, dirty_occurrences)
    if done.rows.num_rows:
        replayed = spark.createDataFrame(done.rows)
        # A replayed profile's id may not be a clean one's (two founders, one id).
        taken = founders.join(replayed.select("profile_id"), "profile_id", "left_semi")
        if not taken.isEmpty():
            raise RuntimeError("profile id collision; change the workspace salt")
        rows = clean_rows.unionByName(replayed)
    else:
        rows = clean_rows

    components = labelled.select("component").distinct().count()
    replayed_components = dirty.count()
    identifiers = keys.count()
    # The last Spark job writes the rows; then the driver writes the conflicts.
    rows.write.parquet(str(run / IDENTITIES))
    pq.write_table(_conflict_table(done.conflicts), run / CONFLICTS)
    return SparkRebuildReport(
        events=events_count,
        identifiers=identifiers,
        profiles=components - replayed_components + done.profiles,
        components=components,
        rounds=found.rounds,
        replayed_components=replayed_components,
        replayed_events=done.events,
        collected_occurrences=dirty_occurrences.num_rows,
        conflicts=len(done.conflicts),
        run=run,
        seconds=time.perf_counter() - start,
    )


def _conflict_table(conflicts: Sequence[ConflictRow]) -> pa.Table:
    return pa.Table.from_pylist([c._asdict() for c in conflicts], schema=CONFLICT_SCHEMA)


def _lock_path(run: Path) -> Path:
    return run.parent / f".{run.name}.lock"


def _pending_path(run: Path) -> Path:
    return run.parent / f".{CURRENT}.{run.name}"


def _start_run(target: Path) -> tuple[Path, int]:
    """A fresh run directory and the descriptor holding its lock, taken before the directory
    exists: no one sees the run unlocked while its rebuild lives."""
    while True:
        run = target / f"{RUN_PREFIX}{uuid.uuid4().hex}"
        lock = _lock_path(run)
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
        # A clean-up may take the fresh lock file for a dead run's before it is locked (it is
        # then locked by the clean-up, or unlinked): start over with another name.
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        except OSError:  # no locks on this file system: the run is removed only by age
            pass
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.fstat(fd), os.stat(lock)):
                break
        os.close(fd)
    run.mkdir()
    return run, fd


def _release(fd: int, lock: Path) -> None:
    """Unlink the lock file, then release it: a clean-up that locks it afterwards finds it
    unlinked, so knows its run ended properly."""
    with contextlib.suppress(FileNotFoundError):
        lock.unlink()
    os.close(fd)


def remove_dead_runs(output: str | Path, *, stale_after: float = STALE_AFTER) -> list[str]:
    """Remove what killed rebuilds left in `output` (their run directories, lock files and
    pending `CURRENT`s): every run but the current one whose lock no process holds, or, where
    that cannot be known (no lock file, no locks on this file system), that is older than
    `stale_after` seconds. Returns the names of the runs removed.

    On NFS, where Linux emulates `flock` with POSIX locks, a process does not conflict with
    its own locks: there, run concurrent rebuilds into one output from separate processes."""
    target = Path(output)
    names: set[str] = set()
    for entry in target.iterdir() if target.is_dir() else ():
        name = entry.name.removeprefix(f".{CURRENT}.").removeprefix(".").removesuffix(".lock")
        if name.startswith(RUN_PREFIX):
            names.add(name)
    removed = []
    for name in sorted(names):
        run = target / name
        if run == current_run(target):
            continue
        dead = _dead(run, stale_after)
        if dead is None:
            continue
        try:
            if run != current_run(target):  # again: it may have been published meanwhile
                shutil.rmtree(run, ignore_errors=True)
                for leftover in (_pending_path(run), _lock_path(run)):
                    leftover.unlink(missing_ok=True)
                removed.append(name)
        finally:
            if dead >= 0:
                os.close(dead)
    return removed


def _dead(run: Path, stale_after: float) -> int | None:
    """None if `run` may be alive; if not, the descriptor holding its lock (-1: no lock)."""
    lock = _lock_path(run)
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return -1 if _older(run, stale_after) else None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # its rebuild is alive
        os.close(fd)
        return None
    except OSError:  # no locks here
        os.close(fd)
        return -1 if _older(run, stale_after) else None
    try:
        same = os.path.samestat(os.fstat(fd), os.stat(lock))
    except FileNotFoundError:
        same = False
    if not same:  # unlinked before its release: the rebuild ended properly meanwhile
        os.close(fd)
        return None
    return fd


def _older(run: Path, stale_after: float) -> bool:
    times = []
    for path in (run, _pending_path(run), _lock_path(run)):
        with contextlib.suppress(FileNotFoundError):
            times.append(path.stat().st_mtime)
    return bool(times) and time.time() - max(times) > stale_after


def _publish(target: Path, run: Path) -> None:
    """Point `CURRENT` at `run` (write a temporary file, fsync, rename over), then delete the
    previous run: readers see the old result or the new one, never a mix."""
    previous = current_run(target)
    pending = _pending_path(run)
    with open(pending, "w") as handle:
        handle.write(run.name)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pending, target / CURRENT)
    if previous is not None and previous != run:
        shutil.rmtree(previous, ignore_errors=True)


def current_run(output: str | Path) -> Path | None:
    """The run directory `output/CURRENT` names, None before the first complete rebuild."""
    pointer = Path(output) / CURRENT
    if not pointer.exists():
        return None
    return Path(output) / pointer.read_text().strip()


def read_result(output: str | Path) -> tuple[pa.Table, pa.Table]:
    """(identities, conflicts) of the last complete rebuild into `output`."""
    run = current_run(output)
    if run is None:
        raise StorageError(f"no complete identity rebuild in {output}")
    identities = pq.read_table(
        run / IDENTITIES, schema=None, partitioning=None, ignore_prefixes=["_", "."]
    )
    return identities, pq.read_table(run / CONFLICTS)
