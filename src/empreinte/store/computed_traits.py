"""The `computed_traits` table: traits a model run computes per person (churn risk, CLV,
probability alive, RFM segment, persona…), one row per person and trait, a number or a text,
with when it was computed (`ComputedTraits`; DuckDB's in store/duckdb/computed_traits.py).

A run replaces a trait's rows whole, so a person no longer scored (who withdrew `profiling`,
or is no longer a customer) loses the row; erasure deletes a person's rows with their data.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import pyarrow as pa

#: The rows a run hands to `replace`: one per person, a number or a text (or both NULL).
ROWS_SCHEMA = pa.schema(
    [("profile_id", pa.string()), ("number", pa.float64()), ("text", pa.string())]
)


@dataclass(frozen=True)
class ComputedTrait:
    """One computed trait of one person."""

    profile_id: str
    trait: str
    number: float | None
    text: str | None
    computed_at: datetime

    @property
    def value(self) -> float | str | None:
        return self.number if self.number is not None else self.text

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "computedAt": self.computed_at.isoformat()}


class ComputedTraits(Protocol):
    """Reads and writes the `computed_traits` table of a workspace."""

    def replace(self, trait: str, rows: pa.Table, computed_at: datetime) -> int:
        """Make `rows` (`ROWS_SCHEMA`) the whole of `trait`, atomically: the trait's old rows
        go in the same transaction. Returns the number of rows written."""
        ...

    def of_profiles(self, profile_ids: Collection[str]) -> list[ComputedTrait]:
        """The computed traits of `profile_ids`, by trait then profile."""
        ...

    def delete_profiles(self, profile_ids: Collection[str]) -> int:
        """Delete every computed trait of `profile_ids`; the number of rows deleted."""
        ...

    def counts(self) -> dict[str, int]:
        """People per stored trait."""
        ...
