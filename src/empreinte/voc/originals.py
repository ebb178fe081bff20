"""The originals of redacted texts, for admins: opt in or out, see what is kept, read one.

Texts are stored redacted; their originals are kept only after an admin opted in, sealed under
a key per day that is deleted at expiry (privacy/text_originals.py). Every opt-in, opt-out,
purge and read is audited (`voc_originals_audit`: who, when, which event, the outcome). Only
admins reach this service (the CLI is the workspace's owner; an API would check the role).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from empreinte.durations import parse_duration
from empreinte.errors import InvalidInput, OriginalUnavailable
from empreinte.privacy.text_originals import VAULT_KEY, OriginalsPolicy, OriginalsVault
from empreinte.store.voc_originals_store import OriginalsAuditEntry

if TYPE_CHECKING:
    from empreinte.workspace import Workspace


@dataclass(frozen=True)
class OriginalsStatus:
    """Whether originals are kept, for how long, which days can still be read, the audit."""

    policy: OriginalsPolicy | None
    readable_days: list[str]
    audit: list[OriginalsAuditEntry]

    def to_json(self) -> dict[str, Any]:
        return {
            "enabled": self.policy is not None,
            **(self.policy.to_json() if self.policy else {}),
            "readable_days": self.readable_days,
            "audit": [entry.to_json() for entry in self.audit],
        }


def expire_days(expire: str | timedelta) -> int:
    """Whole days of an expiry given as `30d`, `4w`… (`InvalidInput` naming `expire`)."""
    delta = parse_duration(expire, "expire") if isinstance(expire, str) else expire
    if delta.total_seconds() % 86_400:
        raise InvalidInput("expire", "give whole days (30d, 4w): keys are kept per day")
    return int(delta.total_seconds() // 86_400)


class Originals:
    """The opt-in, the keys and the audited reads of one workspace's originals."""

    def __init__(self, workspace: Workspace):
        vault = workspace.policy.originals
        self._vault = vault if vault is not None else OriginalsVault(workspace.path)
        self._store = workspace.engine.voc_originals_store()

    def _audit(self, actor: str, action: str, seq: int | None, outcome: str) -> None:
        self._store.record(OriginalsAuditEntry(datetime.now(UTC), actor, action, seq, outcome))

    def enable(
        self, expire: str | timedelta, actor: str, now: datetime | None = None
    ) -> OriginalsPolicy:
        """Keep the originals of texts redacted from now on, each for `expire` (whole days)."""
        policy = self._vault.enable(expire_days(expire), actor, now)
        self._audit(actor, "enable", None, f"expire {policy.expire_days}d")
        return policy

    def disable(self, actor: str) -> int:
        """Keep no more originals; those kept become unreadable (every key deleted)."""
        deleted = self._vault.disable()
        self._audit(actor, "disable", None, f"{deleted} key(s) deleted")
        return deleted

    def purge(self, actor: str = "system", now: datetime | None = None) -> list[str]:
        """Delete the keys past the expiry; the days whose originals became unreadable."""
        days = self._vault.purge(now)
        if days:
            self._audit(actor, "purge", None, f"keys of {', '.join(days)} deleted")
        return days

    def status(self, now: datetime | None = None) -> OriginalsStatus:
        self.purge(now=now)
        return OriginalsStatus(
            self._vault.policy(), self._vault.key_days(), self._store.audit(limit=20)
        )

    def show(self, seq: int, actor: str, now: datetime | None = None) -> dict[str, Any]:
        """The originals of event `seq` (vault path → the text or turns as sent), audited.
        Raises `OriginalUnavailable` when none was kept or it expired."""
        self.purge(now=now)
        sealed = self._store.sealed(seq, VAULT_KEY)
        if sealed is None:
            self._audit(actor, "show", seq, "none")
            raise OriginalUnavailable(f"no original was kept for event {seq}")
        try:
            originals = self._vault.open(sealed, now)
        except OriginalUnavailable:
            self._audit(actor, "show", seq, "expired")
            raise
        self._audit(actor, "show", seq, "shown")
        return originals
