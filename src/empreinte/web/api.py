"""The operators' read API: `GET /api/events`, `GET /api/health`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Credentials, Role
from empreinte.privacy.pii import rehydrate, stored_user_id
from empreinte.privacy.pseudonym import Pseudonymiser
from empreinte.profiles.views import event_json
from empreinte.store.engine import Engine
from empreinte.store.records import EventFilter
from empreinte.web.auth import require
from empreinte.web.operation import ApiRoute, Operation, query
from empreinte.web.params import WINDOW, Choice, Flag, Param, Query, Seq, Text, Whole
from empreinte.web.responses import json_response

MAX_LIMIT = 1_000

# Query parameter → EventFilter field, for the plain string filters.
_STRING_FILTERS = {
    "userId": "user_id",
    "anonymousId": "anonymous_id",
    "event": "event",
    "type": "type",
    "source": "source",
    "channel": "channel",
    "messageId": "message_id",
}
INCLUDE_BOTS = Flag("includeBots", "include events flagged as bots", True)
AFTER = Seq("after", "only events after this position in the log")
BEFORE = Seq("before", "only events before this position in the log")
EVENT_FILTERS: tuple[Param[Any], ...] = (
    *(Text(name, f"only events whose {name} is this", None) for name in _STRING_FILTERS),
    *WINDOW,
    INCLUDE_BOTS,
    AFTER,
    BEFORE,
)
LIMIT = Whole("limit", 1, MAX_LIMIT, "events per answer", 100)
ORDER = Choice("order", ("asc", "desc"), "oldest or newest first", "desc")

_TEXT = {"type": "string"}
EVENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "seq": {"type": "integer", "description": "its position in the log"},
        "messageId": _TEXT,
        "type": _TEXT,
        "source": _TEXT,
        "channel": {"type": ["string", "null"]},
        "isBot": {"type": "boolean"},
        "identifiers": {"type": "array", "items": _TEXT},
        **dict.fromkeys(("timestamp", "originalTimestamp", "sentAt", "receivedAt"), _TEXT),
    },
    "required": ["seq", "messageId", "type", "source", "channel", "isBot", "identifiers"],
}
HEALTH = Operation(
    "Whether the server is up",
    "operations",
    auth="public",
    answer={"type": "object", "properties": {"status": {"const": "ok"}}, "required": ["status"]},
)
EVENTS = Operation(
    "Raw events of the log, newest first",
    "events",
    roles=(Role.ADMIN,),
    params=(*EVENT_FILTERS, LIMIT, ORDER),
    answer={
        "type": "object",
        "properties": {
            "events": {"type": "array", "items": EVENT},
            "count": {"type": "integer", "minimum": 0},
            "total": {"type": "integer", "minimum": 0, "description": "all matching events"},
        },
        "required": ["events", "count", "total"],
    },
    description="Raw events hold personal data: admins only. A userId that is an e-mail "
    "address finds the events stored under its pseudonym.",
)


def event_filter(q: Query, pseudonymiser: Pseudonymiser) -> EventFilter:
    """An `EventFilter` from the query (a userId that is an e-mail as the log keeps it);
    `InvalidInput` names a wrong parameter."""
    flt = EventFilter(
        **{field: value for name, field in _STRING_FILTERS.items() if (value := q.text(name))},
        since=q.time("since"),
        until=q.time("until"),
        include_bots=q.get(INCLUDE_BOTS),
        after_seq=q.get(AFTER),
        before_seq=q.get(BEFORE),
    )
    if flt.user_id is None:
        return flt
    return replace(flt, user_id=stored_user_id(flt.user_id, pseudonymiser))


class ReadApi:
    """Routes that read the workspace, behind API tokens."""

    def __init__(self, engine: Engine, credentials: Credentials, pseudonymiser: Pseudonymiser):
        self._engine = engine
        self._credentials = credentials
        self._pseudonymiser = pseudonymiser

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/health", self.health, "GET", HEALTH),
            ApiRoute("/api/events", self.events, "GET", EVENTS),
        ]

    async def health(self, request: Request) -> Response:
        return json_response(200, {"status": "ok"})

    async def events(self, request: Request) -> Response:
        # Raw events hold personal data: admins only (analysts get pseudonymised views).
        require(request, self._credentials, Role.ADMIN)
        # Naive times are UTC here, the log's own time (reports read them in the workspace's).
        q = query(request)
        flt = event_filter(q, self._pseudonymiser)
        limit = q.get(LIMIT)
        order = q.get(ORDER)
        q.done()
        records = await run_in_threadpool(self._engine.find_events, flt, limit, order == "desc")
        # Admins only reach this far: they see the raw values, read back from the vault.
        records = [rehydrate(r) for r in records]
        total = await run_in_threadpool(self._engine.count_events, flt)
        return json_response(
            200, {"events": [event_json(r) for r in records], "count": len(records), "total": total}
        )
