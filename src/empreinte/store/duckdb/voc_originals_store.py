"""The SQL of the originals' audit and of an event's sealed originals
(store/voc_originals_store.py)."""

from __future__ import annotations

from empreinte.store.duckdb.access import DuckDBTables
from empreinte.store.duckdb.results import first_row
from empreinte.store.voc_originals_store import OriginalsAuditEntry

_COLUMNS = ("done_at", "actor", "action", "seq", "outcome")
_SELECT = ", ".join(_COLUMNS)


class DuckDBVocOriginalsStore(DuckDBTables):
    """The originals' audit in the workspace's DuckDB file."""

    def sealed(self, seq: int, vault_key: str) -> str | None:
        row = first_row(
            self._cur().execute(
                """SELECT json_extract_string("values", '$."' || ? || '"')
                   FROM pii_vault WHERE seq = ?""",
                [vault_key, seq],
            )
        )
        return None if row is None else row[0]

    def record(self, entry: OriginalsAuditEntry) -> None:
        with self._transaction("record an access to originals") as cur:
            cur.execute(
                f"INSERT INTO voc_originals_audit ({_SELECT}) VALUES (?, ?, ?, ?, ?)",
                [entry.at, entry.actor, entry.action, entry.seq, entry.outcome],
            )

    def audit(self, limit: int = 100) -> list[OriginalsAuditEntry]:
        rows = self._cur().execute(
            f"SELECT {_SELECT} FROM voc_originals_audit ORDER BY done_at DESC LIMIT ?", [limit]
        )
        return [OriginalsAuditEntry(*row) for row in rows.fetchall()]
