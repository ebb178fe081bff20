"""The full rebuild on Spark: `identity/rebuild.py`'s method, with the components, founders and
clean profiles computed on a cluster (store/spark/identity.py) and only the dirty components
replayed here, by the code the DuckDB rebuild runs (`replay_components`).

This module loads no Spark library itself (the store layer does, when called): it turns the
rules and overrides into the plain plan the Spark steps need and gives them the replay.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from empreinte.identity.graph import Overrides
from empreinte.identity.rebuild import CodedLog, replay_components
from empreinte.identity.rules import MergeRules
from empreinte.store.spark.identity import (
    Plan,
    Replay,
    Replayed,
    SparkRebuildReport,
    rebuild_identities,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def plan_of(rules: MergeRules, overrides: Overrides, salt: str) -> Plan:
    """A clean component holds at most `limit` keys of each type, and at most one of each
    person-level type (identity/rebuild.py, point 2 of its proof)."""
    limits = rules.limit_vector()
    person = set(rules.person_ranks())
    bounds = tuple(min(1, limit) if i in person else limit for i, limit in enumerate(limits))
    return Plan(tuple(rules.priority), bounds, overrides.blocked, overrides.cut, salt)


def coded_log(keys: pa.Table, occurrences: pa.Table) -> CodedLog:
    """The dirty components' keys (key, rank, first_seq, last_seq, cut) and occurrences
    (seq, key) as the DuckDB rebuild codes them: codes 0..n-1, occurrences by seq."""
    keys = keys.sort_by("key")
    index = pc.index_in(occurrences.column("key"), value_set=keys.column("key"))
    order = np.argsort(occurrences.column("seq").to_numpy(), kind="stable")
    return CodedLog(
        seq=occurrences.column("seq").to_numpy()[order].astype(np.int64),
        code=index.to_numpy(zero_copy_only=False)[order].astype(np.int64),
        keys=keys.column("key").combine_chunks(),
        rank=keys.column("rank").to_numpy().astype(np.int8),
        first_seq=keys.column("first_seq").to_numpy().astype(np.int64),
        last_seq=keys.column("last_seq").to_numpy().astype(np.int64),
        cut=keys.column("cut").to_numpy(zero_copy_only=False).astype(np.bool_),
    )


def replayer(rules: MergeRules, overrides: Overrides, salt: str) -> Replay:
    def replay(keys: pa.Table, occurrences: pa.Table) -> Replayed:
        log = coded_log(keys, occurrences)
        done = replay_components(log, np.ones(log.size, dtype=np.bool_), rules, overrides, salt)
        heads = {
            int(s): (m, int(a))
            for s, m, a in zip(
                occurrences.column("seq").to_pylist(),
                occurrences.column("message_id").to_pylist(),
                occurrences.column("at").to_pylist(),
                strict=True,
            )
        }
        conflicts = [
            c._replace(message_id=heads[c.seq][0], recorded_at=heads[c.seq][1])
            for c in done.conflicts
        ]
        rows = pa.table(
            {
                "id_key": pa.array(done.texts, pa.string()),
                "id_type": pa.array(
                    [rules.priority[r] for r in log.rank[done.codes].tolist()], pa.string()
                ),
                "profile_id": pa.array(done.owners, pa.string()),
                "first_seq": pa.array(log.first_seq[done.codes], pa.int64()),
                "last_seq": pa.array(log.last_seq[done.codes], pa.int64()),
            }
        )
        return Replayed(rows, conflicts, done.events, len(done.profile_values))

    return replay


def rebuild_on_spark(
    spark: SparkSession,
    events: str | Path | Sequence[str | Path],
    output: str | Path,
    rules: MergeRules,
    overrides: Overrides,
    *,
    salt: str,
    upto: int | None = None,
    checkpoint_every: int = 3,
    order: Literal["seq", "arrival"] = "seq",
) -> SparkRebuildReport:
    """`identity.rebuild`'s result (identities and conflicts) from the Parquet events at
    `events`, computed on `spark` and published atomically into `output`
    (store/spark/identity.py; read it back with `read_result`). For the published log of
    several collectors (`PublishedLog(url).files()`), `order="arrival"`."""
    return rebuild_identities(
        spark,
        events,
        output,
        plan_of(rules, overrides, salt),
        replayer(rules, overrides, salt),
        upto=upto,
        checkpoint_every=checkpoint_every,
        order=order,
    )
