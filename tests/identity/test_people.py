"""Merge protection for the people an identifier would join, through the real ingestion path
(Segment messages into `Workspace.ingest`, normalised, pseudonymised, resolved by the
workspace's identity service), each result checked again against a full rebuild.

Issue 11, defect 7: a family tablet fused three people known only by e-mail, and a
switchboard number given as the caller's number fused five e-mail-only callers, because the
limits (5 e-mails per profile) only looked at the profile's own counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import empreinte
from empreinte.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = empreinte.open(tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


def send(ws: Workspace, *messages: dict[str, Any]) -> None:
    report = ws.ingest(list(messages))
    assert not report.rejected, report.rejected


def on_tablet(email: str, n: int) -> dict[str, Any]:
    """A newsletter sign-up from the family tablet: no userId, the tablet's device id and
    anonymous id (one browser profile for the whole family), the person's e-mail."""
    return {
        "type": "identify",
        "messageId": f"tablet-{n}",
        "anonymousId": "tablet-browser",
        "traits": {"email": email},
        "context": {"device": {"id": "family-tablet"}},
    }


def call(email: str, n: int, caller: str = "+33 1 40 20 50 50") -> dict[str, Any]:
    """A support call logged by the call centre: the caller's e-mail, and as caller number
    the company switchboard every one of them called from."""
    return {
        "type": "track",
        "event": "Call Completed",
        "messageId": f"call-{n}",
        "anonymousId": f"crm-call-{n}",
        "channel": "phone",
        "properties": {"caller_number": caller, "duration_s": 60 + n},
        "context": {"traits": {"email": email}},
    }


def people(ws: Workspace, emails: list[str]) -> list[str | None]:
    return [ws.profiles.find("email", e) for e in emails]


def rebuilt_equals_incremental(ws: Workspace) -> None:
    service = ws.identity
    service.sync()
    store = service.store
    before = (store.all_identities(), store.all_conflicts())  # type: ignore[attr-defined]
    service.rebuild()
    assert (store.all_identities(), store.all_conflicts()) == before  # type: ignore[attr-defined]


def test_family_tablet_keeps_three_email_only_people_apart(ws: Workspace) -> None:
    family = ["mum@example.org", "dad@example.org", "kid@example.org"]
    send(ws, *(on_tablet(e, n) for n, e in enumerate(family)))
    found = people(ws, family)
    assert None not in found
    assert len(set(found)) == 3
    # The tablet stays with the first person who used it; each sign-up is its author's event.
    tablet = ws.profiles.find_key("device_id:family-tablet")
    assert tablet == found[0]
    for profile, n in zip(found, range(3), strict=True):
        assert profile is not None
        ids = [e["message_id"] for e in ws.profiles.events(profile)]
        assert ids == [f"tablet-{n}"]
    # The refused links are reported, on the tablet's identifiers, with the rule.
    later = ws.identity.conflicts(found[2] or "")
    assert {c.id_key for c in later} == {"device_id:family-tablet", "anonymous_id:tablet-browser"}
    assert {c.rule for c in later} == {
        "shared device_id: email on both sides",
        "shared anonymous_id: email on both sides",
    }
    rebuilt_equals_incremental(ws)


def test_switchboard_number_keeps_five_callers_apart(ws: Workspace) -> None:
    callers = [f"caller{n}@example.com" for n in range(5)]
    send(ws, *(call(e, n) for n, e in enumerate(callers)))
    found = people(ws, callers)
    assert None not in found
    assert len(set(found)) == 5
    switchboard = ws.profiles.key("phone", "+33 1 40 20 50 50")
    assert ws.identity.profile_of(switchboard) == found[0]
    refused = [c for p in found[1:] for c in ws.identity.conflicts(p or "")]
    assert (
        sorted((c.id_key, c.rule) for c in refused)
        == [(switchboard, "shared phone: email on both sides")] * 4
    )
    rebuilt_equals_incremental(ws)


def test_one_person_one_email_one_phone_two_devices_still_merges(ws: Workspace) -> None:
    email, phone = "ada@example.com", "+33 6 12 34 56 78"
    send(
        ws,
        {  # signs up on her laptop
            "type": "identify",
            "anonymousId": "laptop-browser",
            "traits": {"email": email},
            "context": {"device": {"id": "laptop"}},
        },
        {  # answers an SMS survey on her phone: the phone number and the phone's device id
            "type": "track",
            "event": "Survey Answered",
            "anonymousId": "phone-app",
            "properties": {"score": 9},
            "context": {"traits": {"phone": phone}, "device": {"id": "phone"}},
        },
        {  # browses on her phone, not logged in
            "type": "page",
            "anonymousId": "phone-app",
            "context": {"device": {"id": "phone"}},
        },
        {  # gives her phone number in her account, on the laptop
            "type": "identify",
            "anonymousId": "laptop-browser",
            "traits": {"email": email, "phone": phone},
            "context": {"device": {"id": "laptop"}},
        },
    )
    profile = ws.profiles.find("email", email)
    assert profile is not None
    assert ws.profiles.find("phone", phone) == profile
    assert ws.profiles.find_key("device_id:laptop") == profile
    assert ws.profiles.find_key("device_id:phone") == profile
    assert ws.profiles.find_key("anonymous_id:phone-app") == profile
    assert len(ws.profiles.events(profile)) == 4
    assert ws.identity.conflicts(profile) == []
    rebuilt_equals_incremental(ws)


def test_a_shared_address_still_joins_through_a_person_level_identifier(ws: Workspace) -> None:
    """The protection is for links through shared kinds: the same e-mail, carried by two
    events, still joins them (a person-level identifier names one person)."""
    send(
        ws,
        {"type": "identify", "anonymousId": "home", "traits": {"email": "eve@example.com"}},
        {
            "type": "identify",
            "anonymousId": "work",
            "traits": {"email": "eve@example.com", "phone": "+33 6 99 88 77 66"},
        },
        {"type": "identify", "anonymousId": "home", "traits": {"email": "eve.b@example.com"}},
    )
    eve = ws.profiles.find("email", "eve@example.com")
    assert ws.profiles.find_key("anonymous_id:work") == eve
    # A second address met only through the home browser id is another e-mail holder: it is
    # kept apart (the cost of protecting families; one event carrying both would join them).
    other = ws.profiles.find("email", "eve.b@example.com")
    assert other is not None and other != eve
    send(
        ws,
        {
            "type": "identify",
            "anonymousId": "home",
            "traits": {"email": "eve.b@example.com"},
            "context": {"externalIds": [{"type": "email", "id": "eve@example.com"}]},
        },
    )
    assert ws.profiles.find("email", "eve.b@example.com") == ws.profiles.current(eve or "")
    rebuilt_equals_incremental(ws)


# -- alias (issue 11, defect 10): previousId was always read as an anonymous id ------------


def test_alias_from_an_old_user_id_merges_the_two_logins(ws: Workspace) -> None:
    ws.identify("old-login", traits={"plan": "gold"})
    ws.track("Order Completed", user_id="old-login", properties={"total": 10})
    ws.identify("new-login", traits={"plan": "gold"})
    ws.track("Order Completed", user_id="new-login", properties={"total": 20})
    old, new = ws.profiles.find("userId", "old-login"), ws.profiles.find("userId", "new-login")
    assert old is not None and new is not None and old != new
    ws.alias(previous_id="old-login", user_id="new-login")
    merged = ws.profiles.find("userId", "new-login")
    assert ws.profiles.find("userId", "old-login") == merged
    assert ws.profiles.current(old) == ws.profiles.current(new) == merged
    assert merged is not None
    keys = {r.id_key for r in ws.identity.identifiers(merged)}
    assert {k for k in keys if k.startswith("user_id:")} == {
        "user_id:new-login",
        "user_id:old-login",
    }
    assert len(ws.profiles.events(merged)) == 5
    assert ws.identity.conflicts(merged) == []
    # The alias joined two user ids; a third, through a shared device, is still refused.
    ws.identify("someone-else", context={"device": {"id": "tv"}})
    ws.track("Video Watched", user_id="new-login", context={"device": {"id": "tv"}})
    assert ws.profiles.find("userId", "someone-else") != ws.profiles.find("userId", "new-login")
    rebuilt_equals_incremental(ws)


def test_alias_typing_follows_the_message(ws: Workspace) -> None:
    send(
        ws,
        # analytics.js: the browser's anonymousId, and as previousId the user id it knew.
        {"type": "identify", "userId": "u-old", "anonymousId": "browser"},
        {"type": "identify", "userId": "u-new", "anonymousId": "phone"},
        {"type": "alias", "userId": "u-new", "previousId": "u-old", "anonymousId": "phone"},
        # analytics.js before any login: previousId is the anonymousId.
        {"type": "page", "anonymousId": "visitor"},
        {"type": "alias", "userId": "v", "previousId": "visitor", "anonymousId": "visitor"},
        # A server library (no anonymousId) aliasing an anonymous visitor still links it.
        {"type": "page", "anonymousId": "server-visitor"},
        {"type": "alias", "userId": "w", "previousId": "server-visitor"},
        # An earlier userId that is an e-mail address is kept as its pseudonym: still found.
        {"type": "identify", "userId": "ada@example.com"},
        {"type": "alias", "userId": "ada-42", "previousId": "ada@example.com"},
    )
    find = ws.profiles.find
    assert find("userId", "u-old") == find("userId", "u-new") == find("anonymousId", "browser")
    assert find("userId", "u-new") is not None
    assert find("userId", "v") == find("anonymousId", "visitor") is not None
    assert find("userId", "w") == find("anonymousId", "server-visitor") is not None
    assert find("userId", "ada@example.com") == find("userId", "ada-42") is not None
    # analytics.js' alias of a user id does not invent an anonymous id of that value.
    assert find("anonymousId", "u-old") is None
    rebuilt_equals_incremental(ws)


# -- cut (issue 11, defect 10): restoring the people a wrong merge joined ---------------------


def test_cut_gives_back_the_two_people_with_their_events(ws: Workspace) -> None:
    tablet = {"device": {"id": "tablet"}}
    send(
        ws,
        {"type": "identify", "messageId": "a1", "userId": "alice", "context": tablet},
        # Alice on the tablet, not logged in: only the tablet ties this visit to her.
        {"type": "page", "messageId": "a2", "anonymousId": "tablet-guest", "context": tablet},
        # Bob, known by his e-mail only: a user id and an e-mail are different person-level
        # types, so the tablet joins him to Alice (the wrong merge).
        {
            "type": "identify",
            "messageId": "b1",
            "anonymousId": "bob-phone",
            "traits": {"email": "bob@example.com"},
            "context": tablet,
        },
        {"type": "track", "messageId": "b2", "event": "Viewed", "anonymousId": "bob-phone"},
    )
    merged = ws.profiles.find("userId", "alice")
    assert merged is not None and ws.profiles.find("email", "bob@example.com") == merged
    ws.identity.cut("device_id:tablet", merged, "ops", "family tablet")
    alice = ws.profiles.find("userId", "alice")
    bob = ws.profiles.find("email", "bob@example.com")
    assert alice == merged and bob is not None and bob != alice
    ids = {r.id_key for r in ws.identity.identifiers(alice)}
    assert ids == {"user_id:alice", "device_id:tablet", "anonymous_id:tablet-guest"}
    assert {r.id_key for r in ws.identity.identifiers(bob)} == {
        ws.profiles.key("email", "bob@example.com"),
        "anonymous_id:bob-phone",
    }
    assert [e["message_id"] for e in ws.profiles.events(alice)] == ["a1", "a2"]
    assert [e["message_id"] for e in ws.profiles.events(bob)] == ["b1", "b2"]
    assert [c.rule for c in ws.identity.conflicts(bob)] == ["cut: people on both sides"]
    rebuilt_equals_incremental(ws)
