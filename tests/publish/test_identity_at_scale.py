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
from pathlib import Path
from typing import Any

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

    # The reference: one DuckDB log holding the published rows in arrival order.
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
    rules = MergeRules()
    with empreinte.open(tmp_path / "reference") as ref:
        reference = Log(ref)
        reference.add(*[ids or [] for ids in ordered.column("identifiers").to_pylist()])
        service = reference.service(rules, salt="s")
        report = service.rebuild()
        expected = {(r.id_key, r.profile_id) for r in service.store.all_identities()}  # type: ignore[attr-defined]
        conflicts_here = service.store.all_conflicts()  # type: ignore[attr-defined]
        expected_conflicts = {(c.id_key, c.seq) for c in conflicts_here}
    assert report.replayed_components > 0 and expected_conflicts, "no tablet made a conflict"

    output = tmp_path / "identities"
    done = rebuild_on_spark(
        cluster_session, log.files(), output, rules, Overrides(), salt="s", order="arrival"
    )
    identities, conflicts = read_result(output)
    assert {(r["id_key"], r["profile_id"]) for r in identities.to_pylist()} == expected
    assert done.profiles == report.profiles
    # The messages' order was kept: each conflict is recorded by the same event on the same key.
    message_of = dict(
        zip(range(1, ordered.num_rows + 1), ordered.column("message_id").to_pylist(), strict=True)
    )
    assert {(r["id_key"], r["message_id"]) for r in conflicts.to_pylist()} == {
        (key, message_of[seq]) for key, seq in expected_conflicts
    }
