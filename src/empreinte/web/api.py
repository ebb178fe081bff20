"""The operators' read API: `GET /api/events`, `GET /api/health`."""

from __future__ import annotations

from dataclasses import replace

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from empreinte.credentials import Credentials, Role
from empreinte.privacy.pii import rehydrate, stored_user_id
from empreinte.privacy.pseudonym import Pseudonymiser
from empreinte.profiles.views import event_json
from empreinte.store.engine import Engine
from empreinte.store.records import EventFilter
from empreinte.web.auth import require
from empreinte.web.params import Query
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


def event_filter(q: Query, pseudonymiser: Pseudonymiser) -> EventFilter:
    """An `EventFilter` from the query (a userId that is an e-mail as the log keeps it);
    `InvalidInput` names a wrong parameter."""
    flt = EventFilter(
        **{field: value for name, field in _STRING_FILTERS.items() if (value := q.text(name))},
        since=q.time("since"),
        until=q.time("until"),
        include_bots=q.flag("includeBots", True),
        after_seq=q.seq("after"),
        before_seq=q.seq("before"),
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

    def routes(self) -> list[Route]:
        return [
            Route("/api/health", self.health, methods=["GET"]),
            Route("/api/events", self.events, methods=["GET"]),
        ]

    async def health(self, request: Request) -> Response:
        return json_response(200, {"status": "ok"})

    async def events(self, request: Request) -> Response:
        # Raw events hold personal data: admins only (analysts get pseudonymised views).
        require(request, self._credentials, Role.ADMIN)
        # Naive times are UTC here, the log's own time (reports read them in the workspace's).
        q = Query(request.query_params)
        flt = event_filter(q, self._pseudonymiser)
        limit = q.whole("limit", 100, 1, MAX_LIMIT) or 100
        order = q.choice("order", ("asc", "desc"), "desc")
        q.done()
        records = await run_in_threadpool(self._engine.find_events, flt, limit, order == "desc")
        # Admins only reach this far: they see the raw values, read back from the vault.
        records = [rehydrate(r) for r in records]
        total = await run_in_threadpool(self._engine.count_events, flt)
        return json_response(
            200, {"events": [event_json(r) for r in records], "count": len(records), "total": total}
        )
