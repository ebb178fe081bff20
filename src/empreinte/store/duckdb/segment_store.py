"""The SQL of saved segments: `segments`, `segment_members`, `segment_history` (the
`SegmentStore` protocol of store/segment_store.py)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from empreinte.errors import StorageError
from empreinte.store.duckdb.access import DuckDBTables
from empreinte.store.duckdb.results import first_row
from empreinte.store.segment_store import (
    HistoryStep,
    MembershipChange,
    RefreshCounts,
    SegmentDefinition,
)

_COLUMNS = (
    "name",
    "expression",
    "description",
    "schedule",
    "created_at",
    "created_by",
    "last_computed_at",
)
_SELECT = ", ".join(_COLUMNS)


def _definition(row: Sequence[Any]) -> SegmentDefinition:
    return SegmentDefinition(**dict(zip(_COLUMNS, row, strict=True)))


class DuckDBSegmentStore(DuckDBTables):
    """Saved segments in the workspace's DuckDB file."""

    def create(self, segment: SegmentDefinition) -> bool:
        with self._transaction(f"save segment {segment.name!r}") as cur:
            taken = first_row(cur.execute("SELECT 1 FROM segments WHERE name = ?", [segment.name]))
            if taken:
                return False
            cur.execute(
                f"INSERT INTO segments ({_SELECT}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [getattr(segment, column) for column in _COLUMNS],
            )
        return True

    def update(
        self, name: str, expression: str, description: str | None, schedule: str | None
    ) -> bool:
        with self._transaction(f"update segment {name!r}") as cur:
            row = first_row(
                cur.execute(
                    "UPDATE segments SET expression = ?, description = ?, schedule = ? "
                    "WHERE name = ? RETURNING name",
                    [expression, description, schedule, name],
                )
            )
        return row is not None

    def delete(self, name: str) -> bool:
        with self._transaction(f"delete segment {name!r}") as cur:
            cur.execute("DELETE FROM segment_members WHERE segment = ?", [name])
            cur.execute("DELETE FROM segment_history WHERE segment = ?", [name])
            row = first_row(
                cur.execute("DELETE FROM segments WHERE name = ? RETURNING name", [name])
            )
        return row is not None

    def get(self, name: str) -> SegmentDefinition | None:
        row = self._cur().execute(f"SELECT {_SELECT} FROM segments WHERE name = ?", [name])
        found = first_row(row)
        return _definition(found) if found else None

    def list(self) -> builtins.list[SegmentDefinition]:
        rows = self._cur().execute(f"SELECT {_SELECT} FROM segments ORDER BY name").fetchall()
        return [_definition(row) for row in rows]

    def replace_members(self, name: str, members: Sequence[str], at: datetime) -> RefreshCounts:
        new = pa.table({"profile_id": pa.array(sorted(set(members)), pa.string())})
        cur = self._engine.cursor()  # a cursor of its own: `register` needs a fresh one
        try:
            cur.register("_segment_new", new)
            self._engine.segment_writes.acquire()
            try:
                cur.execute("BEGIN")
                old = "SELECT profile_id FROM segment_members WHERE segment = $name"
                entered = cur.execute(
                    "INSERT INTO segment_history "
                    "SELECT $name, profile_id, 'entered', $at FROM _segment_new "
                    f"WHERE profile_id NOT IN ({old}) RETURNING 1",
                    {"name": name, "at": at},
                ).fetchall()
                left = cur.execute(
                    "INSERT INTO segment_history "
                    "SELECT $name, profile_id, 'left', $at FROM segment_members "
                    "WHERE segment = $name "
                    "AND profile_id NOT IN (SELECT profile_id FROM _segment_new) RETURNING 1",
                    {"name": name, "at": at},
                ).fetchall()
                cur.execute(
                    "DELETE FROM segment_members WHERE segment = $name "
                    "AND profile_id NOT IN (SELECT profile_id FROM _segment_new)",
                    {"name": name},
                )
                cur.execute(
                    "INSERT INTO segment_members SELECT $name, profile_id, $at FROM _segment_new "
                    f"WHERE profile_id NOT IN ({old})",
                    {"name": name, "at": at},
                )
                cur.execute(
                    "UPDATE segments SET last_computed_at = $at WHERE name = $name",
                    {"name": name, "at": at},
                )
                cur.execute("COMMIT")
            except duckdb.Error as exc:
                cur.execute("ROLLBACK")
                raise StorageError(f"could not refresh segment {name!r}: {exc}") from exc
            finally:
                self._engine.segment_writes.release()
        finally:
            cur.close()
        self._engine.checkpoint_if_large()
        return RefreshCounts(new.num_rows, len(entered), len(left))

    def sizes(self) -> dict[str, int]:
        rows = (
            self._cur()
            .execute("SELECT segment, count(*) FROM segment_members GROUP BY segment")
            .fetchall()
        )
        return {str(name): int(n) for name, n in rows}

    def members(self, name: str, limit: int | None = None, offset: int = 0) -> builtins.list[str]:
        rows = (
            self._cur()
            .execute(
                "SELECT profile_id FROM segment_members WHERE segment = ? "
                "ORDER BY profile_id LIMIT ? OFFSET ?",
                [name, limit, offset],
            )
            .fetchall()
        )
        return [str(row[0]) for row in rows]

    def history(
        self, name: str, limit: int = 100, offset: int = 0, profile_id: str | None = None
    ) -> builtins.list[MembershipChange]:
        where, params = ("AND profile_id = ?", [profile_id]) if profile_id else ("", [])
        rows = (
            self._cur()
            .execute(
                "SELECT segment, profile_id, change, changed_at FROM segment_history "
                f"WHERE segment = ? {where} "
                "ORDER BY changed_at DESC, change DESC, profile_id LIMIT ? OFFSET ?",
                [name, *params, limit, offset],
            )
            .fetchall()
        )
        return [MembershipChange(*row) for row in rows]

    def history_steps(self, name: str, limit: int = 20) -> builtins.list[HistoryStep]:
        rows = (
            self._cur()
            .execute(
                "SELECT changed_at, count(*) FILTER (WHERE change = 'entered'), "
                "count(*) FILTER (WHERE change = 'left') FROM segment_history "
                "WHERE segment = ? GROUP BY changed_at ORDER BY changed_at DESC LIMIT ?",
                [name, limit],
            )
            .fetchall()
        )
        return [HistoryStep(at, int(entered), int(left)) for at, entered, left in rows]

    def overlap(self, names: Sequence[str]) -> dict[tuple[str, str], int]:
        if not names:
            return {}
        rows = (
            self._cur()
            .execute(
                "SELECT a.segment, b.segment, count(*) FROM segment_members a "
                "JOIN segment_members b USING (profile_id) "
                "WHERE list_contains($names, a.segment) AND list_contains($names, b.segment) "
                "GROUP BY a.segment, b.segment",
                {"names": builtins.list(names)},
            )
            .fetchall()
        )
        return {(str(a), str(b)): int(n) for a, b, n in rows}
