"""The SQL of destinations: `destinations`, their outbox `destination_deliveries`, what each
was told (`destination_audiences`) and whom each received (`destination_recipients`) — the
`DestinationStore` protocol of store/destination_store.py."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa

from empreinte.store.destination_store import (
    DEAD,
    PENDING,
    SENT,
    WITHHELD,
    Delivery,
    DestinationRecord,
    NewDelivery,
    Recipient,
)
from empreinte.store.duckdb.access import DuckDBTables

_COLUMNS = (
    "name",
    "kind",
    "target",
    "purpose",
    "segments",
    "traits",
    "events",
    "created_at",
    "created_by",
    "event_cursor",
    "round_at",
    "round_error",
)
_SELECT = ", ".join(_COLUMNS)
_DELIVERY = (
    "delivery_id, destination, profile_id, type, payload, status, attempts, next_at, "
    "last_error, created_at, sent_at, erasure_id"
)


def _record(row: Sequence[Any]) -> DestinationRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    for key in ("segments", "traits", "events"):
        values[key] = tuple(values[key] or ())
    return DestinationRecord(**values)


def _delivery(row: Sequence[Any]) -> Delivery:
    payload = row[4]
    return Delivery(
        str(row[0]),
        str(row[1]),
        row[2],
        str(row[3]),
        orjson.loads(payload) if payload is not None else None,
        str(row[5]),
        int(row[6]),
        row[7],
        row[8],
        row[9],
        row[10],
        row[11],
    )


def _ids(values: Sequence[str]) -> pa.Table:
    return pa.table({"id": pa.array(sorted(set(values)), pa.string())})


class DuckDBDestinationStore(DuckDBTables):
    """Destinations and their outbox in the workspace's DuckDB file."""

    def create(self, record: DestinationRecord) -> bool:
        with self._transaction(f"save destination {record.name!r}") as cur:
            if cur.execute("SELECT 1 FROM destinations WHERE name = ?", [record.name]).fetchall():
                return False
            values = [getattr(record, c) for c in _COLUMNS]
            values = [list(v) if isinstance(v, tuple) else v for v in values]
            cur.execute(
                f"INSERT INTO destinations ({_SELECT}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                values,
            )
        return True

    def delete(self, name: str) -> bool:
        with self._transaction(f"delete destination {name!r}") as cur:
            for table in ("destination_deliveries", "destination_audiences", "destination_traits"):
                cur.execute(f"DELETE FROM {table} WHERE destination = ?", [name])
            # With its address gone, no deletion request can reach it any more: its record of
            # recipients goes too (docs/destinations.md says so before removing one).
            cur.execute("DELETE FROM destination_recipients WHERE destination = ?", [name])
            row = cur.execute(
                "DELETE FROM destinations WHERE name = ? RETURNING name", [name]
            ).fetchall()
        return bool(row)

    def get(self, name: str) -> DestinationRecord | None:
        row = (
            self._cur()
            .execute(f"SELECT {_SELECT} FROM destinations WHERE name = ?", [name])
            .fetchall()
        )
        return _record(row[0]) if row else None

    def list(self) -> builtins.list[DestinationRecord]:
        rows = self._cur().execute(f"SELECT {_SELECT} FROM destinations ORDER BY name").fetchall()
        return [_record(r) for r in rows]

    def set_cursor(self, name: str, seq: int) -> None:
        self._cur().execute(
            "UPDATE destinations SET event_cursor = ? WHERE name = ?", [seq, name]
        ).fetchall()

    def set_round(self, name: str, at: datetime, error: str | None) -> None:
        self._cur().execute(
            "UPDATE destinations SET round_at = ?, round_error = ? WHERE name = ?",
            [at, error[:500] if error else None, name],
        ).fetchall()

    def told(self, name: str, segment: str) -> set[str]:
        rows = (
            self._cur()
            .execute(
                "SELECT profile_id FROM destination_audiences "
                "WHERE destination = ? AND segment = ?",
                [name, segment],
            )
            .fetchall()
        )
        return {str(r[0]) for r in rows}

    def queue(
        self,
        name: str,
        deliveries: Sequence[NewDelivery],
        *,
        entered: Mapping[str, Sequence[str]] | None = None,
        left: Mapping[str, Sequence[str]] | None = None,
        traits: Mapping[str, str] | None = None,
        at: datetime,
    ) -> int:
        rows = pa.table(
            {
                "delivery_id": [d.delivery_id for d in deliveries],
                "profile_id": pa.array([d.profile_id for d in deliveries], pa.string()),
                "type": [d.type for d in deliveries],
                "payload": [orjson.dumps(d.payload).decode() for d in deliveries],
                "erasure_id": pa.array([d.erasure_id for d in deliveries], pa.string()),
            },
            schema=pa.schema(
                [
                    ("delivery_id", pa.string()),
                    ("profile_id", pa.string()),
                    ("type", pa.string()),
                    ("payload", pa.string()),
                    ("erasure_id", pa.string()),
                ]
            ),
        )
        cur = self._cur()
        cur.register("_dest_new", rows)
        try:
            with self._transaction(f"queue deliveries of {name!r}") as tx:
                tx.execute(
                    "INSERT INTO destination_deliveries (delivery_id, destination, profile_id, "
                    "type, payload, status, attempts, next_at, created_at, erasure_id) "
                    "SELECT delivery_id, ?, profile_id, type, payload::JSON, ?, 0, ?, ?, "
                    "erasure_id FROM _dest_new",
                    [name, PENDING, at, at],
                )
                joined = [(segment, p) for segment, ids in (entered or {}).items() for p in ids]
                if joined:
                    tx.register(
                        "_dest_told",
                        pa.table(
                            {
                                "segment": pa.array([j[0] for j in joined], pa.string()),
                                "profile_id": pa.array([j[1] for j in joined], pa.string()),
                            }
                        ),
                    )
                    tx.execute(
                        "INSERT INTO destination_audiences SELECT ?, segment, profile_id "
                        "FROM _dest_told",
                        [name],
                    )
                    tx.unregister("_dest_told")
                if traits:
                    tx.register(
                        "_dest_traits",
                        pa.table(
                            {
                                "profile_id": pa.array(list(traits), pa.string()),
                                "digest": pa.array(list(traits.values()), pa.string()),
                            }
                        ),
                    )
                    tx.execute(
                        "DELETE FROM destination_traits WHERE destination = ? "
                        "AND profile_id IN (SELECT profile_id FROM _dest_traits)",
                        [name],
                    )
                    tx.execute(
                        "INSERT INTO destination_traits SELECT ?, profile_id, digest "
                        "FROM _dest_traits",
                        [name],
                    )
                    tx.unregister("_dest_traits")
                for segment, ids in (left or {}).items():
                    if ids:
                        tx.execute(
                            "DELETE FROM destination_audiences WHERE destination = ? "
                            "AND segment = ? AND list_contains(?::VARCHAR[], profile_id)",
                            [name, segment, list(ids)],
                        )
        finally:
            cur.unregister("_dest_new")
        return len(deliveries)

    def trait_digests(self, name: str) -> dict[str, str]:
        rows = (
            self._cur()
            .execute(
                "SELECT profile_id, digest FROM destination_traits WHERE destination = ?", [name]
            )
            .fetchall()
        )
        return {str(p): str(d) for p, d in rows}

    def due(self, name: str, now: datetime, limit: int) -> builtins.list[Delivery]:
        rows = (
            self._cur()
            .execute(
                f"SELECT {_DELIVERY} FROM destination_deliveries "
                "WHERE destination = ? AND status = ? AND next_at <= ? "
                "ORDER BY created_at, delivery_id LIMIT ?",
                [name, PENDING, now, limit],
            )
            .fetchall()
        )
        return [_delivery(r) for r in rows]

    def mark_sent(
        self, ids: Sequence[str], at: datetime, recipients: Sequence[Recipient] = ()
    ) -> None:
        if not ids:
            return
        cur = self._cur()
        cur.register("_dest_ids", _ids(ids))
        try:
            with self._transaction("record deliveries sent") as tx:
                tx.execute(
                    "UPDATE destination_deliveries SET status = ?, sent_at = ?, payload = NULL, "
                    "next_at = NULL, attempts = attempts + 1 "
                    "WHERE delivery_id IN (SELECT id FROM _dest_ids)",
                    [SENT, at],
                )
                if recipients:
                    latest = {(r.destination, r.profile_id): r for r in recipients}
                    people = pa.table(
                        {
                            "destination": [d for d, _ in latest],
                            "profile_id": [p for _, p in latest],
                            "user_id": pa.array([r.user_id for r in latest.values()], pa.string()),
                            "anonymous_id": pa.array(
                                [r.anonymous_id for r in latest.values()], pa.string()
                            ),
                        }
                    )
                    tx.register("_dest_people", people)
                    tx.execute(
                        "DELETE FROM destination_recipients WHERE (destination, profile_id) IN "
                        "(SELECT (destination, profile_id) FROM _dest_people)"
                    )
                    tx.execute(
                        "INSERT INTO destination_recipients SELECT destination, profile_id, "
                        "user_id, anonymous_id, ? FROM _dest_people",
                        [at],
                    )
                    tx.unregister("_dest_people")
        finally:
            cur.unregister("_dest_ids")

    def mark_failed(self, failures: Sequence[tuple[str, str, datetime | None]]) -> None:
        if not failures:
            return
        with self._transaction("record failed deliveries") as tx:
            for delivery_id, error, next_at in failures:
                tx.execute(
                    "UPDATE destination_deliveries SET attempts = attempts + 1, "
                    "last_error = ?, next_at = ?, status = ? WHERE delivery_id = ?",
                    [error[:500], next_at, PENDING if next_at else DEAD, delivery_id],
                )

    def mark_withheld(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        self._cur().execute(
            "UPDATE destination_deliveries SET status = ?, payload = NULL, next_at = NULL "
            "WHERE list_contains(?::VARCHAR[], delivery_id)",
            [WITHHELD, list(ids)],
        ).fetchall()

    def retry(self, name: str | None, ids: Sequence[str] | None, now: datetime) -> int:
        where = "status = ?"
        params: list[Any] = [DEAD]
        if name is not None:
            where += " AND destination = ?"
            params.append(name)
        if ids is not None:
            where += " AND list_contains(?::VARCHAR[], delivery_id)"
            params.append(list(ids))
        rows = (
            self._cur()
            .execute(
                "UPDATE destination_deliveries SET status = ?, attempts = 0, next_at = ? "
                f"WHERE {where} RETURNING delivery_id",
                [PENDING, now, *params],
            )
            .fetchall()
        )
        return len(rows)

    def deliveries(
        self, name: str | None, status: str | None, limit: int, type: str | None = None
    ) -> builtins.list[Delivery]:
        where, params = ["true"], []
        for column, value in (("destination", name), ("status", status), ("type", type)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        rows = (
            self._cur()
            .execute(
                f"SELECT {_DELIVERY} FROM destination_deliveries WHERE {' AND '.join(where)} "
                "ORDER BY created_at DESC, delivery_id DESC LIMIT ?",
                [*params, limit],
            )
            .fetchall()
        )
        return [_delivery(r) for r in rows]

    def counts(self) -> dict[str, dict[str, int]]:
        rows = (
            self._cur()
            .execute(
                # Pending after a failed try: "failing", apart from those not tried yet.
                "SELECT destination, CASE WHEN status = ? AND attempts > 0 THEN 'failing' "
                "ELSE status END, count(*) FROM destination_deliveries "
                "GROUP BY ALL ORDER BY ALL",
                [PENDING],
            )
            .fetchall()
        )
        out: dict[str, dict[str, int]] = {}
        for destination, status, n in rows:
            out.setdefault(str(destination), {})[str(status)] = int(n)
        return out

    def recipients(self, profile_ids: Sequence[str]) -> builtins.list[Recipient]:
        if not profile_ids:
            return []
        rows = (
            self._cur()
            .execute(
                "SELECT destination, profile_id, user_id, anonymous_id "
                "FROM destination_recipients WHERE list_contains(?::VARCHAR[], profile_id) "
                "ORDER BY destination, profile_id",
                [sorted(set(profile_ids))],
            )
            .fetchall()
        )
        return [Recipient(str(d), str(p), u, a) for d, p, u, a in rows]

    def prune(self, before: datetime) -> int:
        rows = (
            self._cur()
            .execute(
                "DELETE FROM destination_deliveries WHERE status IN (?, ?) AND type != 'delete' "
                "AND coalesce(sent_at, created_at) < ? RETURNING delivery_id",
                [SENT, WITHHELD, before],
            )
            .fetchall()
        )
        return len(rows)

    def max_seq(self) -> int:
        row = self._cur().execute("SELECT coalesce(max(seq), 0) FROM events").fetchall()
        return int(row[0][0]) if row else 0

    def cancel(self, erasure_id: str) -> None:
        self._cur().execute(
            "DELETE FROM destination_deliveries WHERE erasure_id = ? AND status = ?",
            [erasure_id, PENDING],
        ).fetchall()

    def user_ids(self, profile_ids: Sequence[str]) -> dict[str, str]:
        if not profile_ids:
            return {}
        cur = self._cur()
        cur.register("_dest_profiles", _ids(profile_ids))
        try:
            rows = cur.execute(
                "SELECT profile_id, min(substr(id_key, 9)) FROM identities "
                "WHERE id_type = 'user_id' AND profile_id IN (SELECT id FROM _dest_profiles) "
                "GROUP BY profile_id"
            ).fetchall()
        finally:
            cur.unregister("_dest_profiles")
        return {str(p): str(u) for p, u in rows}


__all__ = ["DEAD", "SENT", "WITHHELD", "DuckDBDestinationStore"]
