"""The current value of a few traits per person, computed in the engine (analytics/
current_traits.py), against the profiles' own merge (profiles/traits.py) on the same log:
source priority by source and by channel, latest wins, ties in time, `traits` over
`context.traits`, nested paths, null values, objects, and raw values from the vault."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any

import ibis
import pytest

import empreinte
from empreinte.analytics.current_traits import current_traits
from empreinte.errors import AnalyticsError
from empreinte.profiles.traits import merge_records
from empreinte.workspace import Workspace

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PATHS = ["country", "address.country", "address", "plan", "tier", "birthday", "missing"]
Message = dict[str, Any]


def open_workspace(root: Path) -> Workspace:
    root.mkdir(parents=True)
    (root / "empreinte.toml").write_text('[profiles]\nsource_priority = ["crm", "store"]\n')
    return empreinte.open(root)


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def winners_by_merge(ws: Workspace, paths: list[str]) -> dict[str, dict[str, tuple[Any, ...]]]:
    """What the profiles themselves show: the full merge of each profile's trait events."""
    profiles = ws.profiles
    profiles.identity.sync()
    out = {}
    records = profiles.store.trait_events(profiles.ownership())
    for profile_id, group in groupby(records, key=lambda record: str(record["profile_id"])):
        current = merge_records(group, profiles.policy).current
        found = {p: _key(current[p]) for p in paths if p in current}
        if found:
            out[profile_id] = found
    return out


def winners_in_engine(ws: Workspace, paths: list[str]) -> dict[str, dict[str, tuple[Any, ...]]]:
    with ws.analytics() as log:
        merged = current_traits(log, paths)
    return {pid: {p: _key(o) for p, o in m.current.items()} for pid, m in merged.items()}


def _key(observation: Any) -> tuple[Any, ...]:
    return (observation.value, observation.shown, observation.seq, observation.order)


@pytest.fixture
def crafted(tmp_path: Path) -> Iterator[Workspace]:
    ws = open_workspace(tmp_path / "crafted")
    web: list[Message] = [
        {
            "type": "identify",
            "userId": "ada",
            "timestamp": at(10),
            "traits": {
                "plan": "free",
                "country": "FR",
                "birthday": "1990-05-17",
                "address": {"country": "BE", "city": "Liège"},
            },
        },
        # later, but a JSON null says nothing
        {"type": "identify", "userId": "ada", "timestamp": at(11), "traits": {"country": None}},
        # later still, from context.traits of a track
        {
            "type": "track",
            "event": "Page Viewed",
            "userId": "ada",
            "timestamp": at(12),
            "context": {"traits": {"country": "DE"}},
        },
        # one event states tier twice: traits win over context.traits
        {
            "type": "identify",
            "userId": "ada",
            "timestamp": at(13),
            "traits": {"tier": "gold"},
            "context": {"traits": {"tier": "silver"}},
        },
        # traits of a track are not a person's traits (only identify's and context.traits)
        {
            "type": "track",
            "event": "Signed Up",
            "userId": "ada",
            "timestamp": at(14),
            "traits": {"plan": "enterprise"},
        },
    ]
    crm = [
        # older than the web's plan, but the CRM is trusted first
        {"type": "identify", "userId": "ada", "timestamp": at(1), "traits": {"plan": "pro"}},
    ]
    pos = [
        # a till whose source is not listed but whose channel (store) is
        {
            "type": "identify",
            "userId": "bob",
            "timestamp": at(1),
            "traits": {"tier": "silver"},
            "context": {"channel": "store"},
        },
        {"type": "identify", "userId": "bob", "timestamp": at(5), "traits": {"tier": "x"}},
    ]
    for source, messages in (("web", web), ("crm", crm), ("pos", pos)):
        report = ws.ingest(messages, source=source)
        assert not report.rejected, report.rejected
    ws.flush()
    yield ws
    ws.close()


def test_the_rule_of_the_profiles_on_a_crafted_log(crafted: Workspace) -> None:
    engine = winners_in_engine(crafted, PATHS)
    assert engine == winners_by_merge(crafted, PATHS)
    values = {
        (pid, path): value for pid, found in engine.items() for path, (value, *_) in found.items()
    }
    assert sorted(v for (_, p), v in values.items() if p == "plan") == ["pro"]  # the CRM's
    assert sorted(v for (_, p), v in values.items() if p == "country") == ["DE"]
    assert sorted(v for (_, p), v in values.items() if p == "address.country") == ["BE"]
    assert sorted(v for (_, p), v in values.items() if p == "tier") == ["gold", "silver"]
    # the birthday is personal data: its raw value from the vault, its pseudonym as shown
    ((birthday, shown, *_),) = [
        found["birthday"] for found in engine.values() if "birthday" in found
    ]
    assert birthday == "1990-05-17" and str(shown).startswith("pii_")
    # an object is not a value
    assert all("address" not in found for found in engine.values())


def test_only_the_profiles_asked_for(crafted: Workspace) -> None:
    with crafted.analytics() as log:
        everyone = current_traits(log, ["tier"])
        one = sorted(everyone)[0]
        asked = ibis.memtable({"profile_id": [one]})
        assert list(current_traits(log, ["tier"], asked)) == [one]
        with pytest.raises(AnalyticsError, match="not a trait path"):
            current_traits(log, ['a"b'])


def random_log(seed: int) -> dict[str, list[Message]]:
    """Messages by source: a few people, sources of every trust, many ties in time."""
    rng = random.Random(seed)
    values: list[Any] = ["FR", "BE", "DE", None, 1990, "1985-02-01", {"country": "IT"}]
    by_source: dict[str, list[Message]] = {"crm": [], "web": [], "pos": []}
    for _ in range(150):
        traits = {
            key: rng.choice(values)
            for key in rng.sample(["country", "plan", "tier", "address", "birthday"], 2)
        }
        message: Message = {
            "type": rng.choice(["identify", "identify", "track"]),
            "userId": f"u{rng.randrange(8)}",
            "timestamp": at(rng.randrange(6)),  # ties on purpose
            "context": {"channel": rng.choice(["web", "store", "app"])},
        }
        if message["type"] == "track":
            message["event"] = "Page Viewed"
        if rng.random() < 0.5:
            message["traits"] = traits
        else:
            message["context"]["traits"] = traits
        by_source[rng.choice(list(by_source))].append(message)
    return by_source


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_engine_agrees_with_the_profiles_on_random_logs(tmp_path: Path, seed: int) -> None:
    ws = open_workspace(tmp_path / f"random-{seed}")
    try:
        for source, messages in random_log(seed).items():
            assert not ws.ingest(messages, source=source).rejected
        ws.flush()
        expected = winners_by_merge(ws, PATHS)
        assert len(expected) >= 6
        assert winners_in_engine(ws, PATHS) == expected
    finally:
        ws.close()
