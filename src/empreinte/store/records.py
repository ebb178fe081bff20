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
    field the client sent, kept so that nothing acknowledged is lost) are JSON text or None,
    with personal values replaced by pseudonyms; `pii` is the JSON of the raw values by path
    (kept in a separate table), `identifiers` the keys the identity graph links.
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
    identifiers: list[str] | None
    pii: str | None


# What the `events` table holds; `pii` goes to the vault table, apart from behaviour.
COLUMNS: tuple[str, ...] = tuple(f for f in EventRow._fields if f != "pii")


def message_key(source: str, message_id: str) -> str:
    """What makes a message unique in the log: its source and messageId. Source names hold no
    NUL, so the key is unambiguous (engines build it the same way: `source || chr(0) || id`)."""
    return f"{source}\x00{message_id}"


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
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class ApiToken:
    """An API token as stored (hashed) with the role it grants."""

    name: str
    role: str
    token_hash: str
    created_at: datetime
