"""The Segment HTTP Tracking API (`/v1/*`, collect/http.py) as the OpenAPI document describes it:
the messages' JSON schemas and one `Operation` per route.

The collector's routes are plain Starlette routes (collect/ knows nothing of the web layer);
`documented` gives each its operation here, by path. A collector route without one is refused
when the app is built, so a new `/v1` route cannot go undocumented.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.routing import Route

from empreinte.collect.limits import (
    MAX_BATCH_BYTES,
    MAX_BATCH_MESSAGES,
    MAX_ID_LENGTH,
    MAX_MESSAGE_BYTES,
)
from empreinte.web.operation import ApiRoute, Operation

KINDS = ("track", "identify", "page", "screen", "group", "alias")
_TAG = "tracking"
_STRING = {"type": "string"}
_OBJECT = {"type": "object"}
_TIME = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601; the event time (after clock-skew correction) must fall in 1900-2200",
}
_ID = {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH}

# The fields of a message (https://segment.com/docs/connections/spec/common/). Extra fields are
# kept, as Segment does, so the schema leaves them open.
_COMMON: dict[str, Any] = {
    "type": {"type": "string", "enum": list(KINDS)},
    "userId": _ID,
    "anonymousId": _ID,
    "messageId": {**_STRING, "description": "deduplicates retries: the same id is stored once"},
    "timestamp": _TIME,
    "originalTimestamp": _TIME,
    "sentAt": _TIME,
    "context": _OBJECT,
    "integrations": _OBJECT,
}
_FIELDS: dict[str, dict[str, Any]] = {
    "track": {"event": {"type": "string", "pattern": r"\S"}, "properties": _OBJECT},
    "identify": {"traits": _OBJECT},
    "page": {"name": _STRING, "category": _STRING, "properties": _OBJECT},
    "screen": {"name": _STRING, "category": _STRING, "properties": _OBJECT},
    "group": {"groupId": _ID, "traits": _OBJECT},
    "alias": {"previousId": _ID},
}
_REQUIRED = {"track": ["event"], "group": ["groupId"], "alias": ["previousId", "userId"]}
# Who the message is about: a userId or an anonymousId (alias: the userId it joins).
_SOMEONE = [{"required": ["userId"]}, {"required": ["anonymousId"]}]


def message_schema(kind: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {**_COMMON, **_FIELDS[kind]},
        "required": _REQUIRED.get(kind, []),
    }
    return schema if kind == "alias" else {**schema, "anyOf": _SOMEONE}


def _batched(kind: str) -> dict[str, Any]:
    """A message of a batch: its `type` says its kind."""
    schema = message_schema(kind)
    return {
        **schema,
        "properties": {**schema["properties"], "type": {"const": kind}},
        "required": ["type", *schema["required"]],
    }


def _single_body(kind: str) -> dict[str, Any]:
    schema = message_schema(kind)
    return {
        **schema,
        "properties": {**schema["properties"], "writeKey": _STRING},
        "description": f"one {kind} message of at most {MAX_MESSAGE_BYTES // 1024} KB "
        "(`type` may be left out)",
    }


BATCH_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "batch": {
            "type": "array",
            "maxItems": MAX_BATCH_MESSAGES,
            "items": {"oneOf": [_batched(kind) for kind in KINDS]},
        },
        "context": {**_OBJECT, "description": "shared by every message"},
        "integrations": _OBJECT,
        "sentAt": _TIME,
        "writeKey": {**_STRING, "description": "the write key, when not sent as Basic auth"},
    },
    "required": ["batch"],
    "description": f"at most {MAX_BATCH_MESSAGES} messages and {MAX_BATCH_BYTES // 1024} KB",
}
STORED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "success": {"type": "boolean"},
        "stored": {"type": "integer", "minimum": 0},
        "duplicates": {"type": "integer", "minimum": 0},
        "message": _STRING,
        "rejected": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "messageId": {},
                    "field": {"type": ["string", "null"]},
                    "code": _STRING,
                    "message": _STRING,
                },
            },
            "description": "the invalid messages, by index (the others are stored)",
        },
    },
    "required": ["success", "stored", "duplicates"],
}
_ANSWERS = (
    "200 once the valid messages are durably stored (the invalid ones listed in `rejected`); "
    "400 when none is valid or the request is malformed (gzip, JSON, too large); 429 or 503 "
    "with Retry-After when the collector cannot keep up (retry later)."
)


def _write(summary: str, body: dict[str, Any]) -> Operation:
    return Operation(
        summary,
        _TAG,
        auth="write_key",
        body=body,
        answer=STORED,
        errors=(429, 503),
        description=_ANSWERS + " The body may be gzipped (Content-Encoding: gzip).",
    )


BATCH = _write("Send a batch of messages", BATCH_BODY)
SETTINGS = Operation(
    "The source settings analytics.js loads at start-up",
    _TAG,
    auth="public",
    errors=(404,),
    path_params={"write_key": "the source's write key (public: it is in every web page)"},
)


def _operations() -> dict[str, Operation]:
    found = {path: BATCH for path in ("/v1/batch", "/v1/import", "/v1/b")}
    for kind in KINDS:
        single = _write(f"Send one {kind} message", _single_body(kind))
        found[f"/v1/{kind}"] = found[f"/v1/{kind[0]}"] = single
    found["/v1/projects/{write_key}/settings"] = SETTINGS
    return found


OPERATIONS = _operations()


def documented(routes: Iterable[Route]) -> list[ApiRoute]:
    """The collector's routes, each with its operation."""
    out = []
    for route in routes:
        operation = OPERATIONS.get(route.path)
        methods = (route.methods or set()) - {"HEAD"}
        if operation is None or len(methods) != 1:
            raise LookupError(f"{route.path}: no operation documents this collector route")
        out.append(ApiRoute(route.path, route.endpoint, methods.pop(), operation))
    return out
