"""Dashboard users: argon2 hashes, logins that say nothing about who exists, session tokens."""

from __future__ import annotations

import stat

import pytest
from argon2 import PasswordHasher, extract_parameters

from empreinte.credentials import Role
from empreinte.errors import AuthError, ConfigError
from empreinte.privacy.users import KEY_FILE, SESSION_SECONDS, WRONG_LOGIN, Users
from empreinte.workspace import Workspace

PASSWORD = "correct horse battery"


def users_of(ws: Workspace) -> Users:
    return Users.for_workspace(ws.path, ws.privacy_store)


def test_passwords_are_stored_as_argon2id_hashes(ws: Workspace) -> None:
    users = users_of(ws)
    users.create("alice", PASSWORD, "analyst")
    stored = ws.privacy_store.user("alice")
    assert stored is not None
    assert stored[0].startswith("$argon2id$") and PASSWORD not in stored[0]
    assert stored[1] == "analyst"
    key = ws.path / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32


def test_bad_users_are_refused(ws: Workspace) -> None:
    users = users_of(ws)
    users.create("alice", PASSWORD, Role.ADMIN)
    for username, password, role, match in (
        ("alice", PASSWORD, "viewer", "already exists"),
        ("bob", "short", "viewer", "at least 12"),
        ("bob", PASSWORD, "root", "unknown role"),
        ("", PASSWORD, "viewer", "username"),
        ("bob smith", PASSWORD, "viewer", "username"),
        ("bob:1", PASSWORD, "viewer", "username"),
        ("b" * 65, PASSWORD, "viewer", "64"),
    ):
        with pytest.raises(ConfigError, match=match):
            users.create(username, password, role)
    assert [u.username for u in users.list()] == ["alice"]


def test_login_gives_a_session_that_carries_the_role(ws: Workspace) -> None:
    users = users_of(ws)
    users.create("alice", PASSWORD, "analyst")
    session = users.login("alice", PASSWORD)
    assert session.token.startswith("ses_") and session.role is Role.ANALYST
    principal = users.principal(session.token)
    assert (principal.name, principal.role) == ("alice", Role.ANALYST)
    # The token is signed with the workspace's key: another workspace's users refuse it.
    assert users_of(ws).principal(session.token).name == "alice"


def test_wrong_password_and_unknown_user_get_the_same_answer(ws: Workspace) -> None:
    users = users_of(ws)
    users.create("alice", PASSWORD, "viewer")
    users.create("carol", PASSWORD, "viewer")
    users.disable("carol")
    answers = set()
    for username, password in (
        ("alice", "wrong password!"),
        ("nobody", PASSWORD),
        ("carol", PASSWORD),  # disabled
        ("alice", ""),
    ):
        with pytest.raises(AuthError) as raised:
            users.login(username, password)
        answers.add(str(raised.value))
    assert answers == {WRONG_LOGIN}


def test_wrong_password_and_unknown_user_cost_the_same(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same time, counted as work rather than read off a clock that a busy machine skews:
    # every refused login runs exactly one argon2 verification with the parameters (time
    # cost, memory cost, parallelism) of a real user's hash.
    users = users_of(ws)
    users.create("alice", PASSWORD, "viewer")
    users.create("carol", PASSWORD, "viewer")
    users.disable("carol")
    checked: list[str] = []  # the hash each verification ran against
    verify = PasswordHasher.verify

    def counted(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        checked.append(hash if isinstance(hash, str) else hash.decode())
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    stored = ws.privacy_store.user("alice")
    assert stored is not None
    real = extract_parameters(stored[0])
    for username in ("alice", "nobody", "carol"):
        checked.clear()
        with pytest.raises(AuthError):
            users.login(username, "wrong password!")
        assert len(checked) == 1, username
        assert extract_parameters(checked[0]) == real, username


def test_tampered_expired_and_revoked_sessions_are_refused(ws: Workspace) -> None:
    now = [1_000_000.0]
    users = Users(ws.privacy_store, b"k" * 32, clock=lambda: now[0])
    users.create("alice", PASSWORD, "admin")
    token = users.login("alice", PASSWORD).token
    payload, _, signature = token.partition(".")
    for forged in (
        payload + "." + "0" * len(signature),
        payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature,
        token + "x",
        "ses_",
        "ses_.",
        "ses_" + "A" * 20 + "." + signature,
    ):
        with pytest.raises(AuthError):
            users.principal(forged)
    # Signed with another key: refused.
    with pytest.raises(AuthError):
        Users(ws.privacy_store, b"j" * 32).principal(token)
    now[0] += SESSION_SECONDS + 1
    with pytest.raises(AuthError, match="expired"):
        users.principal(token)
    now[0] -= 2
    assert users.principal(token).role is Role.ADMIN
    users.disable("alice")
    with pytest.raises(AuthError):
        users.principal(token)
    with pytest.raises(ConfigError):
        users.disable("alice")


def test_a_logged_out_session_is_refused_and_the_others_live_on(ws: Workspace) -> None:
    users = users_of(ws)
    users.create("bob", PASSWORD, "analyst")
    laptop, phone = users.login("bob", PASSWORD).token, users.login("bob", PASSWORD).token
    users.logout(laptop)
    with pytest.raises(AuthError, match="logged out"):
        users.principal(laptop)
    with pytest.raises(AuthError, match="logged out"):
        users_of(ws).principal(laptop)  # another process of the workspace refuses it too
    assert users.principal(phone).name == "bob"
    users.logout(laptop)  # twice: nothing more happens
    with pytest.raises(AuthError):
        users.logout("ses_forged.0000")  # only a genuine, live token can be ended
