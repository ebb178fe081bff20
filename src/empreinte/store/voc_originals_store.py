"""The audit of the originals of redacted texts (`voc_originals_audit`) and an event's sealed
originals (in its vault row). The SQL is in store/duckdb/voc_originals_store.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class OriginalsAuditEntry:
    """One admin action on originals: `action` enable|disable|show|purge, the event's `seq`
    for a show, and its `outcome`."""

    at: datetime
    actor: str
    action: str
    seq: int | None
    outcome: str

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "seq": self.seq,
            "outcome": self.outcome,
        }


class VocOriginalsStore(Protocol):
    """Reads of sealed originals and the audit of who did what with them."""

    def sealed(self, seq: int, vault_key: str) -> str | None:
        """The sealed originals of event `seq` (its vault's `vault_key`), or None."""
        ...

    def record(self, entry: OriginalsAuditEntry) -> None: ...

    def audit(self, limit: int = 100) -> list[OriginalsAuditEntry]:
        """The latest entries, newest first."""
        ...
