"""The typed rows of the event log, shared by the collector and every engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple


class EventRow(NamedTuple):
    """One validated, normalised message, ready to be appended to the log.

    A NamedTuple rather than a dataclass: the collector builds hundreds of thousands per second
    and engines read them column by column. Times are microseconds since the Unix epoch (UTC);
    `properties`, `traits`, `context`, `integrations` and `extra` (any other top-level
    field the client sent, kept so that nothing acknowledged is lost) are JSON text or None.
    """

    message_id: str
    source: str
    type: str
    event: str | None
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    group_id: str | None
    previous_id: str | None
    timestamp: int
    original_timestamp: int | None
    sent_at: int | None
    received_at: int
    channel: str | None
    is_bot: bool
    properties: str | None
    traits: str | None
    context: str | None
    integrations: str | None
    extra: str | None


COLUMNS: tuple[str, ...] = EventRow._fields


@dataclass(frozen=True)
class EventFilter:
    """What a reader asks of the log. Every field is optional; all given ones must hold."""

    user_id: str | None = None
    anonymous_id: str | None = None
    event: str | None = None
    type: str | None = None
    source: str | None = None
    channel: str | None = None
    message_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    include_bots: bool = True
    after_seq: int | None = None
    before_seq: int | None = None


@dataclass(frozen=True)
class SourceKey:
    """A write key as stored: the key itself is never kept, only its hash."""

    source: str
    key_hash: str
    created_at: datetime


@dataclass(frozen=True)
class ApiToken:
    """An API token as stored (hashed) with the role it grants."""

    name: str
    role: str
    token_hash: str
    created_at: datetime
