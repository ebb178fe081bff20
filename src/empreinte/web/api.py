"""The operators' read API: `GET /api/events`, `GET /api/health`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from empreinte.credentials import Credentials, Role
from empreinte.errors import AuthError
from empreinte.privacy.pii import rehydrate
from empreinte.profiles.views import event_json
from empreinte.store.engine import Engine
from empreinte.store.records import EventFilter
from empreinte.web.auth import Forbidden, require

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


def _json(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _json(status, {"code": code, "message": message})


class _BadQuery(Exception):
    pass


def _time(params: dict[str, str], name: str) -> datetime | None:
    value = params.get(name)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _BadQuery(f"{name}: {value!r} is not an ISO-8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int(params: dict[str, str], name: str, default: int | None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise _BadQuery(f"{name}: {value!r} is not a whole number") from None


def event_filter(params: dict[str, str]) -> EventFilter:
    """An `EventFilter` from query parameters; `_BadQuery` names a wrong one."""
    known = {*_STRING_FILTERS, "since", "until", "limit", "order", "includeBots", "after", "before"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise _BadQuery(
            f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    bots = params.get("includeBots", "true").lower()
    if bots not in ("true", "false"):
        raise _BadQuery("includeBots: must be true or false")
    return EventFilter(
        **{field: params[name] for name, field in _STRING_FILTERS.items() if params.get(name)},
        since=_time(params, "since"),
        until=_time(params, "until"),
        include_bots=bots == "true",
        after_seq=_int(params, "after", None),
        before_seq=_int(params, "before", None),
    )


class ReadApi:
    """Routes that read the workspace, behind API tokens."""

    def __init__(self, engine: Engine, credentials: Credentials):
        self._engine = engine
        self._credentials = credentials

    def routes(self) -> list[Route]:
        return [
            Route("/api/health", self.health, methods=["GET"]),
            Route("/api/events", self.events, methods=["GET"]),
        ]

    async def health(self, request: Request) -> Response:
        return _json(200, {"status": "ok"})

    async def events(self, request: Request) -> Response:
        try:
            # Raw events hold personal data: admins only (analysts get pseudonymised views).
            require(request, self._credentials, Role.ADMIN)
            params = dict(request.query_params)
            flt = event_filter(params)
            limit = _int(params, "limit", 100)
            if limit is None or not 1 <= limit <= MAX_LIMIT:
                raise _BadQuery(f"limit: must be between 1 and {MAX_LIMIT}")
            order = params.get("order", "desc")
            if order not in ("asc", "desc"):
                raise _BadQuery("order: must be asc or desc")
        except Forbidden as exc:
            return _error(403, "forbidden", str(exc))
        except AuthError as exc:
            return _error(401, "unauthorized", str(exc))
        except _BadQuery as exc:
            return _error(400, "invalid_query", str(exc))
        records = await run_in_threadpool(self._engine.find_events, flt, limit, order == "desc")
        # Admins only reach this far: they see the raw values, read back from the vault.
        records = [rehydrate(r) for r in records]
        total = await run_in_threadpool(self._engine.count_events, flt)
        return _json(
            200, {"events": [event_json(r) for r in records], "count": len(records), "total": total}
        )
