"""The SQL of the `computed_traits` table (see store/computed_traits.py)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import pyarrow as pa

from empreinte.errors import StorageError
from empreinte.store.computed_traits import ROWS_SCHEMA, ComputedTrait
from empreinte.store.duckdb.access import DuckDBTables


def _ids(profile_ids: Collection[str]) -> pa.Table:
    return pa.table({"profile_id": pa.array(sorted(set(profile_ids)), pa.string())})


class DuckDBComputedTraits(DuckDBTables):
    """`computed_traits` in the workspace's DuckDB file."""

    def replace(self, trait: str, rows: pa.Table, computed_at: datetime) -> int:
        if not trait:
            raise StorageError("a computed trait needs a name")
        if computed_at.tzinfo is None:
            raise StorageError("computed_at needs a time zone")
        rows = rows.select(ROWS_SCHEMA.names).cast(ROWS_SCHEMA)
        profiles = rows.column("profile_id")
        if profiles.null_count or len(set(profiles.to_pylist())) != len(rows):
            raise StorageError(f"computed trait {trait}: one row per profile id, none empty")
        with self._transaction(f"replace computed trait {trait}") as cur:
            cur.execute("DELETE FROM computed_traits WHERE trait = ?", [trait])
            cur.register("_computed_rows", rows)
            try:
                cur.execute(
                    "INSERT INTO computed_traits (profile_id, trait, number, text, computed_at)"
                    " SELECT profile_id, ?, number, text, ? FROM _computed_rows",
                    [trait, computed_at],
                )
            finally:
                cur.unregister("_computed_rows")
        return len(rows)

    def of_profiles(self, profile_ids: Collection[str]) -> list[ComputedTrait]:
        if not profile_ids:
            return []
        cur = self._cur()
        cur.register("_computed_ids", _ids(profile_ids))
        try:
            rows = cur.execute(
                "SELECT c.profile_id, c.trait, c.number, c.text, c.computed_at"
                " FROM computed_traits c JOIN _computed_ids USING (profile_id)"
                " ORDER BY c.trait, c.profile_id"
            ).fetchall()
        finally:
            cur.unregister("_computed_ids")
        return [ComputedTrait(str(p), str(t), n, s, at) for p, t, n, s, at in rows]

    def delete_profiles(self, profile_ids: Collection[str]) -> int:
        if not profile_ids:
            return 0
        with self._transaction("delete computed traits") as cur:
            cur.register("_computed_ids", _ids(profile_ids))
            try:
                row = cur.execute(
                    "DELETE FROM computed_traits"
                    " WHERE profile_id IN (SELECT profile_id FROM _computed_ids) RETURNING 1"
                ).fetchall()
            finally:
                cur.unregister("_computed_ids")
        return len(row)

    def counts(self) -> dict[str, int]:
        rows = (
            self._cur()
            .execute("SELECT trait, count(*) FROM computed_traits GROUP BY trait ORDER BY trait")
            .fetchall()
        )
        return {str(t): int(n) for t, n in rows}
