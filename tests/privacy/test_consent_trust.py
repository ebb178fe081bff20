"""Consent that a public write key cannot forge, tried as an attacker would: over HTTP, with
the browser's write key (source "web", untrusted), against the real server.

The workspace trusts one more source, "app" (`[consent] trusted_sources`): its grants of
marketing count. docs/privacy.md states the threat model these tests hold.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from conftest import Keys, ServerProcess
from empreinte.credentials import Credentials
from empreinte.errors import InvalidInput


@pytest.fixture
def attacked(
    workspace: Keys, start_server: Callable[[Keys], ServerProcess]
) -> Iterator[tuple[Keys, ServerProcess, httpx.Client]]:
    (workspace.path / "empreinte.toml").write_text('[consent]\ntrusted_sources = ["app"]\n')
    server = start_server(workspace)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield workspace, server, http


def _consent(user_id: str, purpose: str, granted: bool, **extra: Any) -> dict[str, Any]:
    properties = {"purpose": purpose, "granted": granted, "wording_version": "v1"}
    return {
        "userId": user_id,
        "event": "Consent Updated",
        "messageId": str(uuid.uuid4()),
        "properties": properties | extra.pop("properties", {}),
        **extra,
    }


def _send(http: httpx.Client, key: str, *messages: dict[str, Any]) -> None:
    batch = [{"type": "track", **m} for m in messages]
    answer = http.post("/v1/batch", json={"batch": batch}, auth=(key, ""))
    assert answer.status_code == 200, answer.text


def _admin(keys: Keys) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys.admin_token}"}


def _ledger(http: httpx.Client, keys: Keys, user_id: str) -> dict[str, Any]:
    found = http.get("/api/profiles", params={"userId": user_id}, headers=_admin(keys))
    assert found.status_code == 200, found.text
    answer = http.get(f"/api/profiles/{found.json()['profileId']}/consent", headers=_admin(keys))
    assert answer.status_code == 200, answer.text
    ledger: dict[str, Any] = answer.json()
    return ledger


def _record(http: httpx.Client, keys: Keys, user_id: str, purpose: str, granted: bool) -> None:
    body = {"userId": user_id, "purpose": purpose, "granted": granted, "wordingVersion": "v1"}
    answer = http.post("/api/consent", json=body, headers=_admin(keys))
    assert answer.status_code == 201, answer.text


def test_a_write_key_cannot_grant_marketing_nor_confirm_it(
    attacked: tuple[Keys, ServerProcess, httpx.Client],
) -> None:
    keys, _, http = attacked
    _send(
        http,
        keys.write_key,
        _consent("victim", "marketing_email", True, properties={"confirmation": "confirmed"}),
        _consent("victim", "marketing_sms", True),
    )
    ledger = _ledger(http, keys, "victim")
    for purpose in ("marketing_email", "marketing_sms"):
        assert ledger["purposes"][purpose]["allowed"] is False, purpose
        assert ledger["purposes"][purpose]["status"] == "not_given", purpose
    # The history keeps both entries, says who sent them and why they do not count.
    assert [e["sentBy"] for e in ledger["history"]] == ["web", "web"]
    assert all(e["trusted"] is False for e in ledger["history"])
    assert all("not trusted" in e["ignored"] for e in ledger["history"])


def test_a_grant_dated_2099_does_not_outlive_a_later_withdrawal(
    attacked: tuple[Keys, ServerProcess, httpx.Client],
) -> None:
    keys, _, http = attacked
    future = {"timestamp": "2099-01-01T00:00:00Z"}
    _send(http, keys.write_key, _consent("victim", "analytics", True, **future))
    assert _ledger(http, keys, "victim")["purposes"]["analytics"]["allowed"] is True
    _record(http, keys, "victim", "analytics", False)  # the person asked the service desk
    after = _ledger(http, keys, "victim")["purposes"]["analytics"]
    assert (after["allowed"], after["status"]) == (False, "revoked")

    # A marketing grant the server recorded: a browser may withdraw it (anyone may say no)…
    _record(http, keys, "victim", "marketing_sms", True)
    assert _ledger(http, keys, "victim")["purposes"]["marketing_sms"]["allowed"] is True
    _send(http, keys.write_key, _consent("victim", "marketing_sms", False))
    # …but not give it back, dated in the future or not.
    _send(http, keys.write_key, _consent("victim", "marketing_sms", True, **future))
    sms = _ledger(http, keys, "victim")["purposes"]["marketing_sms"]
    assert (sms["allowed"], sms["status"]) == (False, "revoked")


def test_a_token_hash_chosen_by_the_client_confirms_nothing(
    attacked: tuple[Keys, ServerProcess, httpx.Client],
) -> None:
    keys, _, http = attacked
    token = "cnf_" + "a" * 43
    digest = hashlib.sha256(token.encode()).hexdigest()
    pending = {"confirmation": "pending", "token_hash": digest}
    _send(http, keys.write_key, _consent("victim", "marketing_email", True, properties=pending))
    answer = http.post("/api/consent/confirm", json={"token": token})
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"].endswith("unknown confirmation token")
    assert _ledger(http, keys, "victim")["purposes"]["marketing_email"]["allowed"] is False


def test_a_trusted_source_grants_marketing_and_the_history_says_who_said_what(
    attacked: tuple[Keys, ServerProcess, httpx.Client],
) -> None:
    keys, _, http = attacked
    _send(http, keys.app_write_key, _consent("member", "marketing_sms", True))
    _record(http, keys, "member", "profiling", True)
    ledger = _ledger(http, keys, "member")
    assert ledger["purposes"]["marketing_sms"]["allowed"] is True
    by_purpose = {e["purpose"]: e for e in ledger["history"]}
    assert (by_purpose["marketing_sms"]["sentBy"], by_purpose["marketing_sms"]["trusted"]) == (
        "app",
        True,
    )
    server_entry = by_purpose["profiling"]
    assert (server_entry["sentBy"], server_entry["recordedBy"]) == ("api", "ops")
    assert "recordedBy" not in by_purpose["marketing_sms"]
    # A sender cannot claim to be a person of the team: recorded_by counts from the server only.
    _send(
        http,
        keys.write_key,
        _consent("member", "analytics", True, properties={"recorded_by": "ops"}),
    )
    history = _ledger(http, keys, "member")["history"]
    assert "recordedBy" not in next(e for e in history if e["purpose"] == "analytics")


def test_no_write_key_can_be_made_for_the_workspace_s_own_sources(workspace: Keys) -> None:
    import empreinte

    with empreinte.open(workspace.path) as ws:
        credentials: Credentials = ws.credentials
        for source in ("api", "python"):
            with pytest.raises(InvalidInput, match=r"is empreinte.s own"):
                credentials.create_write_key(source)
