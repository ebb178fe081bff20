"""The understanding of the voice of the customer (`workspace.voc`).

`refresh()` reads the log's texts after a cursor (`voc_state`), in chunks of `chunk` events:
conversations (`properties.transcript` of `Call Completed` / `Chat Completed`) and verbatims
(a string under one of `model.VERBATIM_KEYS`, on any event). Each gets its language (the
stored `properties.language`, else detected), its sentiment (voc/sentiment.py), for
conversations its reason for calling (voc/reasons.py) and its quality signals
(voc/quality.py), and is written to `voc_texts` with the cursor, in one transaction per
chunk: a refresh stopped half-way resumes where it stopped, and one run twice writes the same
rows. The texts are already redacted (the ingestion's work): nothing here sees personal data
in clear, and nothing here stores a text — pages read it from the log.

Topics (voc/topics.py) are fitted again when the texts grew by a tenth since the last fit (or
when asked): on an even sample of at most `topics.MAX_FIT_TEXTS` texts, then every text gets
its topics, chunk by chunk; names and merges a CX manager gave are carried over. Memory is
bounded by the chunk and the sample, not by the log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from empreinte.errors import InvalidInput, NotFound
from empreinte.privacy.text_pii import detect_language
from empreinte.voc import quality, sentiment
from empreinte.voc.model import (
    CONVERSATION_EVENTS,
    MAX_TURN_CHARS,
    MAX_TURNS,
    SPEAKERS,
    VERBATIM_KEYS,
)
from empreinte.voc.settings import VocSettings
from empreinte.voc.text import words

if TYPE_CHECKING:
    from empreinte.store.voc_store import LogText, TextFilter, TextRow, Topic, VocStore
    from empreinte.voc.call_journeys import CallJourneys
    from empreinte.voc.originals import Originals
    from empreinte.voc.topics import FittedTopics
    from empreinte.workspace import Workspace

CHUNK = 1_000
#: The topics are fitted again when the texts have grown by this share since the last fit.
REFIT_GROWTH = 0.1
MAX_LABEL = 80
PERIODS = ("day", "week", "month", "quarter", "year")
# Which identifier says who called, most trusted first (keys of the graph: pseudonyms).
_CALLER_PREFIXES = ("phone:", "user_id:", "email:", "loyalty_card:", "anonymous_id:")


@dataclass(frozen=True)
class Analysed:
    """One text of the log, analysed: its row and the words its topics are found in."""

    row: TextRow
    topic_text: str


@dataclass(frozen=True)
class RefreshReport:
    texts: int  # analysed by this refresh
    cursor: int
    topics: int  # topics after it
    refitted: bool
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "texts": self.texts,
            "cursor": self.cursor,
            "topics": self.topics,
            "refitted": self.refitted,
            "seconds": round(self.seconds, 3),
        }


def _turns(transcript: object) -> list[dict[str, Any]]:
    """The usable turns of a stored transcript: a dict with a string `text`, bounded."""
    if not isinstance(transcript, list):
        return []
    out = []
    for turn in transcript[:MAX_TURNS]:
        if isinstance(turn, dict) and isinstance(turn.get("text"), str):
            speaker = turn.get("speaker")
            out.append(
                {
                    **turn,
                    "speaker": speaker if speaker in SPEAKERS else "customer",
                    "text": turn["text"][:MAX_TURN_CHARS],
                }
            )
    return out


def _topic_text(item: LogText) -> str | None:
    """The words a text's topics are found in: a conversation's customer turns (all turns
    when the customer says nothing), a verbatim's text."""
    turns = _turns(item.properties.get("transcript")) if item.event in CONVERSATION_EVENTS else []
    if turns:
        customer = " ".join(t["text"] for t in turns if t["speaker"] == "customer")
        return customer or " ".join(t["text"] for t in turns)
    found = _text_of(item.properties)
    return found[1] if found else None


def _text_of(props: dict[str, Any]) -> tuple[str, str] | None:
    for key in VERBATIM_KEYS:
        value = props.get(key)
        if isinstance(value, str) and value.strip():
            return key, value[:MAX_TURN_CHARS]
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if np.isfinite(value) and value >= 0 else None


def _short(value: object) -> str | None:
    return value[:200] if isinstance(value, str) and value else None


class VocService:
    """Texts of the log understood: sentiment, topics, reasons, quality (docs/voc.md)."""

    def __init__(self, workspace: Workspace, store: VocStore):
        self._workspace = workspace
        self.store = store
        self.settings = VocSettings.from_mapping(workspace.config.voc)
        self._lock = threading.Lock()
        # The model this process fitted last, and the topic id of each of its topics.
        self._fitted: tuple[FittedTopics | None, list[int]] = (None, [])
        self._classifier: Any = None

    @property
    def calls(self) -> CallJourneys:
        """The journeys before calls (voc/call_journeys.py, docs/voc-journeys.md)."""
        from empreinte.voc.call_journeys import CallJourneys

        return CallJourneys.of(self._workspace)

    @property
    def originals(self) -> Originals:
        """The admin's opt-in to sealed originals and their audited reads (voc/originals.py)."""
        from empreinte.voc.originals import Originals

        return Originals(self._workspace)

    # -- analysis -----------------------------------------------------------------------

    def _reasons(self) -> Any:
        if self._classifier is None:
            from empreinte.voc.reasons import ReasonClassifier

            self._classifier = ReasonClassifier(self.settings)
        return self._classifier

    def analyse(self, texts: Sequence[LogText]) -> list[Analysed]:
        """The analysis of each text of the log that holds one (others are left out)."""
        from empreinte.store.voc_store import TextRow

        pending: list[tuple[LogText, str, list[tuple[str, str]], str | None, list[Any]]] = []
        for item in texts:
            props = item.properties
            turns = _turns(props.get("transcript")) if item.event in CONVERSATION_EVENTS else []
            if turns:
                kind = CONVERSATION_EVENTS[str(item.event)]
                pairs = [(t["speaker"], t["text"]) for t in turns]
            else:
                found = _text_of(props)
                if found is None:
                    continue
                key, text = found
                review = key == "review" or "review" in (item.event or "").lower()
                kind = "review" if review else "survey"
                pairs = [("customer", text)]
            language = props.get("language")
            if language not in ("fr", "en"):
                language = detect_language(" ".join(t for _, t in pairs))
            pending.append((item, kind, pairs, language, turns))
        # Reasons in one batch: the model scores many texts at once far faster than one by one.
        conversations = [i for i, p in enumerate(pending) if p[1] in ("call", "chat")]
        customer_words = {
            i: " ".join(t for s, t in pending[i][2] if s == "customer")
            or " ".join(t for _, t in pending[i][2])
            for i in conversations
        }
        reasons = dict(
            zip(
                conversations,
                self._reasons().classify_many([customer_words[i] for i in conversations]),
                strict=True,
            )
        )
        out = []
        for i, (item, kind, pairs, language, turns) in enumerate(pending):
            props = item.properties
            mood = sentiment.conversation(pairs, language)
            duration = _number(props.get("duration"))
            measured = (
                quality.measure(quality.timed_turns(turns), duration)
                if turns
                else quality.CallQuality(None, None, None)
            )
            reason = reasons.get(i)
            caller = next(
                (k for p in _CALLER_PREFIXES for k in item.identifiers if k.startswith(p)), None
            )
            row = TextRow(
                seq=item.seq,
                kind=kind,
                event=item.event,
                occurred_at=item.at,
                channel=item.channel,
                language=language,
                turns=len(pairs),
                words=sum(len(words(t)) for _, t in pairs),
                duration_s=duration if duration is not None else measured.length_s,
                queue=_short(props.get("queue")),
                agent_id=_short(props.get("agent_id")),
                sentiment=mood.overall,
                sentiment_start=mood.start if len(pairs) > 1 else None,
                sentiment_end=mood.end if len(pairs) > 1 else None,
                turn_sentiment=mood.turns,
                reason=reason.reason if reason else None,
                reason_score=reason.score if reason else None,
                reason_by=reason.by if reason else None,
                silence_ratio=measured.silence_ratio,
                overtalk_ratio=measured.overtalk_ratio,
                caller_key=caller,
            )
            out.append(Analysed(row, _topic_text(item) or ""))
        return out

    def _chunks(self, after: int, upto: int, chunk: int) -> Iterator[tuple[list[LogText], int]]:
        """The log's texts in (after, upto], a chunk at a time, with the seq read up to."""
        cursor = after
        while cursor < upto:
            texts = self.store.log_texts(cursor, upto, chunk)
            reached = texts[-1].seq if len(texts) == chunk else upto
            yield texts, reached
            cursor = reached

    def refresh(self, *, chunk: int = CHUNK, refit: bool = False) -> RefreshReport:
        """Analyse the texts written since the last refresh; fit the topics again when due
        (or when `refit`). Safe to call at any time: one refresh runs at a time."""
        if not 1 <= chunk <= 100_000:
            raise InvalidInput("chunk", "must be from 1 to 100000")
        began = time.perf_counter()
        with self._lock:
            self._workspace.flush()
            upto = self._workspace.engine.max_seq()
            start = self.store.cursor()
            added = 0
            for texts, reached in self._chunks(start, upto, chunk):
                analysed = self.analyse(texts)
                rows = [a.row for a in analysed]
                self.store.write_texts(rows, reached, datetime.now(UTC))
                added += len(rows)
                if self._fitted[0] is not None and analysed:
                    self._assign_new(analysed)
            refitted = self._refit_if_due(added, refit, chunk)
            topics = len(self.store.topics())
            cursor = self.store.cursor()
        return RefreshReport(added, cursor, topics, refitted, time.perf_counter() - began)

    # -- topics -------------------------------------------------------------------------

    def _assign_new(self, analysed: Sequence[Analysed]) -> None:
        """New texts given their topics by the model this process fitted last."""
        fitted, ids = self._fitted
        assert fitted is not None
        assigned = fitted.assign([a.topic_text for a in analysed])
        links = [
            (a.row.seq, ids[index], share)
            for a, found in zip(analysed, assigned, strict=True)
            for index, share in found
        ]
        self.store.add_text_topics(
            np.array([seq for seq, _, _ in links], np.int64),
            np.array([t for _, t, _ in links], np.int32),
            np.array([w for _, _, w in links], np.float64),
        )

    def _refit_if_due(self, added: int, forced: bool, chunk: int) -> bool:
        total = self.store.count_texts(_all())
        if total == 0:
            return False
        fitted_on = int(self.store.state("topics_texts") or 0)
        grown = total - fitted_on >= max(1.0, REFIT_GROWTH * fitted_on)
        if forced or grown or (added and self._fitted[0] is None and fitted_on > 0):
            self._refit(total, chunk)
            return True
        return False

    def _topic_texts(self, chunk: int) -> Iterator[list[tuple[int, str]]]:
        """(seq, the words topics are found in) of every analysed text, a chunk at a time."""
        for texts, _ in self._chunks(0, self.store.cursor(), chunk):
            batch = []
            for item in texts:
                found = _topic_text(item)
                if found is not None:
                    batch.append((item.seq, found))
            yield batch

    def _refit(self, total: int, chunk: int) -> None:
        from empreinte.store.voc_store import Topic
        from empreinte.voc import topics as topic_model

        step = max(1, -(-total // topic_model.MAX_FIT_TEXTS))
        sample: list[str] = []
        seen = 0
        for batch in self._topic_texts(chunk):
            for _, text in batch:
                if seen % step == 0:
                    sample.append(text)
                seen += 1
        s = self.settings
        fitted = topic_model.fit(sample, k=s.topics, k_min=s.topics_min, k_max=s.topics_max)
        old = self.store.topics()
        now = datetime.now(UTC)
        if fitted is None:  # too few texts or words: tried again when the texts have grown
            self.store.replace_topics(
                [t for t in old if t.label], *_empty(), fitted_upto=self.store.cursor()
            )
            self.store.set_state("topics_texts", str(total))
            self._fitted = (None, [])
            return
        matched = topic_model.match([(t.topic_id, t.terms) for t in old], fitted.terms)
        by_id = {t.topic_id: t for t in old}
        next_id = max(by_id, default=0) + 1
        ids: list[int] = []
        for i in range(len(fitted.terms)):
            if i in matched:
                ids.append(matched[i])
            else:
                ids.append(next_id)
                next_id += 1
        seqs: list[int] = []
        topic_ids: list[int] = []
        weights: list[float] = []
        for batch in self._topic_texts(chunk):
            assigned = fitted.assign([t for _, t in batch])
            for (seq, _), found in zip(batch, assigned, strict=True):
                for index, share in found:
                    seqs.append(seq)
                    topic_ids.append(ids[index])
                    weights.append(share)
        kept_ids = set(ids)
        topics: list[Topic] = []
        for index, topic_id in enumerate(ids):
            before = by_id.get(topic_id)
            topics.append(
                Topic(
                    topic_id,
                    fitted.terms[index],
                    before.label if before else None,
                    before.merged_into if before else None,
                    0,  # counted when read (store: live from voc_text_topics)
                    before.created_at if before else now,
                )
            )
        # A named topic no longer found keeps its name (it may come back); merges into a
        # topic that is gone are undone.
        for t in old:
            if t.topic_id not in kept_ids and t.label:
                topics.append(Topic(t.topic_id, t.terms, t.label, None, 0, t.created_at))
        present = {t.topic_id for t in topics}
        topics = [
            t if t.merged_into is None or t.merged_into in present
            else Topic(t.topic_id, t.terms, t.label, None, t.texts, t.created_at)
            for t in topics
        ]  # fmt: skip
        self.store.replace_topics(
            topics,
            np.array(seqs, dtype=np.int64),
            np.array(topic_ids, dtype=np.int32),
            np.array(weights, dtype=np.float64),
            fitted_upto=self.store.cursor(),
        )
        self.store.set_state("topics_texts", str(total))
        self._fitted = (fitted, ids)

    def topics(self) -> list[dict[str, Any]]:
        """Every topic: id, label (a name given, else its top terms), terms, texts, merge."""
        out = []
        found = self.store.topics()
        merged: dict[int, int] = {}
        for t in found:
            if t.merged_into is not None:
                merged[t.merged_into] = merged.get(t.merged_into, 0) + t.texts
        for t in found:
            out.append(
                {
                    "topic_id": t.topic_id,
                    "label": t.label or " · ".join(t.terms[:3]),
                    "named": t.label is not None,
                    "terms": list(t.terms),
                    "texts": t.texts + merged.get(t.topic_id, 0),
                    "merged_into": t.merged_into,
                }
            )
        return out

    def rename_topic(self, topic_id: int, label: str | None) -> None:
        """Name a topic (None or "": back to its top terms)."""
        if label is not None:
            label = " ".join(label.split())
            if len(label) > MAX_LABEL or any(not c.isprintable() for c in label):
                raise InvalidInput("label", f"at most {MAX_LABEL} printable characters")
        if not self.store.rename_topic(topic_id, label or None):
            raise NotFound(f"no topic {topic_id}; `empreinte voc topics` lists them")

    def merge_topics(self, topic_id: int, into: int | None) -> None:
        """Count `topic_id` as `into` from now on (None: undo the merge)."""
        if into == topic_id:
            raise InvalidInput("into", "a topic cannot be merged into itself")
        if not self.store.merge_topic(topic_id, into):
            raise NotFound(f"no topic {topic_id} or {into}; `empreinte voc topics` lists them")

    # -- reports ------------------------------------------------------------------------

    def conversations(
        self, flt: TextFilter | None = None, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Analysed texts, newest first, with their topics."""
        return self.store.texts(flt or _all(), limit, offset)

    def count(self, flt: TextFilter | None = None) -> int:
        return self.store.count_texts(flt or _all())

    def conversation(self, seq: int) -> dict[str, Any]:
        """One text: its analysis, its topics and its (redacted) turns."""
        found = self.store.text(seq)
        if found is None:
            raise NotFound(f"no analysed text at seq {seq}")
        props = found.pop("properties")
        turns = _turns(props.get("transcript"))
        if not turns:
            text = _text_of(props)
            turns = [{"speaker": "customer", "text": text[1]}] if text else []
        scores = list(found.pop("turn_sentiment") or [])
        for turn, value in zip(turns, scores, strict=False):
            turn["sentiment"] = value
        found["turns"] = [
            {k: t.get(k) for k in ("speaker", "text", "start", "end", "sentiment")} for t in turns
        ]
        return found

    def reasons(self, period: str = "week") -> dict[str, Any]:
        """Conversations per reason: totals, share, mean sentiment, and per period."""
        _period(period)
        rows = self.store.reason_volumes(self._workspace.config.timezone, period)
        totals: dict[str, int] = {}
        for r in rows:
            totals[r["reason"]] = totals.get(r["reason"], 0) + int(r["texts"])
        n = sum(totals.values())
        return {
            "period": period,
            "reasons": [
                {"reason": r, "texts": c, "share": round(c / n, 4) if n else 0.0}
                for r, c in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "trend": [
                {
                    "reason": r["reason"],
                    "period": r["period"].isoformat(),
                    "texts": int(r["texts"]),
                    "sentiment": _round(r["sentiment"]),
                }
                for r in rows
            ],
        }

    def topic_trend(self, period: str = "week") -> list[dict[str, Any]]:
        _period(period)
        return [
            {
                "topic_id": int(r["topic_id"]),
                "period": r["period"].isoformat(),
                "texts": int(r["texts"]),
                "sentiment": _round(r["sentiment"]),
            }
            for r in self.store.topic_volumes(self._workspace.config.timezone, period)
        ]

    def quality(self) -> list[dict[str, Any]]:
        """Per reason and overall ("*"): contacts, length, silence, overtalk, repeats, FCR."""
        return [_rounded(r) for r in self.store.quality(quality.REPEAT_WINDOW_DAYS)]

    def agents(self) -> list[dict[str, Any]]:
        """Per agent: contacts, mean length, customer sentiment end − start, FCR (admins)."""
        return [_rounded(r) for r in self.store.agents(quality.REPEAT_WINDOW_DAYS)]


def _all() -> TextFilter:
    from empreinte.store.voc_store import TextFilter

    return TextFilter()


def _empty() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.array([], np.int64), np.array([], np.int32), np.array([], np.float64)


def _period(period: str) -> None:
    if period not in PERIODS:
        raise InvalidInput("period", f"must be one of {', '.join(PERIODS)}")


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _round(v) if isinstance(v, float) else v for k, v in row.items()}
