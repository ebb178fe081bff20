"""Originals of redacted texts, sealed: kept only when an admin opted in, unreadable after expiry.

Texts are redacted at the door (privacy/text_pii/). An admin may opt in to keep each text as
it was said, for a limited time (`empreinte voc originals enable --expire 30d`): the original is
then encrypted (Fernet: AES-128-CBC with HMAC-SHA-256) under the key of its day (UTC) before it
reaches the writer, and the sealed token travels in the event's vault row. The keys live apart
from the log, in the workspace directory (`voc-originals/keys/`, owner-only, like the
pseudonym key); a day's key is deleted once the day is older than the expiry, so every original
sealed that day becomes unreadable at once (crypto-shredding) even in copies of the database.
Disabling deletes every key.

The collector's worker processes seal; they read the opt-in from `voc-originals/policy.json`
(one `stat` per sealed text: an admin's change applies to the next message).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from empreinte.errors import ConfigError, InvalidInput, OriginalUnavailable

DIRECTORY = "voc-originals"
POLICY_FILE = "policy.json"
KEYS = "keys"
#: The vault path under which an event's sealed originals travel (a path no payload has).
VAULT_KEY = "voc_originals"
MAX_EXPIRE_DAYS = 366


@dataclass(frozen=True)
class OriginalsPolicy:
    """The admin's opt-in: originals kept `expire_days` days, since `enabled_at`, by whom."""

    expire_days: int
    enabled_at: str
    enabled_by: str

    def to_json(self) -> dict[str, Any]:
        return {
            "expire_days": self.expire_days,
            "enabled_at": self.enabled_at,
            "enabled_by": self.enabled_by,
        }


def _today(now: datetime | None) -> date:
    return (now or datetime.now(UTC)).astimezone(UTC).date()


def _write_new(path: Path, data: bytes) -> None:
    """Create `path` with `data`, owner-only, atomically (another process may race us: the
    first one's file stays, whole)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class OriginalsVault:
    """The opt-in, the day keys and sealing of one workspace (picklable: its path alone)."""

    def __init__(self, workspace_dir: Path):
        self._root = Path(workspace_dir)
        self._dir = self._root / DIRECTORY
        self._seen: tuple[int, int, int] | None = None  # the policy file's (ino, mtime, size)
        self._policy: OriginalsPolicy | None = None
        self._keys: dict[str, bytes] = {}
        self._purged: date | None = None

    def __reduce__(self) -> tuple[type[OriginalsVault], tuple[Path]]:
        return (OriginalsVault, (self._root,))

    # -- the opt-in ---------------------------------------------------------------------------

    def policy(self) -> OriginalsPolicy | None:
        """The opt-in in force, or None (originals are not kept)."""
        path = self._dir / POLICY_FILE
        try:
            st = path.stat()
        except FileNotFoundError:
            self._seen, self._policy, self._keys = None, None, {}
            return None
        seen = (st.st_ino, st.st_mtime_ns, st.st_size)
        if seen != self._seen:
            try:
                self._policy = OriginalsPolicy(**orjson.loads(path.read_bytes()))
            except (orjson.JSONDecodeError, TypeError):
                raise ConfigError(
                    f"{DIRECTORY}/{POLICY_FILE} is unreadable: run "
                    "`empreinte voc originals enable` again (or disable)"
                ) from None
            self._seen, self._keys = seen, {}  # a new opt-in: keys read again from disk
        return self._policy

    def enable(self, expire_days: int, by: str, now: datetime | None = None) -> OriginalsPolicy:
        """Keep originals from now on, each for `expire_days` days."""
        if not 1 <= expire_days <= MAX_EXPIRE_DAYS:
            raise InvalidInput("expire", f"originals are kept between 1 and {MAX_EXPIRE_DAYS} days")
        (self._dir / KEYS).mkdir(parents=True, exist_ok=True, mode=0o700)
        policy = OriginalsPolicy(
            expire_days, (now or datetime.now(UTC)).astimezone(UTC).isoformat(), by
        )
        path = self._dir / POLICY_FILE
        tmp = path.with_name(f".{POLICY_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps(policy.to_json()))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        self.purge(now)  # a shorter expiry applies to what is already kept
        return policy

    def disable(self) -> int:
        """Keep no more originals and make those kept unreadable; the number of keys deleted."""
        (self._dir / POLICY_FILE).unlink(missing_ok=True)
        self._seen, self._policy, self._keys = None, None, {}
        return self._delete_keys(lambda day: True)

    # -- keys ---------------------------------------------------------------------------------

    def _key_path(self, day: str) -> Path:
        return self._dir / KEYS / f"{day}.key"

    def _key(self, day: str) -> bytes:
        key = self._keys.get(day)
        if key is None:
            path = self._key_path(day)
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                _write_new(path, secrets.token_bytes(32))
            key = path.read_bytes()
            self._keys = {day: key}  # one day in use at a time
        return key

    def key_days(self) -> list[str]:
        """The days whose originals can still be read, oldest first."""
        keys = self._dir / KEYS
        if not keys.is_dir():
            return []
        return sorted(p.name.removesuffix(".key") for p in keys.glob("*.key"))

    def _expired(self, day: str, now: datetime | None, policy: OriginalsPolicy | None) -> bool:
        if policy is None:
            return True
        try:
            sealed_on = date.fromisoformat(day)
        except ValueError:
            return True
        return _today(now) - sealed_on > timedelta(days=policy.expire_days)

    def purge(self, now: datetime | None = None) -> list[str]:
        """Delete the keys of days past the expiry (their originals become unreadable); the
        days deleted."""
        policy = self.policy()
        self._purged = _today(now)
        days = [d for d in self.key_days() if self._expired(d, now, policy)]
        self._delete_keys(lambda day: day in days)
        return days

    def _delete_keys(self, which: Any) -> int:
        deleted = 0
        for day in self.key_days():
            if which(day):
                self._key_path(day).unlink(missing_ok=True)
                self._keys.pop(day, None)
                deleted += 1
        return deleted

    # -- sealing ------------------------------------------------------------------------------

    def seal(self, originals: dict[str, Any], now: datetime | None = None) -> str | None:
        """`originals` (vault path → the text or turns as sent) encrypted under today's key,
        as `day:token`; None when originals are not kept."""
        if not originals or self.policy() is None:
            return None
        from cryptography.fernet import Fernet

        today = _today(now)
        if self._purged != today:
            self.purge(now)
        day = today.isoformat()
        fernet = Fernet(_fernet_key(self._key(day)))
        return f"{day}:{fernet.encrypt(orjson.dumps(originals)).decode()}"

    def open(self, sealed: str, now: datetime | None = None) -> dict[str, Any]:
        """The originals sealed in `sealed`. Raises `OriginalUnavailable` once expired."""
        from cryptography.fernet import Fernet, InvalidToken

        day, _, token = sealed.partition(":")
        if self._expired(day, now, self.policy()):
            self.purge(now)
            raise OriginalUnavailable("the original has expired: its key was deleted")
        try:
            key = self._key_path(day).read_bytes()
        except FileNotFoundError:
            raise OriginalUnavailable("the original has expired: its key was deleted") from None
        try:
            plain = Fernet(_fernet_key(key)).decrypt(token.encode())
        except (InvalidToken, ValueError):  # tampered, or a damaged key file
            raise OriginalUnavailable("the original cannot be decrypted with its key") from None
        data = orjson.loads(plain)
        assert isinstance(data, dict)
        return data


def _fernet_key(raw: bytes) -> bytes:
    import base64

    return base64.urlsafe_b64encode(raw[:32])
