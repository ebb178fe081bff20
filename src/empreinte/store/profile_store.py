"""What profiles read from storage: the events a profile owns, its traits in bulk, and the
conflict listing (`ProfileQueries`; DuckDB's in store/duckdb/profile_store.py).

A profile is derived, not stored: its events are those whose most trusted identifier belongs
to it now.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from empreinte.identity.model import Conflict
from empreinte.store.ownership import Ownership


@dataclass(frozen=True)
class Position:
    """A place in a timeline: (event time in µs since the epoch, seq)."""

    micros: int
    seq: int


class ProfileQueries(Protocol):
    """Read-only queries for profiles: owned events, trait events, conflicts."""

    def events_of(
        self,
        profile_id: str,
        keys: Collection[str],
        seq_range: tuple[int, int],
        ownership: Ownership,
        *,
        include_bots: bool = True,
        after: Position | None = None,
        before: Position | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The events that belong to `profile_id` (whose identifiers are `keys`, seen between
        `seq_range`), with their vault values under "pii", in time order (time, then seq)."""
        ...

    def trait_events(
        self,
        ownership: Ownership,
        chunk: int = 20_000,
    ) -> Iterator[dict[str, Any]]:
        """Every event that says something about a person (identify traits,
        context.traits), bots left out, with its owner under "profile_id" and vault values
        under "pii", grouped by owner then in log order; of the context, only its traits."""
        ...

    def conflicts(self, limit: int, before_seq: int | None = None) -> list[Conflict]:
        """The most recent refused links (newest first), before `before_seq` when given."""
        ...

    def conflict_total(self) -> int: ...

    def first_keys(self, id_type: str) -> dict[str, str]:
        """Profile id → its first identifier of type `id_type` (by key text)."""
        ...
