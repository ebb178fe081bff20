"""The identity graph rebuilt on the Spark cluster (identity/at_scale.py over
store/spark/identity.py) equals the DuckDB rebuild (identity/rebuild.py) and the naive reading
of the rules (oracle.py): same key → profile id, same first/last seq, same conflicts; and a
cancelled rebuild leaves the previous result whole.

Streams are drawn at random (seeded) from people with their own user ids, e-mails, phones,
anonymous ids and devices, plus what makes components dirty: family tablets, a switchboard
number, a second e-mail, aliases between user ids, a blocked key and a cut key.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import empreinte
from empreinte.identity.at_scale import rebuild_on_spark as rebuild_identities
from empreinte.identity.graph import Overrides
from empreinte.identity.rules import MergeRules
from empreinte.store.duckdb.analytics import export_parquet
from empreinte.store.spark.identity import CURRENT, current_run, read_result
from empreinte.workspace import Workspace

from .conftest import Log
from .oracle import Oracle
from .test_properties import KEYS, event_strategy, fresh_log, rules_strategy, snapshot

pytestmark = [pytest.mark.spark, pytest.mark.timeout(1800)]


def stream(rng: random.Random, people: int) -> list[list[str]]:
    """Events of `people` people, in a random interleaving."""
    per_person: list[list[list[str]]] = []
    switchboard = "phone:+33100000000"
    tablets = [f"device_id:tablet{i}" for i in range(max(1, people // 15))]
    for p in range(people):
        anon = [f"anonymous_id:a{p}-{i}" for i in range(rng.randint(1, 3))]
        own = [f"email:e{p}", f"user_id:u{p}", f"phone:+3361{p:07d}", f"device_id:d{p}"]
        events = [[rng.choice(anon)] for _ in range(rng.randint(0, 3))]
        for _ in range(rng.randint(1, 4)):
            events.append([rng.choice(anon), *rng.sample(own, rng.randint(1, 2))])
        if rng.random() < 0.15:  # the family tablet
            events.append([rng.choice(tablets), rng.choice(own[:2])])
        if rng.random() < 0.1:  # called the switchboard
            events.append([switchboard, f"email:e{p}"])
        if rng.random() < 0.05:  # a second e-mail
            events.append([f"email:e{p}", f"email:e{p}-work"])
        if rng.random() < 0.05:  # an alias from an older user id
            events.append([f"user_id:u{p}", f"user_id:old{p}", rng.choice(anon)])
        if rng.random() < 0.05:  # keys the resolver ignores, a key listed twice
            events.append(["bogus:1", f"user_id:u{p}", f"user_id:u{p}", "no-colon"])
        per_person.append(events)
    merged = [e for events in per_person for e in events]
    rng.shuffle(merged)
    return merged


def events_file(ws: Workspace, directory: Path) -> Path:
    """The workspace's events as one Parquet file in `directory` (the export Spark reads)."""
    cursor = ws.engine.cursor()  # type: ignore[attr-defined]
    try:
        return export_parquet(cursor, directory, ("events",))["events"]
    finally:
        cursor.close()


def spark_result(output: Path) -> tuple[set[tuple[str, str, int, int]], set[tuple[Any, ...]]]:
    identities, conflicts = read_result(output)
    ids = {
        (r["id_key"], r["profile_id"], r["first_seq"], r["last_seq"])
        for r in identities.to_pylist()
    }
    refused = {
        (
            r["seq"],
            r["message_id"],
            r["id_key"],
            r["profile_id"],
            r["other_profile_id"],
            r["rule"],
            r["recorded_at"],
        )
        for r in conflicts.to_pylist()
    }
    return ids, refused


RULES = [
    MergeRules(),
    MergeRules(
        limits={"email": 1, "device_id": 2, "phone": 2, "anonymous_id": 3},
        priority=("email", "user_id", "phone", "device_id", "anonymous_id"),
        person_level=("email",),
    ),
]


@pytest.mark.parametrize("seed", [1, 2])
def test_spark_rebuild_equals_duckdb_rebuild(
    cluster_session: Any, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    rules = RULES[seed % len(RULES)]
    ws = empreinte.open(tmp_path / "ws")
    try:
        log = Log(ws)
        events = stream(rng, 150)
        seqs = log.add(*events)
        service = log.service(rules, salt="s")
        service.sync()
        service.block("email:e3", "test")
        tablet = "device_id:tablet0"
        if service.profile_of(tablet) is not None:
            service.cut(tablet, service.profile_of(tablet) or "", "test")
        report = service.rebuild()
        store = service.store
        expected_ids = {
            (r.id_key, r.profile_id, r.first_seq, r.last_seq)
            for r in store.all_identities()  # type: ignore[attr-defined]
        }
        expected_conflicts = set(store.all_conflicts())  # type: ignore[attr-defined]
        overrides = Overrides.fold(service.overrides())
        exported = events_file(ws, tmp_path / "export")
    finally:
        ws.close()
    assert report.replayed_components > 0 and expected_conflicts, "the stream is too easy"

    # The naive reading of the rules agrees with DuckDB (so the comparison below is with
    # the rules, not just with the other implementation).
    oracle = Oracle(
        rules.limits,
        rules.priority,
        overrides.blocked,
        overrides.cut,
        salt="s",
        person_level=rules.person_level,
    ).run(zip(seqs, events, strict=True))
    assert {(k, p) for k, p, _, _ in expected_ids} == set(oracle.profile.items())

    # The log as several files (as the published log is): seed 2 reads two, split by seq.
    source: Any = exported
    if seed == 2:
        table = pq.read_table(source)
        middle = len(seqs) // 2
        source = [tmp_path / "early.parquet", tmp_path / "late.parquet"]
        pq.write_table(table.filter(pc.field("seq") <= middle), source[0])
        pq.write_table(table.filter(pc.field("seq") > middle), source[1])
    output = tmp_path / "spark-identities"
    done = rebuild_identities(cluster_session, source, output, rules, overrides, salt="s")
    ids, conflicts = spark_result(output)
    assert ids == expected_ids
    assert conflicts == expected_conflicts
    assert done.profiles == report.profiles
    assert done.components == report.components
    assert done.replayed_components == report.replayed_components
    assert done.replayed_events == report.replayed_events
    # Only the dirty components' occurrences came to the driver, not the log's.
    assert 0 < done.collected_occurrences < sum(len(e) for e in events)


def test_cancelled_rebuild_leaves_the_previous_result(cluster_session: Any, tmp_path: Path) -> None:
    """Cancel the job group of a second rebuild while it runs: the first result stays what
    `CURRENT` names, untouched; a rerun gives the same result."""
    ws = empreinte.open(tmp_path / "ws")
    try:
        log = Log(ws)
        log.add(*stream(random.Random(3), 100))
        exported = events_file(ws, tmp_path / "export")
    finally:
        ws.close()
    output = tmp_path / "out"
    rules, overrides = MergeRules(), Overrides()
    rebuild_identities(cluster_session, exported, output, rules, overrides, salt="s")
    first_run = current_run(output)
    before = spark_result(output)

    sc = cluster_session.sparkContext
    group = "cancelled-rebuild"
    failure: list[BaseException] = []

    def run() -> None:
        sc.setJobGroup(group, "a rebuild to cancel", interruptOnCancel=True)
        try:
            rebuild_identities(cluster_session, exported, output, rules, overrides, salt="s")
        except BaseException as exc:  # the cancellation, checked below
            failure.append(exc)
        finally:
            sc.setJobGroup("", "")

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 120
    # A few jobs in (the components' rounds), cancel, and again until the rebuild stops: a
    # cancellation cancels the jobs running, and the driver may be between two jobs.
    while len(sc.statusTracker().getJobIdsForGroup(group)) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    while worker.is_alive() and time.monotonic() < deadline:
        sc.cancelJobGroup(group)
        time.sleep(0.05)
    worker.join(600)
    assert failure, "the rebuild finished before it was cancelled"
    assert "cancel" in str(failure[0]).lower(), failure[0]
    assert current_run(output) == first_run
    # Nothing of the cancelled run is left beside the first one.
    assert first_run is not None
    assert sorted(p.name for p in output.iterdir()) == sorted([CURRENT, first_run.name])
    assert spark_result(output) == before
    rebuild_identities(cluster_session, exported, output, rules, overrides, salt="s")
    assert current_run(output) != first_run
    assert spark_result(output) == before


@pytest.fixture(scope="module")
def drawn_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = empreinte.open(Path(tmp_path_factory.mktemp("spark-drawn")) / "ws")
    yield ws
    ws.close()


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rules=rules_strategy,
    events=st.lists(event_strategy, min_size=1, max_size=40),
    action=st.one_of(
        st.none(), st.tuples(st.sampled_from(["block", "cut"]), st.sampled_from(KEYS))
    ),
)
def test_spark_rebuild_equals_rebuild_on_drawn_streams(
    cluster_session: Any,
    drawn_ws: Workspace,
    tmp_path_factory: pytest.TempPathFactory,
    rules: MergeRules,
    events: list[list[str]],
    action: tuple[str, str] | None,
) -> None:
    """The property suite's streams (tests/identity/test_properties.py: small pools, so that
    limits, refused links and aliases happen all the time; random rules; a block or a cut)."""
    log = fresh_log(drawn_ws)
    log.add(*events)
    service = log.service(rules, salt="s")
    service.sync()
    if action is not None:
        kind, key = action
        if kind == "block":
            service.block(key, "test")
        elif service.profile_of(key) is not None:
            service.cut(key, service.profile_of(key) or "", "test")
    service.rebuild()
    expected = snapshot(service)
    expected_conflicts = set(service.store.all_conflicts())  # type: ignore[attr-defined]
    overrides = Overrides.fold(service.overrides())
    work = tmp_path_factory.mktemp("drawn")
    exported = events_file(drawn_ws, work / "export")
    rebuild_identities(cluster_session, exported, work / "out", rules, overrides, salt="s")
    ids, conflicts = spark_result(work / "out")
    assert ids == expected[0]
    assert conflicts == expected_conflicts
