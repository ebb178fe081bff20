"""SQL for profiles: the events a profile owns, its traits in bulk, and the conflict listing.

A profile is derived, not stored: its events are those whose most trusted identifier belongs
to it now (see `ProfileStore.events_of`). Every statement reads `events`, `pii_vault`,
`identities` and `identity_conflicts`; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

import orjson

from empreinte.identity.model import Conflict, ConflictRow
from empreinte.store.duckdb.access import DuckDBTables
from empreinte.store.duckdb.ownership import owner_sql
from empreinte.store.ownership import Ownership
from empreinte.store.profile_store import Position
from empreinte.store.records import COLUMNS

_JSON_COLUMNS = ("properties", "traits", "context", "integrations", "extra", "pii")
_SELECT = ", ".join(f"e.{c}" for c in ("seq", *COLUMNS))
_CONFLICT_COLUMNS = (
    "seq, message_id, id_key, profile_id, other_profile_id, rule, epoch_us(recorded_at)"
)


def _decode(names: Sequence[str], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    out = []
    for values in rows:
        record = dict(zip(names, values, strict=True))
        for column in _JSON_COLUMNS:
            if record.get(column) is not None:
                record[column] = orjson.loads(record[column])
        out.append(record)
    return out


class ProfileStore(DuckDBTables):
    """Read-only queries for profiles on the workspace's DuckDB file (a cursor per thread)."""

    def _owned(self, ownership: Ownership, candidates: str) -> str:
        """SQL of (seq, owner) for the events selected by `candidates` (a query of seq and
        identifiers), by the rule of store/ownership.py."""
        return owner_sql(ownership, candidates)

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
        `seq_range`), with their vault values under "pii", in time order (time, then seq).

        With `before`, the `limit` events just before it (still in time order); otherwise the
        `limit` events from `after` (or from the start).
        """
        if not keys:
            return []
        clauses = ["own.owner = ?"]
        params: list[Any] = []
        if after is not None:
            clauses.append("(epoch_us(e.timestamp), e.seq) > (?, ?)")
            params += [after.micros, after.seq]
        if before is not None:
            clauses.append("(epoch_us(e.timestamp), e.seq) < (?, ?)")
            params += [before.micros, before.seq]
        order = "DESC" if before is not None else "ASC"
        bots = "" if include_bots else " AND NOT is_bot"
        candidates = (
            "SELECT seq, identifiers FROM events WHERE seq BETWEEN ? AND ?"
            f" AND list_has_any(identifiers, ?::VARCHAR[]){bots}"
        )
        # The seq range again on the outer tables: DuckDB then skips their other row groups.
        sql = (
            self._owned(ownership, candidates)
            + f' SELECT {_SELECT}, v."values" AS pii FROM events e JOIN own USING (seq)'
            " LEFT JOIN (SELECT * FROM pii_vault WHERE seq BETWEEN ? AND ?) v ON v.seq = e.seq"
            f" WHERE e.seq BETWEEN ? AND ? AND {' AND '.join(clauses)}"
            f" ORDER BY e.timestamp {order}, e.seq {order}"
            + (" LIMIT ?" if limit is not None else "")
        )
        lo, hi = seq_range
        args = [lo, hi, sorted(keys), lo, hi, lo, hi, profile_id, *params]
        if limit is not None:
            args.append(limit)
        result = self._cur().execute(sql, args)
        names = [d[0] for d in result.description]
        rows = result.fetchall()
        records = _decode(names, rows)
        if before is not None:
            records.reverse()
        return records

    def trait_events(
        self,
        ownership: Ownership,
        chunk: int = 20_000,
    ) -> Iterator[dict[str, Any]]:
        """Every event that says something about a person (identify traits, context.traits),
        bots left out, with its owner under "profile_id" and vault values under "pii",
        grouped by owner then in log order; of the context, only its traits. For building
        every profile's traits at once."""
        candidates = (
            "SELECT seq, identifiers FROM events WHERE NOT is_bot AND identifiers IS NOT NULL"
            " AND ((type = 'identify' AND traits IS NOT NULL)"
            "   OR json_extract(context, '$.traits') IS NOT NULL)"
        )
        sql = (
            self._owned(ownership, candidates)
            + " SELECT own.owner AS profile_id, e.seq, e.message_id, e.source, e.type,"
            " e.channel, e.timestamp, e.traits,"
            " json_object('traits', json_extract(e.context, '$.traits')) AS context,"
            ' v."values" AS pii'
            " FROM events e JOIN own USING (seq) LEFT JOIN pii_vault v ON v.seq = e.seq"
            " ORDER BY own.owner, e.seq"
        )
        # A cursor of its own: the caller may run other queries while iterating.
        cur = self._engine.cursor()
        try:
            result = cur.execute(sql)
            names = [d[0] for d in result.description]
            while rows := result.fetchmany(chunk):
                yield from _decode(names, rows)
        finally:
            cur.close()

    def conflicts(self, limit: int, before_seq: int | None = None) -> list[Conflict]:
        """The most recent refused links (newest first), before `before_seq` when given."""
        where = " WHERE seq < ?" if before_seq is not None else ""
        params: list[Any] = [before_seq] if before_seq is not None else []
        rows = (
            self._cur()
            .execute(
                f"SELECT {_CONFLICT_COLUMNS} FROM identity_conflicts{where}"
                " ORDER BY seq DESC, id_key LIMIT ?",
                [*params, limit],
            )
            .fetchall()
        )
        return [Conflict.of(ConflictRow(*r)) for r in rows]

    def conflict_total(self) -> int:
        rows = self._cur().execute("SELECT count(*) FROM identity_conflicts").fetchall()
        return int(rows[0][0]) if rows else 0

    def first_keys(self, id_type: str) -> dict[str, str]:
        """Profile id → its first identifier of type `id_type` (by key text)."""
        rows = (
            self._cur()
            .execute(
                "SELECT profile_id, min(id_key) FROM identities WHERE id_type = ?"
                " GROUP BY profile_id",
                [id_type],
            )
            .fetchall()
        )
        return {str(pid): str(key) for pid, key in rows}
