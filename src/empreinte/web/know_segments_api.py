"""Saved segments over HTTP (admins and analysts; viewers 403), and the server's scheduler.

    GET    /api/segments                         every segment with its size
    POST   /api/segments                         {"name", "expression", "description"?,
                                                  "schedule"?} → 201, members computed
    GET    /api/segments/preview?expression=…    the live size of an unsaved expression
    GET    /api/segments/overlap?name=a&name=b   pairwise overlap (all segments by default)
    GET    /api/segments/{name}                  definition, size, latest refreshes
    PATCH  /api/segments/{name}                  {"expression"?, "description"?, "schedule"?}
                                                  ("" removes a description or schedule)
    GET    /api/segments/{name}/members?limit=&offset=   member profile ids, paged
    GET    /api/segments/{name}/history?limit=&offset=&profileId=   who entered and left
    POST   /api/segments/{name}/refresh          compute again now
    DELETE /api/segments/{name}

A mistake in an expression answers 400 with `line`, `column` and `reason` beside the message
(which shows the expression with a caret). Members are pseudonymous profile ids. Segments
read people's behaviour, so they are for analysts and admins, as journeys are.

`SegmentScheduler` refreshes the segments whose `schedule` is due, in a background thread of
`empreinte serve` (as `IdentitySync` keeps the graph current).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Principal, Role
from empreinte.errors import InvalidInput
from empreinte.web.auth import require
from empreinte.web.background import BackgroundLoop
from empreinte.web.operation import ApiRoute, Operation, query
from empreinte.web.params import Texts, Whole, check_fields, json_object, text_field
from empreinte.web.responses import json_response
from empreinte.workspace import Workspace

log = logging.getLogger(__name__)

ROLES = (Role.ADMIN, Role.ANALYST)
_TAG = "segments"
MAX_PAGE = 100_000
NAME = {"name": "the segment's name"}

_STRING = {"type": "string"}
CREATE_BODY = {
    "type": "object",
    "properties": {
        "name": {**_STRING, "description": "1-80 letters, digits, spaces, _ . -"},
        "expression": {**_STRING, "description": "the segment language (docs/segments.md)"},
        "description": _STRING,
        "schedule": {**_STRING, "description": 'refresh every "1h", "1d"… (none: by hand)'},
    },
    "required": ["name", "expression"],
    "additionalProperties": False,
}

EXPRESSION = Texts("expression", "an expression of the segment language, at most 4 KB")
NAMES = Texts("name", "a segment (repeat the parameter; default: every segment)")
LIMIT = Whole("limit", 1, MAX_PAGE, "at most this many", 1000)
OFFSET = Whole("offset", 0, 2**62, "skip this many", 0)
HISTORY_LIMIT = Whole("limit", 1, MAX_PAGE, "at most this many", 100)

LIST = Operation("Saved segments with their sizes", _TAG, roles=ROLES)
CREATE = Operation(
    "Save a segment and compute its members",
    _TAG,
    roles=ROLES,
    body=CREATE_BODY,
    ok=201,
    errors=(409,),
)
UPDATE_BODY = {
    "type": "object",
    "properties": {
        key: CREATE_BODY["properties"][key]  # type: ignore[index]
        for key in ("expression", "description", "schedule")
    },
    "minProperties": 1,
    "additionalProperties": False,
}
UPDATE = Operation(
    "Change a segment's expression (computed again), description or schedule",
    _TAG,
    roles=ROLES,
    body=UPDATE_BODY,
    errors=(404,),
    path_params=NAME,
)
PREVIEW = Operation(
    "The live size of an unsaved expression", _TAG, roles=ROLES, params=(EXPRESSION,)
)
OVERLAP = Operation(
    "People in both segments of each pair, and Jaccard",
    _TAG,
    roles=ROLES,
    params=(NAMES,),
    errors=(404,),
)
SHOW = Operation(
    "A segment: definition, size, latest refreshes",
    _TAG,
    roles=ROLES,
    errors=(404,),
    path_params=NAME,
)
MEMBERS = Operation(
    "Member profile ids (pseudonymous), paged",
    _TAG,
    roles=ROLES,
    params=(LIMIT, OFFSET),
    errors=(404,),
    path_params=NAME,
)
PROFILE = Texts("profileId", "only this profile's changes")
HISTORY = Operation(
    "Who entered and left the segment, newest first",
    _TAG,
    roles=ROLES,
    params=(HISTORY_LIMIT, OFFSET, PROFILE),
    errors=(404,),
    path_params=NAME,
)
REFRESH = Operation(
    "Compute the members again now",
    _TAG,
    roles=ROLES,
    body={"type": "object", "additionalProperties": False},
    body_required=False,
    errors=(404,),
    path_params=NAME,
)
DELETE = Operation(
    "Delete a segment with its members and history",
    _TAG,
    roles=ROLES,
    errors=(404,),
    path_params=NAME,
)


def _actor(principal: Principal) -> str:
    return f"api:{principal.name}"


def _one(values: list[str], name: str, required: bool = True) -> str | None:
    if len(values) > 1:
        raise InvalidInput(name, "give it once")
    if not values and required:
        raise InvalidInput(name, "is required")
    return values[0] if values else None


class SegmentsApi:
    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/segments", self.list, "GET", LIST),
            ApiRoute("/api/segments", self.create, "POST", CREATE),
            ApiRoute("/api/segments/preview", self.preview, "GET", PREVIEW),
            ApiRoute("/api/segments/overlap", self.overlap, "GET", OVERLAP),
            ApiRoute("/api/segments/{name}", self.show, "GET", SHOW),
            ApiRoute("/api/segments/{name}", self.update, "PATCH", UPDATE),
            ApiRoute("/api/segments/{name}/members", self.members, "GET", MEMBERS),
            ApiRoute("/api/segments/{name}/history", self.history, "GET", HISTORY),
            ApiRoute("/api/segments/{name}/refresh", self.refresh, "POST", REFRESH),
            ApiRoute("/api/segments/{name}", self.delete, "DELETE", DELETE),
        ]

    async def list(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        query(request).done()
        found = await run_in_threadpool(self._ws.segments.list)
        return json_response(200, {"segments": [s.to_json() for s in found]})

    async def create(self, request: Request) -> Response:
        principal = require(request, self._ws.credentials, *ROLES)
        query(request).done()
        body = await json_object(request)
        check_fields(body, {"name", "expression", "description", "schedule"})
        fields = {
            key: text_field(body, key, required=key in ("name", "expression"))
            for key in ("name", "expression", "description", "schedule")
        }

        def work() -> dict[str, Any]:
            summary = self._ws.segments.create(
                fields["name"] or "",
                fields["expression"] or "",
                description=fields["description"],
                schedule=fields["schedule"],
                by=_actor(principal),
            )
            return summary.to_json()

        return json_response(201, await run_in_threadpool(work))

    async def preview(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        q = query(request)
        expression = _one(q.get(EXPRESSION), "expression")
        q.done()
        assert expression is not None
        found = await run_in_threadpool(self._ws.segments.preview, expression, None, 0)
        return json_response(200, {"expression": found.expression, "size": found.size})

    async def overlap(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        q = query(request)
        names = q.get(NAMES)
        q.done()
        report = await run_in_threadpool(self._ws.segments.overlap, names or None)
        return json_response(200, {"segments": list(report.names), "pairs": report.to_rows()})

    async def show(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        query(request).done()
        detail = await run_in_threadpool(self._ws.segments.show, request.path_params["name"])
        return json_response(200, detail.to_json())

    async def update(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        query(request).done()
        body = await json_object(request)
        check_fields(body, {"expression", "description", "schedule"})
        if not body:
            raise InvalidInput("expression", "give expression, description or schedule")
        for key, value in body.items():
            if not isinstance(value, str):
                raise InvalidInput(key, "must be a string")
        name = request.path_params["name"]

        def work() -> dict[str, Any]:
            summary = self._ws.segments.update(
                name,
                expression=body.get("expression"),
                description=body.get("description"),
                schedule=body.get("schedule"),
            )
            return summary.to_json()

        return json_response(200, await run_in_threadpool(work))

    async def members(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        q = query(request)
        limit, offset = q.get(LIMIT), q.get(OFFSET)
        q.done()
        name = request.path_params["name"]

        def work() -> dict[str, Any]:
            segments = self._ws.segments
            ids = segments.members(name, limit, offset)
            total = segments.size(name)
            more = offset + len(ids) < total
            return {
                "name": name,
                "total": total,
                "limit": limit,
                "offset": offset,
                "members": ids,
                "next_offset": offset + len(ids) if more else None,
            }

        return json_response(200, await run_in_threadpool(work))

    async def history(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        q = query(request)
        limit, offset = q.get(HISTORY_LIMIT), q.get(OFFSET)
        profile = _one(q.get(PROFILE), "profileId", required=False)
        q.done()
        name = request.path_params["name"]

        def work() -> dict[str, Any]:
            changes = self._ws.segments.history(name, limit, offset, profile)
            return {
                "name": name,
                "changes": [
                    {
                        "profile_id": c.profile_id,
                        "change": c.change,
                        "changed_at": c.changed_at.isoformat(),
                    }
                    for c in changes
                ],
            }

        return json_response(200, await run_in_threadpool(work))

    async def refresh(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        query(request).done()
        check_fields(await json_object(request, empty=True), set())
        done = await run_in_threadpool(self._ws.segments.refresh, request.path_params["name"])
        return json_response(200, done.to_json())

    async def delete(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        query(request).done()
        name = request.path_params["name"]
        await run_in_threadpool(self._ws.segments.delete, name)
        return json_response(200, {"deleted": name})


class SegmentScheduler(BackgroundLoop):
    """A background thread that refreshes due segments (their `schedule`) every `interval`
    seconds. A failure is logged and the next round tries again; one segment's failure does
    not stop the others'."""

    thread_name = "empreinte-segment-scheduler"

    def __init__(self, workspace: Workspace, interval: float = 60.0):
        super().__init__()
        self._ws = workspace
        self._interval = interval
        self.refreshed = 0

    def run_once(self) -> int:
        """Refresh every due segment now; how many were refreshed."""
        segments = self._ws.segments
        done = 0
        for name in segments.due():
            if self._stop.is_set():
                break
            try:
                segments.refresh(name)
                done += 1
            except Exception:
                log.exception("refreshing segment %r failed; retried next round", name)
        self.refreshed += done
        return done

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.run_once()
            except Exception:
                log.exception("the segment scheduler failed; retried next round")
