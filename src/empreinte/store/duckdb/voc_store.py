"""The SQL of the voice of the customer's analysis tables (`VocStore`, store/voc_store.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from empreinte.store.duckdb.access import DuckDBTables
from empreinte.store.duckdb.results import first_row
from empreinte.store.voc_store import LogText, TextFilter, TextRow, Topic

_CONVERSATIONS = ("Call Completed", "Chat Completed")
_VERBATIMS = ("comment", "feedback", "review", "verbatim")  # voc/model.py's VERBATIM_KEYS
_TEXT_COLUMNS = (
    "seq", "kind", "event", "occurred_at", "channel", "language", "turns", "words",
    "duration_s", "queue", "agent_id", "sentiment", "sentiment_start", "sentiment_end",
    "turn_sentiment", "reason", "reason_score", "reason_by", "silence_ratio", "overtalk_ratio",
    "caller_key",
)  # fmt: skip
_LIST_COLUMNS = (
    "seq", "kind", "event", "occurred_at", "channel", "language", "turns", "words",
    "duration_s", "queue", "agent_id", "sentiment", "sentiment_start", "sentiment_end",
    "reason", "reason_score", "reason_by", "silence_ratio", "overtalk_ratio",
)  # fmt: skip
_PERIODS = {"day", "week", "month", "quarter", "year"}
_SENTIMENT = {
    "negative": "t.sentiment <= -0.05",
    "neutral": "t.sentiment > -0.05 AND t.sentiment < 0.05",
    "positive": "t.sentiment >= 0.05",
}
# A text's topics after merges: a merged topic counts as the one it was merged into.
_EFFECTIVE = (
    "SELECT tt.seq, coalesce(tp.merged_into, tp.topic_id) AS topic_id, sum(tt.weight) AS weight "
    "FROM voc_text_topics tt JOIN voc_topics tp ON tp.topic_id = tt.topic_id "
    "GROUP BY ALL"
)


def _where(flt: TextFilter) -> tuple[str, list[Any]]:
    clauses, params = ["TRUE"], []
    for column in ("kind", "reason", "language"):
        value = getattr(flt, column)
        if value is not None:
            clauses.append(f"t.{column} = ?")
            params.append(value)
    if flt.sentiment is not None:
        clauses.append(_SENTIMENT[flt.sentiment])
    if flt.since is not None:
        clauses.append("t.occurred_at >= ?")
        params.append(flt.since)
    if flt.until is not None:
        clauses.append("t.occurred_at < ?")
        params.append(flt.until)
    if flt.topic_id is not None:
        clauses.append(f"t.seq IN (SELECT seq FROM ({_EFFECTIVE}) WHERE topic_id = ?)")
        params.append(flt.topic_id)
    return " AND ".join(clauses), params


def _records(cursor: Any) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class DuckDBVocStore(DuckDBTables):
    """The voc_* tables in the workspace's DuckDB file."""

    def cursor(self) -> int:
        value = self.state("cursor")
        return int(value) if value else 0

    def state(self, name: str) -> str | None:
        row = first_row(self._cur().execute("SELECT value FROM voc_state WHERE name = ?", [name]))
        return str(row[0]) if row else None

    def set_state(self, name: str, value: str) -> None:
        with self._transaction(f"save voc state {name}") as cur:
            cur.execute("INSERT OR REPLACE INTO voc_state VALUES (?, ?)", [name, value])

    def log_texts(self, after_seq: int, upto_seq: int, limit: int) -> list[LogText]:
        verbatim = " OR ".join(f"json_exists(properties, '$.{k}')" for k in _VERBATIMS)
        rows = (
            self._cur()
            .execute(
                "SELECT seq, event, timestamp, channel, properties, identifiers FROM events "
                "WHERE seq > ? AND seq <= ? AND NOT is_bot AND type = 'track' "
                f"AND (event IN (?, ?) OR {verbatim}) ORDER BY seq LIMIT ?",
                [after_seq, upto_seq, *_CONVERSATIONS, limit],
            )
            .fetchall()
        )
        out = []
        for seq, event, at, channel, properties, identifiers in rows:
            props = orjson.loads(properties) if properties else {}
            out.append(
                LogText(
                    int(seq),
                    event,
                    at,
                    channel,
                    props if isinstance(props, dict) else {},
                    tuple(identifiers or ()),
                )
            )
        return out

    def write_texts(self, rows: Sequence[TextRow], cursor: int, at: datetime) -> None:
        columns: dict[str, list[Any]] = {c: [getattr(r, c) for r in rows] for c in _TEXT_COLUMNS}
        columns["turn_sentiment"] = [list(r.turn_sentiment) for r in rows]
        table = pa.table(
            {
                **{c: columns[c] for c in _TEXT_COLUMNS if c != "turn_sentiment"},
                "turn_sentiment": pa.array(columns["turn_sentiment"], pa.list_(pa.float64())),
            }
        )
        names = ", ".join(_TEXT_COLUMNS)
        cur = self._engine.cursor()  # `register` wants a cursor of its own
        try:
            cur.register("_voc_new", table)
            cur.execute("BEGIN")
            try:
                cur.execute("DELETE FROM voc_text_topics WHERE seq IN (SELECT seq FROM _voc_new)")
                cur.execute("DELETE FROM voc_texts WHERE seq IN (SELECT seq FROM _voc_new)")
                # Only events still in the log: an erasure may have run since they were read.
                cur.execute(
                    f"INSERT INTO voc_texts ({names}, analysed_at) SELECT {names}, ? "
                    "FROM _voc_new WHERE seq IN (SELECT seq FROM events)",
                    [at],
                )
                cur.execute("INSERT OR REPLACE INTO voc_state VALUES ('cursor', ?)", [str(cursor)])
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        finally:
            cur.close()
        self._engine.checkpoint_if_large()

    def topics(self) -> list[Topic]:
        rows = (
            self._cur()
            .execute(
                # Texts counted live: new texts and erasures change them between refits.
                "SELECT topic_id, terms, label, merged_into, "
                "(SELECT count(*) FROM voc_text_topics tt WHERE tt.topic_id = t.topic_id), "
                "created_at FROM voc_topics t ORDER BY topic_id"
            )
            .fetchall()
        )
        return [Topic(int(i), tuple(t), lb, m, int(n), c) for i, t, lb, m, n, c in rows]

    def replace_topics(
        self,
        topics: Sequence[Topic],
        seqs: np.ndarray,
        topic_ids: np.ndarray,
        weights: np.ndarray,
        fitted_upto: int,
    ) -> None:
        links = pa.table(
            {
                "seq": pa.array(seqs, pa.int64()),
                "topic_id": pa.array(topic_ids, pa.int32()),
                "weight": pa.array(weights, pa.float64()),
            }
        )
        cur = self._engine.cursor()
        try:
            cur.register("_voc_links", links)
            cur.execute("BEGIN")
            try:
                cur.execute("DELETE FROM voc_topics")
                for t in topics:
                    cur.execute(
                        "INSERT INTO voc_topics VALUES (?, ?, ?, ?, ?, ?)",
                        [t.topic_id, list(t.terms), t.label, t.merged_into, t.texts, t.created_at],
                    )
                cur.execute("DELETE FROM voc_text_topics")
                cur.execute(
                    "INSERT INTO voc_text_topics SELECT seq, topic_id, weight FROM _voc_links "
                    "WHERE seq IN (SELECT seq FROM voc_texts)"
                )
                cur.execute(
                    "INSERT OR REPLACE INTO voc_state VALUES ('topics_upto', ?)",
                    [str(fitted_upto)],
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        finally:
            cur.close()
        self._engine.checkpoint_if_large()

    def add_text_topics(self, seqs: np.ndarray, topic_ids: np.ndarray, weights: np.ndarray) -> None:
        if not len(seqs):
            return
        links = pa.table(
            {
                "seq": pa.array(seqs, pa.int64()),
                "topic_id": pa.array(topic_ids, pa.int32()),
                "weight": pa.array(weights, pa.float64()),
            }
        )
        cur = self._engine.cursor()
        try:
            cur.register("_voc_links", links)
            cur.execute(
                "INSERT INTO voc_text_topics SELECT seq, topic_id, weight FROM _voc_links "
                "WHERE seq IN (SELECT seq FROM voc_texts) "
                "AND topic_id IN (SELECT topic_id FROM voc_topics)"
            )
        finally:
            cur.close()

    def rename_topic(self, topic_id: int, label: str | None) -> bool:
        with self._transaction(f"rename topic {topic_id}") as cur:
            row = first_row(
                cur.execute(
                    "UPDATE voc_topics SET label = ? WHERE topic_id = ? RETURNING topic_id",
                    [label, topic_id],
                )
            )
        return row is not None

    def merge_topic(self, topic_id: int, into: int | None) -> bool:
        with self._transaction(f"merge topic {topic_id}") as cur:
            ids = {int(r[0]) for r in cur.execute("SELECT topic_id FROM voc_topics").fetchall()}
            if topic_id not in ids or (into is not None and into not in ids):
                return False
            if into is not None:
                # Merge into the target's own target: chains stay one step long.
                row = first_row(
                    cur.execute("SELECT merged_into FROM voc_topics WHERE topic_id = ?", [into])
                )
                into = int(row[0]) if row and row[0] is not None else into
                if into == topic_id:
                    return False
                cur.execute(
                    "UPDATE voc_topics SET merged_into = ? WHERE merged_into = ?", [into, topic_id]
                )
            cur.execute(
                "UPDATE voc_topics SET merged_into = ? WHERE topic_id = ?", [into, topic_id]
            )
        return True

    def _topics_of(self, seqs: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        if not seqs:
            return {}
        rows = (
            self._cur()
            .execute(
                f"SELECT e.seq, e.topic_id, e.weight, tp.label, tp.terms FROM ({_EFFECTIVE}) e "
                "JOIN voc_topics tp ON tp.topic_id = e.topic_id "
                "WHERE e.seq IN (SELECT unnest(?::BIGINT[])) ORDER BY e.seq, e.weight DESC",
                [list(seqs)],
            )
            .fetchall()
        )
        out: dict[int, list[dict[str, Any]]] = {}
        for seq, topic_id, weight, label, terms in rows:
            out.setdefault(int(seq), []).append(
                {
                    "topic_id": int(topic_id),
                    "label": label or " · ".join(list(terms)[:3]),
                    "weight": round(float(weight), 3),
                }
            )
        return out

    def texts(self, flt: TextFilter, limit: int, offset: int) -> list[dict[str, Any]]:
        where, params = _where(flt)
        cols = ", ".join(f"t.{c}" for c in _LIST_COLUMNS)
        out = _records(
            self._cur().execute(
                f"SELECT {cols} FROM voc_texts t WHERE {where} "
                "ORDER BY t.occurred_at DESC, t.seq DESC LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
        )
        topics = self._topics_of([r["seq"] for r in out])
        for row in out:
            row["topics"] = topics.get(row["seq"], [])
        return out

    def count_texts(self, flt: TextFilter) -> int:
        where, params = _where(flt)
        row = self._cur().execute(f"SELECT count(*) FROM voc_texts t WHERE {where}", params)
        found = first_row(row)
        return int(found[0]) if found else 0

    def text(self, seq: int) -> dict[str, Any] | None:
        cols = ", ".join(f"t.{c}" for c in _LIST_COLUMNS)
        cur = self._cur().execute(
            f"SELECT {cols}, t.turn_sentiment, e.properties FROM voc_texts t "
            "JOIN events e ON e.seq = t.seq WHERE t.seq = ?",
            [seq],
        )
        rows = _records(cur)
        if not rows:
            return None
        row = rows[0]
        row["properties"] = orjson.loads(row["properties"]) if row["properties"] else {}
        row["topics"] = self._topics_of([seq]).get(seq, [])
        return row

    def topic_volumes(self, timezone: str, period: str) -> list[dict[str, Any]]:
        assert period in _PERIODS
        return _records(
            self._cur().execute(
                f"SELECT e.topic_id, date_trunc('{period}', timezone(?, t.occurred_at))::DATE "
                "AS period, count(*) AS texts, avg(t.sentiment) AS sentiment "
                f"FROM ({_EFFECTIVE}) e JOIN voc_texts t ON t.seq = e.seq "
                "GROUP BY ALL ORDER BY period, e.topic_id",
                [timezone],
            )
        )

    def reason_volumes(self, timezone: str, period: str) -> list[dict[str, Any]]:
        assert period in _PERIODS
        return _records(
            self._cur().execute(
                f"SELECT reason, date_trunc('{period}', timezone(?, occurred_at))::DATE AS period, "
                "count(*) AS texts, avg(sentiment) AS sentiment FROM voc_texts "
                "WHERE reason IS NOT NULL GROUP BY ALL ORDER BY period, reason",
                [timezone],
            )
        )

    _CONTACTS = (
        "SELECT *, CASE WHEN caller_key IS NULL THEN NULL ELSE coalesce("
        "lead(occurred_at) OVER (PARTITION BY caller_key ORDER BY occurred_at, seq) "
        "<= occurred_at + to_days(?::INTEGER), FALSE) END AS repeated "
        "FROM voc_texts WHERE kind IN ('call', 'chat')"
    )

    def quality(self, window_days: int) -> list[dict[str, Any]]:
        return _records(
            self._cur().execute(
                "SELECT CASE WHEN grouping(reason) = 1 THEN '*' ELSE coalesce(reason, '(none)') "
                "END AS reason, count(*) AS contacts, avg(duration_s) AS mean_duration_s, "
                "avg(silence_ratio) AS silence_ratio, avg(overtalk_ratio) AS overtalk_ratio, "
                "count(caller_key) AS with_caller, count(*) FILTER (repeated) AS repeated, "
                "1 - (count(*) FILTER (repeated)) / nullif(count(caller_key), 0) AS fcr, "
                "avg(sentiment_end - sentiment_start) AS sentiment_change "
                f"FROM ({self._CONTACTS}) GROUP BY GROUPING SETS ((reason), ()) "
                "ORDER BY grouping(reason) DESC, contacts DESC, reason",
                [window_days],
            )
        )

    def agents(self, window_days: int) -> list[dict[str, Any]]:
        return _records(
            self._cur().execute(
                "SELECT agent_id, count(*) AS contacts, avg(duration_s) AS mean_duration_s, "
                "avg(sentiment_end - sentiment_start) AS sentiment_change, "
                "avg(silence_ratio) AS silence_ratio, "
                "1 - (count(*) FILTER (repeated)) / nullif(count(caller_key), 0) AS fcr "
                f"FROM ({self._CONTACTS}) WHERE agent_id IS NOT NULL "
                "GROUP BY agent_id ORDER BY contacts DESC, agent_id",
                [window_days],
            )
        )
