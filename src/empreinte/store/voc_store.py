"""The analysis of the voice of the customer: one row per text of the log (`voc_texts`), the
topics (`voc_topics`), each text's topics (`voc_text_topics`) and where the analysis has read
up to (`voc_state`). The SQL is in store/duckdb/voc_store.py; the service is voc/service.py.
Every row is derived from the log and keyed by its event's `seq`: erasure deletes the rows of
a person's events with the events (privacy_store's `PERSON_COLUMNS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class LogText:
    """An event of the log that carries a text: its properties as stored (redacted)."""

    seq: int
    event: str | None
    at: datetime
    channel: str | None
    properties: dict[str, Any]
    identifiers: tuple[str, ...]


@dataclass(frozen=True)
class TextRow:
    """One analysed text (a row of `voc_texts`)."""

    seq: int
    kind: str
    event: str | None
    occurred_at: datetime
    channel: str | None
    language: str | None
    turns: int
    words: int
    duration_s: float | None
    queue: str | None
    agent_id: str | None
    sentiment: float | None
    sentiment_start: float | None
    sentiment_end: float | None
    turn_sentiment: tuple[float | None, ...]
    reason: str | None
    reason_score: float | None
    reason_by: str | None
    silence_ratio: float | None
    overtalk_ratio: float | None
    caller_key: str | None


@dataclass(frozen=True)
class Topic:
    """A topic: its top terms, a CX manager's label, the topic it was merged into."""

    topic_id: int
    terms: tuple[str, ...]
    label: str | None
    merged_into: int | None
    texts: int
    created_at: datetime


@dataclass(frozen=True)
class TextFilter:
    """What a list of texts asks for; every field optional."""

    kind: str | None = None
    reason: str | None = None
    topic_id: int | None = None
    language: str | None = None
    sentiment: str | None = None  # negative | neutral | positive
    since: datetime | None = None
    until: datetime | None = None


class VocStore(Protocol):
    """The voc_* tables of a workspace."""

    def cursor(self) -> int:
        """The last seq analysed (0: none)."""
        ...

    def log_texts(self, after_seq: int, upto_seq: int, limit: int) -> list[LogText]:
        """Events of (after_seq, upto_seq] that carry a conversation or a verbatim, not bots,
        oldest first, at most `limit`."""
        ...

    def write_texts(self, rows: Sequence[TextRow], cursor: int, at: datetime) -> None:
        """Write (or write again) `rows` and move the cursor to `cursor`, in one transaction."""
        ...

    def topics(self) -> list[Topic]: ...

    def replace_topics(
        self,
        topics: Sequence[Topic],
        seqs: np.ndarray,
        topic_ids: np.ndarray,
        weights: np.ndarray,
        fitted_upto: int,
    ) -> None:
        """Every topic and every text's topics at once (a refit), in one transaction."""
        ...

    def state(self, name: str) -> str | None: ...

    def set_state(self, name: str, value: str) -> None: ...

    def add_text_topics(self, seqs: np.ndarray, topic_ids: np.ndarray, weights: np.ndarray) -> None:
        """More texts' topics (texts analysed since the last refit)."""
        ...

    def rename_topic(self, topic_id: int, label: str | None) -> bool: ...

    def merge_topic(self, topic_id: int, into: int | None) -> bool:
        """Merge `topic_id` into `into` (None: unmerge). Topics merged into `topic_id` follow."""
        ...

    def texts(self, flt: TextFilter, limit: int, offset: int) -> list[dict[str, Any]]:
        """Analysed texts, newest first, with their topics (after merges)."""
        ...

    def count_texts(self, flt: TextFilter) -> int: ...

    def text(self, seq: int) -> dict[str, Any] | None:
        """One analysed text with its topics and its event's properties (redacted)."""
        ...

    def topic_volumes(self, timezone: str, period: str) -> list[dict[str, Any]]:
        """Texts per topic (after merges) per period."""
        ...

    def reason_volumes(self, timezone: str, period: str) -> list[dict[str, Any]]:
        """Conversations per reason per period, with mean sentiment."""
        ...

    def quality(self, window_days: int) -> list[dict[str, Any]]:
        """Per reason (and "*" for all): calls, mean length, silence and overtalk ratios,
        callers, repeat calls within `window_days`, first-contact resolution rate."""
        ...

    def agents(self, window_days: int) -> list[dict[str, Any]]:
        """Per agent: calls, mean length, mean customer sentiment end − start, FCR."""
        ...
