"""The consent ledger: silence is no, the latest decisive entry wins across a merged profile,
revocation wins at once, marketing e-mail needs double opt-in, and the bulk form agrees."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from empreinte.errors import ConfigError, ConsentError, PrivacyError
from empreinte.privacy import consent, erasure
from empreinte.privacy.consent import PURPOSES, ConsentPolicy, Status, allowed, allowed_profiles
from empreinte.workspace import Workspace

from .conftest import TRUSTED, consent_event, send


def profile(ws: Workspace, user_id: str) -> str:
    found = ws.profiles.find("userId", user_id)
    assert found is not None
    return found


def test_silence_is_no_for_every_purpose(ws: Workspace) -> None:
    ws.identify("u1", traits={"email": "a@example.com"})
    pid = profile(ws, "u1")
    ledger = consent.ledger(ws, pid)
    for purpose in PURPOSES:
        assert ledger.states[purpose].status is Status.NOT_GIVEN
        assert not allowed(ws, pid, purpose)
    assert allowed_profiles(ws, "analytics") == frozenset()


def test_unknown_profile_allows_nothing_and_unknown_purpose_is_an_error(ws: Workspace) -> None:
    assert allowed(ws, "p_0000000000000000", "analytics") is False
    with pytest.raises(ConsentError) as raised:
        allowed(ws, "p_0000000000000000", "newsletter")
    assert raised.value.field == "purpose"


def test_defaults_for_non_marketing_purposes_are_configurable() -> None:
    policy = ConsentPolicy.from_mapping({"defaults": {"analytics": True, "profiling": False}})
    assert policy.default("analytics") and not policy.default("profiling")
    assert not policy.default("personalisation")
    for purpose in ("marketing_email", "marketing_sms"):
        with pytest.raises(ConfigError, match="opt-in only"):
            ConsentPolicy.from_mapping({"defaults": {purpose: True}})
    with pytest.raises(ConfigError, match="unknown purpose"):
        ConsentPolicy.from_mapping({"defaults": {"newsletter": True}})
    with pytest.raises(ConfigError, match="true or false"):
        ConsentPolicy.from_mapping({"defaults": {"analytics": "yes"}})
    with pytest.raises(ConfigError, match="unknown setting"):
        ConsentPolicy.from_mapping({"default": {}})


def test_a_default_yes_still_yields_to_a_revocation(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = ConsentPolicy({"analytics": True})
    monkeypatch.setattr(consent, "policy_of", lambda _ws: policy)
    send(ws, {"type": "identify", "userId": "u1"}, {"type": "identify", "userId": "u2"})
    send(ws, consent_event("analytics", False, 1, userId="u2"))
    u1, u2 = profile(ws, "u1"), profile(ws, "u2")
    assert consent.ledger(ws, u1).states["analytics"].status is Status.DEFAULT
    assert allowed(ws, u1, "analytics") and not allowed(ws, u2, "analytics")
    assert allowed_profiles(ws, "analytics") == {u1}
    assert not allowed(ws, u1, "marketing_sms")


def test_latest_entry_wins_by_event_time_and_revocation_wins_a_tie(ws: Workspace) -> None:
    send(
        ws,
        consent_event("analytics", True, 1, userId="u1"),
        consent_event("analytics", False, 2, userId="u1", wording="v2", source="app-settings"),
        # An import of an older paper form, arriving last, does not override the later choice.
        consent_event("analytics", True, 0.5, userId="u1", source="store-form"),
        # At the very same instant, a grant and a revocation: the revocation wins.
        consent_event("profiling", True, 3, userId="u1"),
        consent_event("profiling", False, 3, userId="u1"),
        consent_event("marketing_sms", True, 4, userId="u1", source="checkout"),
    )
    pid = profile(ws, "u1")
    ledger = consent.ledger(ws, pid)
    state = ledger.states["analytics"]
    assert state.status is Status.REVOKED and not state.allowed
    assert state.decided_by is not None
    assert (state.decided_by.wording_version, state.decided_by.source) == ("v2", "app-settings")
    assert ledger.states["profiling"].status is Status.REVOKED
    sms = ledger.states["marketing_sms"]
    assert sms.allowed and sms.decided_by is not None and sms.decided_by.source == "checkout"
    assert [e.purpose for e in ledger.entries] == [
        "analytics",
        "analytics",
        "analytics",
        "profiling",
        "profiling",
        "marketing_sms",
    ]
    # An entry without a `source` property takes the source that sent the event.
    assert ledger.entries[0].source == TRUSTED


def test_revocation_takes_effect_immediately(ws: Workspace) -> None:
    send(ws, {"type": "identify", "userId": "u1"})
    pid = profile(ws, "u1")
    consent.record(ws, purpose="personalisation", granted=True, wording_version="v1", user_id="u1")
    assert allowed(ws, pid, "personalisation")
    assert pid in allowed_profiles(ws, "personalisation")
    consent.record(ws, purpose="personalisation", granted=False, wording_version="v1", user_id="u1")
    assert not allowed(ws, pid, "personalisation")
    assert pid not in allowed_profiles(ws, "personalisation")


def test_entries_on_every_identifier_of_a_merged_profile_count(ws: Workspace) -> None:
    # A cookie banner answered anonymously, then a revocation by e-mail from the newsletter
    # footer, then the person logs in: one profile, one ledger.
    send(
        ws,
        consent_event("analytics", True, 1, anonymousId="browser-1"),
        consent_event("personalisation", True, 1, anonymousId="browser-1"),
        consent_event(
            "personalisation",
            False,
            2,
            anonymousId="newsletter-footer-77",
            context={"traits": {"email": " Jane@Example.COM "}},
        ),
        {
            "type": "identify",
            "userId": "jane",
            "anonymousId": "browser-1",
            "traits": {"email": "jane@example.com"},
            "timestamp": "2025-01-01T15:00:00+00:00",
        },
    )
    pid = profile(ws, "jane")
    assert allowed(ws, pid, "analytics")
    assert not allowed(ws, pid, "personalisation")
    assert len(consent.ledger(ws, pid).entries) == 3


def test_one_persons_consent_on_a_shared_device_is_not_anothers(ws: Workspace) -> None:
    # Paul and Marie log in on the family tablet; merge protection keeps them apart, the
    # tablet's anonymous id staying with Paul. Marie's yes must not become Paul's.
    send(
        ws,
        {"type": "identify", "userId": "paul", "anonymousId": "tablet"},
        {"type": "identify", "userId": "marie", "anonymousId": "tablet"},
        consent_event("marketing_sms", True, 1, userId="marie", anonymousId="tablet"),
    )
    paul, marie = profile(ws, "paul"), profile(ws, "marie")
    assert paul != marie
    assert allowed(ws, marie, "marketing_sms")
    assert not allowed(ws, paul, "marketing_sms")
    assert allowed_profiles(ws, "marketing_sms") == {marie}


def test_double_opt_in_for_marketing_email(ws: Workspace) -> None:
    send(ws, {"type": "identify", "userId": "u1", "traits": {"email": "u1@example.com"}})
    pid = profile(ws, "u1")
    pending = consent.record(
        ws, purpose="marketing_email", granted=True, wording_version="nl-3", user_id="u1"
    )
    assert pending.status is Status.PENDING and pending.token and pending.token.startswith("cnf_")
    state = consent.ledger(ws, pid).states["marketing_email"]
    assert state.status is Status.PENDING and not state.allowed
    assert pid not in allowed_profiles(ws, "marketing_email")
    # Only the token's hash is in the log.
    [stored] = ws.events(event="Consent Updated")
    assert pending.token not in str(stored)
    assert stored["properties"]["token_hash"] == hashlib.sha256(pending.token.encode()).hexdigest()

    with pytest.raises(ConsentError, match="unknown"):
        consent.confirm(ws, "cnf_" + "x" * 43)
    with pytest.raises(ConsentError, match="unknown"):
        consent.confirm(ws, "not a token")
    confirmed = consent.confirm(ws, pending.token)
    assert confirmed.status is Status.GRANTED
    assert allowed(ws, pid, "marketing_email")
    assert allowed_profiles(ws, "marketing_email") == {pid}
    entry = consent.ledger(ws, pid).states["marketing_email"].decided_by
    assert entry is not None and entry.wording_version == "nl-3"
    assert entry.confirmation == "confirmed"
    with pytest.raises(ConsentError, match="already used"):
        consent.confirm(ws, pending.token)

    # Ticking the box again while subscribed does not unsubscribe until confirmed.
    again = consent.record(
        ws, purpose="marketing_email", granted=True, wording_version="nl-4", user_id="u1"
    )
    assert again.token is not None
    assert allowed(ws, pid, "marketing_email")
    assert consent.ledger(ws, pid).states["marketing_email"].status is Status.GRANTED


def test_a_confirmation_after_a_revocation_is_refused(ws: Workspace) -> None:
    send(ws, {"type": "identify", "userId": "u1"})
    pid = profile(ws, "u1")
    pending = consent.record(
        ws, purpose="marketing_email", granted=True, wording_version="v1", user_id="u1"
    )
    consent.record(ws, purpose="marketing_email", granted=False, wording_version="v1", user_id="u1")
    assert pending.token is not None
    with pytest.raises(ConsentError, match="withdrawn"):
        consent.confirm(ws, pending.token)
    assert not allowed(ws, pid, "marketing_email")


def test_an_expired_confirmation_is_refused(ws: Workspace) -> None:
    # A pending grant the server wrote (source "api") a day more than the validity ago.
    token = "cnf_" + "t" * 43
    old = datetime.now(UTC) - timedelta(days=consent.CONFIRMATION_DAYS + 1)
    message = consent_event("marketing_email", True, 0, userId="u1", confirmation="pending")
    message["timestamp"] = old.isoformat()
    message["properties"]["token_hash"] = consent.token_hash(token)
    send(ws, message, source=consent.API_SOURCE)
    with pytest.raises(ConsentError, match="expired"):
        consent.confirm(ws, token)


def test_sources_doing_their_own_double_opt_in_send_confirmed(ws: Workspace) -> None:
    send(
        ws,
        consent_event("marketing_email", True, 1, userId="plain"),
        consent_event("marketing_email", True, 1, userId="pending", confirmation="pending"),
        consent_event("marketing_email", True, 1, userId="esp", confirmation="confirmed"),
        # Double opt-in is for e-mail only: an SMS grant counts at once.
        consent_event("marketing_sms", True, 1, userId="plain"),
    )
    plain, pending, esp = (profile(ws, u) for u in ("plain", "pending", "esp"))
    assert consent.ledger(ws, plain).states["marketing_email"].status is Status.PENDING
    assert not allowed(ws, plain, "marketing_email") and allowed(ws, plain, "marketing_sms")
    assert not allowed(ws, pending, "marketing_email")
    assert allowed(ws, esp, "marketing_email")
    assert allowed_profiles(ws, "marketing_email") == {esp}


def test_malformed_entries_are_ignored_and_shown_as_such(ws: Workspace) -> None:
    send(
        ws,
        consent_event("analytics", "yes", 1, userId="u1"),
        consent_event("newsletter", True, 1, userId="u1"),
        consent_event("analytics", 1, 1, userId="u1"),
    )
    pid = profile(ws, "u1")
    ledger = consent.ledger(ws, pid)
    assert not ledger.allowed("analytics")
    assert pid not in allowed_profiles(ws, "analytics")
    reasons = [e.problem for e in ledger.entries]
    assert all(reasons) and len(reasons) == 3
    assert "ignored" in ledger.to_json()["history"][0]


def test_record_refuses_bad_input_naming_the_field(ws: Workspace) -> None:
    def field_of(**kwargs: Any) -> str | None:
        args: dict[str, Any] = {
            "purpose": "analytics",
            "granted": True,
            "wording_version": "v1",
            "user_id": "u1",
        }
        with pytest.raises(PrivacyError) as raised:
            consent.record(ws, **{**args, **kwargs})
        return raised.value.field

    assert field_of(purpose="newsletter") == "purpose"
    assert field_of(granted="yes") == "granted"
    assert field_of(wording_version="") == "wordingVersion"
    assert field_of(wording_version="x" * 201) == "wordingVersion"
    assert field_of(user_id=None) == "userId"
    assert field_of(email="not-an-email") == "email"
    assert field_of(phone="12") == "phone"
    assert field_of(profile_id="p_1", user_id=None, anonymous_id="a") == "profileId"
    assert ws.count() == 0


def test_record_by_profile_id_and_for_an_erased_person(ws: Workspace) -> None:
    send(ws, {"type": "identify", "userId": "u1", "anonymousId": "a1"})
    pid = profile(ws, "u1")
    consent.record(ws, purpose="profiling", granted=True, wording_version="v1", profile_id=pid)
    [entry] = ws.events(event="Consent Updated")
    assert entry["user_id"] == "u1" and entry["source"] == "api"
    assert allowed(ws, pid, "profiling")
    erasure.erase(ws, pid, "test")
    with pytest.raises(PrivacyError, match="erased"):
        consent.record(ws, purpose="profiling", granted=True, wording_version="v1", user_id="u1")
    assert ws.count(event="Consent Updated") == 0


def test_bulk_and_single_answers_agree_on_random_histories(ws: Workspace) -> None:
    """The engine's bulk rule and the ledger's agree, over entries from trusted and untrusted
    sources, in several batches (arrival times), with dates in the past and the future."""
    rng = random.Random(4)
    batches: list[tuple[str, list[dict[str, Any]]]] = []
    for person in range(40):
        ids: dict[str, Any] = {"userId": f"user-{person}"}
        people: list[dict[str, Any]] = [{"type": "identify", "userId": f"user-{person}"}]
        if rng.random() < 0.5:
            ids = {"anonymousId": f"anon-{person}"}
            people.append(
                {
                    "type": "alias",
                    "previousId": f"anon-{person}",
                    "userId": f"user-{person}",
                }
            )
        batches.append((TRUSTED, people))
        for _ in range(rng.randrange(0, 6)):
            entry = consent_event(
                rng.choice(PURPOSES),
                rng.random() < 0.6,
                rng.choice([0, 1, 2, 3, 4, 24 * 365 * 80]),  # many share an instant; some in 2105
                confirmation=rng.choice([None, "pending", "confirmed"]),
                **ids,
            )
            source = rng.choice([TRUSTED, "web"])
            if batches[-1][0] == source and rng.random() < 0.5:
                batches[-1][1].append(entry)  # arrives with the entries before it
            else:
                batches.append((source, [entry]))
    for source, messages in batches:
        send(ws, *messages, source=source)
    pids = {profile(ws, f"user-{p}") for p in range(40)}
    for purpose in PURPOSES:
        bulk = allowed_profiles(ws, purpose)
        single = {p for p in pids if allowed(ws, p, purpose)}
        assert bulk == single, purpose
    assert any(allowed_profiles(ws, p) for p in PURPOSES)
