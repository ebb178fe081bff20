"""Validation and normalisation of Segment messages into log rows.

The same function serves the HTTP collector, the importers and the Python API, so a message
is judged the same way wherever it comes from.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from empreinte.collect.bots import is_bot
from empreinte.collect.channels import infer_channel
from empreinte.collect.clock import CLOCK_SKEW_FLAG, event_time
from empreinte.collect.exact_json import unrepresentable
from empreinte.collect.limits import MAX_ID_LENGTH, MAX_MESSAGE_BYTES
from empreinte.collect.surveys import SURVEY_EVENTS, check_answer
from empreinte.collect.text_redaction import has_texts, redact_texts
from empreinte.errors import InvalidMessage
from empreinte.identity.identifiers import region_of
from empreinte.privacy.pii import IngestPolicy, split, stored_user_id
from empreinte.privacy.text_originals import VAULT_KEY as SEALED_ORIGINALS
from empreinte.store.records import EventRow
from empreinte.voc.model import CONVERSATION_EVENTS

MESSAGE_TYPES = frozenset({"track", "identify", "page", "screen", "group", "alias"})

# Top-level fields with a column of their own (or dropped: the write key is a credential).
_KNOWN_FIELDS = frozenset(
    {
        "type",
        "messageId",
        "event",
        "name",
        "userId",
        "anonymousId",
        "groupId",
        "previousId",
        "timestamp",
        "originalTimestamp",
        "sentAt",
        "receivedAt",
        "properties",
        "traits",
        "context",
        "integrations",
        "writeKey",
        "category",
    }
)
# Fields whose object payload goes to the `properties` or `traits` column, by message type.
_PAYLOAD = {
    "track": "properties",
    "page": "properties",
    "screen": "properties",
    "identify": "traits",
    "group": "traits",
    "alias": None,
}

_MAX_ID = MAX_ID_LENGTH
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_MICROS = 86_400 * 1_000_000
_EARLIEST = (datetime(1900, 1, 1, tzinfo=UTC) - _EPOCH).days * _DAY_MICROS
_LATEST = (datetime(2200, 1, 1, tzinfo=UTC) - _EPOCH).days * _DAY_MICROS


def _micros(dt: datetime) -> int:
    """Microseconds since the epoch, in exact integer arithmetic (no float rounding)."""
    delta = dt - _EPOCH
    return delta.days * _DAY_MICROS + delta.seconds * 1_000_000 + delta.microseconds


def parse_time(value: Any, field: str) -> int | None:
    """An ISO-8601 time as microseconds since the epoch (UTC); naive times are read as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidMessage(
                f"{value[:40]!r} is not an ISO-8601 date-time", field, "invalid_timestamp"
            ) from None
    else:
        raise InvalidMessage("must be an ISO-8601 date-time string", field, "invalid_timestamp")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return _micros(dt)


def _identifier(message: Mapping[str, Any], field: str) -> str | None:
    value = message.get(field)
    # Fast path: an id is nearly always absent or a short non-empty string, kept as it is.
    if value is None or (type(value) is str and 0 < len(value) <= MAX_ID_LENGTH):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidMessage("must be a string", field, "invalid_field")
    text = str(value)
    if len(text) > MAX_ID_LENGTH:
        raise InvalidMessage(f"is longer than {MAX_ID_LENGTH} characters", field, "invalid_field")
    return text or None


def _object(message: Mapping[str, Any], field: str) -> dict[str, Any] | None:
    value = message.get(field)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidMessage("must be a JSON object", field, "invalid_field")
    return value


def _new_row(values: tuple[Any, ...]) -> EventRow:
    """An EventRow from its values in field order, without the keyword-argument machinery."""
    return tuple.__new__(EventRow, values)


def normalise(
    message: Any,
    *,
    source: str,
    received_at: int,
    type_hint: str | None = None,
    batch_sent_at: int | None = None,
    batch_context: dict[str, Any] | None = None,
    batch_integrations: dict[str, Any] | None = None,
    size: int | None = None,
    policy: IngestPolicy,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> EventRow:
    """Check one message against the Segment rules and turn it into a log row.

    `type_hint` is the type implied by the endpoint (`/v1/track`); `batch_*` are the
    batch-level fields that apply to every message lacking its own. `size` is what the caller
    knows of the message's size as sent (its own length, or a body's that holds it): within
    32 KB it is not measured again; otherwise (or unknown) its JSON is. `policy` says how personal
    data is split off (see privacy/pii.py). `max_bytes`: a message's limit (32 KB; more for
    a conversation imported from a file). Raises `InvalidMessage` naming the field and the
    reason.
    """
    if not isinstance(message, dict):
        raise InvalidMessage("a message must be a JSON object", None, "invalid_message")
    if size is None or size > MAX_MESSAGE_BYTES:
        try:
            size = len(orjson.dumps(message))
        except TypeError:  # a set, an object, a 65-bit integer…
            raise unrepresentable(message, None) from None
    if size > max_bytes:
        raise InvalidMessage(
            f"message is {size} bytes; the limit is {max_bytes} bytes ({max_bytes // 1024} KB)",
            None,
            "message_too_large",
        )

    kind = type_hint or message.get("type")
    if not isinstance(kind, str) or kind not in MESSAGE_TYPES:
        raise InvalidMessage(
            f"must be one of {', '.join(sorted(MESSAGE_TYPES))}", "type", "invalid_type"
        )

    # Each id's common case (absent, or a short non-empty string) is checked inline: a call to
    # `_identifier` per id cost more than the check. The others go through it, in this order.
    get = message.get
    user_id = get("userId")
    if user_id is not None and not (user_id.__class__ is str and 0 < len(user_id) <= _MAX_ID):
        user_id = _identifier(message, "userId")
    anonymous_id = get("anonymousId")
    if anonymous_id is not None and not (
        anonymous_id.__class__ is str and 0 < len(anonymous_id) <= _MAX_ID
    ):
        anonymous_id = _identifier(message, "anonymousId")
    previous_id = get("previousId")
    if previous_id is not None and not (
        previous_id.__class__ is str and 0 < len(previous_id) <= _MAX_ID
    ):
        previous_id = _identifier(message, "previousId")
    group_id = get("groupId")
    if group_id is not None and not (group_id.__class__ is str and 0 < len(group_id) <= _MAX_ID):
        group_id = _identifier(message, "groupId")
    event: str | None = None
    if kind == "alias":
        if previous_id is None:
            raise InvalidMessage("alias needs previousId", "previousId", "missing_field")
        if user_id is None:
            raise InvalidMessage("alias needs userId", "userId", "missing_field")
    elif user_id is None and anonymous_id is None:
        raise InvalidMessage(
            "every message needs userId or anonymousId", "userId", "missing_identity"
        )
    if kind == "track":
        raw_event = message.get("event")
        if not isinstance(raw_event, str) or not raw_event.strip():
            raise InvalidMessage("track needs a non-empty event name", "event", "missing_field")
        event = raw_event
    elif kind == "group" and group_id is None:
        raise InvalidMessage("group needs groupId", "groupId", "missing_field")
    name = message.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidMessage("must be a string", "name", "invalid_field")

    # JSON objects are dicts: `_object` (which refuses anything else) only for the others.
    context = get("context")
    if context is not None and context.__class__ is not dict:
        context = _object(message, "context")
    if batch_context:
        context = {**batch_context, **context} if context else batch_context
    integrations = get("integrations")
    if integrations is not None and integrations.__class__ is not dict:
        integrations = _object(message, "integrations")
    integrations = integrations or batch_integrations
    payload_field = _PAYLOAD[kind]
    payload = None
    if payload_field:
        payload = get(payload_field)
        if payload is not None and payload.__class__ is not dict:
            payload = _object(message, payload_field)
    properties = payload if payload_field == "properties" else None
    traits = payload if payload_field == "traits" else None
    if event in SURVEY_EVENTS:  # survey answers, experiment exposures: checked before the split
        check_answer(event, properties)
    # Conversations and verbatims: checked, then redacted before anything else sees them
    # (national phone numbers read in the country the message suggests).
    sealed = None
    if properties is not None and has_texts(event, properties):
        region = region_of(context, traits, policy.default_region)
        properties, sealed = redact_texts(event, properties, region, policy.originals)

    original = parse_time(message.get("timestamp") or message.get("originalTimestamp"), "timestamp")
    sent_at = parse_time(message.get("sentAt"), "sentAt")
    if sent_at is None:
        sent_at = batch_sent_at
    timestamp, skew = event_time(original, sent_at, received_at)
    if skew is not None:
        context = {**context, CLOCK_SKEW_FLAG: skew} if context else {CLOCK_SKEW_FLAG: skew}
    if not _EARLIEST <= timestamp <= _LATEST:
        raise InvalidMessage(
            "the event time (after clock-skew correction) is outside 1900–2200",
            "timestamp",
            "invalid_timestamp",
        )

    channel = infer_channel(kind, context, message.get("channel"))
    if channel is None and event in CONVERSATION_EVENTS:  # a call is on the phone
        channel = "phone" if CONVERSATION_EVENTS[event] == "call" else "chat"
    # Personal data leaves the payloads here, before anything is stored.
    sent_user_id, sent_previous_id = user_id, previous_id
    if user_id is not None and "@" in user_id:
        user_id = stored_user_id(user_id, policy.pseudonymiser)
    if previous_id is not None and "@" in previous_id:  # an earlier userId: the same rule
        previous_id = stored_user_id(previous_id, policy.pseudonymiser)
    try:
        private = split(
            kind=kind,
            user_id=user_id,
            anonymous_id=anonymous_id,
            previous_id=previous_id,
            traits=traits,
            properties=properties,
            context=context,
            channel=channel,
            policy=policy,
            trusted_source=source in policy.trusted_sources,
        )
    except TypeError:  # a 65-bit integer under a personal key, pseudonymised as its JSON
        raise unrepresentable(message, None) from None
    properties, traits, context = private.properties, private.traits, private.context
    user_agent = context.get("userAgent") if context else None
    # Most messages carry only known fields: a set comparison (in C) skips the loop.
    extra = (
        None
        if message.keys() <= _KNOWN_FIELDS
        else {k: v for k, v in message.items() if k not in _KNOWN_FIELDS}
    )
    message_id = get("messageId")
    if message_id is None or not (message_id.__class__ is str and 0 < len(message_id) <= _MAX_ID):
        message_id = _identifier(message, "messageId") or f"ingest-{uuid.uuid4()}"

    # Positional, through tuple.__new__: a fifth of the cost of EventRow(field=…, …).
    try:
        return _new_row(
            (
                message_id,
                source,
                kind,
                event,
                name,
                user_id,
                anonymous_id,
                group_id,
                previous_id,
                timestamp,
                original,
                sent_at,
                received_at,
                channel,
                is_bot(user_agent) if isinstance(user_agent, str) and user_agent else False,
                None if properties is None else orjson.dumps(properties).decode(),
                None if traits is None else orjson.dumps(traits).decode(),
                None if context is None else orjson.dumps(context).decode(),
                None if integrations is None else orjson.dumps(integrations).decode(),
                None if extra is None else orjson.dumps(extra).decode(),
                private.identifiers,
                _vault(
                    private.vault
                    if sealed is None
                    else {**(private.vault or {}), SEALED_ORIGINALS: sealed},
                    sent_user_id if sent_user_id != user_id else None,
                    sent_previous_id if sent_previous_id != previous_id else None,
                ),
            )
        )
    except TypeError:  # a 65-bit integer the size check did not serialise (body ≤ 32 KB)
        raise unrepresentable(message, None) from None


def _vault(
    vault: dict[str, Any] | None, user_id: str | None, previous_id: str | None
) -> str | None:
    """The event's vault row as JSON; `user_id`, `previous_id`: the ids as sent, when they
    were replaced by pseudonyms."""
    if user_id is not None:
        vault = {**(vault or {}), "user_id": user_id}
    if previous_id is not None:
        vault = {**(vault or {}), "previous_id": previous_id}
    return None if vault is None else orjson.dumps(vault).decode()


def now_micros() -> int:
    """The current time in microseconds since the epoch (UTC)."""
    return _micros(datetime.now(UTC))
