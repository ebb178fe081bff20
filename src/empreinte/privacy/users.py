"""Dashboard users: argon2-hashed passwords, a role each, and signed session tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from empreinte.credentials import Principal, Role
from empreinte.errors import AuthError, ConfigError
from empreinte.store.privacy_store import PrivacyStore

SESSION_PREFIX = "ses_"
SESSION_SECONDS = 8 * 3600
MIN_PASSWORD = 12

_hasher = PasswordHasher()
# Verifying against this when the user does not exist costs the same time as a real check,
# so the answer's timing does not tell whether a username exists.
_DUMMY_HASH = _hasher.hash("not a real password, only a timing twin")


@dataclass(frozen=True)
class User:
    username: str
    role: Role


class Users:
    """Creates users, checks passwords, and issues and verifies session tokens."""

    def __init__(self, store: PrivacyStore, session_key: bytes):
        self._store = store
        self._key = session_key

    def create(self, username: str, password: str, role: Role | str) -> User:
        if (
            not username
            or not username.replace("-", "").replace("_", "").replace(".", "").isalnum()
        ):
            raise ConfigError("a username is letters, digits, '.', '-' or '_'")
        if len(password) < MIN_PASSWORD:
            raise ConfigError(f"a password needs at least {MIN_PASSWORD} characters")
        try:
            role = Role(role)
        except ValueError:
            raise ConfigError(f"unknown role {role!r}") from None
        if self._store.user(username) is not None:
            raise ConfigError(f"user {username!r} already exists")
        self._store.add_user(username, _hasher.hash(password), role.value)
        return User(username, role)

    def login(self, username: str, password: str) -> str:
        """A session token for a correct username and password; `AuthError` otherwise."""
        stored = self._store.user(username)
        try:
            _hasher.verify(stored[0] if stored else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            raise AuthError("wrong username or password") from None
        if stored is None:
            raise AuthError("wrong username or password")
        expires = int(time.time()) + SESSION_SECONDS
        payload = base64.urlsafe_b64encode(f"{username}:{expires}".encode()).decode().rstrip("=")
        return f"{SESSION_PREFIX}{payload}.{self._sign(payload)}"

    def principal(self, token: str) -> Principal:
        """Who a session token belongs to, if it is genuine, unexpired and the user active."""
        body = token.removeprefix(SESSION_PREFIX)
        payload, _, signature = body.partition(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise AuthError("invalid session")
        try:
            decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
            username, _, expires = decoded.rpartition(":")
            expired = int(expires) < time.time()
        except (ValueError, UnicodeDecodeError):
            raise AuthError("invalid session") from None
        if expired:
            raise AuthError("session expired; log in again")
        stored = self._store.user(username)
        if stored is None:
            raise AuthError("invalid session")
        return Principal(username, Role(stored[1]))

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()
