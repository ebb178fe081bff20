"""Write keys and API tokens: made here, stored hashed, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from empreinte.errors import AuthError, InvalidInput, NotFound
from empreinte.store.engine import Engine
from empreinte.store.records import ApiToken, SourceKey

#: Sources only code holding the workspace writes to: the Python API and the server's own
#: consent endpoints. No write key can be made for them, so nobody calling the collector can
#: pose as them; the consent ledger trusts them (docs/privacy.md, the threat model).
PYTHON_SOURCE = "python"
SERVER_SOURCE = "api"
INTERNAL_SOURCES = frozenset({PYTHON_SOURCE, SERVER_SOURCE})


class Role(StrEnum):
    """What an API token or a dashboard user may do (see DESIGN.md, Security)."""

    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"


@dataclass(frozen=True)
class Principal:
    """Who is calling the read API."""

    name: str
    role: Role


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_digest(secret: str) -> str:
    """The digest a key or token is stored as (what lists and revocations name it by)."""
    return _digest(secret)


#: The longest source name: it is shown in lists and stored on every event.
MAX_SOURCE_NAME = 64


def check_source_name(source: str) -> None:
    """`InvalidInput` naming `source` unless it is 1 to 64 ASCII letters, digits, '-' or '_'
    and not one of empreinte's own sources."""
    plain = source.replace("-", "").replace("_", "")
    if not source or len(source) > MAX_SOURCE_NAME or not (plain.isascii() and plain.isalnum()):
        shown = source if len(source) <= MAX_SOURCE_NAME else source[:MAX_SOURCE_NAME] + "…"
        raise InvalidInput(
            "source",
            f"{shown!r} is not a source name: 1 to {MAX_SOURCE_NAME} letters, digits, '-' or '_'",
        )
    if source in INTERNAL_SOURCES:
        raise InvalidInput(
            "source",
            f"{source!r} is empreinte's own (the Python API and the server's consent "
            "endpoints write to it): choose another name",
        )


@dataclass(frozen=True)
class CopiedCredentials:
    """What `Credentials.copy_from` changed."""

    write_keys: int  # added
    revoked: int  # write keys revoked here because the other workspace revoked them
    api_tokens: int  # added


class Credentials:
    """A workspace's write keys and API tokens, cached in memory and kept in the engine.

    Secrets are random 192/256-bit strings, so a plain SHA-256 is the right hash (a slow
    password hash would only slow every request). Lookups compare digests with
    `hmac.compare_digest`, so the time taken says nothing about how close a guess was.
    """

    def __init__(self, engine: Engine):
        self._engine = engine
        self._lock = threading.Lock()
        self._reload()

    def _reload(self) -> None:
        with self._lock:
            self._write_keys = {k.key_hash: k.source for k in self._engine.write_keys()}
            self._tokens = {t.token_hash: t for t in self._engine.api_tokens()}

    def create_write_key(self, source: str) -> str:
        """A new write key for `source` (created if new). The key is shown once, here."""
        check_source_name(source)
        key = "wk_" + secrets.token_urlsafe(24)
        self._engine.add_source(source)
        self._engine.add_write_key(SourceKey(source, _digest(key), datetime.now(UTC)))
        self._reload()
        return key

    def write_key_list(self) -> list[SourceKey]:
        """Every write key made, revoked ones too, oldest first: the source, the digest (never
        the key, which is not kept), when it was made and revoked."""
        return self._engine.all_write_keys()

    def revoke_write_key(self, key_hash: str) -> SourceKey:
        """Revoke the write key whose digest is `key_hash`: from now on it is refused (401).
        `NotFound` when no active key has that digest."""
        if not (len(key_hash) == 64 and all(c in "0123456789abcdef" for c in key_hash)):
            raise NotFound("no write key has this digest")
        if not self._engine.revoke_write_key(key_hash, datetime.now(UTC)):
            raise NotFound("no active write key has this digest (already revoked?)")
        self._reload()
        for key in self._engine.all_write_keys():
            if key.key_hash == key_hash:
                return key
        raise NotFound("no write key has this digest")  # pragma: no cover - just revoked

    def create_api_token(self, name: str, role: Role | str) -> str:
        """A new API token with `role`. The token is shown once, here."""
        try:
            role = Role(role)
        except ValueError:
            raise InvalidInput(
                "role", f"unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}"
            ) from None
        token = "emp_" + secrets.token_urlsafe(32)
        self._engine.add_api_token(ApiToken(name, role.value, _digest(token), datetime.now(UTC)))
        self._reload()
        return token

    def copy_from(self, other: Credentials) -> CopiedCredentials:
        """Accept what `other` accepts: its write keys (with their sources) and API tokens,
        by digest (no secret is read, none can be), and revoke here the keys it revoked. For
        collectors side by side behind one load balancer, where a client's key must open
        every one of them (docs/publish.md). Run again, it copies only what is new."""
        known = {k.key_hash: k for k in self._engine.all_write_keys()}
        added = revoked = 0
        for key in other._engine.all_write_keys():
            mine = known.get(key.key_hash)
            if mine is None and key.revoked_at is None:
                self._engine.add_source(key.source)
                self._engine.add_write_key(SourceKey(key.source, key.key_hash, key.created_at))
                added += 1
            elif mine is not None and mine.revoked_at is None and key.revoked_at is not None:
                revoked += self._engine.revoke_write_key(key.key_hash, key.revoked_at)
        tokens = {t.token_hash for t in self._engine.api_tokens()}
        new_tokens = [t for t in other._engine.api_tokens() if t.token_hash not in tokens]
        for token in new_tokens:
            self._engine.add_api_token(token)
        self._reload()
        return CopiedCredentials(added, revoked, len(new_tokens))

    def source_for(self, write_key: str) -> str:
        """The source a write key writes to; `AuthError` when the key is unknown."""
        digest = _digest(write_key)
        with self._lock:
            for known, source in self._write_keys.items():
                if hmac.compare_digest(known, digest):
                    return source
        raise AuthError("unknown write key")

    def principal_for(self, token: str) -> Principal:
        """Who holds an API token; `AuthError` when the token is unknown."""
        digest = _digest(token)
        with self._lock:
            for known, stored in self._tokens.items():
                if hmac.compare_digest(known, digest):
                    return Principal(stored.name, Role(stored.role))
        raise AuthError("unknown API token")
