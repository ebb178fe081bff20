"""The SQL of the loyalty programme (the `LoyaltyStore` protocol of store/loyalty_store.py).

Every write takes the engine's loyalty lock and runs in one transaction: a post reads the
balances it must keep non-negative and appends its rows under the lock, so two concurrent
completions cannot both spend the last of a budget (DuckDB's optimistic concurrency sees no
conflict between two appends, hence the lock rather than isolation alone).
"""

from __future__ import annotations

import builtins
import json
import threading
import weakref
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from empreinte.store.duckdb.access import DuckDBTables
from empreinte.store.duckdb.engine import DuckDBEngine
from empreinte.store.loyalty_store import (
    Acceptance,
    Assignment,
    LedgerRow,
    Outcome,
    Posted,
    Transaction,
)

_LOCKS: weakref.WeakKeyDictionary[DuckDBEngine, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()

_ROW = "txn, source, kind, rule, reason, occurred_at, booked_at, account, member_id, points, lot_at"


def _lock_of(engine: DuckDBEngine) -> threading.Lock:
    with _LOCKS_GUARD:
        lock = _LOCKS.get(engine)
        if lock is None:
            lock = _LOCKS[engine] = threading.Lock()
        return lock


def _arrow(txns: Sequence[tuple[int, Transaction]], booked_at: datetime) -> pa.Table:
    columns: dict[str, list[Any]] = {name.strip(): [] for name in _ROW.split(",")}
    for txn_id, txn in txns:
        for entry in txn.entries:
            columns["txn"].append(txn_id)
            columns["source"].append(txn.source)
            columns["kind"].append(txn.kind)
            columns["rule"].append(txn.rule)
            columns["reason"].append(txn.reason)
            columns["occurred_at"].append(txn.at)
            columns["booked_at"].append(booked_at)
            columns["account"].append(entry.account)
            columns["member_id"].append(entry.profile_id)
            columns["points"].append(entry.points)
            columns["lot_at"].append(entry.lot_at)
    stamp = pa.timestamp("us", tz="UTC")
    types = {"txn": pa.int64(), "points": pa.int64(), "occurred_at": stamp, "booked_at": stamp}
    types["lot_at"] = stamp
    return pa.table(
        {name: pa.array(values, types.get(name, pa.string())) for name, values in columns.items()}
    )


class DuckDBLoyaltyStore(DuckDBTables):
    """The loyalty tables in the workspace's DuckDB file."""

    def __init__(self, engine: DuckDBEngine):
        super().__init__(engine)
        self._lock = _lock_of(engine)

    # -- the ledger ------------------------------------------------------------------------

    def _append(self, cur: duckdb.DuckDBPyConnection, txns: Sequence[Transaction]) -> int:
        """Insert the transactions whose source is new (inside the caller's transaction)."""
        if not txns:
            return 0
        sources = pa.table({"source": pa.array([t.source for t in txns], pa.string())})
        cur.register("_loyalty_sources", sources)
        try:
            known = {
                str(row[0])
                for row in cur.execute(
                    "SELECT source FROM loyalty_sources WHERE source IN "
                    "(SELECT source FROM _loyalty_sources)"
                ).fetchall()
            }
        finally:
            cur.unregister("_loyalty_sources")
        fresh: list[Transaction] = []
        seen: set[str] = set()
        for txn in txns:
            if txn.source not in known and txn.source not in seen:
                seen.add(txn.source)
                fresh.append(txn)
        if not fresh:
            return 0
        first = cur.execute(
            "SELECT nextval('loyalty_txn_seq') FROM range(?)", [len(fresh)]
        ).fetchall()
        numbered = [(int(row[0]), txn) for row, txn in zip(first, fresh, strict=True)]
        rows = _arrow(numbered, datetime.now(UTC))
        ids = pa.table(
            {
                "source": pa.array([t.source for _, t in numbered], pa.string()),
                "txn": pa.array([n for n, _ in numbered], pa.int64()),
            }
        )
        cur.register("_loyalty_rows", rows)
        cur.register("_loyalty_ids", ids)
        try:
            cur.execute("INSERT INTO loyalty_sources SELECT source, txn FROM _loyalty_ids")
            cur.execute(f"INSERT INTO loyalty_ledger SELECT {_ROW} FROM _loyalty_rows")
        finally:
            cur.unregister("_loyalty_rows")
            cur.unregister("_loyalty_ids")
        return len(numbered)

    def _balances(self, cur: duckdb.DuckDBPyConnection, accounts: Sequence[str]) -> dict[str, int]:
        if not accounts:
            return {}
        rows = cur.execute(
            "SELECT account, sum(points) FROM loyalty_ledger "
            "WHERE list_contains($accounts, account) GROUP BY account",
            {"accounts": list(accounts)},
        ).fetchall()
        found = {str(a): int(p) for a, p in rows}
        return {a: found.get(a, 0) for a in accounts}

    def post(self, txn: Transaction, non_negative: Sequence[str] = ()) -> Posted:
        with self._lock, self._transaction(f"post {txn.kind} {txn.source!r}") as cur:
            taken = cur.execute(
                "SELECT 1 FROM loyalty_sources WHERE source = ?", [txn.source]
            ).fetchall()
            if taken:
                return Posted.DUPLICATE
            if non_negative:
                now = self._balances(cur, non_negative)
                for entry in txn.entries:
                    if entry.account in now:
                        now[entry.account] += entry.points
                if any(points < 0 for points in now.values()):
                    return Posted.INSUFFICIENT
            self._append(cur, [txn])
        return Posted.POSTED

    def post_many(self, txns: Sequence[Transaction], guarded: str | None = None) -> int:
        with self._lock, self._transaction("post loyalty transactions") as cur:
            if guarded is not None:
                touched = sorted(
                    {e.account for t in txns for e in t.entries if e.account.startswith(guarded)}
                )
                now = self._balances(cur, touched)
                kept = []
                for txn in txns:
                    after = {e.account: now.get(e.account, 0) for e in txn.entries}
                    for e in txn.entries:
                        after[e.account] += e.points
                    if any(v < 0 for a, v in after.items() if a.startswith(guarded)):
                        continue
                    now.update({a: v for a, v in after.items() if a in now})
                    kept.append(txn)
                txns = kept
            return self._append(cur, txns)

    def all_credits(self, prefix: str) -> dict[str, builtins.list[tuple[datetime, int]]]:
        rows = (
            self._cur()
            .execute(
                "SELECT account, coalesce(lot_at, occurred_at), points FROM loyalty_ledger "
                "WHERE starts_with(account, ?) AND points > 0 "
                "ORDER BY account, coalesce(lot_at, occurred_at), txn",
                [prefix],
            )
            .fetchall()
        )
        out: dict[str, builtins.list[tuple[datetime, int]]] = {}
        for account, at, points in rows:
            out.setdefault(str(account), []).append((at, int(points)))
        return out

    def balances(self, accounts: Sequence[str]) -> dict[str, int]:
        return self._balances(self._cur(), accounts)

    def balances_like(self, prefix: str) -> dict[str, int]:
        rows = (
            self._cur()
            .execute(
                "SELECT account, sum(points) FROM loyalty_ledger "
                "WHERE starts_with(account, ?) GROUP BY account ORDER BY account",
                [prefix],
            )
            .fetchall()
        )
        return {str(a): int(p) for a, p in rows}

    def rows(
        self, account: str | None = None, limit: int = 100, offset: int = 0
    ) -> builtins.list[LedgerRow]:
        where, params = ("WHERE account = ?", [account]) if account is not None else ("", [])
        rows = (
            self._cur()
            .execute(
                f"SELECT {_ROW} FROM loyalty_ledger {where} "
                "ORDER BY txn DESC, points DESC LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
            .fetchall()
        )
        return [
            LedgerRow(
                txn=int(r[0]),
                source=r[1],
                kind=r[2],
                rule=r[3],
                reason=r[4],
                at=r[5],
                booked_at=r[6],
                account=r[7],
                profile_id=r[8],
                points=int(r[9]),
                lot_at=r[10],
            )
            for r in rows
        ]

    def credits(self, account: str) -> builtins.list[tuple[datetime, int]]:
        rows = (
            self._cur()
            .execute(
                "SELECT coalesce(lot_at, occurred_at), points FROM loyalty_ledger "
                "WHERE account = ? AND points > 0 ORDER BY coalesce(lot_at, occurred_at), txn",
                [account],
            )
            .fetchall()
        )
        return [(at, int(points)) for at, points in rows]

    def engagement_points(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        if not keys:
            return {}
        wanted = pa.table(
            {
                "profile_id": pa.array([k[0] for k in keys], pa.string()),
                "day": pa.array([k[1] for k in keys], pa.string()),
            }
        )
        cur = self._engine.cursor()  # a cursor of its own: `register` needs a fresh one
        cur.register("_loyalty_days", wanted)
        try:
            # The day is the rule's suffix ("visit:Store Visited:2025-03-02"): see earning.py.
            rows = cur.execute(
                "SELECT l.member_id, w.day, sum(l.points) FROM loyalty_ledger l "
                "JOIN (SELECT DISTINCT profile_id, day FROM _loyalty_days) w "
                "ON l.member_id = w.profile_id AND l.rule LIKE 'engage:' || w.day || ':%' "
                "WHERE l.kind = 'earn' AND l.points > 0 "
                "GROUP BY l.member_id, w.day"
            ).fetchall()
        finally:
            cur.close()
        return {(str(p), str(d)): int(n) for p, d, n in rows}

    def totals(self) -> dict[str, int]:
        rows = (
            self._cur()
            .execute(
                "SELECT account, kind, sum(points) FROM loyalty_ledger "
                "WHERE NOT starts_with(account, 'member:') GROUP BY account, kind"
            )
            .fetchall()
        )
        return {f"{a}|{k}": int(p) for a, k, p in rows}

    def flows(self) -> builtins.list[tuple[str, str, int]]:
        rows = (
            self._cur()
            .execute(
                "SELECT strftime(occurred_at, '%Y-%m') AS month, kind, sum(abs(points)) "
                "FROM loyalty_ledger WHERE starts_with(account, 'member:') "
                "AND kind IN ('earn', 'redeem', 'expire', 'reward') "
                "GROUP BY month, kind ORDER BY month, kind"
            )
            .fetchall()
        )
        return [(str(m), str(k), int(p)) for m, k, p in rows]

    def sum_all(self) -> int:
        rows = self._cur().execute("SELECT coalesce(sum(points), 0) FROM loyalty_ledger").fetchall()
        return int(rows[0][0]) if rows else 0

    def member_ids(self) -> builtins.set[str]:
        rows = (
            self._cur()
            .execute("SELECT DISTINCT member_id FROM loyalty_ledger WHERE member_id IS NOT NULL")
            .fetchall()
        )
        return {str(r[0]) for r in rows}

    def anonymise(self, profile_ids: Sequence[str], account: str) -> int:
        if not profile_ids:
            return 0
        ids = {"ids": list(profile_ids)}
        with self._lock, self._transaction("anonymise erased loyalty members") as cur:
            changed = cur.execute(
                "UPDATE loyalty_ledger SET account = $account, member_id = NULL "
                "WHERE list_contains($ids, member_id) RETURNING 1",
                {**ids, "account": account},
            ).fetchall()
            for table in ("loyalty_assignments", "loyalty_acceptances", "loyalty_outcomes"):
                cur.execute(f"DELETE FROM {table} WHERE list_contains($ids, profile_id)", ids)
        return len(changed)

    def cursor(self, name: str) -> int:
        row = (
            self._cur().execute("SELECT seq FROM loyalty_cursors WHERE name = ?", [name]).fetchall()
        )
        return int(row[0][0]) if row else 0

    def set_cursor(self, name: str, seq: int) -> None:
        with self._lock, self._transaction("move the loyalty cursor") as cur:
            cur.execute(
                "INSERT INTO loyalty_cursors VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
                [name, seq],
            )

    # -- campaigns ---------------------------------------------------------------------------

    def save_campaign(
        self,
        name: str,
        document: Mapping[str, Any],
        at: datetime,
        funding: Sequence[Transaction] = (),
    ) -> bool:
        with self._lock, self._transaction(f"save campaign {name!r}") as cur:
            taken = cur.execute("SELECT 1 FROM loyalty_campaigns WHERE name = ?", [name]).fetchall()
            if taken:
                return False
            cur.execute(
                "INSERT INTO loyalty_campaigns VALUES (?, ?, ?)",
                [name, json.dumps(dict(document)), at],
            )
            self._append(cur, funding)
        return True

    def campaign(self, name: str) -> dict[str, Any] | None:
        row = (
            self._cur()
            .execute("SELECT document FROM loyalty_campaigns WHERE name = ?", [name])
            .fetchall()
        )
        if not row:
            return None
        found: dict[str, Any] = json.loads(row[0][0])
        return found

    def campaigns(self) -> builtins.list[dict[str, Any]]:
        rows = (
            self._cur()
            .execute("SELECT document FROM loyalty_campaigns ORDER BY created_at, name")
            .fetchall()
        )
        return [json.loads(r[0]) for r in rows]

    def assign(self, rows: Sequence[Assignment]) -> int:
        if not rows:
            return 0
        table = pa.table(
            {
                "campaign": pa.array([r.campaign for r in rows], pa.string()),
                "profile_id": pa.array([r.profile_id for r in rows], pa.string()),
                "grp": pa.array([r.group for r in rows], pa.string()),
                "challenge": pa.array([r.challenge for r in rows], pa.string()),
                "rank": pa.array([r.rank for r in rows], pa.int32()),
                "reason": pa.array([r.reason for r in rows], pa.string()),
                "occurred_at": pa.array([r.at for r in rows], pa.timestamp("us", tz="UTC")),
            }
        )
        with self._lock, self._transaction("save challenge offers") as cur:
            cur.register("_loyalty_assign", table)
            try:
                done = cur.execute(
                    "INSERT INTO loyalty_assignments SELECT * FROM _loyalty_assign n "
                    "WHERE NOT EXISTS (SELECT 1 FROM loyalty_assignments a "
                    "WHERE a.campaign = n.campaign AND a.profile_id = n.profile_id) RETURNING 1"
                ).fetchall()
            finally:
                cur.unregister("_loyalty_assign")
        return len(done)

    def assignments(
        self, campaign: str, profile_id: str | None = None
    ) -> builtins.list[Assignment]:
        where, params = ("AND profile_id = ?", [profile_id]) if profile_id else ("", [])
        rows = (
            self._cur()
            .execute(
                "SELECT campaign, profile_id, grp, challenge, rank, reason, occurred_at "
                f"FROM loyalty_assignments WHERE campaign = ? {where} "
                "ORDER BY profile_id, rank",
                [campaign, *params],
            )
            .fetchall()
        )
        return [Assignment(*r) for r in rows]

    def assigned_ids(self, campaign: str) -> builtins.set[str]:
        rows = (
            self._cur()
            .execute(
                "SELECT DISTINCT profile_id FROM loyalty_assignments WHERE campaign = ?",
                [campaign],
            )
            .fetchall()
        )
        return {str(r[0]) for r in rows}

    def accept(self, acceptance: Acceptance) -> bool:
        with self._lock, self._transaction("accept a challenge") as cur:
            done = cur.execute(
                "INSERT INTO loyalty_acceptances VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING RETURNING 1",
                [acceptance.campaign, acceptance.profile_id, acceptance.challenge, acceptance.at],
            ).fetchall()
        return bool(done)

    def acceptances(
        self, campaign: str, profile_id: str | None = None
    ) -> builtins.list[Acceptance]:
        where, params = ("AND profile_id = ?", [profile_id]) if profile_id else ("", [])
        rows = (
            self._cur()
            .execute(
                "SELECT campaign, profile_id, challenge, occurred_at FROM loyalty_acceptances "
                f"WHERE campaign = ? {where} ORDER BY occurred_at, profile_id",
                [campaign, *params],
            )
            .fetchall()
        )
        return [Acceptance(*r) for r in rows]

    def outcome(self, campaign: str, profile_id: str) -> Outcome | None:
        row = (
            self._cur()
            .execute(
                "SELECT campaign, profile_id, challenge, status, occurred_at FROM loyalty_outcomes "
                "WHERE campaign = ? AND profile_id = ? ORDER BY occurred_at DESC LIMIT 1",
                [campaign, profile_id],
            )
            .fetchall()
        )
        return Outcome(*row[0]) if row else None

    def record_outcome(self, outcome: Outcome) -> None:
        with self._lock, self._transaction("record a challenge outcome") as cur:
            cur.execute(
                "INSERT INTO loyalty_outcomes VALUES (?, ?, ?, ?, ?)",
                [
                    outcome.campaign,
                    outcome.profile_id,
                    outcome.challenge,
                    outcome.status,
                    outcome.at,
                ],
            )

    def outcomes(self, campaign: str) -> builtins.list[Outcome]:
        rows = (
            self._cur()
            .execute(
                "SELECT campaign, profile_id, challenge, status, occurred_at FROM loyalty_outcomes "
                "WHERE campaign = ? ORDER BY occurred_at, profile_id",
                [campaign],
            )
            .fetchall()
        )
        return [Outcome(*r) for r in rows]
