"""The identity graph of everything several collectors published, on the Spark cluster, read
from the published Parquet log itself: the same profiles and conflicts as the DuckDB rebuild
of one log holding the same events in the same order (arrival, then collector and seq).

People are split across two collectors the way a load balancer splits them: a browsing
session on one, the login on the other, the order on either; a family tablet links people
who must stay apart (merge protection: conflicts).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import empreinte
from empreinte.identity.at_scale import rebuild_on_spark
from empreinte.identity.graph import Overrides
from empreinte.identity.rules import MergeRules
from empreinte.publish.log import PublishedLog
from empreinte.store.spark.identity import read_result
from identity.conftest import Log

from .test_erasure import collectors

pytestmark = [pytest.mark.spark, pytest.mark.timeout(1200)]


def journeys(rng: random.Random, people: int) -> list[dict[str, Any]]:
    """Each person's messages in order; people interleaved at random."""
    per_person = []
    for p in range(people):
        anonymous = f"anon-{p}"
        mine = [
            {"type": "page", "anonymousId": anonymous, "name": "Home"},
            {
                "type": "identify",
                "anonymousId": anonymous,
                "userId": f"user-{p}",
                "traits": {"email": f"person{p}@example.org"},
            },
            {"type": "track", "userId": f"user-{p}", "event": "Order Completed"},
        ]
        if p % 7 == 0:  # the family tablet: another anonymous id, the same for p and p + 1
            tablet = f"tablet-{p // 7}"
            mine.append({"type": "identify", "anonymousId": tablet, "userId": f"user-{p}"})
        if p % 7 == 1:
            tablet = f"tablet-{(p - 1) // 7}"
            mine.append(
                {
                    "type": "identify",
                    "anonymousId": tablet,
                    "userId": f"user-{p}",
                    "traits": {"email": f"person{p}@example.org"},
                }
            )
        per_person.append(mine)
    out: list[dict[str, Any]] = []
    while any(per_person):
        person = rng.choice([m for m in per_person if m])
        out.append({"messageId": str(uuid.uuid4()), **person.pop(0)})
    return out


@dataclass(frozen=True)
class Reference:
    """The DuckDB rebuild's result: (id_key, profile_id) of every key, (id_key, message_id) of
    every conflict (the seqs differ: Spark numbers the published events anew)."""

    identities: set[tuple[str, str]]
    conflicts: set[tuple[str, str]]
    profiles: int
    replayed_components: int


def duckdb_reference(published: pa.Table, directory: Path, rules: MergeRules) -> Reference:
    """The reference: one DuckDB log holding the published rows in arrival order (then
    collector and seq), rebuilt by `identity.rebuild`."""
    ordered = published.take(
        pc.sort_indices(
            published,
            sort_keys=[
                ("received_at", "ascending"),
                ("collector", "ascending"),
                ("seq", "ascending"),
            ],
        )
    )
    with empreinte.open(directory) as ref:
        reference = Log(ref)
        reference.add(*[ids or [] for ids in ordered.column("identifiers").to_pylist()])
        service = reference.service(rules, salt="s")
        report = service.rebuild()
        identities = {(r.id_key, r.profile_id) for r in service.store.all_identities()}  # type: ignore[attr-defined]
        conflicts = service.store.all_conflicts()  # type: ignore[attr-defined]
    # The messages' order was kept: each conflict is recorded by the same event on the same key.
    message_of = dict(enumerate(ordered.column("message_id").to_pylist(), start=1))
    return Reference(
        identities,
        {(c.id_key, message_of[c.seq]) for c in conflicts},
        report.profiles,
        report.replayed_components,
    )


def spark_result(output: Path) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """`read_result(output)` as a `Reference`'s identities and conflicts."""
    identities, conflicts = read_result(output)
    return (
        {(r["id_key"], r["profile_id"]) for r in identities.to_pylist()},
        {(r["id_key"], r["message_id"]) for r in conflicts.to_pylist()},
    )


def test_spark_identity_over_the_published_log_equals_one_duckdb_log(
    cluster_session: Any, tmp_path: Path
) -> None:
    rng = random.Random(5)
    root = tmp_path / "published"
    a, b = collectors(tmp_path, str(root))
    with a, b:
        for message in journeys(rng, 40):
            assert rng.choice((a, b)).ingest([message]).stored == 1
        a.published.run(publish=False)
        b.published.run(publish=True)
    log = PublishedLog(str(root))
    published = log.read()
    assert published.num_rows == 40 * 3 + 12  # 6 tablets, two identifies each
    assert set(published.column("collector").to_pylist()) == {"a", "b"}

    rules = MergeRules()
    expected = duckdb_reference(published, tmp_path / "reference", rules)
    assert expected.replayed_components > 0 and expected.conflicts, "no tablet made a conflict"

    output = tmp_path / "identities"
    done = rebuild_on_spark(
        cluster_session, log.files(), output, rules, Overrides(), salt="s", order="arrival"
    )
    assert spark_result(output) == (expected.identities, expected.conflicts)
    assert done.profiles == expected.profiles
