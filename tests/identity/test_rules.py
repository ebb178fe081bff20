"""Merge rules: defaults, the [identity] TOML section, and clear refusals of bad settings."""

from __future__ import annotations

import tomllib

import pytest

from empreinte.errors import ConfigError
from empreinte.identity.rules import DEFAULT_PRIORITY, MergeRules


def test_defaults_follow_the_issue() -> None:
    rules = MergeRules()
    assert dict(rules.limits) == {
        "user_id": 1,
        "email": 5,
        "phone": 5,
        "loyalty_card": 3,
        "external": 5,
        "device_id": 10,
        "anonymous_id": 1000,
        "matched_record": 50,
    }
    assert rules.priority == (
        "user_id",
        "email",
        "phone",
        "loyalty_card",
        "external",
        "device_id",
        "anonymous_id",
        "matched_record",
    )
    assert rules.rule_name("user_id") == "user_id limit 1"
    assert rules.person_level == ("user_id", "email", "external")
    assert rules.person_ranks() == (0, 1, 4)


def test_toml_section_overrides_only_what_it_names() -> None:
    section = tomllib.loads(
        """
        [identity]
        priority = ["email", "user_id"]
        limits = { email = 2, device_id = 20 }
        """
    )["identity"]
    rules = MergeRules.from_mapping(section)
    assert rules.limits["email"] == 2
    assert rules.limits["device_id"] == 20
    assert rules.limits["user_id"] == 1  # untouched default
    assert rules.priority[:2] == ("email", "user_id")
    assert rules.priority[2:] == tuple(t for t in DEFAULT_PRIORITY if t not in ("email", "user_id"))
    assert MergeRules.from_mapping(None) == MergeRules()
    people = MergeRules.from_mapping({"person_level": ["email", "user_id", "phone"]})
    assert people.person_level == ("user_id", "email", "phone")  # in the default type order


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ({"limits": {"fax": 2}}, ["fax", "user_id"]),
        ({"limits": {"email": 0}}, ["email", "at least 1"]),
        ({"limits": {"email": "many"}}, ["email", "whole number"]),
        ({"limits": {"email": True}}, ["email", "whole number"]),
        ({"priority": ["email", "email"]}, ["twice"]),
        ({"priority": ["pager"]}, ["pager"]),
        ({"priority": "email"}, ["list"]),
        ({"limit": {"email": 2}}, ["limit", "limits"]),
        ({"limits": [1, 2]}, ["table"]),
        ({"person_level": ["email", "fax"]}, ["fax", "person_level"]),
        ({"person_level": "email"}, ["list"]),
    ],
)
def test_bad_settings_are_refused_with_the_reason(section: dict, words: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        MergeRules.from_mapping(section)
    for word in words:
        assert word in str(caught.value)


def test_fingerprint_changes_with_what_changes_results() -> None:
    base = MergeRules().fingerprint()
    assert MergeRules().fingerprint() == base
    assert MergeRules(limits={"email": 4}).fingerprint() != base
    assert MergeRules(priority=("email",)).fingerprint() != base
    assert MergeRules(person_level=("user_id",)).fingerprint() != base
