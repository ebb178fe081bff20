"""Dashboard users: argon2id-hashed passwords, a role each, and signed, expiring session tokens.

- A password is hashed with argon2id (argon2-cffi's defaults: 3 passes over 64 MiB) and never
  stored or logged in clear.
- `login` answers a wrong password and an unknown (or disabled) user with the same error in
  the same time: an unknown user is checked against a dummy hash of the same cost.
- A session token is `ses_` + base64(username, expiry, nonce) + `.` + HMAC-SHA-256 of that,
  keyed with `session.key` in the workspace directory (created on first use, owner-only, like
  the pseudonymisation key). Checking it reads the user's current role at each request, so
  that disabling a user or changing a role takes effect at once, and the table of sessions
  ended by a logout (`logout`: the token's digest, kept until it would have expired), so that
  a token copied before a logout is refused after it. Signatures are compared in constant
  time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from empreinte.credentials import Principal, Role
from empreinte.errors import AuthError, ConfigError
from empreinte.store.privacy_store import PrivacyStore, StoredUser

SESSION_PREFIX = "ses_"
SESSION_SECONDS = 8 * 3600
MIN_PASSWORD = 12
KEY_FILE = "session.key"
WRONG_LOGIN = "wrong username or password"

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verifying against this when the user does not exist costs the same time as a real
    check, so the answer's timing does not tell whether a username exists. Made when the
    first `Users` is (about 0.1 s), not at import: most commands never log anyone in."""
    return _hasher.hash(secrets.token_urlsafe(24))


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    created_at: datetime | None = None
    disabled_at: datetime | None = None


@dataclass(frozen=True)
class Session:
    """What a successful login gives: the token (shown once) and when it expires."""

    token: str
    username: str
    role: Role
    expires_at: datetime


def session_key(directory: Path) -> bytes:
    """The workspace's session-signing key, created on first use with owner-only permissions."""
    path = directory / KEY_FILE
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()  # another process made it first
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
            handle.flush()
            os.fsync(handle.fileno())
    return path.read_bytes()


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ConfigError(
            f"unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}"
        ) from None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class Users:
    """Creates users, checks passwords, and issues and verifies session tokens."""

    def __init__(
        self,
        store: PrivacyStore,
        session_key: bytes,
        *,
        clock: Callable[[], float] = time.time,
    ):
        if len(session_key) < 32:
            raise ValueError("a session key needs at least 32 bytes")
        self._store = store
        self._key = session_key
        self._clock = clock
        _dummy_hash()  # now, so that the first unknown user's login is not the fast one

    @classmethod
    def for_workspace(cls, directory: Path, store: PrivacyStore) -> Users:
        return cls(store, session_key(directory))

    # -- managing users -------------------------------------------------------------------

    def create(self, username: str, password: str, role: Role | str) -> User:
        """A new active user. `ConfigError` says what is wrong with the input."""
        plain = username.replace("-", "").replace("_", "").replace(".", "")
        if not username or not plain.isalnum() or not plain.isascii():
            raise ConfigError("a username is letters, digits, '.', '-' or '_', and not empty")
        if len(username) > 64:
            raise ConfigError("a username has at most 64 characters")
        if len(password) < MIN_PASSWORD:
            raise ConfigError(f"a password needs at least {MIN_PASSWORD} characters")
        checked = _role(role)
        self._store.add_user(username, _hasher.hash(password), checked.value)
        return User(username, checked)

    def list(self) -> list[User]:
        return [_user(u) for u in self._store.users()]

    def disable(self, username: str) -> None:
        """Disable a user: their sessions stop working at once. `ConfigError` if unknown."""
        if not self._store.disable_user(username):
            raise ConfigError(f"no active user {username!r}")

    # -- sessions -------------------------------------------------------------------------

    def login(self, username: str, password: str) -> Session:
        """A session for a correct username and password; `AuthError` otherwise, the same
        error in the same time whether the user is unknown or the password wrong."""
        stored = self._store.user(username) if isinstance(username, str) else None
        try:
            _hasher.verify(stored[0] if stored else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            raise AuthError(WRONG_LOGIN) from None
        if stored is None:
            raise AuthError(WRONG_LOGIN)
        expires = int(self._clock()) + SESSION_SECONDS
        payload = _b64(f"{username}:{expires}:{secrets.token_hex(8)}".encode())
        return Session(
            f"{SESSION_PREFIX}{payload}.{self._sign(payload)}",
            username,
            Role(stored[1]),
            datetime.fromtimestamp(expires, UTC),
        )

    def principal(self, token: str) -> Principal:
        """Who a session token belongs to, if it is genuine, unexpired, not logged out, and
        the user active."""
        username, _ = self._genuine(token)
        if self._store.session_ended(_token_hash(token)):
            raise AuthError("this session was logged out; log in again")
        stored = self._store.user(username)
        if stored is None:
            raise AuthError("invalid session token")
        return Principal(username, Role(stored[1]))

    def logout(self, token: str) -> None:
        """End a session before its expiry: its token is refused from now on, by every
        process that reads this workspace. `AuthError` for a token that is not a live one."""
        _, expires = self._genuine(token)
        self._store.end_session(_token_hash(token), expires)

    def _genuine(self, token: str) -> tuple[str, datetime]:
        """(username, expiry) of a token this workspace signed and that has not expired."""
        payload, _, signature = token.removeprefix(SESSION_PREFIX).partition(".")
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            raise AuthError("invalid session token")
        try:
            decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
            username, expires, _nonce = decoded.rsplit(":", 2)
            expiry = int(expires)
        except ValueError:  # UnicodeDecodeError and binascii.Error are ValueErrors
            raise AuthError("invalid session token") from None
        if expiry < self._clock():
            raise AuthError("session expired; log in again")
        return username, datetime.fromtimestamp(expiry, UTC)

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(stored: StoredUser) -> User:
    return User(stored.username, Role(stored.role), stored.created_at, stored.disabled_at)
