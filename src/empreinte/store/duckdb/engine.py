"""The embedded default engine: one DuckDB file in the workspace directory."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from empreinte.errors import StorageError, WorkspaceLocked
from empreinte.store.duckdb.schema import MIGRATIONS

if TYPE_CHECKING:
    from empreinte.store.analytics import AnalyticsBackend
    from empreinte.store.computed_traits import ComputedTraits
    from empreinte.store.destination_store import DestinationStore
    from empreinte.store.identity_store import IdentityStore
    from empreinte.store.loyalty_store import LoyaltyStore
    from empreinte.store.match_store import MatchReviews
    from empreinte.store.offer_store import OfferStore
    from empreinte.store.privacy_store import PrivacyStore
    from empreinte.store.product_store import ProductStore
    from empreinte.store.profile_store import ProfileQueries
    from empreinte.store.segment_store import SegmentStore
    from empreinte.store.settings import StorageSettings
    from empreinte.store.story_store import StoryStore
    from empreinte.store.voc_originals_store import VocOriginalsStore
    from empreinte.store.voc_store import VocStore
from empreinte.store.columns import ROW_SCHEMA, to_table
from empreinte.store.duckdb.results import first_row
from empreinte.store.records import COLUMNS, ApiToken, EventFilter, EventRow, SourceKey

# Tables derived from the log for analytics (`write_derived`).
_DERIVED = frozenset({"consent_state", "profile_facts", "event_owners"})
_JSON_COLUMNS = ("properties", "traits", "context", "integrations", "extra", "pii")
_SELECT = "seq, " + ", ".join(COLUMNS)
# `records.message_key` in SQL, and its fingerprint (DuckDB's 64-bit hash) for the dedup window.
_MESSAGE_KEY = "(source || chr(0) || message_id)"
_FINGERPRINT = f"hash{_MESSAGE_KEY}"

log = logging.getLogger(__name__)

# Checkpoints: a checkpoint that fails for want of space (it writes the WAL's rows into the
# database file before it frees anything) invalidates the whole DuckDB instance, and only a
# restart recovers; inside a COMMIT, DuckDB even reports a durable commit as failed
# (tests/collect/test_disk_full.py). So no COMMIT checkpoints on its own; `append`, and every
# other write through `checkpoint_if_large`, checkpoints at DuckDB's usual WAL size, only when
# the disk has room to spare: twice the
# WAL and a reserve (the last row group of each table may be rewritten). Short of it, the WAL
# keeps growing; a WAL write that fails is an ordinary failed COMMIT, rolled back, and the
# collector answers 503 until space returns.
_CHECKPOINT_WAL = 16 * 1024 * 1024
_CHECKPOINT_RESERVE = 64 * 1024 * 1024


#: `log_slice`'s schema: seq, then the row schema without the vault's column.
_SLICE_SCHEMA = pa.schema(
    [pa.field("seq", pa.int64()), *(f for f in ROW_SCHEMA if f.name in COLUMNS)]
)


def _arrow(rows: Sequence[EventRow] | pa.Table, first_seq: int) -> pa.Table:
    """The rows (or a table of `ROW_SCHEMA`) as an Arrow table, numbered from `first_seq`."""
    table = rows if isinstance(rows, pa.Table) else to_table(rows)
    seqs = pa.array(np.arange(first_seq, first_seq + len(rows), dtype=np.int64))
    return table.add_column(0, pa.field("seq", pa.int64()), seqs)


class DuckDBEngine:
    """`Engine` on a DuckDB file. Safe to share between threads: each gets its own cursor."""

    def __init__(self, path: Path, read_only: bool = False):
        try:
            self._con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WorkspaceLocked(
                    f"the workspace database {path} is open in another process "
                    "(a running `empreinte serve`?). Stop it, or use the HTTP API."
                ) from exc
            raise StorageError(f"cannot open {path}: {exc}") from exc
        # DuckDB 2.0's row-group pruner answers `ORDER BY seq DESC LIMIT n` from stale
        # statistics after a DELETE, a reopen and an append (the newest event went missing
        # after an erasure: tests/store/test_newest_first.py). GLOBAL: every cursor.
        self._con.execute("SET GLOBAL disabled_optimizers = 'row_group_pruner'")
        self._local = threading.local()
        # The tables' schemas, for analytics (a migration, which changes them, runs at open).
        self._schemas: dict[str, Any] = {}
        # One segment refresh writes at a time: the server's scheduler and an API call may
        # refresh the same segment at once, and DuckDB refuses the second of two transactions
        # deleting the same members (a conflict, not a wait).
        self.segment_writes = threading.Lock()
        self._read_only = read_only
        self._wal = path.with_name(path.name + ".wal")
        self._wal_size: int | None = None  # after our last COMMIT; None: no WAL file then
        self._checkpoint_deferred = False  # for want of space, or failed: logged once
        # Checkpoints come from the writer's appends and from other writes (`checkpoint_if_large`):
        # one at a time, each with the WAL size it read.
        self._wal_lock = threading.Lock()
        if not read_only:
            # GLOBAL: no cursor's COMMIT checkpoints (see _CHECKPOINT_WAL).
            self._con.execute("SET GLOBAL wal_autocheckpoint = '1000TB'")
            self._migrate()

    # -- plumbing -------------------------------------------------------------------------

    def _cur(self) -> duckdb.DuckDBPyConnection:
        cur: duckdb.DuckDBPyConnection | None = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cur = cur
        return cur

    def _migrate(self) -> None:
        cur = self._cur()
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)"
        )
        row = first_row(cur.execute("SELECT coalesce(max(version), 0) FROM schema_migrations"))
        done = int(row[0]) if row else 0
        for version, sql in enumerate(MIGRATIONS[done:], start=done + 1):
            cur.execute("BEGIN")
            cur.execute(sql)
            cur.execute("INSERT INTO schema_migrations VALUES (?, now())", [version])
            cur.execute("COMMIT")

    def limit_resources(self, settings: StorageSettings) -> None:
        """DuckDB's buffer pool and worker threads: by default it takes 80% of the RAM and one
        thread per core, and a long-running collector's cache then only grows."""
        cur = self._cur()
        try:
            cur.execute(f"SET memory_limit = '{settings.memory_limit}'")  # checked: digits, unit
            if settings.threads is not None:
                cur.execute(f"SET threads = {int(settings.threads)}")
        except duckdb.Error as exc:
            raise StorageError(f"cannot apply the [storage] settings: {exc}") from exc

    # -- event log ------------------------------------------------------------------------

    def append(self, rows: Sequence[EventRow] | pa.Table, first_seq: int) -> None:
        if not len(rows):
            return
        batch = _arrow(rows, first_seq)
        cur = self._cur()
        try:
            cur.register("_incoming", batch)
            cur.execute("BEGIN")
            cur.execute(f"INSERT INTO events ({_SELECT}) SELECT {_SELECT} FROM _incoming")
            # Personal data apart from behaviour, committed in the same transaction.
            cur.execute(
                'INSERT INTO pii_vault (seq, message_id, source, "values") '
                "SELECT seq, message_id, source, pii FROM _incoming WHERE pii IS NOT NULL"
            )
            # DuckDB writes its write-ahead log and fdatasyncs it (events.duckdb.wal, seen
            # with strace) inside COMMIT: once this returns, the rows survive a crash. Past 16 MB
            # of WAL, `_checkpoint_if_room` checkpoints it into the database file. That size is
            # DuckDB's default, kept on purpose: at 64 MB, appends alone ran 35% faster, but
            # through the collector each rarer, larger checkpoint stalled commits ~0.2 s and
            # doubled p99 latency, for no gain in throughput (checkpoints run on the core the
            # GIL leaves).
            cur.execute("COMMIT")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            raise StorageError(f"could not append {len(rows)} events: {exc}") from exc
        finally:
            cur.unregister("_incoming")
        with self._wal_lock:
            try:
                self._sync_new_wal()
            except OSError as exc:
                raise StorageError(f"could not sync the workspace directory: {exc}") from exc
            self._checkpoint_if_room(cur, self._wal_size)

    def checkpoint_if_large(self) -> None:
        """After a write other than an append (derived tables, segment members, identities,
        an erasure): the WAL checkpointed as appends do, once large and if the disk has room.
        Without it, a server that refreshes segments or derives tables but receives no events
        would let the WAL grow until its next append."""
        if self._read_only:
            return
        with self._wal_lock:
            try:
                size = self._wal.stat().st_size
            except OSError:  # no WAL: nothing to fold in
                return
            self._checkpoint_if_room(self._cur(), size)

    def _checkpoint_if_room(self, cur: duckdb.DuckDBPyConnection, size: int | None) -> None:
        """Checkpoint the WAL (of `size` bytes) into the database file once it is large, if the
        disk has room. Never raises: the rows are already durable, and a failure here must not
        turn their acknowledgement into a refusal (the client's retry would be stored twice)."""
        if size is None or size < _CHECKPOINT_WAL:
            return
        try:
            free = shutil.disk_usage(self._wal.parent).free
        except OSError:
            return
        if free < 2 * size + _CHECKPOINT_RESERVE:
            if not self._checkpoint_deferred:
                log.warning(
                    "checkpoint deferred: %d MB free beside a %d MB write-ahead log; "
                    "the log keeps growing until the disk has room",
                    free >> 20,
                    size >> 20,
                )
            self._checkpoint_deferred = True
            return
        try:
            cur.execute("CHECKPOINT")
        except duckdb.Error as exc:
            # Retried at the next write (another transaction in the way, say): logged once
            # until one succeeds, not at every commit of a busy server.
            if not self._checkpoint_deferred:
                log.warning("checkpoint not done, retried at the next write: %s", exc)
            self._checkpoint_deferred = True
            return
        self._checkpoint_deferred = False
        self._wal_size = None  # the next COMMIT creates the WAL anew: `_sync_new_wal` syncs it

    def _sync_new_wal(self) -> None:
        """fsync the workspace directory when this COMMIT created the WAL file anew.

        DuckDB deletes the WAL at each checkpoint and creates it again at the next COMMIT, which
        fdatasyncs the file but not the directory entry that names it (seen with strace). On ext4
        the journal commit usually carries that entry too; elsewhere a power cut (not a process
        crash) could lose a WAL of acknowledged events. The WAL only grows between checkpoints,
        so a WAL that is new or smaller than after our last COMMIT is a new file: one directory
        fsync per checkpoint, a few a second at full load.
        """
        try:
            size: int | None = self._wal.stat().st_size
        except FileNotFoundError:
            size = None  # checkpointed by this COMMIT: the rows are in the synced database file
        if size is not None and (self._wal_size is None or size < self._wal_size):
            directory = os.open(self._wal.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        self._wal_size = size

    def max_seq(self) -> int:
        # An erasure may have deleted the last events: their seqs stay taken (`seq_floor`).
        row = first_row(
            self._cur().execute(
                "SELECT greatest((SELECT coalesce(max(seq), 0) FROM events), "
                "(SELECT coalesce(max(max_seq), 0) FROM seq_floor))"
            )
        )
        return int(row[0]) if row else 0

    def log_slice(self, after_seq: int, limit: int) -> pa.Table:
        # JSON as text and TIMESTAMPTZ as UTC microseconds: the published files must not
        # depend on DuckDB's JSON extension type or the session's time zone.
        columns = ", ".join(f"{c}::VARCHAR AS {c}" if c in _JSON_COLUMNS else c for c in COLUMNS)
        cur = self._con.cursor()  # a cursor of its own: the result is fetched whole
        try:
            table = cur.sql(
                f"SELECT seq, {columns} FROM events WHERE seq > $after ORDER BY seq LIMIT $limit",
                params={"after": int(after_seq), "limit": int(limit)},
            ).to_arrow_table()
        except duckdb.Error as exc:
            raise StorageError(f"could not read the log after seq {after_seq}: {exc}") from exc
        finally:
            cur.close()
        return table.cast(_SLICE_SCHEMA)

    def recent_messages(self, since: datetime, after_seq: int = 0) -> tuple[np.ndarray, np.ndarray]:
        # One columnar read: DuckDB hashes the keys in parallel, without the GIL, and no
        # Python object is made per event. `seq > after_seq` skips row groups (zone maps).
        # A cursor of its own: a relation refuses to run on one with an unfinished result.
        cur = self._con.cursor()
        try:
            table = cur.sql(
                f"SELECT {_FINGERPRINT} AS fingerprint, epoch_us(received_at) AS received_at "
                "FROM events WHERE received_at >= $since AND seq > $after",
                params={"since": since, "after": after_seq},
            ).to_arrow_table()
        except duckdb.Error as exc:
            raise StorageError(f"could not read the recent message ids: {exc}") from exc
        finally:
            cur.close()
        return (
            table.column("fingerprint").to_numpy().astype(np.uint64, copy=False),
            table.column("received_at").to_numpy().astype(np.int64, copy=False),
        )

    def message_fingerprint_at(self, seq: int) -> int | None:
        try:
            row = (
                self._cur()
                .execute(f"SELECT {_FINGERPRINT} FROM events WHERE seq = ?", [seq])
                .fetchall()
            )
        except duckdb.Error as exc:
            raise StorageError(f"could not read event {seq}: {exc}") from exc
        return int(row[0][0]) if row else None

    def message_fingerprints(self, keys: Sequence[str]) -> np.ndarray:
        # An Arrow column scanned by a projection: a third of the cost of binding a list
        # parameter and unnesting it. The result keeps the keys' order: insertion order is
        # preserved (DuckDB's default, never turned off on these cursors). A cursor of its own
        # per thread: a relation refuses to run on one with an unfinished result.
        column = pa.table({"key": pa.array(keys, pa.string())})
        cur: duckdb.DuckDBPyConnection | None = getattr(self._local, "relations", None)
        if cur is None:
            cur = self._local.relations = self._con.cursor()
        try:
            found = cur.from_arrow(column).project("hash(key) AS fingerprint").fetchnumpy()
        except duckdb.Error as exc:
            raise StorageError(f"could not fingerprint message ids: {exc}") from exc
        return np.asarray(found["fingerprint"], dtype=np.uint64)

    def stored_messages(self, keys: Sequence[str], since: datetime, until: datetime) -> set[str]:
        # The arrival range lets DuckDB skip the row groups outside it (zone maps).
        try:
            rows = (
                self._cur()
                .execute(
                    f"SELECT DISTINCT {_MESSAGE_KEY} FROM events "
                    "WHERE received_at >= ? AND received_at < ? "
                    f"AND {_MESSAGE_KEY} IN (SELECT unnest(?::VARCHAR[]))",
                    [since, until, list(keys)],
                )
                .fetchall()
            )
        except duckdb.Error as exc:
            raise StorageError(f"could not look message ids up: {exc}") from exc
        return {key for (key,) in rows}

    @staticmethod
    def _where(flt: EventFilter) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for column in (
            "user_id",
            "anonymous_id",
            "event",
            "type",
            "source",
            "channel",
            "message_id",
        ):
            value = getattr(flt, column)
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if flt.since is not None:
            clauses.append("timestamp >= ?")
            params.append(flt.since)
        if flt.until is not None:
            clauses.append("timestamp < ?")
            params.append(flt.until)
        if flt.after_seq is not None:
            clauses.append("seq > ?")
            params.append(flt.after_seq)
        if flt.before_seq is not None:
            clauses.append("seq < ?")
            params.append(flt.before_seq)
        if not flt.include_bots:
            clauses.append("NOT is_bot")
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def count_events(self, flt: EventFilter) -> int:
        where, params = self._where(flt)
        row = first_row(self._cur().execute(f"SELECT count(*) FROM events{where}", params))
        return int(row[0]) if row else 0

    def find_events(
        self, flt: EventFilter, limit: int = 100, newest_first: bool = True
    ) -> list[dict[str, Any]]:
        where, params = self._where(flt)
        order = "DESC" if newest_first else "ASC"
        cur = self._cur().execute(
            f'SELECT q.*, v."values" AS pii FROM ('
            f"  SELECT {_SELECT} FROM events{where} ORDER BY seq {order} LIMIT ?"
            f") q LEFT JOIN pii_vault v ON v.seq = q.seq ORDER BY q.seq {order}",
            [*params, limit],
        )
        names = [d[0] for d in cur.description]
        out = []
        for values in cur.fetchall():
            record = dict(zip(names, values, strict=True))
            for column in _JSON_COLUMNS:
                if record[column] is not None:
                    record[column] = orjson.loads(record[column])
            out.append(record)
        return out

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the workspace database, for the other stores of `store/`."""
        return self._con.cursor()

    def snapshot(self, target: Path) -> None:
        """A consistent copy of the whole database in a new file `target` (one transaction:
        what was committed when it began, nothing half-written), for readers in another
        process while this one holds the file."""
        cur = self._con.cursor()
        try:
            (name,) = first_row(cur.execute("SELECT current_database()")) or ("",)
            cur.execute("ATTACH ? AS _snapshot", [str(target)])
            try:
                cur.execute(f'COPY FROM DATABASE "{name}" TO _snapshot')
            finally:
                cur.execute("DETACH _snapshot")
        except duckdb.Error as exc:
            target.unlink(missing_ok=True)
            raise StorageError(f"cannot copy the workspace database: {exc}") from exc
        finally:
            cur.close()

    # -- catalogue ------------------------------------------------------------------------

    def add_source(self, name: str) -> None:
        self._cur().execute(
            "INSERT INTO sources VALUES (?, ?) ON CONFLICT DO NOTHING", [name, datetime.now(UTC)]
        )

    def add_write_key(self, key: SourceKey) -> None:
        self._cur().execute(
            "INSERT INTO write_keys (key_hash, source, created_at) VALUES (?, ?, ?)",
            [key.key_hash, key.source, key.created_at],
        )

    def write_keys(self) -> list[SourceKey]:
        rows = (
            self._cur()
            .execute("SELECT source, key_hash, created_at FROM write_keys WHERE revoked_at IS NULL")
            .fetchall()
        )
        return [SourceKey(source=s, key_hash=h, created_at=c) for s, h, c in rows]

    def all_write_keys(self) -> list[SourceKey]:
        rows = (
            self._cur()
            .execute(
                "SELECT source, key_hash, created_at, revoked_at FROM write_keys "
                "ORDER BY created_at, key_hash"
            )
            .fetchall()
        )
        return [SourceKey(source=s, key_hash=h, created_at=c, revoked_at=r) for s, h, c, r in rows]

    def revoke_write_key(self, key_hash: str, when: datetime) -> bool:
        found = (
            self._cur()
            .execute(
                "UPDATE write_keys SET revoked_at = ? "
                "WHERE key_hash = ? AND revoked_at IS NULL RETURNING key_hash",
                [when, key_hash],
            )
            .fetchall()
        )
        return bool(found)

    def add_api_token(self, token: ApiToken) -> None:
        self._cur().execute(
            "INSERT INTO api_tokens (token_hash, name, role, created_at) VALUES (?, ?, ?, ?)",
            [token.token_hash, token.name, token.role, token.created_at],
        )

    def api_tokens(self) -> list[ApiToken]:
        rows = (
            self._cur()
            .execute(
                "SELECT name, role, token_hash, created_at FROM api_tokens WHERE revoked_at IS NULL"
            )
            .fetchall()
        )
        return [ApiToken(name=n, role=r, token_hash=h, created_at=c) for n, r, h, c in rows]

    # -- the stores beside the log, on this file (imported here: they import this module) --

    def privacy_store(self) -> PrivacyStore:
        from empreinte.store.duckdb.privacy_store import DuckDBPrivacyStore

        return DuckDBPrivacyStore(self)

    def identity_store(self) -> IdentityStore:
        from empreinte.store.duckdb.identity_store import DuckDBIdentityStore

        return DuckDBIdentityStore(self)

    def profile_store(self) -> ProfileQueries:
        from empreinte.store.duckdb.profile_store import ProfileStore

        return ProfileStore(self)

    def match_store(self) -> MatchReviews:
        from empreinte.store.duckdb.match_store import DuckDBMatchStore

        return DuckDBMatchStore(self)

    def segment_store(self) -> SegmentStore:
        from empreinte.store.duckdb.segment_store import DuckDBSegmentStore

        return DuckDBSegmentStore(self)

    def offer_store(self) -> OfferStore:
        from empreinte.store.duckdb.offer_store import DuckDBOfferStore

        return DuckDBOfferStore(self)

    def product_store(self) -> ProductStore:
        from empreinte.store.duckdb.product_store import DuckDBProductStore

        return DuckDBProductStore(self)

    def story_store(self) -> StoryStore:
        from empreinte.store.duckdb.story_store import DuckDBStoryStore

        return DuckDBStoryStore(self)

    def voc_store(self) -> VocStore:
        from empreinte.store.duckdb.voc_store import DuckDBVocStore

        return DuckDBVocStore(self)

    def loyalty_store(self) -> LoyaltyStore:
        from empreinte.store.duckdb.loyalty_store import DuckDBLoyaltyStore

        return DuckDBLoyaltyStore(self)

    def voc_originals_store(self) -> VocOriginalsStore:
        from empreinte.store.duckdb.voc_originals_store import DuckDBVocOriginalsStore

        return DuckDBVocOriginalsStore(self)

    def computed_traits(self) -> ComputedTraits:
        from empreinte.store.duckdb.computed_traits import DuckDBComputedTraits

        return DuckDBComputedTraits(self)

    def destination_store(self) -> DestinationStore:
        from empreinte.store.duckdb.destination_store import DuckDBDestinationStore

        return DuckDBDestinationStore(self)

    def derived_state(self, table: str) -> tuple[str, int] | None:
        rows = (
            self._cur()
            .execute("SELECT basis, upto FROM derived_state WHERE name = ?", [table])
            .fetchall()
        )
        return (str(rows[0][0]), int(rows[0][1])) if rows else None

    def write_derived(
        self,
        table: str,
        rows: pa.Table,
        *,
        basis: str,
        upto: int,
        replacing: pa.Array | None = None,
    ) -> None:
        if table not in _DERIVED:
            raise StorageError(f"not a derived table: {table!r}")
        cur = self.cursor()
        try:
            cur.execute("BEGIN")
            try:
                if replacing is None:
                    cur.execute(f"DELETE FROM {table}")
                else:
                    cur.register("_derived_ids", pa.table({"id": replacing}))
                    cur.execute(
                        f"DELETE FROM {table} WHERE profile_id IN (SELECT id FROM _derived_ids)"
                    )
                    cur.execute(
                        f"DELETE FROM {table}"
                        " WHERE profile_id NOT IN (SELECT profile_id FROM identities)"
                    )
                cur.register("_derived_rows", rows)
                cur.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _derived_rows")
                cur.execute(
                    "INSERT OR REPLACE INTO derived_state VALUES (?, ?, ?)", [table, basis, upto]
                )
                cur.execute("COMMIT")
            except duckdb.Error as exc:
                cur.execute("ROLLBACK")
                raise StorageError(f"could not write {table}: {exc}") from exc
        finally:
            cur.close()
        self.checkpoint_if_large()

    def analytics(self) -> AnalyticsBackend:
        """Ibis over a cursor of its own (the caller closes it)."""
        from empreinte.store.duckdb.analytics import DuckDBAnalytics

        return DuckDBAnalytics(self.cursor(), self._schemas)

    def export_parquet(
        self, directory: Path, tables: Sequence[str] | None = None, *, empty: bool = False
    ) -> dict[str, Path]:
        """The analytics tables (or `tables`) as Parquet files in `directory`, for another
        engine; only their columns when `empty`."""
        from empreinte.store.analytics import ANALYTICS_TABLES
        from empreinte.store.duckdb.analytics import export_parquet

        cursor = self.cursor()
        try:
            return export_parquet(cursor, directory, tables or ANALYTICS_TABLES, empty=empty)
        finally:
            cursor.close()

    def close(self) -> None:
        self._con.close()
