"""`DuckDBIdentityStore`: the identity tables on the workspace's DuckDB file, through its own
cursors (one per thread), so that it reads the log while the collector's writer thread appends.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from empreinte.errors import StorageError
from empreinte.identity.model import (
    PROFILE_PREFIX,
    Conflict,
    ConflictRow,
    IdentityChange,
    IdentityRecord,
    LogEvent,
    Override,
)
from empreinte.store.duckdb.access import DuckDBTables
from empreinte.store.identity_store import (
    IntArray,
    Occurrences,
    RebuildSession,
    StoredIdentities,
)

_TS = pa.timestamp("us", tz="UTC")
#: Rows fetched at a time by the methods that stream (a module constant, for the tests).
STREAM_CHUNK = 50_000
_CONFLICT_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("message_id", pa.string()),
        ("id_key", pa.string()),
        ("profile_id", pa.string()),
        ("other_profile_id", pa.string()),
        ("rule", pa.string()),
        ("recorded_at", _TS),
    ]
)
_IDENTITY_SCHEMA = pa.schema(
    [
        ("id_key", pa.string()),
        ("id_type", pa.string()),
        ("profile_id", pa.string()),
        ("first_seq", pa.int64()),
        ("last_seq", pa.int64()),
    ]
)
_EVENT_COLUMNS = "seq, message_id, epoch_us(timestamp), identifiers"
_IDENTITY_COLUMNS = "id_key, id_type, profile_id, first_seq, last_seq"
_CONFLICT_COLUMNS = (
    "seq, message_id, id_key, profile_id, other_profile_id, rule, epoch_us(recorded_at)"
)


def _strings(values: Collection[str]) -> pa.Table:
    return pa.table({"key": pa.array(list(values), pa.string())})


def _conflict_table(rows: Sequence[ConflictRow]) -> pa.Table:
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * 7
    fields = list(_CONFLICT_SCHEMA)[:6]
    arrays = [pa.array(col, type=f.type) for col, f in zip(columns[:6], fields, strict=True)]
    arrays.append(pa.array(np.asarray(columns[6], dtype=np.int64), pa.int64()).cast(_TS))
    return pa.Table.from_arrays(arrays, schema=_CONFLICT_SCHEMA)


def _first(rows: list[Any]) -> Any:
    """The first row of a fully fetched result, or None (fetchone would leave the result
    open, and DuckDB then refuses to unregister tables on that cursor)."""
    return rows[0] if rows else None


def _events(rows: list[tuple[Any, ...]]) -> list[LogEvent]:
    return [LogEvent(*row) for row in rows]


def _record(row: tuple[Any, ...]) -> IdentityRecord:
    return IdentityRecord(*row)


def _conflict(row: tuple[Any, ...]) -> Conflict:
    return Conflict.of(ConflictRow(*row))


class DuckDBIdentityStore(DuckDBTables):
    """`IdentityStore` on the workspace's DuckDB file."""

    # -- the log --------------------------------------------------------------------------

    def max_seq(self) -> int:
        row = _first(self._cur().execute("SELECT coalesce(max(seq), 0) FROM events").fetchall())
        return int(row[0]) if row else 0

    def read_state(self) -> dict[str, str]:
        rows = self._cur().execute("SELECT name, value FROM identity_state").fetchall()
        return {str(name): str(value) for name, value in rows}

    def read_events(self, after: int, upto: int, limit: int) -> list[LogEvent]:
        rows = (
            self._cur()
            .execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq > ? AND seq <= ? "
                "AND len(identifiers) > 0 ORDER BY seq LIMIT ?",
                [after, upto, limit],
            )
            .fetchall()
        )
        return _events(rows)

    def events_with_keys(self, keys: Collection[str], upto: int) -> list[LogEvent]:
        if not keys:
            return []
        cur = self._cur()
        cur.register("_ik_wanted", _strings(keys))
        try:
            rows = cur.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq <= ? AND seq IN ("
                "  SELECT o.seq FROM ("
                "    SELECT seq, unnest(identifiers) AS key FROM events"
                "    WHERE seq <= ? AND identifiers IS NOT NULL"
                "  ) o SEMI JOIN _ik_wanted w ON o.key = w.key"
                ") ORDER BY seq",
                [upto, upto],
            ).fetchall()
        finally:
            cur.unregister("_ik_wanted")
        return _events(rows)

    # -- writing derived rows -------------------------------------------------------------

    @staticmethod
    def _set_state(cur: duckdb.DuckDBPyConnection, state: dict[str, str]) -> None:
        for name, value in state.items():
            cur.execute("INSERT OR REPLACE INTO identity_state VALUES (?, ?)", [name, value])

    @staticmethod
    def _insert_conflicts(cur: duckdb.DuckDBPyConnection, rows: Sequence[ConflictRow]) -> None:
        if not rows:
            return
        cur.register("_ik_conflicts", _conflict_table(rows))
        try:
            cur.execute("INSERT INTO identity_conflicts SELECT * FROM _ik_conflicts")
        finally:
            cur.unregister("_ik_conflicts")

    def save_increment(
        self,
        changes: Sequence[IdentityChange],
        conflicts: Sequence[ConflictRow],
        state: dict[str, str],
    ) -> None:
        table = pa.Table.from_pylist([c._asdict() for c in changes], schema=_IDENTITY_SCHEMA)
        existing = sum(1 for c in changes if c.first_seq is None)
        with self._transaction("save identity changes") as cur:
            cur.register("_ik_changes", table)
            try:
                # Rows are replaced, found by rowid: an UPDATE joined on the key costs ten
                # times as much on a large table (measured at 5 M rows: 1 s against 0.1 s).
                old = cur.sql(
                    "SELECT i.rowid AS rid, c.id_key, i.id_type, c.profile_id, i.first_seq,"
                    " greatest(i.last_seq, coalesce(c.last_seq, 0)) AS last_seq"
                    " FROM identities i JOIN _ik_changes c USING (id_key)"
                    " WHERE c.first_seq IS NULL"
                ).to_arrow_table()
                if old.num_rows != existing:
                    raise StorageError(
                        "the stored identities are out of step with the log; "
                        "run a rebuild (`IdentityService.rebuild`)"
                    )
                cur.register("_ik_old", old)
                try:
                    cur.execute("DELETE FROM identities WHERE rowid IN (SELECT rid FROM _ik_old)")
                    cur.execute(f"INSERT INTO identities SELECT {_IDENTITY_COLUMNS} FROM _ik_old")
                finally:
                    cur.unregister("_ik_old")
                cur.execute(
                    f"INSERT INTO identities SELECT {_IDENTITY_COLUMNS} FROM _ik_changes"
                    " WHERE first_seq IS NOT NULL"
                )
            finally:
                cur.unregister("_ik_changes")
            self._insert_conflicts(cur, conflicts)
            self._set_state(cur, state)

    def replace_keys(
        self,
        keys: Collection[str],
        records: Sequence[IdentityRecord],
        seqs: Collection[int],
        conflicts: Sequence[ConflictRow],
        override: Override | None,
        state: dict[str, str],
    ) -> None:
        rows = pa.Table.from_pylist(
            [
                {
                    "id_key": r.id_key,
                    "id_type": r.id_type,
                    "profile_id": r.profile_id,
                    "first_seq": r.first_seq,
                    "last_seq": r.last_seq,
                }
                for r in records
            ],
            schema=_IDENTITY_SCHEMA,
        )
        with self._transaction("recompute the identities") as cur:
            cur.register("_ik_gone", _strings(keys))
            cur.register("_ik_rows", rows)
            cur.register("_ik_seqs", pa.table({"seq": pa.array(list(seqs), pa.int64())}))
            try:
                cur.execute("DELETE FROM identities WHERE id_key IN (SELECT key FROM _ik_gone)")
                cur.execute(f"INSERT INTO identities SELECT {_IDENTITY_COLUMNS} FROM _ik_rows")
                cur.execute(
                    "DELETE FROM identity_conflicts WHERE seq IN (SELECT seq FROM _ik_seqs)"
                    " AND id_key IN (SELECT key FROM _ik_gone)"
                )
            finally:
                for name in ("_ik_gone", "_ik_rows", "_ik_seqs"):
                    cur.unregister(name)
            self._insert_conflicts(cur, conflicts)
            if override is not None:
                cur.execute(
                    "INSERT INTO identity_overrides VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        override.recorded_at,
                        override.actor,
                        override.action,
                        override.id_key,
                        override.profile_id,
                        override.reason,
                    ],
                )
            self._set_state(cur, state)

    @contextlib.contextmanager
    def rebuild_session(self, upto: int) -> Iterator[RebuildSession]:
        with _DuckDBRebuild(self._cur(), upto) as session:
            yield session
        self._engine.checkpoint_if_large()  # a rebuild rewrites every identity

    # -- loading the resolver's state -----------------------------------------------------

    def load_state(self, types: Sequence[str]) -> StoredIdentities:
        rank = _rank_case("id_type", types)
        table = (
            self._cur()
            .sql(
                f"SELECT id_key, profile_id, first_seq, {rank} AS rank,"
                " hash(profile_id) AS h, hash(profile_id || '#') AS c FROM identities"
            )
            .to_arrow_table()
        )
        return StoredIdentities(
            keys=table.column("id_key"),
            profile_ids=table.column("profile_id"),
            first_seq=table.column("first_seq").to_numpy(),
            rank=table.column("rank").to_numpy(),
            hashes=table.column("h").to_numpy(),
            check=table.column("c").to_numpy(),
        )

    def conflict_event_identifiers(self) -> Iterator[list[str]]:
        # A cursor of its own: the caller runs other queries of this store while iterating,
        # and on the thread's shared cursor they would replace the rows not yet fetched.
        cur = self._engine.cursor()
        try:
            cur.execute(
                "SELECT identifiers FROM events"
                " WHERE seq IN (SELECT DISTINCT seq FROM identity_conflicts) ORDER BY seq"
            )
            while chunk := cur.fetchmany(STREAM_CHUNK):
                for (keys,) in chunk:
                    yield keys
        finally:
            cur.close()

    # -- lookups --------------------------------------------------------------------------

    def identity(self, key: str) -> IdentityRecord | None:
        row = (
            self._cur()
            .execute(f"SELECT {_IDENTITY_COLUMNS} FROM identities WHERE id_key = ?", [key])
            .fetchall()
        )
        return _record(row[0]) if row else None

    def identities_of(self, profile_id: str) -> list[IdentityRecord]:
        rows = (
            self._cur()
            .execute(
                f"SELECT {_IDENTITY_COLUMNS} FROM identities WHERE profile_id = ?"
                " ORDER BY first_seq, id_key",
                [profile_id],
            )
            .fetchall()
        )
        return [_record(r) for r in rows]

    def profile_exists(self, profile_id: str) -> bool:
        row = (
            self._cur()
            .execute("SELECT 1 FROM identities WHERE profile_id = ? LIMIT 1", [profile_id])
            .fetchall()
        )
        return bool(row)

    def seed_key(self, profile_id: str, salt: str) -> str | None:
        row = (
            self._cur()
            .execute(
                f"SELECT id_key FROM identities WHERE '{PROFILE_PREFIX}' || "
                "left(sha256(? || id_key), 16) = ? LIMIT 1",
                [salt, profile_id],
            )
            .fetchall()
        )
        return str(row[0][0]) if row else None

    def conflicts_for(self, keys: Collection[str], profile_ids: Collection[str]) -> list[Conflict]:
        cur = self._cur()
        cur.register("_ik_wanted", _strings(keys))
        cur.register("_ik_pids", _strings(profile_ids))
        try:
            rows = cur.execute(
                f"SELECT {_CONFLICT_COLUMNS} FROM identity_conflicts"
                " WHERE id_key IN (SELECT key FROM _ik_wanted)"
                " OR profile_id IN (SELECT key FROM _ik_pids)"
                " OR other_profile_id IN (SELECT key FROM _ik_pids)"
                " ORDER BY seq, id_key"
            ).fetchall()
        finally:
            cur.unregister("_ik_wanted")
            cur.unregister("_ik_pids")
        return [_conflict(r) for r in rows]

    def all_identities(self) -> list[IdentityRecord]:
        """Every row of `identities` (for tests and small workspaces)."""
        rows = (
            self._cur()
            .execute(f"SELECT {_IDENTITY_COLUMNS} FROM identities ORDER BY id_key")
            .fetchall()
        )
        return [_record(r) for r in rows]

    def all_conflicts(self) -> list[ConflictRow]:
        """Every row of `identity_conflicts` (for tests and small workspaces)."""
        rows = (
            self._cur()
            .execute(f"SELECT {_CONFLICT_COLUMNS} FROM identity_conflicts ORDER BY seq, id_key")
            .fetchall()
        )
        return [ConflictRow(*r) for r in rows]

    def overrides(self) -> list[Override]:
        rows = (
            self._cur()
            .execute(
                "SELECT recorded_at, actor, action, id_key, profile_id, reason"
                " FROM identity_overrides ORDER BY recorded_at, rowid"
            )
            .fetchall()
        )
        return [Override(*row) for row in rows]


def _checked(types: Sequence[str]) -> Sequence[str]:
    """Identifier types go into SQL text: they must be plain words."""
    for kind in types:
        if not kind.replace("_", "").isalnum():
            raise ValueError(f"not an identifier type: {kind!r}")
    return types


def _rank_case(column: str, types: Sequence[str]) -> str:
    whens = " ".join(f"WHEN '{kind}' THEN {i}" for i, kind in enumerate(_checked(types)))
    return f"(CASE {column} {whens} END)::TINYINT"


class _DuckDBRebuild:
    """One rebuild's reads and its final write, on one cursor."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, upto: int):
        self._cur = cur  # reads, then the final write
        self._reader = cur.cursor()  # reads while the write is under way
        self._upto = upto

    def __enter__(self) -> _DuckDBRebuild:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(duckdb.Error):
            self._cur.execute("ROLLBACK")
        with contextlib.suppress(duckdb.Error):
            self._cur.execute("RESET SESSION preserve_insertion_order")
        self._reader.close()

    def occurrences(self) -> Occurrences:
        # Insertion order is kept (the default): the log is appended in seq order, so the
        # occurrences come sorted by seq, which the rebuild would otherwise have to sort.
        table = self._cur.sql(
            "SELECT seq, key, hash(key) AS h, hash(key || '#') AS c FROM ("
            "  SELECT seq, unnest(identifiers) AS key FROM events"
            f"  WHERE seq <= {int(self._upto)} AND identifiers IS NOT NULL"
            ")"
        ).to_arrow_table()
        return Occurrences(
            seq=table.column("seq").to_numpy(),
            keys=table.column("key"),
            hashes=table.column("h").to_numpy(),
            check=table.column("c").to_numpy(),
        )

    def seed_ids(self, keys: pa.Array, salt: str) -> tuple[pa.Array, npt.NDArray[np.uint64]]:
        cur = self._cur
        cur.register("_ik_seeds", pa.table({"k": keys}))
        try:
            # Insertion order is kept (the default): the ids come in the keys' order.
            table = cur.sql(
                f"SELECT '{PROFILE_PREFIX}' || d AS pid, ('0x' || d)::UBIGINT AS n FROM ("
                "  SELECT left(sha256($salt || k), 16) AS d FROM _ik_seeds"
                ")",
                params={"salt": salt},
            ).to_arrow_table()
        finally:
            cur.unregister("_ik_seeds")
        return table.column("pid").combine_chunks(), table.column("n").to_numpy()

    def event_heads(self, seqs: IntArray) -> dict[int, tuple[str, int]]:
        if len(seqs) == 0:
            return {}
        cur = self._reader
        cur.register("_ik_seqs", pa.table({"seq": pa.array(np.asarray(seqs, dtype=np.int64))}))
        try:
            rows = cur.execute(
                "SELECT seq, message_id, epoch_us(timestamp) FROM events"
                " WHERE seq IN (SELECT seq FROM _ik_seqs)"
            ).fetchall()
        finally:
            cur.unregister("_ik_seqs")
        return {seq: (mid, ts) for seq, mid, ts in rows}

    def write(
        self,
        ready: pa.Table,
        finish: Callable[[], tuple[pa.Table, Sequence[ConflictRow]]],
        state: dict[str, str],
    ) -> int:
        cur = self._cur
        failure: list[BaseException] = []

        def first_part() -> None:
            # DuckDB releases the GIL while it works: this overlaps with `finish()`.
            try:
                # Unordered, parallel insertion: the rows' order in the table does not matter.
                cur.execute("SET SESSION preserve_insertion_order = false")
                cur.execute("BEGIN")
                cur.execute("DELETE FROM identities")
                cur.execute("DELETE FROM identity_conflicts")
                cur.register("_ik_ready", ready)
                try:
                    cur.execute(f"INSERT INTO identities SELECT {_IDENTITY_COLUMNS} FROM _ik_ready")
                finally:
                    cur.unregister("_ik_ready")
            except BaseException as exc:
                failure.append(exc)

        writer = threading.Thread(target=first_part, name="identity-rebuild-write")
        writer.start()
        try:
            rest, conflicts = finish()
        finally:
            writer.join()
        try:
            if failure:
                raise failure[0]
            cur.register("_ik_rest", rest)
            try:
                cur.execute(f"INSERT INTO identities SELECT {_IDENTITY_COLUMNS} FROM _ik_rest")
            finally:
                cur.unregister("_ik_rest")
            DuckDBIdentityStore._insert_conflicts(cur, conflicts)
            DuckDBIdentityStore._set_state(cur, state)
            cur.execute("COMMIT")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            raise StorageError(f"could not write the rebuilt identities: {exc}") from exc
        return len(conflicts)
