"""Merge protection on the cases it exists for, through the service (incremental path), each
checked again against a full rebuild. Expected profile ids are computed here from the founding
identifier the test knows (`oracle.pid`), not read back from the code."""

from __future__ import annotations

import pytest

from empreinte.identity.rules import MergeRules
from empreinte.identity.service import IdentityService

from .conftest import Log
from .oracle import pid


def partition(service: IdentityService) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for record in service.store.all_identities():  # type: ignore[attr-defined]
        out.setdefault(record.profile_id, set()).add(record.id_key)
    return {p: frozenset(keys) for p, keys in out.items()}


def synced_and_rebuilt(log: Log, rules: MergeRules | None = None) -> IdentityService:
    """Sync incrementally, then check a full rebuild agrees; return the synced service."""
    service = log.service(rules)
    service.sync()
    incremental = partition(service)
    conflicts = service.store.all_conflicts()  # type: ignore[attr-defined]
    fresh = log.service(rules)
    fresh.rebuild()
    assert partition(fresh) == incremental
    assert fresh.store.all_conflicts() == conflicts  # type: ignore[attr-defined]
    return service


def test_family_tablet_keeps_four_people_apart(log: Log) -> None:
    # Four members log in on the family tablet: one app install (anonymous id) and device id.
    tablet = ["device_id:tablet", "anonymous_id:app-install"]
    for member in range(4):
        log.add([f"user_id:u{member}", f"email:pii_e{member}"])  # each has an account
    for member in range(4):
        log.add([*tablet, f"user_id:u{member}"])
    service = synced_and_rebuilt(log)

    expected = {
        pid("user_id:u0"): frozenset({"user_id:u0", "email:pii_e0", *tablet}),
        **{
            pid(f"user_id:u{m}"): frozenset({f"user_id:u{m}", f"email:pii_e{m}"}) for m in (1, 2, 3)
        },
    }
    assert partition(service) == expected
    # The tablet went to the first member who used it; each later login was refused twice
    # (the device and the app's anonymous id both belong to a profile with another user id).
    refused = service.conflicts(pid("user_id:u1"))
    assert [(c.seq, c.id_key, c.rule) for c in refused] == [
        (6, "anonymous_id:app-install", "user_id limit 1"),
        (6, "device_id:tablet", "user_id limit 1"),
    ]


def test_call_centre_number_stays_out_of_fifty_callers_merges(log: Log) -> None:
    switchboard = "phone:pii_switchboard"
    for caller in range(50):
        log.add([f"user_id:c{caller}", f"email:pii_c{caller}"])
    for caller in range(50):
        log.add([switchboard, f"user_id:c{caller}"])
    service = synced_and_rebuilt(log)

    groups = partition(service)
    assert len(groups) == 50
    for caller in range(50):
        assert groups[pid(f"user_id:c{caller}")] >= {f"user_id:c{caller}", f"email:pii_c{caller}"}
    # The number joined its first caller; the 49 others were refused, one conflict each.
    assert service.profile_of(switchboard) == pid("user_id:c0")
    conflicts = service.store.all_conflicts()  # type: ignore[attr-defined]
    assert len(conflicts) == 49
    assert {c.rule for c in conflicts} == {"user_id limit 1"}


def test_emails_over_the_limit_found_their_own_profile(log: Log) -> None:
    rules = MergeRules(limits={"email": 2})
    log.add(
        ["user_id:u", "email:pii_a"], ["user_id:u", "email:pii_b"], ["user_id:u", "email:pii_c"]
    )
    service = synced_and_rebuilt(log, rules)

    assert partition(service) == {
        pid("user_id:u"): frozenset({"user_id:u", "email:pii_a", "email:pii_b"}),
        pid("email:pii_c"): frozenset({"email:pii_c"}),
    }
    (conflict,) = service.store.all_conflicts()  # type: ignore[attr-defined]
    assert (conflict.seq, conflict.id_key, conflict.rule) == (3, "email:pii_c", "email limit 2")
    assert (conflict.profile_id, conflict.other_profile_id) == (
        pid("user_id:u"),
        pid("email:pii_c"),
    )


def test_anonymous_id_limit(log: Log) -> None:
    rules = MergeRules(limits={"anonymous_id": 3})
    for n in range(5):
        log.add([f"anonymous_id:a{n}"], [f"anonymous_id:a{n}", "user_id:u"])
    service = synced_and_rebuilt(log, rules)

    mine = {r.id_key for r in service.identifiers(pid("user_id:u"))}
    assert mine == {"user_id:u", "anonymous_id:a0", "anonymous_id:a1", "anonymous_id:a2"}
    for n in (3, 4):
        assert service.profile_of(f"anonymous_id:a{n}") == pid(f"anonymous_id:a{n}")


def test_alias_links_the_anonymous_visitor_to_the_user(log: Log) -> None:
    log.add(["anonymous_id:visitor"], ["anonymous_id:visitor"])  # browsing before login
    log.add(["user_id:u", "email:pii_u"])  # the account, seen elsewhere first
    log.add(["anonymous_id:visitor", "user_id:u"])  # alias(previousId=visitor, userId=u)
    service = synced_and_rebuilt(log)

    # The visitor's profile is older (seq 1): its id survives and the account's redirects.
    survivor = pid("anonymous_id:visitor")
    assert partition(service) == {
        survivor: frozenset({"anonymous_id:visitor", "user_id:u", "email:pii_u"})
    }
    assert service.resolve(pid("user_id:u")) == survivor
    assert service.resolve(survivor) == survivor
    assert service.resolve("p_0000000000000000") is None


def test_older_profile_survives_whatever_the_priority(log: Log) -> None:
    log.add(["email:pii_old"])  # seq 1: founds the older profile
    log.add(["user_id:new"])  # seq 2: a younger profile with a more trusted founder
    log.add(["user_id:new", "email:pii_old"])
    service = synced_and_rebuilt(log)
    assert service.profile_of("user_id:new") == pid("email:pii_old")
    assert service.resolve(pid("user_id:new")) == pid("email:pii_old")


def test_merged_away_id_resolves_in_a_fresh_process(log: Log) -> None:
    log.add(["email:pii_a"], ["user_id:b"], ["user_id:b", "email:pii_a"])
    log.service().sync()
    fresh = log.service()  # no state in memory: resolution goes through storage
    assert fresh.resolve(pid("user_id:b")) == pid("email:pii_a")
    assert fresh.profile_of("user_id:b") == pid("email:pii_a")
    assert [r.id_key for r in fresh.identifiers(pid("user_id:b"))] == ["email:pii_a", "user_id:b"]


def test_explain_shows_the_event_that_merged(log: Log) -> None:
    log.add(["anonymous_id:a"], ["user_id:u", "email:pii_u"], ["anonymous_id:a", "user_id:u"])
    log.add(["anonymous_id:a", "user_id:other"])  # refused: one user id per profile
    service = log.service()
    service.sync()
    story = service.explain(pid("user_id:u"))
    assert story.profile_id == pid("anonymous_id:a")
    merge = [s for s in story.steps if s.action == "merge"]
    assert len(merge) == 1
    assert (merge[0].seq, merge[0].message_id) == (3, "m3")
    assert (merge[0].profile_id, merge[0].other_profile_id) == (
        pid("anonymous_id:a"),
        pid("user_id:u"),
    )
    # The event joined the account's profile (user id first) and met the visitor's through
    # the anonymous id: that is the identifier the merge went through.
    assert merge[0].id_key == "anonymous_id:a"
    assert [(s.seq, s.action, s.id_key) for s in story.steps if s.action != "merge"] == [
        (1, "found", "anonymous_id:a"),
        (2, "found", "user_id:u"),
        (2, "join", "email:pii_u"),
        # user_id:other founds its own profile and cannot take the visitor's anonymous id.
        (4, "conflict", "anonymous_id:a"),
    ]
    assert [(c.seq, c.rule) for c in story.conflicts] == [(4, "user_id limit 1")]
    assert {r.id_key for r in story.identifiers} == {"anonymous_id:a", "user_id:u", "email:pii_u"}


def test_invalid_and_unknown_identifiers_never_merge(log: Log) -> None:
    log.add(["user_id:a", "fax:123", "nocolon"], ["user_id:b", "fax:123"])
    service = synced_and_rebuilt(log)
    assert service.profile_of("fax:123") is None
    assert service.profile_of("user_id:a") != service.profile_of("user_id:b")


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_batches_and_restarts_do_not_change_the_result(log: Log, batch_size: int) -> None:
    events = [
        ["anonymous_id:x", "device_id:d"],
        ["anonymous_id:x", "user_id:u1"],
        ["anonymous_id:y", "device_id:d"],
        ["anonymous_id:y", "user_id:u2"],
        ["email:pii_e", "user_id:u2"],
        ["email:pii_e", "user_id:u1"],
    ]
    for event in events:
        log.add(event)
        IdentityService.open(log.engine, batch_size=batch_size).sync()
    incremental = partition(log.service())
    one_go = log.service()
    one_go.rebuild()
    assert partition(one_go) == incremental
    # y joins the shared device's profile (seq 3), so u2 is refused there (seq 4) and founds
    # its own; the e-mail then joins u2 and cannot bring u1 along (seq 6).
    assert incremental == {
        pid("device_id:d"): frozenset(
            {"device_id:d", "anonymous_id:x", "user_id:u1", "anonymous_id:y"}
        ),
        pid("user_id:u2"): frozenset({"user_id:u2", "email:pii_e"}),
    }


def test_a_refused_user_keeps_the_new_identifiers_of_her_event(log: Log) -> None:
    # Paul, then Marie, identify on the family tablet; Marie's userId cannot join Paul's
    # profile, and her e-mail, new in the same event, goes with her, not with Paul.
    tablet = ["anonymous_id:tablet-anon", "device_id:family-tablet"]
    log.add([*tablet, "user_id:paul", "email:pii_paul"])
    log.add([*tablet, "user_id:marie", "email:pii_marie"])
    service = synced_and_rebuilt(log)
    assert partition(service) == {
        pid("user_id:paul"): frozenset({*tablet, "user_id:paul", "email:pii_paul"}),
        pid("user_id:marie"): frozenset({"user_id:marie", "email:pii_marie"}),
    }
    conflicts = service.store.all_conflicts()  # type: ignore[attr-defined]
    assert [(c.id_key, c.profile_id, c.other_profile_id, c.rule) for c in conflicts] == [
        (k, pid("user_id:marie"), pid("user_id:paul"), "user_id limit 1") for k in sorted(tablet)
    ]
