"""Trait merging: the latest value wins, unless a more trusted source said otherwise; nested
objects merge field by field; each trait keeps its history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from empreinte.errors import ConfigError
from empreinte.profiles.traits import TraitPolicy, merge_records, nest

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def event(
    seq: int,
    traits: dict[str, Any] | None = None,
    *,
    hours: float | None = None,
    source: str = "web",
    channel: str | None = None,
    context_traits: dict[str, Any] | None = None,
    type: str = "identify",
    vault: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A stored record as the profile store returns it."""
    return {
        "seq": seq,
        "message_id": f"m{seq}",
        "source": source,
        "type": type,
        "channel": channel,
        "timestamp": T0 + timedelta(hours=seq if hours is None else hours),
        "traits": traits,
        "context": {"traits": context_traits} if context_traits is not None else None,
        "pii": vault,
    }


def test_the_latest_value_wins_whatever_the_arrival_order() -> None:
    merged = merge_records(
        [
            event(1, {"plan": "free"}, hours=5),
            event(2, {"plan": "pro"}, hours=9),
            event(3, {"plan": "team"}, hours=7),  # arrived last, happened before "pro"
        ],
        TraitPolicy(),
    )
    assert merged.flat(pii=True) == {"plan": "pro"}
    assert [c.last.value for c in merged.history["plan"]] == ["free", "team", "pro"]


def test_a_trusted_source_wins_over_a_later_one() -> None:
    policy = TraitPolicy(("crm", "store"))
    merged = merge_records(
        [
            event(1, {"first_name": "Jeanne"}, source="crm"),
            event(2, {"first_name": "Jeannot"}, source="web"),
            event(3, {"first_name": "Jeanne M."}, source="store"),
            event(4, {"city": "Lyon"}, source="web"),
        ],
        policy,
    )
    assert merged.flat(pii=True) == {"city": "Lyon", "first_name": "Jeanne"}
    history = merged.history["first_name"]
    assert [(c.last.value, c.last.source) for c in history] == [
        ("Jeanne", "crm"),
        ("Jeannot", "web"),
        ("Jeanne M.", "store"),
    ]
    assert merged.current["first_name"] is history[0].last


def test_the_channel_counts_when_the_source_is_not_listed() -> None:
    policy = TraitPolicy(("store",))
    merged = merge_records(
        [
            event(1, {"tier": "gold"}, source="pos-api", channel="store"),
            event(2, {"tier": "silver"}, source="web", channel="web"),
        ],
        policy,
    )
    assert merged.flat(pii=True) == {"tier": "gold"}
    assert policy.rank("pos-api", "store") == 0 and policy.rank("x", None) == 1


def test_nested_objects_merge_field_by_field() -> None:
    merged = merge_records(
        [
            event(1, {"address": {"city": "Lyon", "country": "FR"}}),
            event(2, {"address": {"city": "Paris"}}),
        ],
        TraitPolicy(),
    )
    assert merged.nested(pii=True) == {"address": {"city": "Paris", "country": "FR"}}


def test_identify_traits_beat_context_traits_of_the_same_event_and_groups_are_ignored() -> None:
    merged = merge_records(
        [
            event(1, {"plan": "pro"}, context_traits={"plan": "free", "lang": "fr"}),
            event(2, {"name": "ACME", "plan": "enterprise"}, type="group"),
            event(3, None, type="track", context_traits={"lang": "en"}),
        ],
        TraitPolicy(),
    )
    assert merged.flat(pii=True) == {"lang": "en", "plan": "pro"}


def test_repeated_values_make_one_history_entry_and_nulls_say_nothing() -> None:
    merged = merge_records(
        [
            event(1, {"plan": "free"}),
            event(2, {"plan": "free"}),
            event(3, {"plan": None}),
            event(4, {"plan": "pro"}),
            event(5, {"plan": "pro"}),
        ],
        TraitPolicy(),
    )
    [free, pro] = merged.history["plan"]
    assert (free.last.value, free.since, free.last.seq) == ("free", T0 + timedelta(hours=1), 2)
    assert (pro.last.value, pro.since, pro.last.seq) == ("pro", T0 + timedelta(hours=4), 5)
    assert merged.current["plan"] is pro.last


def test_raw_values_come_from_the_vault_and_pseudonyms_stay_for_analysts() -> None:
    merged = merge_records(
        [
            event(
                1,
                {"email": "pii_e1", "address": {"city": "Lyon", "street": "pii_s1"}},
                vault={"traits.email": "Ada@Example.com", "traits.address.street": "1 rue X"},
            )
        ],
        TraitPolicy(),
    )
    assert merged.nested(pii=True) == {
        "address": {"city": "Lyon", "street": "1 rue X"},
        "email": "Ada@Example.com",
    }
    assert merged.nested(pii=False) == {
        "address": {"city": "Lyon", "street": "pii_s1"},
        "email": "pii_e1",
    }


def test_a_value_that_became_an_object_stays_readable() -> None:
    assert nest({"address": "1 rue X", "address.city": "Lyon", "a.b.c": 1}) == {
        "a": {"b": {"c": 1}},
        "address": "1 rue X",
        "address.city": "Lyon",
    }


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"source_priority": "crm"}, "must be a list"),
        ({"source_priority": ["crm", "crm"]}, "twice"),
        ({"source_priority": ["crm", " "]}, "empty"),
        ({"priority": ["crm"]}, "unknown setting"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TraitPolicy.from_mapping(section)
