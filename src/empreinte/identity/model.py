"""The value objects of identity resolution, shared by the resolver, the service and the store.

Times inside the resolver are microseconds since the Unix epoch (UTC), like the event log's
rows; the public records (`Conflict`, `Override`, `MergeStep`) carry aware datetimes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

PROFILE_PREFIX = "p_"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def profile_id_for(key: str, salt: str = "") -> str:
    """The id of a profile founded by identifier `key`: "p_" + 16 hex digits of SHA-256.

    Every identifier founds at most one profile in a resolution, so the id names the founding
    identifier: whatever merges happen later, an id ever issued is resolved by finding where
    its founder lives now. `salt` (a workspace secret) keeps ids from being recomputed from a
    guessed user id. The store computes the same digest in SQL for the bulk rebuild.
    """
    return PROFILE_PREFIX + hashlib.sha256((salt + key).encode()).hexdigest()[:16]


def id_type_of(key: str) -> str:
    """The type part of a "type:value" identifier key."""
    return key.partition(":")[0]


def to_datetime(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


class LogEvent(NamedTuple):
    """What the resolver reads of one event: its place in the log and its identifier keys."""

    seq: int
    message_id: str
    timestamp: int  # microseconds since the epoch, UTC
    identifiers: Sequence[str]


class ConflictRow(NamedTuple):
    """A link that merge protection refused, as the resolver records it.

    `profile_id` is the profile the event was joining (its id at that moment); for a refused
    merge, `other_profile_id` is the profile `id_key` belonged to; for a refused new identifier,
    the profile `id_key` then founded on its own. `recorded_at` is the event's timestamp, so
    that a rebuild records exactly the same rows as the incremental path.
    """

    seq: int
    message_id: str
    id_key: str
    profile_id: str
    other_profile_id: str | None
    rule: str
    recorded_at: int


class IdentityChange(NamedTuple):
    """One row of `identities` to write. `first_seq` is set only for an identifier new in this
    batch (the row is inserted); otherwise the stored row is updated: profile, and `last_seq`
    when given (the identifier occurred in the batch)."""

    id_key: str
    id_type: str
    profile_id: str
    first_seq: int | None
    last_seq: int | None


@dataclass(frozen=True)
class IdentityRecord:
    """Where one identifier lives, and when it was first and last seen in the log."""

    id_key: str
    id_type: str
    profile_id: str
    first_seq: int
    last_seq: int


@dataclass(frozen=True)
class Conflict:
    """A refused link, for people: the rule that refused it and the event that asked for it.

    Profile ids are those of the moment; `IdentityService.resolve` gives where they are now.
    """

    seq: int
    message_id: str
    id_key: str
    profile_id: str
    other_profile_id: str | None
    rule: str
    recorded_at: datetime

    @classmethod
    def of(cls, row: ConflictRow) -> Conflict:
        return cls(
            row.seq,
            row.message_id,
            row.id_key,
            row.profile_id,
            row.other_profile_id,
            row.rule,
            to_datetime(row.recorded_at),
        )


# Actions of `identity_overrides`.
BLOCK = "block"
CUT = "cut"
UNBLOCK = "unblock"
ACTIONS = (BLOCK, CUT, UNBLOCK)


@dataclass(frozen=True)
class Override:
    """An admin decision, appended to `identity_overrides` and never rewritten."""

    recorded_at: datetime
    actor: str
    action: str  # "block" | "cut" | "unblock"
    id_key: str
    profile_id: str | None
    reason: str | None


@dataclass(frozen=True)
class MergeStep:
    """One step of a profile's history, as `explain` replays it.

    `action` is one of:
    - "found": `id_key` founded `profile_id` (it had never been seen);
    - "join": `id_key`, new, joined `profile_id`;
    - "merge": `other_profile_id` merged into the older `profile_id`; `id_key` is the link:
      the event's identifier that was in the profile the event met;
    - "conflict": a rule (`rule`) refused to link `id_key` (in or founding `other_profile_id`)
      to `profile_id`.
    """

    seq: int
    message_id: str
    at: datetime
    action: str
    id_key: str
    profile_id: str
    other_profile_id: str | None = None
    rule: str | None = None


@dataclass(frozen=True)
class Explanation:
    """Why a profile holds what it holds: its identifiers, the steps that built it (replayed
    from the log), the refused links that touched it and the overrides on its component."""

    requested: str
    profile_id: str
    identifiers: tuple[IdentityRecord, ...]
    steps: tuple[MergeStep, ...]
    conflicts: tuple[Conflict, ...]
    overrides: tuple[Override, ...]


@dataclass(frozen=True)
class SyncReport:
    """What one `sync()` did."""

    events: int
    identifiers_changed: int
    conflicts: int
    cursor: int
    seconds: float
    rebuilt: RebuildReport | None = None  # set when stale results were rebuilt first
    timings: tuple[tuple[str, float], ...] = ()  # seconds reading, resolving, writing


@dataclass(frozen=True)
class RebuildReport:
    """What one full rebuild did, with where the time went."""

    events: int
    identifiers: int
    profiles: int
    components: int
    replayed_components: int
    replayed_events: int
    conflicts: int
    cursor: int
    seconds: float
    timings: tuple[tuple[str, float], ...] = ()
