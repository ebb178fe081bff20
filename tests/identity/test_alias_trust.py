"""Only a trusted source's alias joins two user ids (issue 11, defect 10).

An alias from an old userId to a new one merges two accounts despite the limit of one user id
per profile. Were that open to the browser's public write key, anyone could fuse their account
with someone else's, and the other's data would follow their own access request. A previousId
that is an e-mail address is kept as its pseudonym, like a userId.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import empreinte
from conftest import Keys, ServerProcess


@pytest.fixture
def http(
    workspace: Keys, start_server: Callable[[Keys], ServerProcess]
) -> Iterator[tuple[Keys, httpx.Client]]:
    (workspace.path / "empreinte.toml").write_text('[consent]\ntrusted_sources = ["app"]\n')
    server = start_server(workspace)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield workspace, client


def _send(client: httpx.Client, key: str, *messages: dict[str, object]) -> None:
    answer = client.post("/v1/batch", json={"batch": list(messages)}, auth=(key, ""))
    assert answer.status_code == 200 and "rejected" not in answer.json(), answer.text


def _profile(client: httpx.Client, keys: Keys, user_id: str) -> str:
    headers = {"Authorization": f"Bearer {keys.admin_token}"}
    found = client.get("/api/profiles", params={"userId": user_id}, headers=headers)
    assert found.status_code == 200, found.text
    profile: str = found.json()["profileId"]
    return profile


def test_the_browser_key_cannot_fuse_two_accounts(http: tuple[Keys, httpx.Client]) -> None:
    keys, client = http
    _send(
        client,
        keys.write_key,
        {"type": "identify", "userId": "victim", "traits": {"plan": "gold"}},
        {"type": "identify", "userId": "mallory", "anonymousId": "mallory-browser"},
        # analytics.js' shape of an alias from an earlier user id, forged.
        {
            "type": "alias",
            "userId": "mallory",
            "previousId": "victim",
            "anonymousId": "mallory-browser",
        },
        # and a server library's shape (no anonymousId), forged too.
        {"type": "alias", "userId": "mallory", "previousId": "victim"},
    )
    assert _profile(client, keys, "victim") != _profile(client, keys, "mallory")


def test_a_trusted_source_merges_an_old_login_into_the_new(
    http: tuple[Keys, httpx.Client],
) -> None:
    keys, client = http
    _send(
        client,
        keys.write_key,
        {"type": "identify", "userId": "old-login", "traits": {"plan": "gold"}},
        {"type": "identify", "userId": "new-login", "traits": {"plan": "gold"}},
    )
    assert _profile(client, keys, "old-login") != _profile(client, keys, "new-login")
    _send(
        client,
        keys.app_write_key,
        {"type": "alias", "userId": "new-login", "previousId": "old-login"},
    )
    assert _profile(client, keys, "old-login") == _profile(client, keys, "new-login")


def test_a_previous_id_that_is_an_email_is_stored_as_its_pseudonym(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        ws.identify("ada@example.com", traits={"plan": "gold"})
        ws.alias(previous_id="Ada@Example.com", user_id="ada-42")
        [stored] = ws.events(limit=1)
        assert stored["type"] == "alias"
        assert stored["previous_id"] == stored_user_id_of(ws, "ada@example.com")
        assert "example.com" not in str(stored).lower()
        assert ws.events(limit=1, pii=True)[0]["previous_id"] == "Ada@Example.com"
        # The alias still joins the two user ids (the Python API is a trusted source).
        assert ws.profiles.find("userId", "ada@example.com") == ws.profiles.find("userId", "ada-42")


def stored_user_id_of(ws: empreinte.Workspace, email: str) -> str:
    """What the log keeps of a userId that is `email` (the user id of its first event)."""
    [first] = ws.events(newest_first=False, limit=1)
    assert first["type"] == "identify"
    user_id: str = first["user_id"]
    assert "@" not in user_id
    return user_id
