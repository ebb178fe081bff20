"""What destinations keep in storage, engine-neutral: the destinations, their outbox of
deliveries, what each was told of each segment and the digest of the traits it was last sent
per person (to send only changes), and whom each received (to reach them with a deletion
request when that person is erased). The SQL is in
store/duckdb/destination_store.py; the rules are in activate/destinations/.

Columns named `profile_id` are person data: an erasure deletes those rows by itself
(store/duckdb/privacy_store.py, `PERSON_COLUMNS`). Deletion requests have no `profile_id`.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

#: Delivery statuses: waiting (first try or a retry), delivered, given up (the dead-letter
#: queue), not sent because the person withdrew consent between queueing and sending.
PENDING, SENT, DEAD, WITHHELD = "pending", "sent", "dead", "withheld"
STATUSES = (PENDING, SENT, DEAD, WITHHELD)
#: What the counts show: pending deliveries already tried and failed are "failing".
FAILING = "failing"
SHOWN = (SENT, PENDING, FAILING, DEAD, WITHHELD)


@dataclass(frozen=True)
class DestinationRecord:
    """A destination as stored (its secret is not here: activate/destinations/keys.py)."""

    name: str
    kind: str  # webhook, segment, csv, parquet
    target: str  # a URL, or a directory for exports
    purpose: str  # the consent purpose a person must allow to be sent
    segments: tuple[str, ...]
    traits: tuple[str, ...]
    events: tuple[str, ...]
    created_at: datetime
    created_by: str | None
    event_cursor: int = 0  # the last log seq whose events were queued
    round_at: datetime | None = None  # when its last round ran
    round_error: str | None = None  # what stopped that round (None: it went through)


@dataclass(frozen=True)
class Delivery:
    """One message of the outbox. `delivery_id` is its idempotency key (the messageId the
    receiver sees, the same on every retry)."""

    delivery_id: str
    destination: str
    profile_id: str | None  # None for deletion requests and exports
    type: str  # identify, track, delete, export
    payload: dict[str, Any] | None  # cleared once sent
    status: str
    attempts: int
    next_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    erasure_id: str | None = None


@dataclass(frozen=True)
class NewDelivery:
    delivery_id: str
    profile_id: str | None
    type: str
    payload: dict[str, Any]
    erasure_id: str | None = None


@dataclass(frozen=True)
class Recipient:
    """A destination that received a person, and the ids it knows them by."""

    destination: str
    profile_id: str
    user_id: str | None
    anonymous_id: str | None


class DestinationStore(Protocol):
    """The destinations of a workspace and their outbox."""

    def create(self, record: DestinationRecord) -> bool:
        """Save a new destination; False when the name is taken."""
        ...

    def delete(self, name: str) -> bool:
        """Delete a destination with its outbox and memory; False when there was none."""
        ...

    def get(self, name: str) -> DestinationRecord | None: ...

    def list(self) -> builtins.list[DestinationRecord]: ...

    def set_cursor(self, name: str, seq: int) -> None: ...

    def set_round(self, name: str, at: datetime, error: str | None) -> None:
        """When the destination's last round ran and what stopped it, if anything."""
        ...

    def told(self, name: str, segment: str) -> set[str]:
        """The profiles the destination was last told are in `segment`."""
        ...

    def queue(
        self,
        name: str,
        deliveries: Sequence[NewDelivery],
        *,
        entered: Mapping[str, Sequence[str]] | None = None,
        left: Mapping[str, Sequence[str]] | None = None,
        traits: Mapping[str, str] | None = None,
        at: datetime,
    ) -> int:
        """Add deliveries to the outbox and record the segment changes they announce and the
        digests of the traits they send (profile → digest), in one transaction; how many
        were queued."""
        ...

    def trait_digests(self, name: str) -> dict[str, str]:
        """Profile → the digest of the traits last sent to the destination."""
        ...

    def due(self, name: str, now: datetime, limit: int) -> builtins.list[Delivery]:
        """Pending deliveries whose time has come, oldest first."""
        ...

    def mark_sent(
        self, ids: Sequence[str], at: datetime, recipients: Sequence[Recipient] = ()
    ) -> None:
        """Delivered: status sent, payload cleared, the recipients recorded."""
        ...

    def mark_failed(self, failures: Sequence[tuple[str, str, datetime | None]]) -> None:
        """(delivery id, error, next try) — no next try: dead."""
        ...

    def mark_withheld(self, ids: Sequence[str]) -> None: ...

    def retry(self, name: str | None, ids: Sequence[str] | None, now: datetime) -> int:
        """Dead deliveries back to pending (those of `name`, or `ids`); how many."""
        ...

    def deliveries(
        self, name: str | None, status: str | None, limit: int, type: str | None = None
    ) -> builtins.list[Delivery]:
        """Deliveries, newest first."""
        ...

    def counts(self) -> dict[str, dict[str, int]]:
        """Destination → status → deliveries; pending ones tried and failed are "failing"."""
        ...

    def recipients(self, profile_ids: Sequence[str]) -> builtins.list[Recipient]:
        """Every destination that received one of `profile_ids`."""
        ...

    def user_ids(self, profile_ids: Sequence[str]) -> dict[str, str]:
        """Profile → its userId (as the log keeps it), when it has one."""
        ...

    def prune(self, before: datetime) -> int:
        """Forget sent and withheld deliveries (not deletion requests) older than `before`;
        how many."""
        ...

    def max_seq(self) -> int:
        """The log's last seq (0 when empty)."""
        ...

    def cancel(self, erasure_id: str) -> None:
        """Drop the pending deletion requests of an erasure that did not happen."""
        ...
