"""The `match_reviews` table: every probabilistic match proposed, and what became of it.

A row is a pair (a file's record and a known profile, or two records of one file) with its
probability and comparison detail. Its status is `pending` until decided, then `accepted`
(automatically above the high threshold, or by an admin) or `rejected`. Decided rows are never
changed again, so a rejected pair is remembered and not proposed again. This module holds all
the SQL of that table.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from empreinte.errors import StorageError
from empreinte.store.duckdb.engine import DuckDBEngine
from empreinte.store.duckdb.results import first_row
from empreinte.store.match_store import MatchReview, ReviewStatus

_COLUMNS = (
    "review_id",
    "created_at",
    "source_file",
    "record_id",
    "profile_id",
    "other_record_id",
    "probability",
    "detail",
    "status",
    "decided_at",
    "decided_by",
)
_SELECT = ", ".join(_COLUMNS)
_TS = pa.timestamp("us", tz="UTC")
_SCHEMA = pa.schema(
    [
        ("review_id", pa.string()),
        ("created_at", _TS),
        ("source_file", pa.string()),
        ("record_id", pa.string()),
        ("profile_id", pa.string()),
        ("other_record_id", pa.string()),
        ("probability", pa.float64()),
        ("detail", pa.string()),
        ("status", pa.string()),
        ("decided_at", _TS),
        ("decided_by", pa.string()),
    ]
)


def _review(values: Sequence[Any]) -> MatchReview:
    record = dict(zip(_COLUMNS, values, strict=True))
    detail = record["detail"]
    record["detail"] = orjson.loads(detail) if isinstance(detail, str | bytes) else detail
    return MatchReview(**record)


class DuckDBMatchStore:
    """Reads and writes `match_reviews` of a workspace's DuckDB database."""

    def __init__(self, engine: DuckDBEngine):
        self._engine = engine

    @contextlib.contextmanager
    def _cur(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for one operation: the engine's shared cursors may hold an
        unfinished result (DuckDB 2 then refuses `register` on them)."""
        cur = self._engine.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def statuses(self, review_ids: Sequence[str]) -> dict[str, str]:
        """The status of each of `review_ids` that has a row."""
        if not review_ids:
            return {}
        ids = pa.table({"review_id": pa.array(list(review_ids), pa.string())})
        with self._cur() as cur:
            cur.register("_wanted_reviews", ids)
            rows = cur.execute(
                "SELECT m.review_id, m.status FROM match_reviews m "
                "JOIN _wanted_reviews w USING (review_id)"
            ).fetchall()
        return {str(r): str(s) for r, s in rows}

    def save(self, reviews: Sequence[MatchReview]) -> None:
        """Insert new reviews; a review still pending is refreshed (probability, detail,
        status and decision); a decided one is left as it is."""
        if not reviews:
            return
        batch = pa.Table.from_pylist(
            [
                {
                    **{c: getattr(r, c) for c in _COLUMNS},
                    "detail": orjson.dumps(r.detail).decode(),
                }
                for r in reviews
            ],
            schema=_SCHEMA,
        )
        with self._cur() as cur:
            cur.register("_incoming_reviews", batch)
            try:
                cur.execute(
                    f"INSERT INTO match_reviews ({_SELECT}) "
                    f"SELECT {_SELECT} FROM _incoming_reviews "
                    "ON CONFLICT (review_id) DO UPDATE SET "
                    "source_file = excluded.source_file, probability = excluded.probability, "
                    "detail = excluded.detail, status = excluded.status, "
                    "decided_at = excluded.decided_at, decided_by = excluded.decided_by "
                    "WHERE match_reviews.status = 'pending'"
                )
            except duckdb.Error as exc:
                raise StorageError(f"could not save {len(reviews)} match reviews: {exc}") from exc

    def get(self, review_id: str) -> MatchReview | None:
        with self._cur() as cur:
            row = first_row(
                cur.execute(f"SELECT {_SELECT} FROM match_reviews WHERE review_id = ?", [review_id])
            )
        return _review(row) if row else None

    def list(
        self, status: str | None = ReviewStatus.PENDING, limit: int = 100, offset: int = 0
    ) -> list[MatchReview]:
        """Reviews with `status` (all when None), most probable first."""
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        with self._cur() as cur:
            rows = cur.execute(
                f"SELECT {_SELECT} FROM match_reviews {where} "
                "ORDER BY probability DESC, review_id LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        return [_review(r) for r in rows]

    def count(self, status: str | None = ReviewStatus.PENDING) -> int:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        with self._cur() as cur:
            row = first_row(cur.execute(f"SELECT count(*) FROM match_reviews {where}", params))
        return int(row[0]) if row else 0

    def decide(self, review_id: str, status: str, actor: str, at: datetime) -> bool:
        """Mark a pending review accepted or rejected; False when it was not pending."""
        with self._cur() as cur:
            row = first_row(
                cur.execute(
                    "UPDATE match_reviews SET status = ?, decided_at = ?, decided_by = ? "
                    "WHERE review_id = ? AND status = 'pending' RETURNING review_id",
                    [status, at, actor, review_id],
                )
            )
        return row is not None
