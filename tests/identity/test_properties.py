"""Property: on any event stream, the incremental path, the full rebuild and a naive reading of
the rules agree exactly: same profiles, same profile ids, same conflicts, same first/last seq.

Identifiers are drawn from small pools so that merges, refused merges and limits happen all
the time; the stream is fed in random chunks, the service is sometimes dropped and reopened
from storage between chunks, and admin overrides (block, cut, unblock) land at random points.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import empreinte
from empreinte.identity.graph import Overrides
from empreinte.identity.rules import DEFAULT_PERSON_LEVEL, DEFAULT_PRIORITY, MergeRules
from empreinte.identity.service import IdentityService
from empreinte.workspace import Workspace

from .conftest import Log
from .oracle import Oracle

POOLS = {
    "user_id": 4,
    "email": 4,
    "phone": 3,
    "loyalty_card": 2,
    "external": 2,
    "device_id": 3,
    "anonymous_id": 6,
}
KEYS = [f"{kind}:{kind[0]}{i}" for kind, n in POOLS.items() for i in range(n)]
IGNORED = ["bogus:1", "no-colon"]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = empreinte.open(Path(tmp_path_factory.mktemp("prop")) / "ws")
    yield ws
    ws.close()


def fresh_log(ws: Workspace) -> Log:
    cur = ws.engine._con.cursor()  # type: ignore[attr-defined]
    for table in (
        "events",
        "identities",
        "identity_conflicts",
        "identity_overrides",
        "identity_state",
    ):
        cur.execute(f"DELETE FROM {table}")
    cur.close()
    return Log(ws)


rules_strategy = st.builds(
    lambda limits, priority, person: MergeRules(
        limits=limits, priority=tuple(priority), person_level=tuple(person)
    ),
    st.fixed_dictionaries(
        {
            "user_id": st.integers(1, 2),
            "email": st.integers(1, 3),
            "phone": st.integers(1, 2),
            "loyalty_card": st.integers(1, 2),
            "external": st.integers(1, 2),
            "device_id": st.integers(1, 3),
            "anonymous_id": st.integers(1, 4),
        }
    ),
    st.permutations(list(DEFAULT_PRIORITY)),
    st.one_of(
        st.just(DEFAULT_PERSON_LEVEL), st.lists(st.sampled_from(DEFAULT_PRIORITY), max_size=3)
    ),
)
event_strategy = st.lists(st.sampled_from(KEYS + IGNORED), min_size=1, max_size=4)


@dataclass(frozen=True)
class Step:
    events: list[list[str]]
    reopen: bool
    action: tuple[str, str] | None  # (block|cut|unblock, key) after this chunk


step_strategy = st.builds(
    Step,
    st.lists(event_strategy, min_size=0, max_size=8),
    st.booleans(),
    st.one_of(
        st.none(),
        st.tuples(st.sampled_from(["block", "cut", "unblock"]), st.sampled_from(KEYS)),
    ),
)


def snapshot(service: IdentityService) -> tuple[set[tuple[str, str, int, int]], set[tuple]]:
    store = service.store
    identities = {
        (r.id_key, r.profile_id, r.first_seq, r.last_seq)
        for r in store.all_identities()  # type: ignore[attr-defined]
    }
    conflicts = {
        (c.seq, c.id_key, c.profile_id, c.other_profile_id, c.rule)
        for c in store.all_conflicts()  # type: ignore[attr-defined]
    }
    return identities, conflicts


@settings(
    max_examples=int(os.environ.get("IDENTITY_EXAMPLES", settings.default.max_examples * 8 // 10)),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rules=rules_strategy,
    steps=st.lists(step_strategy, min_size=1, max_size=6),
    batch=st.sampled_from([1, 3, 1000]),
)
def test_incremental_equals_rebuild_equals_rules(
    shared: Workspace, rules: MergeRules, steps: list[Step], batch: int
) -> None:
    log = fresh_log(shared)
    service = log.service(rules, salt="s", batch_size=batch)
    stream: list[tuple[int, list[str]]] = []
    for step in steps:
        seqs = log.add(*step.events)
        stream.extend(zip(seqs, step.events, strict=True))
        if step.reopen:
            service = log.service(rules, salt="s", batch_size=batch)
        service.sync()
        if step.action is not None:
            action, key = step.action
            state = Overrides.fold(service.overrides()).state_of(key)
            if action == "block":
                service.block(key, "test")
            elif action == "cut" and service.profile_of(key) is not None and state is None:
                service.cut(key, service.profile_of(key) or "", "test")
            elif action == "unblock" and state is not None:
                service.unblock(key, "test")
    service.sync()
    incremental = snapshot(service)

    # The naive reading of the rules, with the overrides in force at the end.
    overrides = Overrides.fold(service.overrides())
    oracle = Oracle(
        rules.limits,
        rules.priority,
        overrides.blocked,
        overrides.cut,
        salt="s",
        person_level=rules.person_level,
    ).run(stream)
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for seq, keys in stream:
        for key in keys:
            if key in oracle.profile:
                first.setdefault(key, seq)
                last[key] = seq
    expected = {(k, p, first[k], last[k]) for k, p in oracle.profile.items()}
    expected_conflicts = set(oracle.conflicts)

    assert incremental[0] == expected
    assert incremental[1] == expected_conflicts

    # In-memory lookups (this service) and storage lookups (a fresh one) agree with it, and
    # every id the rules ever issued resolves to the profile now holding its founder.
    fresh = log.service(rules, salt="s")
    for key in KEYS:
        assert service.profile_of(key) == oracle.profile.get(key)
        assert fresh.profile_of(key) == oracle.profile.get(key)
    for issued, (_, _, founder) in oracle.born.items():
        assert service.resolve(issued) == oracle.profile[founder]
        assert fresh.resolve(issued) == oracle.profile[founder]

    # A full rebuild gives exactly the same tables.
    report = fresh.rebuild()
    assert snapshot(fresh) == (expected, expected_conflicts)
    assert report.profiles == len(oracle.partition())


FAMILY = [
    *(["email:e" + str(i), "device_id:tablet", "anonymous_id:tablet-browser"] for i in range(3)),
    *(["email:e" + str(i), "anonymous_id:own" + str(i)] for i in range(3)),
    ["device_id:tablet"],
    ["anonymous_id:tablet-browser", "phone:p0", "email:e0"],
]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(FAMILY), batch=st.sampled_from([1, 1000]))
def test_family_tablet_keeps_people_apart_in_any_order(
    shared: Workspace, order: list[list[str]], batch: int
) -> None:
    """Whatever order the family's events arrive in, the three e-mail-only people stay three
    profiles, each with her own anonymous id, the tablet refused at least once per extra
    person; the incremental path equals a rebuild."""
    log = fresh_log(shared)
    log.add(*order)
    service = log.service(salt="s", batch_size=batch)
    service.sync()
    owners = [service.profile_of(f"email:e{i}") for i in range(3)]
    assert len(set(owners)) == 3
    for i in range(3):
        assert service.profile_of(f"anonymous_id:own{i}") == owners[i]
    assert service.profile_of("device_id:tablet") in owners
    refused = {c.seq for c in service.store.all_conflicts()}  # type: ignore[attr-defined]
    assert len(refused) >= 2
    incremental = snapshot(service)
    fresh = log.service(salt="s")
    fresh.rebuild()
    assert snapshot(fresh) == incremental
