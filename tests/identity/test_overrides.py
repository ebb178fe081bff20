"""Unmerging: block, cut and unblock recompute the affected components from the log, exactly as
a full rebuild would, and survive a restart."""

from __future__ import annotations

import pytest

from empreinte.errors import IdentityError, ProfileNotFound
from empreinte.identity.rules import MergeRules
from empreinte.identity.service import IdentityService

from .conftest import Log
from .oracle import pid
from .test_protection import partition


def rebuilt(log: Log, rules: MergeRules | None = None) -> tuple[dict, list]:
    fresh = log.service(rules)
    fresh.rebuild()
    return partition(fresh), fresh.store.all_conflicts()  # type: ignore[attr-defined]


def state(service: IdentityService) -> tuple[dict, list]:
    return partition(service), service.store.all_conflicts()  # type: ignore[attr-defined]


def wrongly_joined(log: Log) -> IdentityService:
    """Two people joined through a shared e-mail (limit 5 lets it through)."""
    log.add(["anonymous_id:a1", "user_id:alice"])
    log.add(["user_id:alice", "email:pii_family"])
    log.add(["anonymous_id:b1", "email:pii_family"])  # Bob's browser, the family address
    log.add(["anonymous_id:b1", "device_id:bob-phone"])
    service = log.service()
    service.sync()
    assert partition(service) == {
        pid("user_id:alice"): frozenset(
            {
                "anonymous_id:a1",
                "user_id:alice",
                "email:pii_family",
                "anonymous_id:b1",
                "device_id:bob-phone",
            }
        )
    }
    return service


def test_block_unjoins_and_matches_a_rebuild(log: Log) -> None:
    service = wrongly_joined(log)
    ids = service.block("email:pii_family", "ops@brand", "shared family address")
    expected = {
        pid("user_id:alice"): frozenset({"anonymous_id:a1", "user_id:alice"}),
        pid("anonymous_id:b1"): frozenset({"anonymous_id:b1", "device_id:bob-phone"}),
    }
    assert partition(service) == expected
    assert ids == sorted(expected)
    assert service.profile_of("email:pii_family") is None
    assert state(service) == rebuilt(log)
    # Later events carrying the blocked address link nothing either.
    log.add(["email:pii_family", "user_id:carol"])
    service.sync()
    assert service.profile_of("email:pii_family") is None
    assert state(service) == rebuilt(log)
    # A restarted service sees the decision (no rebuild needed) and keeps applying it.
    again = log.service()
    report = again.sync()
    assert report.rebuilt is None
    assert again.overrides()[0].actor == "ops@brand"
    assert again.overrides()[0].reason == "shared family address"


def test_cut_keeps_the_shared_address_with_its_holder(log: Log) -> None:
    """Bob is known only by an anonymous id: nothing tells him from Alice's own anonymous
    visits, so cutting the address keeps his browser with Alice (block separates him, above);
    the address stays Alice's and never joins another person."""
    service = wrongly_joined(log)
    before = partition(service)
    ids = service.cut("email:pii_family", pid("user_id:alice"), "ops", "two people")
    assert partition(service) == before
    assert ids == sorted(before)
    assert state(service) == rebuilt(log)
    # Carol signs up with the family address: it no longer joins her to Alice.
    log.add(["user_id:carol", "email:pii_family"])
    service.sync()
    assert service.profile_of("email:pii_family") == pid("user_id:alice")
    assert service.profile_of("user_id:carol") == pid("user_id:carol")
    assert state(service) == rebuilt(log)
    ident = service.identity("email:pii_family")
    assert ident is not None and (ident.first_seq, ident.last_seq) == (2, 5)


def test_cut_restores_the_two_people_of_a_wrong_merge(log: Log) -> None:
    """Issue 11, defect 10: a cut used to leave the key alone and everything it alone had
    linked apart, so Alice's anonymous visit on her tablet left her (a person split in two).
    Now the cut key stays with its first holder and only stops joining two people."""
    log.add(["user_id:alice", "device_id:tablet"])
    log.add(["anonymous_id:a2", "device_id:tablet"])  # Alice, not logged in
    log.add(["email:pii_bob", "device_id:tablet"])  # Bob, known by his e-mail only
    log.add(["email:pii_bob", "anonymous_id:b1"])
    service = log.service()
    service.sync()
    alice = frozenset({"user_id:alice", "device_id:tablet", "anonymous_id:a2"})
    bob = frozenset({"email:pii_bob", "anonymous_id:b1"})
    # A user id and an e-mail are different person-level types: the tablet joined them.
    assert partition(service) == {pid("user_id:alice"): alice | bob}
    ids = service.cut("device_id:tablet", pid("user_id:alice"), "ops", "family tablet")
    expected = {pid("user_id:alice"): alice, pid("email:pii_bob"): bob}
    assert partition(service) == expected
    assert ids == sorted(expected)
    conflicts = service.store.all_conflicts()  # type: ignore[attr-defined]
    assert [(c.seq, c.id_key, c.rule) for c in conflicts] == [
        (3, "device_id:tablet", "cut: people on both sides")
    ]
    assert state(service) == rebuilt(log)
    # Alice's next anonymous visit on the tablet is still hers; a third person stays apart.
    log.add(["anonymous_id:a3", "device_id:tablet"], ["email:pii_carol", "device_id:tablet"])
    service.sync()
    assert service.profile_of("anonymous_id:a3") == pid("user_id:alice")
    assert service.profile_of("email:pii_carol") == pid("email:pii_carol")
    assert state(service) == rebuilt(log)


def test_unblock_restores_the_join(log: Log) -> None:
    service = wrongly_joined(log)
    before = state(service)
    service.block("email:pii_family", "ops")
    service.unblock("email:pii_family", "ops", "it was one household account after all")
    assert state(service) == before
    assert state(service) == rebuilt(log)
    assert [o.action for o in service.overrides()] == ["block", "unblock"]


def test_a_cut_founder_keeps_its_profile_id(log: Log) -> None:
    log.add(
        ["anonymous_id:kiosk"], ["anonymous_id:kiosk", "user_id:u"], ["user_id:u", "email:pii_u"]
    )
    log.add(["anonymous_id:kiosk", "user_id:v"])
    service = log.service()
    service.sync()
    assert service.profile_of("user_id:u") == pid("anonymous_id:kiosk")
    ids = service.cut("anonymous_id:kiosk", pid("anonymous_id:kiosk"), "ops", "shop kiosk")
    # The kiosk stays with the first person it met (who joined it before any other person),
    # and the profile keeps the id its founder gave it; the second shopper stays apart.
    assert ids == sorted([pid("anonymous_id:kiosk"), pid("user_id:v")])
    assert service.profile_of("user_id:u") == pid("anonymous_id:kiosk")
    assert service.resolve(pid("user_id:u")) == pid("anonymous_id:kiosk")
    assert state(service) == rebuilt(log)


def test_shared_device_cut_then_rebuild_with_conflicts(log: Log) -> None:
    for member in range(3):
        log.add(["device_id:tablet", f"user_id:u{member}"])
    service = log.service()
    service.sync()
    before = service.store.all_conflicts()  # type: ignore[attr-defined]
    assert len(before) == 2
    service.cut("device_id:tablet", pid("device_id:tablet"), "ops")
    # The user id limit still refuses first: the same two conflicts, the tablet with u0.
    assert service.store.all_conflicts() == before  # type: ignore[attr-defined]
    assert partition(service) == {
        pid("user_id:u0"): frozenset({"device_id:tablet", "user_id:u0"}),
        **{pid(f"user_id:u{m}"): frozenset({f"user_id:u{m}"}) for m in (1, 2)},
    }
    assert state(service) == rebuilt(log)
    story = service.explain(pid("user_id:u0"))
    assert [o.action for o in story.overrides] == ["cut"]
    assert [s.action for s in story.steps] == ["found", "join", "conflict", "conflict"]


def test_refusals_say_why(log: Log) -> None:
    service = wrongly_joined(log)
    log.add(["user_id:zed"])
    service.sync()
    with pytest.raises(IdentityError, match="not in profile"):
        service.cut("user_id:zed", pid("user_id:alice"), "ops")
    with pytest.raises(IdentityError, match="neither blocked nor cut"):
        service.unblock("user_id:zed", "ops")
    with pytest.raises(IdentityError, match="TYPE:VALUE"):
        service.block("zed", "ops")
    with pytest.raises(ProfileNotFound):
        service.cut("user_id:zed", "p_ffffffffffffffff", "ops")
    with pytest.raises(ProfileNotFound):
        service.explain("p_ffffffffffffffff")
    assert service.overrides() == []


def test_changed_rules_rebuild_on_the_next_sync(log: Log) -> None:
    log.add(["user_id:u", "email:pii_a"], ["user_id:u", "email:pii_b"])
    log.service().sync()
    strict = log.service(MergeRules(limits={"email": 1}))
    report = strict.sync()
    assert report.rebuilt is not None
    assert strict.profile_of("email:pii_b") == pid("email:pii_b")
    assert log.service(MergeRules(limits={"email": 1})).sync().rebuilt is None
