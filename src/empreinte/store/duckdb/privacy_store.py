"""SQL for privacy: users, the suppression list and its counts, erasure (one transaction over the
log, the vault and every derived table), the erasure audit, the consent entries of the log and
the personal-data vault.

Only this module writes the SQL of those tables; `privacy/` holds the rules.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from empreinte.errors import ConfigError, StorageError
from empreinte.store.duckdb.access import DuckDBTables
from empreinte.store.duckdb.engine import DuckDBEngine
from empreinte.store.duckdb.ownership import owner_sql
from empreinte.store.duckdb.results import first_row
from empreinte.store.ownership import Ownership
from empreinte.store.privacy_store import (
    CONSENT_EVENT,
    ERASED,
    ConsentRow,
    ConsentRule,
    ErasurePlan,
    StoredUser,
)
from empreinte.store.records import COLUMNS

_RETRIES = 5

# Tables erasure handles by name (or must never touch). Any other table with a column named
# in `PERSON_COLUMNS` is derived data about people: erasure deletes its rows that name the
# erased person (see docs/privacy.md, "Erasure").
_HANDLED = frozenset(
    {
        "events",
        "pii_vault",
        "identities",
        "identity_conflicts",
        "identity_overrides",
        "identity_state",
        "match_reviews",
        "suppression",
        "suppressed_counts",
        "erasure_audit",
        "users",
        "sources",
        "write_keys",
        "api_tokens",
        "schema_migrations",
        "derived_state",
    }
)
#: Column name → what it holds, for the derived tables erasure finds by itself.
PERSON_COLUMNS: Mapping[str, str] = {
    "profile_id": "profile",
    "other_profile_id": "profile",
    "id_key": "key",
    "seq": "seq",
}
_JSON_COLUMNS = ("properties", "traits", "context", "integrations", "extra")
_EVENT_SELECT = ", ".join(f"e.{c}" for c in ("seq", *COLUMNS))


def _strings(name: str, values: Collection[str]) -> pa.Table:
    return pa.table({name: pa.array(sorted(set(values)), pa.string())})


class DuckDBPrivacyStore(DuckDBTables):
    """The privacy tables of a workspace's DuckDB file (a cursor per thread)."""

    # -- users ----------------------------------------------------------------------------

    def user(self, username: str) -> tuple[str, str] | None:
        """(password hash, role) of an active user, or None."""
        row = first_row(
            self._cur().execute(
                "SELECT password_hash, role FROM users WHERE username = ? AND disabled_at IS NULL",
                [username],
            )
        )
        return (str(row[0]), str(row[1])) if row else None

    def add_user(self, username: str, password_hash: str, role: str) -> None:
        try:
            self._cur().execute(
                "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                [username, password_hash, role, datetime.now(UTC)],
            )
        except duckdb.ConstraintException:
            raise ConfigError(f"user {username!r} already exists") from None

    def users(self) -> list[StoredUser]:
        rows = (
            self._cur()
            .execute("SELECT username, role, created_at, disabled_at FROM users ORDER BY username")
            .fetchall()
        )
        return [StoredUser(str(u), str(r), c, d) for u, r, c, d in rows]

    def end_session(self, token_hash: str, expires_at: datetime) -> None:
        cursor = self._cur()
        cursor.execute("DELETE FROM ended_sessions WHERE expires_at < ?", [datetime.now(UTC)])
        cursor.execute(
            "INSERT INTO ended_sessions (token_hash, expires_at) VALUES (?, ?) "
            "ON CONFLICT DO NOTHING",
            [token_hash, expires_at],
        )

    def session_ended(self, token_hash: str) -> bool:
        row = first_row(
            self._cur().execute("SELECT 1 FROM ended_sessions WHERE token_hash = ?", [token_hash])
        )
        return row is not None

    def disable_user(self, username: str) -> bool:
        """Disable an active user; False when there is none of that name."""
        row = first_row(
            self._cur().execute(
                "UPDATE users SET disabled_at = ? WHERE username = ? AND disabled_at IS NULL "
                "RETURNING username",
                [datetime.now(UTC), username],
            )
        )
        return row is not None

    # -- suppression ----------------------------------------------------------------------

    def suppressed_hashes(self) -> set[str]:
        rows = self._cur().execute("SELECT id_hash FROM suppression").fetchall()
        return {str(r[0]) for r in rows}

    def shared_hashes(self) -> set[str]:
        """The suppressed hashes of identifiers other people's events carried too."""
        rows = self._cur().execute("SELECT id_hash FROM suppression WHERE shared").fetchall()
        return {str(r[0]) for r in rows}

    def suppression_entry(self, id_hash: str) -> tuple[datetime, str] | None:
        """(when, erasure id) of a suppressed hash."""
        row = first_row(
            self._cur().execute(
                "SELECT added_at, erasure_id FROM suppression WHERE id_hash = ?", [id_hash]
            )
        )
        return (row[0], str(row[1])) if row else None

    def count_suppressed(self, counts: Mapping[tuple[date, str], int]) -> None:
        """Add to the per-day, per-source counts of events dropped by suppression."""
        if not counts:
            return
        with self._transaction("count suppressed events") as cur:
            for (day, source), n in sorted(counts.items()):
                cur.execute(
                    "INSERT INTO suppressed_counts VALUES (?, ?, ?) ON CONFLICT (day, source) "
                    "DO UPDATE SET events = suppressed_counts.events + excluded.events",
                    [day, source, n],
                )

    def suppressed_counts(self) -> list[tuple[date, str, int]]:
        rows = (
            self._cur()
            .execute("SELECT day, source, events FROM suppressed_counts ORDER BY day, source")
            .fetchall()
        )
        return [(d, str(s), int(n)) for d, s, n in rows]

    # -- erasure --------------------------------------------------------------------------

    def derived_tables(self) -> dict[str, list[str]]:
        """Tables not handled by name that hold a person column, with those columns."""
        rows = (
            self._cur()
            .execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'main' AND table_catalog = current_database() "
                "ORDER BY table_name, ordinal_position"
            )
            .fetchall()
        )
        out: dict[str, list[str]] = {}
        for table, column in rows:
            if str(table) not in _HANDLED and str(column) in PERSON_COLUMNS:
                out.setdefault(str(table), []).append(str(column))
        return out

    def match_reviews(self) -> list[tuple[str, str, str | None, str | None, dict[str, Any]]]:
        """(review_id, record_id, other_record_id, profile_id, detail) of every review."""
        rows = (
            self._cur()
            .execute(
                "SELECT review_id, record_id, other_record_id, profile_id, detail "
                "FROM match_reviews"
            )
            .fetchall()
        )
        return [(str(r), str(a), b, p, orjson.loads(d)) for r, a, b, p, d in rows]

    def erase(self, plan: ErasurePlan) -> dict[str, int]:
        """Delete the plan's events, their vault rows and every derived row naming the person,
        suppress the hashes and write the audit record, in one transaction. Returns what was
        deleted (the audit's counts).

        A write-write conflict with a concurrent transaction (the identity graph's background
        sync updating the same identity rows) rolls the whole transaction back; it is retried.
        """
        for attempt in range(_RETRIES):
            try:
                return self._erase(plan)
            except StorageError as exc:
                if attempt == _RETRIES - 1 or not isinstance(
                    exc.__cause__, duckdb.TransactionException
                ):
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def _erase(self, plan: ErasurePlan) -> dict[str, int]:
        derived = self.derived_tables()
        counts: dict[str, int] = {}
        cur = self._cur()
        tables = {
            "_er_seqs_in": pa.table({"seq": pa.array(sorted(set(plan.seqs)), pa.int64())}),
            "_er_keys": _strings("key", plan.keys),
            "_er_exclusive": _strings("key", [*plan.exclusive_keys, *plan.scrub_keys]),
            "_er_profiles": _strings("id", plan.profile_ids),
            "_er_reviews": _strings("id", plan.match_review_ids),
        }
        for name, table in tables.items():
            cur.register(name, table)
        try:
            with self._transaction("erase a person") as tx:
                tx.execute(
                    "CREATE OR REPLACE TEMP TABLE _er_seqs AS SELECT seq FROM events "
                    "WHERE seq IN (SELECT seq FROM _er_seqs_in) "
                    "OR list_has_any(identifiers, ?::VARCHAR[])",
                    [sorted(set(plan.exclusive_keys))],
                )
                seqs = "(SELECT seq FROM _er_seqs)"
                keys = "(SELECT key FROM _er_keys)"
                exclusive = "(SELECT key FROM _er_exclusive)"
                profiles = "(SELECT id FROM _er_profiles)"
                row = first_row(
                    tx.execute(
                        f"SELECT count(*) FROM events WHERE seq IN {seqs} AND event = ?",
                        [CONSENT_EVENT],
                    )
                )
                # The numbering goes on after the events deleted, never reusing their seqs.
                tx.execute("INSERT INTO seq_floor SELECT coalesce(max(seq), 0) FROM events")
                counts["events"] = _delete(tx, "events", f"seq IN {seqs}")
                counts["consent_entries"] = int(row[0]) if row else 0
                counts["vault_rows"] = _delete(tx, "pii_vault", f"seq IN {seqs}")
                counts.update(_scrub(tx, plan))
                counts["identities"] = _delete(
                    tx, "identities", f"id_key IN {keys} OR profile_id IN {profiles}"
                )
                counts["identity_conflicts"] = _delete(
                    tx,
                    "identity_conflicts",
                    f"seq IN {seqs} OR id_key IN {exclusive} OR profile_id IN {profiles} "
                    f"OR other_profile_id IN {profiles}",
                )
                counts["identity_overrides"] = _delete(
                    tx, "identity_overrides", f"id_key IN {exclusive}"
                )
                # Decisions on identifiers the person shared stay in force (a blocked shop
                # card is still blocked), without naming the person or why.
                tx.execute(
                    "UPDATE identity_overrides SET profile_id = NULL, reason = NULL "
                    f"WHERE profile_id IN {profiles}"
                )
                counts["match_reviews"] = _delete(
                    tx, "match_reviews", "review_id IN (SELECT id FROM _er_reviews)"
                )
                wheres = {"profile": profiles, "key": keys, "seq": seqs}
                for table, columns in sorted(derived.items()):
                    condition = " OR ".join(
                        f'"{c}" IN {wheres[PERSON_COLUMNS[c]]}' for c in columns
                    )
                    counts[table] = _delete(tx, f'"{table}"', condition)
                counts.update(plan.extra_counts)
                now = datetime.now(UTC)
                shared = set(plan.shared_hashes)
                for id_hash in sorted(set(plan.id_hashes)):
                    tx.execute(
                        "INSERT INTO suppression (id_hash, added_at, erasure_id, shared) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        [id_hash, now, plan.erasure_id, id_hash in shared],
                    )
                tx.execute(
                    "INSERT INTO erasure_audit VALUES (?, ?, ?, ?, ?)",
                    [
                        plan.erasure_id,
                        now,
                        plan.actor,
                        sorted(set(plan.id_hashes)),
                        orjson.dumps(counts).decode(),
                    ],
                )
                tx.execute("DROP TABLE _er_seqs")
        finally:
            for name in tables:
                cur.unregister(name)
        return counts

    def events_carrying(self, keys: Collection[str]) -> list[tuple[int, list[str]]]:
        """(seq, identifiers) of every event carrying one of `keys`."""
        if not keys:
            return []
        rows = (
            self._cur()
            .execute(
                "SELECT seq, identifiers FROM events "
                "WHERE list_has_any(identifiers, ?::VARCHAR[]) ORDER BY seq",
                [sorted(keys)],
            )
            .fetchall()
        )
        return [(int(seq), list(ids)) for seq, ids in rows]

    def erasure_count(self) -> int:
        row = first_row(self._cur().execute("SELECT count(*) FROM erasure_audit"))
        return int(row[0]) if row else 0

    def erasures(self) -> list[dict[str, Any]]:
        """Every erasure's audit record, oldest first."""
        cur = self._cur().execute(
            "SELECT erasure_id, recorded_at, actor, id_hashes, counts FROM erasure_audit "
            "ORDER BY recorded_at, erasure_id"
        )
        return [
            {
                "erasure_id": e,
                "recorded_at": a,
                "actor": who,
                "id_hashes": list(h),
                "counts": orjson.loads(c),
            }
            for e, a, who, h, c in cur.fetchall()
        ]

    # -- consent --------------------------------------------------------------------------

    def consent_rows(
        self,
        keys: Collection[str],
        *,
        owner: str,
        ranks: Mapping[str, int],
        cut: Collection[str] = (),
    ) -> list[ConsentRow]:
        """The `Consent Updated` events that carry one of `keys` and that profile `owner`
        owns (their most trusted identifier is its: see `_owner_sql`), in log order."""
        if not keys:
            return []
        sql = (
            _owner_sql(ranks, cut, "list_has_any(identifiers, ?::VARCHAR[])")
            + f" SELECT {_CONSENT_SELECT} FROM events e JOIN own USING (seq)"
            " WHERE own.owner = ? ORDER BY e.seq"
        )
        return self._consent_rows(sql, [CONSENT_EVENT, sorted(keys), owner])

    def consent_rows_with_token(self, token_hash: str) -> list[ConsentRow]:
        """The `Consent Updated` events naming a confirmation token (by its hash)."""
        sql = (
            f"SELECT {_CONSENT_SELECT} FROM events e WHERE type = 'track' AND event = ? "
            "AND (properties->>'$.token_hash') = ? ORDER BY seq"
        )
        return self._consent_rows(sql, [CONSENT_EVENT, token_hash])

    def _consent_rows(self, sql: str, params: list[Any]) -> list[ConsentRow]:
        rows = self._cur().execute(sql, params).fetchall()
        return [
            ConsentRow(
                int(seq),
                str(mid),
                str(source),
                ts,
                received,
                orjson.loads(props) if props else {},
                list(ids or []),
                uid,
                aid,
            )
            for seq, mid, source, ts, received, props, ids, uid, aid in rows
        ]

    def consent_decisions(
        self,
        rule: ConsentRule,
        *,
        ranks: Mapping[str, int],
        cut: Collection[str] = (),
    ) -> dict[str, bool]:
        """Profile id → whether its latest decisive entry for `rule.purpose` grants it.

        The rule of `privacy.consent`, in SQL for every profile at once: an entry is valid
        when `granted` is a JSON boolean; a revocation is always decisive; a grant is unless
        it needs a trusted source and has none, or needs confirmation and is not confirmed;
        an entry belongs to the profile that owns its event; the latest decisive entry wins,
        by its time (`ConsentRule`), then the time it gives, then revocation before grant,
        then log order.
        """
        trusted = "list_contains(?::VARCHAR[], source)"
        grant_counts = "true"
        if rule.needs_trust:
            grant_counts = trusted
        if rule.double_opt_in:
            grant_counts = f"{trusted} AND (properties->>'$.confirmation') = 'confirmed'"
        candidates = (
            "(properties->>'$.purpose') = ?"
            " AND json_type(properties, '$.granted') = 'BOOLEAN'"
            f" AND (NOT (properties->>'$.granted')::BOOLEAN OR ({grant_counts}))"
        )
        sql = (
            _owner_sql(ranks, cut, candidates)
            + " SELECT own.owner, (e.properties->>'$.granted')::BOOLEAN AS granted"
            " FROM events e JOIN own USING (seq)"
            " QUALIFY row_number() OVER ("
            "   PARTITION BY own.owner ORDER BY"
            "   CASE WHEN list_contains(?::VARCHAR[], e.source)"
            "        THEN least(e.timestamp, e.received_at) ELSE e.received_at END DESC,"
            "   least(e.timestamp, e.received_at) DESC, granted ASC, e.seq DESC"
            " ) = 1"
        )
        sources = sorted(rule.trusted)
        params: list[Any] = [CONSENT_EVENT, rule.purpose]
        params += [sources] if rule.needs_trust or rule.double_opt_in else []
        rows = self._cur().execute(sql, [*params, sources]).fetchall()
        return {str(p): bool(g) for p, g in rows}

    def profile_ids(self) -> set[str]:
        """Every current profile id."""
        rows = self._cur().execute("SELECT DISTINCT profile_id FROM identities").fetchall()
        return {str(r[0]) for r in rows}


_CONSENT_SELECT = (
    "e.seq, e.message_id, e.source, e.timestamp, e.received_at, e.properties, e.identifiers, "
    "e.user_id, e.anonymous_id"
)


def _owner_sql(ranks: Mapping[str, int], cut: Collection[str], where: str) -> str:
    """A WITH clause ending in `own (seq, owner)`: the owner of each `Consent Updated` event
    matching `where` (the first parameter is the event name), by the rule of
    store/ownership.py, as profiles read it."""
    candidates = (
        "SELECT seq, identifiers FROM events"
        f" WHERE type = 'track' AND event = ? AND identifiers IS NOT NULL AND {where}"
    )
    return owner_sql(Ownership(dict(ranks), tuple(cut)), candidates)


def _scrub(tx: duckdb.DuckDBPyConnection, plan: ErasurePlan) -> dict[str, int]:
    """Take the person's identifiers out of the events and vault rows that stay (see
    `ErasurePlan`); the number of events and vault rows changed."""
    keys = sorted(set(plan.scrub_keys))
    events = 0
    if keys or plan.pseudonyms:
        pseudonyms = sorted(set(plan.pseudonyms))
        found = [f"contains({c}::VARCHAR, ?)" for c in _JSON_COLUMNS for _ in pseudonyms]
        tx.execute(
            "CREATE OR REPLACE TEMP TABLE _er_touched AS SELECT seq, "
            "list_has_any(identifiers, ?::VARCHAR[]) AS carrier FROM events WHERE "
            + " OR ".join(["list_has_any(identifiers, ?::VARCHAR[])", *found]),
            [keys, keys, *[p for _ in _JSON_COLUMNS for p in pseudonyms]],
        )
        row = first_row(tx.execute("SELECT count(*) FROM _er_touched"))
        events = int(row[0]) if row else 0
        if events:
            sql, params = _scrub_update(plan, keys)
            tx.execute(sql, params)
            # Events changed owner without any new one: derived tables are rewritten whole.
            tx.execute("DELETE FROM derived_state")
        tx.execute("DROP TABLE _er_touched")
    vault_rows = 0
    conditions = ['contains(lower("values"), ?)'] * len(plan.vault_texts) + [
        "contains(translate(\"values\", ' .-()/', ''), ?)"
    ] * len(plan.vault_digits)
    if plan.vault_scrub is not None and conditions:
        candidates = tx.execute(
            f'SELECT seq, "values" FROM pii_vault WHERE {" OR ".join(conditions)}',
            [*plan.vault_texts, *plan.vault_digits],
        ).fetchall()
        for seq, text in candidates:
            values = orjson.loads(text)
            kept = plan.vault_scrub(values)
            if kept == values:
                continue
            vault_rows += 1
            if kept:
                tx.execute(
                    'UPDATE pii_vault SET "values" = ? WHERE seq = ?',
                    [orjson.dumps(kept).decode(), seq],
                )
            else:
                tx.execute("DELETE FROM pii_vault WHERE seq = ?", [seq])
    return {"scrubbed_events": events, "scrubbed_vault_rows": vault_rows}


def _scrub_update(plan: ErasurePlan, keys: list[str]) -> tuple[str, list[Any]]:
    """One UPDATE of the events in `_er_touched`: plain values (a card number, a userId)
    become `ERASED` where the event carries their key, pseudonyms wherever they are; the
    userId column is emptied where it was one of them; the keys leave the identifier lists."""
    erased = orjson.dumps(ERASED).decode()
    plain = [orjson.dumps(v).decode() for v in sorted(set(plan.scrub_values))]
    pseudonyms = [orjson.dumps(p).decode() for p in sorted(set(plan.pseudonyms))]
    sets: list[str] = []
    params: list[Any] = []
    for column in _JSON_COLUMNS:
        expr = f"e.{column}::VARCHAR"
        for token in plain:
            expr = f"replace({expr}, ?, ?)"
            params += [token, erased]
        expr = f"CASE WHEN t.carrier THEN {expr} ELSE e.{column}::VARCHAR END"
        for token in pseudonyms:
            expr = f"replace({expr}, ?, ?)"
            params += [token, erased]
        sets.append(f"{column} = ({expr})::JSON")
    sets.append(
        "user_id = CASE WHEN list_contains(?::VARCHAR[], e.user_id) THEN NULL ELSE e.user_id END"
    )
    params.append(sorted(set(plan.scrub_values) | set(plan.pseudonyms)))
    sets.append(
        "identifiers = CASE WHEN t.carrier THEN "
        "list_filter(e.identifiers, lambda k: NOT list_contains(?::VARCHAR[], k)) "
        "ELSE e.identifiers END"
    )
    params.append(keys)
    sql = f"UPDATE events e SET {', '.join(sets)} FROM _er_touched t WHERE e.seq = t.seq"
    return sql, params


def _delete(cur: duckdb.DuckDBPyConnection, table: str, where: str) -> int:
    row = first_row(cur.execute(f"DELETE FROM {table} WHERE {where}"))
    return int(row[0]) if row else 0


def compact_database(path: Path) -> tuple[int, int]:
    """Rewrite a workspace's database file with its live rows only; (bytes before, after).

    DuckDB marks deleted rows and frees their blocks, but leaves their bytes in the file until
    a block is reused: an erased person's data could still be read from the file with a hex
    editor. Copying the database into a new file (`COPY FROM DATABASE`) and replacing the old
    one leaves none of it. Needs the workspace to itself (no running server).
    """
    before = path.stat().st_size
    # Open it as the engine does (a clear error if a server holds it), fold the WAL in.
    engine = DuckDBEngine(path)
    try:
        engine.cursor().execute("CHECKPOINT")
    finally:
        engine.close()
    fresh = path.with_name(path.name + ".compact")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{_quoted(path)}' AS old (READ_ONLY)")
        con.execute(f"ATTACH '{_quoted(fresh)}' AS fresh")
        con.execute("COPY FROM DATABASE old TO fresh")
        con.execute("DETACH fresh")
        con.execute("DETACH old")
    except duckdb.Error as exc:
        raise StorageError(f"could not compact {path}: {exc}") from exc
    finally:
        con.close()
    with fresh.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(fresh, path)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return before, path.stat().st_size


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
