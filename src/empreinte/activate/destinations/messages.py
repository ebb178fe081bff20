"""The messages destinations receive, in the Segment spec (segment.com/docs/connections/spec):
`identify` with the chosen traits, `track` "Audience Entered"/"Audience Exited" for segment
memberships (as Segment's Engage names them), forwarded `track` events, and `delete` (as
Segment sends deletions to function destinations). Each carries its delivery id as
`messageId`: the same on every retry, the receiver's idempotency key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

LIBRARY = {"name": "empreinte-destinations", "version": "1"}
ENTERED, EXITED = "Audience Entered", "Audience Exited"
#: What one message may weigh (Segment's limit) and one request (below Segment's 500 KB).
MAX_MESSAGE = 32 * 1024
MAX_REQUEST = 450 * 1024


def who(user_id: str | None, profile_id: str) -> dict[str, str]:
    """The ids a destination knows a person by: their userId when they have one (as the log
    keeps it: a userId that is an e-mail is its pseudonym), else the pseudonymous profile id
    as the anonymousId."""
    return {"userId": user_id} if user_id else {"anonymousId": profile_id}


def _base(kind: str, delivery_id: str, ids: dict[str, str], at: datetime) -> dict[str, Any]:
    return {
        "type": kind,
        "messageId": delivery_id,
        **ids,
        "timestamp": at.isoformat(),
        "context": {"library": LIBRARY},
    }


def identify(
    delivery_id: str, ids: dict[str, str], traits: dict[str, Any], at: datetime
) -> dict[str, Any]:
    return {**_base("identify", delivery_id, ids, at), "traits": traits}


def membership(
    delivery_id: str, ids: dict[str, str], segment: str, entered: bool, at: datetime
) -> dict[str, Any]:
    return {
        **_base("track", delivery_id, ids, at),
        "event": ENTERED if entered else EXITED,
        "properties": {"audience_key": segment, "audience_name": segment},
    }


def forwarded(
    delivery_id: str,
    ids: dict[str, str],
    event: str,
    properties: dict[str, Any],
    at: datetime,
    source_message_id: str,
    source: str,
) -> dict[str, Any]:
    """A logged event, forwarded: `context.source` names the source that sent it to
    empreinte (a browser's write key is anyone's: a receiver that acts on money should trust
    only server-side sources), `context.sourceMessageId` its own messageId."""
    message = _base("track", delivery_id, ids, at)
    message["event"] = event
    message["properties"] = properties
    message["context"] = {
        "library": LIBRARY,
        "sourceMessageId": source_message_id,
        "source": source,
    }
    return message


def delete(delivery_id: str, ids: dict[str, str], erasure_id: str, at: datetime) -> dict[str, Any]:
    message = _base("delete", delivery_id, ids, at)
    message["context"] = {"library": LIBRARY, "erasureId": erasure_id}
    return message
