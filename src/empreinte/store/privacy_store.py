"""SQL for the privacy tables: users, suppression, erasure audit, the personal-data vault."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import duckdb
import orjson


class PrivacyStore(Protocol):
    def user(self, username: str) -> tuple[str, str] | None:
        """(password hash, role) of an active user, or None."""
        ...

    def add_user(self, username: str, password_hash: str, role: str) -> None: ...

    def suppressed_hashes(self) -> set[str]: ...

    def count_suppressed(self, counts: dict[tuple[str, str], int]) -> None:
        """Add to the per-day, per-source counts of events dropped by suppression."""
        ...

    def suppressed_counts(self) -> list[tuple[str, str, int]]: ...

    def erase(
        self, erasure_id: str, actor: str, id_keys: Sequence[str], id_hashes: Sequence[str]
    ) -> dict[str, int]:
        """Delete every event, vault row and derived row of `id_keys`, suppress `id_hashes`
        and write the audit record, in one transaction. Returns what was deleted."""
        ...

    def erasures(self) -> list[dict[str, Any]]: ...

    def vault(self, seqs: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Raw personal values of events, by seq."""
        ...


class DuckDBPrivacyStore:
    """`PrivacyStore` on a DuckDB connection factory (one cursor per call site thread)."""

    def __init__(self, cursor: Any):
        self._cursor = cursor  # a callable returning a DuckDB cursor for this thread

    def _cur(self) -> duckdb.DuckDBPyConnection:
        cur: duckdb.DuckDBPyConnection = self._cursor()
        return cur

    def user(self, username: str) -> tuple[str, str] | None:
        row = (
            self._cur()
            .execute(
                "SELECT password_hash, role FROM users WHERE username = ? AND disabled_at IS NULL",
                [username],
            )
            .fetchone()
        )
        return (str(row[0]), str(row[1])) if row else None

    def add_user(self, username: str, password_hash: str, role: str) -> None:
        self._cur().execute(
            "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
            [username, password_hash, role, datetime.now(UTC)],
        )

    def suppressed_hashes(self) -> set[str]:
        return {r[0] for r in self._cur().execute("SELECT id_hash FROM suppression").fetchall()}

    def count_suppressed(self, counts: dict[tuple[str, str], int]) -> None:
        cur = self._cur()
        for (day, source), n in counts.items():
            cur.execute(
                "INSERT INTO suppressed_counts VALUES (?, ?, ?) ON CONFLICT (day, source) "
                "DO UPDATE SET events = suppressed_counts.events + excluded.events",
                [day, source, n],
            )

    def suppressed_counts(self) -> list[tuple[str, str, int]]:
        rows = (
            self._cur()
            .execute(
                "SELECT CAST(day AS VARCHAR), source, events FROM suppressed_counts ORDER BY 1, 2"
            )
            .fetchall()
        )
        return [(str(d), str(s), int(n)) for d, s, n in rows]

    def erase(
        self, erasure_id: str, actor: str, id_keys: Sequence[str], id_hashes: Sequence[str]
    ) -> dict[str, int]:
        cur = self._cur()
        keys = list(id_keys)
        counts: dict[str, int] = {}
        cur.execute("BEGIN")
        try:
            cur.execute(
                "CREATE TEMP TABLE _erase AS SELECT seq FROM events "
                "WHERE list_has_any(identifiers, ?::VARCHAR[])",
                [keys],
            )
            counts["events"] = _count(cur, "SELECT count(*) FROM _erase")
            counts["vault_rows"] = _count(
                cur, "SELECT count(*) FROM pii_vault WHERE seq IN (SELECT seq FROM _erase)"
            )
            cur.execute("DELETE FROM pii_vault WHERE seq IN (SELECT seq FROM _erase)")
            cur.execute("DELETE FROM events WHERE seq IN (SELECT seq FROM _erase)")
            counts["identifiers"] = _count(
                cur,
                "SELECT count(*) FROM identities WHERE list_contains(?::VARCHAR[], id_key)",
                [keys],
            )
            cur.execute("DELETE FROM identities WHERE list_contains(?::VARCHAR[], id_key)", [keys])
            cur.execute(
                "DELETE FROM identity_conflicts WHERE list_contains(?::VARCHAR[], id_key)", [keys]
            )
            cur.execute(
                "DELETE FROM identity_overrides WHERE list_contains(?::VARCHAR[], id_key)", [keys]
            )
            now = datetime.now(UTC)
            for id_hash in id_hashes:
                cur.execute(
                    "INSERT INTO suppression VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    [id_hash, now, erasure_id],
                )
            cur.execute(
                "INSERT INTO erasure_audit VALUES (?, ?, ?, ?, ?)",
                [erasure_id, now, actor, sorted(id_hashes), orjson.dumps(counts).decode()],
            )
            cur.execute("DROP TABLE _erase")
            cur.execute("COMMIT")
        except duckdb.Error:
            cur.execute("ROLLBACK")
            raise
        return counts

    def erasures(self) -> list[dict[str, Any]]:
        cur = self._cur().execute(
            "SELECT erasure_id, recorded_at, actor, id_hashes, counts FROM erasure_audit "
            "ORDER BY recorded_at"
        )
        return [
            {"erasure_id": e, "at": a, "actor": who, "id_hashes": h, "counts": orjson.loads(c)}
            for e, a, who, h, c in cur.fetchall()
        ]

    def vault(self, seqs: Sequence[int]) -> dict[int, dict[str, Any]]:
        if not seqs:
            return {}
        rows = (
            self._cur()
            .execute(
                'SELECT seq, "values" FROM pii_vault WHERE list_contains(?::BIGINT[], seq)',
                [list(seqs)],
            )
            .fetchall()
        )
        return {int(s): orjson.loads(v) for s, v in rows}


def _count(cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    row = cur.execute(sql, params or []).fetchone()
    return int(row[0]) if row else 0
