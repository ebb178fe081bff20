"""Saved segments: their definitions (`segments`), current members (`segment_members`) and
membership history (`segment_history`: who entered and who left, when). The SQL is in
store/duckdb/segment_store.py; the service that computes members is empreinte/segments/.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class SegmentDefinition:
    """A saved segment: its expression (docs/segments.md) and how often it is refreshed
    (`schedule`, a duration such as "1h" or "1d"; None: by hand only)."""

    name: str
    expression: str
    description: str | None
    schedule: str | None
    created_at: datetime
    created_by: str | None
    last_computed_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "expression": self.expression,
            "description": self.description,
            "schedule": self.schedule,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "last_computed_at": (
                self.last_computed_at.isoformat() if self.last_computed_at else None
            ),
        }


@dataclass(frozen=True)
class MembershipChange:
    """One person entering or leaving a segment at a refresh."""

    segment: str
    profile_id: str
    change: str  # "entered" or "left"
    changed_at: datetime


@dataclass(frozen=True)
class RefreshCounts:
    """What one refresh changed."""

    size: int
    entered: int
    left: int


@dataclass(frozen=True)
class HistoryStep:
    """The changes of one refresh: how many entered and left at `changed_at`."""

    changed_at: datetime
    entered: int
    left: int


class SegmentStore(Protocol):
    """The saved segments of a workspace."""

    def create(self, segment: SegmentDefinition) -> bool:
        """Save a new segment; False when the name is taken."""
        ...

    def update(
        self, name: str, expression: str, description: str | None, schedule: str | None
    ) -> bool:
        """Change a segment's definition; False when there is none of that name."""
        ...

    def delete(self, name: str) -> bool:
        """Delete a segment with its members and history; False when there was none."""
        ...

    def get(self, name: str) -> SegmentDefinition | None: ...

    def list(self) -> list[SegmentDefinition]:
        """Every segment, by name."""
        ...

    def replace_members(self, name: str, members: Sequence[str], at: datetime) -> RefreshCounts:
        """Make `members` the segment's members at `at`, in one transaction: who was not a
        member enters (a history row, `entered_at` = `at`), who is no longer one leaves (a
        history row), and `last_computed_at` becomes `at`."""
        ...

    def sizes(self) -> dict[str, int]:
        """Members per segment (segments without members are absent)."""
        ...

    def members(self, name: str, limit: int | None = None, offset: int = 0) -> builtins.list[str]:
        """Member profile ids, in order."""
        ...

    def history(
        self, name: str, limit: int = 100, offset: int = 0, profile_id: str | None = None
    ) -> builtins.list[MembershipChange]:
        """Changes of membership, newest first (only `profile_id`'s when given)."""
        ...

    def history_steps(self, name: str, limit: int = 20) -> builtins.list[HistoryStep]:
        """Entered and left per refresh, newest first."""
        ...

    def overlap(self, names: Sequence[str]) -> dict[tuple[str, str], int]:
        """People in both segments, for every ordered pair of `names` with a common member
        (a pair (a, a) is a's size)."""
        ...
