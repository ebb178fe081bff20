"""The SQL of next best offers: `offers`, `offer_impressions`, and the `Offer …` events read
from the log (the `OfferStore` protocol of store/offer_store.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from empreinte.store.duckdb.access import DuckDBTables
from empreinte.store.duckdb.results import first_row
from empreinte.store.offer_store import FeedbackRow, Impression


class DuckDBOfferStore(DuckDBTables):
    """Offers and impressions in the workspace's DuckDB file."""

    def save(self, rows: Sequence[tuple[str, dict[str, Any]]], at: datetime) -> int:
        # No Python name here is a table's: DuckDB would scan it if the table were missing.
        with self._transaction("save offers") as cur:
            for offer_id, definition in rows:
                cur.execute("DELETE FROM offers WHERE offer_id = ?", [offer_id])
                cur.execute(
                    "INSERT INTO offers (offer_id, definition, updated_at) VALUES (?, ?, ?)",
                    [offer_id, orjson.dumps(definition).decode(), at],
                )
        return len(rows)

    def definitions(self) -> list[tuple[str, dict[str, Any]]]:
        rows = (
            self._cur().execute("SELECT offer_id, definition FROM offers ORDER BY offer_id")
        ).fetchall()
        return [(str(offer_id), orjson.loads(doc)) for offer_id, doc in rows]

    def record(self, impressions: Sequence[Impression]) -> None:
        if not impressions:
            return
        with self._transaction("record offer impressions") as cur:
            cur.executemany(
                "INSERT INTO offer_impressions VALUES (?, ?, ?, ?, ?)",
                [
                    [i.profile_id, i.offer_id, i.channel, i.shown_at, i.personalised]
                    for i in impressions
                ],
            )

    def impressions(self) -> list[Impression]:
        rows = (
            self._cur()
            .execute(
                "SELECT profile_id, offer_id, channel, shown_at, personalised "
                "FROM offer_impressions ORDER BY shown_at"
            )
            .fetchall()
        )
        return [Impression(str(p), str(o), c, s, bool(x)) for p, o, c, s, x in rows]

    def forget(self, profile_ids: Sequence[str]) -> int:
        if not profile_ids:
            return 0
        with self._transaction("forget offer impressions") as cur:
            rows = cur.execute(
                "DELETE FROM offer_impressions WHERE list_contains(?, profile_id) RETURNING 1",
                [list(profile_ids)],
            ).fetchall()
        return len(rows)

    def keys_by_profile(self) -> dict[str, tuple[str, ...]]:
        rows = (
            self._cur()
            .execute("SELECT profile_id, list(id_key ORDER BY id_key) FROM identities GROUP BY 1")
            .fetchall()
        )
        return {str(pid): tuple(keys) for pid, keys in rows}

    def feedback_since(
        self, seq: int, events: Sequence[str], limit: int
    ) -> tuple[list[FeedbackRow], int]:
        cur = self._cur()
        top = first_row(cur.execute("SELECT coalesce(max(seq), 0) FROM events"))
        upto = int(top[0]) if top else 0
        if upto <= seq:
            return [], seq
        # `seq` bounds on both sides: zone maps skip the row groups read already.
        rows = cur.execute(
            "SELECT seq, event, properties->>'$.offer_id' AS offer, source, timestamp, "
            "identifiers FROM events WHERE seq > ? AND seq <= ? AND type = 'track' "
            "AND list_contains(?, event) "
            "AND (NOT starts_with(event, 'Offer ') "
            "     OR json_type(properties, '$.offer_id') = 'VARCHAR') "
            "ORDER BY seq LIMIT ?",
            [seq, upto, list(events), limit],
        ).fetchall()
        found = [
            FeedbackRow(int(s), str(e), str(o or ""), str(src), at, tuple(ids or ()))
            for s, e, o, src, at, ids in rows
        ]
        return found, (found[-1].seq if len(found) == limit else upto)
