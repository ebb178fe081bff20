"""Storage of the identity graph's derived tables and admin overrides.

`IdentityStore` is what the identity service reads and writes of `identities`,
`identity_conflicts`, `identity_overrides` and `identity_state` (the way `Engine` hides the
event log); an engine gives one (`Engine.identity_store()`, store/duckdb/identity_store.py).
The graph itself is the event log: `identities` and `identity_conflicts` are caches that a
rebuild recreates; `identity_overrides` is append-only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from empreinte.identity.model import (
    Conflict,
    ConflictRow,
    IdentityChange,
    IdentityRecord,
    LogEvent,
    Override,
)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CURSOR = "cursor"
FINGERPRINT = "fingerprint"


@dataclass(frozen=True)
class StoredIdentities:
    """Every stored identity, column by column, for loading the resolver's state: the key,
    its profile, first seq and type rank, and two independent 64-bit hashes of the profile
    id (to group rows by profile without hashing strings in Python)."""

    keys: pa.Array | pa.ChunkedArray
    profile_ids: pa.Array | pa.ChunkedArray
    first_seq: IntArray
    rank: npt.NDArray[np.int8]
    hashes: npt.NDArray[np.uint64]
    check: npt.NDArray[np.uint64]


@dataclass(frozen=True)
class Occurrences:
    """Every identifier occurrence of the log (one per key per event), for the rebuild.

    `hashes` and `check` are two independent 64-bit hashes of the key (equal keys, equal
    hashes): the rebuild groups by the first and splits a group whose second is not uniform.
    The engine returns the occurrences in log order when it can (`seq` non-decreasing); the
    rebuild checks.
    """

    seq: IntArray
    keys: pa.Array | pa.ChunkedArray
    hashes: npt.NDArray[np.uint64]
    check: npt.NDArray[np.uint64]


class RebuildSession(Protocol):
    """What one full rebuild reads from and writes to storage."""

    def occurrences(self) -> Occurrences: ...

    def seed_ids(self, keys: pa.Array, salt: str) -> tuple[pa.Array, npt.NDArray[np.uint64]]:
        """`profile_id_for(key, salt)` of each key, in the order given (computed in bulk),
        and the 64 bits each id encodes (its 16 hex digits), to check them for collisions."""
        ...

    def event_heads(self, seqs: IntArray) -> dict[int, tuple[str, int]]:
        """seq → (message_id, timestamp in µs) of these events."""
        ...

    def write(
        self,
        ready: pa.Table,
        finish: Callable[[], tuple[pa.Table, Sequence[ConflictRow]]],
        state: dict[str, str],
    ) -> int:
        """Replace `identities` and `identity_conflicts` and set `state`, in one transaction:
        the rows `ready` are written while `finish()` runs (in the calling thread), then the
        rows and conflicts it returns. Returns the number of conflicts."""
        ...


class IdentityStore(Protocol):
    """What identity resolution needs of a workspace's storage."""

    def max_seq(self) -> int:
        """The highest sequence number in the event log, 0 when empty."""
        ...

    def read_state(self) -> dict[str, str]: ...

    def read_events(self, after: int, upto: int, limit: int) -> list[LogEvent]:
        """Up to `limit` events with identifiers, `after < seq <= upto`, in log order."""
        ...

    def events_with_keys(self, keys: Collection[str], upto: int) -> list[LogEvent]:
        """Every event (seq ≤ `upto`) carrying any of `keys`, in log order."""
        ...

    def save_increment(
        self,
        changes: Sequence[IdentityChange],
        conflicts: Sequence[ConflictRow],
        state: dict[str, str],
    ) -> None:
        """Apply the changes of a batch, add its conflicts and set `state`: one transaction."""
        ...

    def replace_keys(
        self,
        keys: Collection[str],
        records: Sequence[IdentityRecord],
        seqs: Collection[int],
        conflicts: Sequence[ConflictRow],
        override: Override | None,
        state: dict[str, str],
    ) -> None:
        """Replace the rows of `keys` by `records` and the conflicts on `keys` of events `seqs`
        by `conflicts`, append `override`, set `state`: one transaction (a partial rebuild)."""
        ...

    def rebuild_session(self, upto: int) -> contextlib.AbstractContextManager[RebuildSession]:
        """A session over the log's events up to `upto`."""
        ...

    def load_state(self, types: Sequence[str]) -> StoredIdentities: ...

    def conflict_event_identifiers(self) -> Iterator[list[str]]:
        """The identifiers of every event that has a conflict (they join components)."""
        ...

    def identity(self, key: str) -> IdentityRecord | None: ...

    def identities_of(self, profile_id: str) -> list[IdentityRecord]: ...

    def profile_exists(self, profile_id: str) -> bool: ...

    def seed_key(self, profile_id: str, salt: str) -> str | None:
        """The stored key whose `profile_id_for(key, salt)` is `profile_id` (a scan)."""
        ...

    def conflicts_for(self, keys: Collection[str], profile_ids: Collection[str]) -> list[Conflict]:
        """Conflicts on any of `keys`, or naming any of `profile_ids`, in log order."""
        ...

    def overrides(self) -> list[Override]:
        """Every admin decision, in the order recorded."""
        ...
