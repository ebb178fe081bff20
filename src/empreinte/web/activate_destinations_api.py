"""Destinations over HTTP (admins configure, analysts read; viewers 403: deliveries are about
people), and the server's background sender.

    GET    /api/destinations                       every destination with its delivery counts
    POST   /api/destinations                       {"name", "kind", "purpose", "url"|"directory",
                                                    "segments"?, "traits"?, "events"?,
                                                    "write_key"?} → 201 (a webhook's secret, once)
    GET    /api/destinations/deletions?limit=      the latest deletion requests (erasures)
    GET    /api/destinations/{name}                one destination
    DELETE /api/destinations/{name}
    GET    /api/destinations/{name}/deliveries?status=&limit=   newest first (no payloads)
    POST   /api/destinations/{name}/sync           queue and send now
    POST   /api/destinations/{name}/retry          {"ids"?: [...]}: dead deliveries queued again

Analysts see a webhook's or forwarder's URL as `scheme://host/…` (a URL may carry a token);
admins see it whole. No answer holds a payload, a write key, or (after creation) a secret.

`DestinationSender` runs a round (`Destinations.sync`) every `[destinations]
interval_seconds` in a background thread of `empreinte serve`.
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
from empreinte.web.params import Choice, Whole, check_fields, json_object, text_field
from empreinte.web.responses import json_response
from empreinte.workspace import Workspace

log = logging.getLogger(__name__)

READERS = (Role.ADMIN, Role.ANALYST)
ADMINS = (Role.ADMIN,)
_TAG = "destinations"
NAME = {"name": "the destination's name"}
_STRING = {"type": "string"}
_NAMES = {"type": "array", "items": _STRING, "maxItems": 50}
CREATE_FIELDS = {
    "name",
    "kind",
    "purpose",
    "url",
    "directory",
    "segments",
    "traits",
    "events",
    "write_key",
}
CREATE_BODY = {
    "type": "object",
    "properties": {
        "name": {**_STRING, "description": "1-63 lower-case letters, digits, - and _"},
        "kind": {"type": "string", "enum": ["webhook", "segment", "csv", "parquet"]},
        "purpose": {**_STRING, "description": "the consent purpose a person must allow"},
        "url": {**_STRING, "description": "webhook and segment: where to send"},
        "directory": {**_STRING, "description": "csv and parquet: within export_root"},
        "segments": {**_NAMES, "description": "saved segments whose memberships are sent"},
        "traits": {**_NAMES, "description": "traits sent with each person entering"},
        "events": {**_NAMES, "description": "events forwarded (webhook, segment)"},
        "write_key": {**_STRING, "description": "segment: the receiving source's write key"},
    },
    "required": ["name", "kind", "purpose"],
    "additionalProperties": False,
}
RETRY_BODY = {
    "type": "object",
    "properties": {"ids": {"type": "array", "items": _STRING, "maxItems": 10_000}},
    "additionalProperties": False,
}
STATUS = Choice("status", ("pending", "sent", "dead", "withheld"), "only this status", None)
LIMIT = Whole("limit", 1, 10_000, "at most this many", 100)

LIST = Operation("Destinations with their delivery counts", _TAG, roles=READERS)
CREATE = Operation(
    "Make a destination (a webhook's signing secret is in the answer, once)",
    _TAG,
    roles=ADMINS,
    body=CREATE_BODY,
    ok=201,
    errors=(404, 409),
)
DELETIONS = Operation(
    "The latest deletion requests sent because someone was erased",
    _TAG,
    roles=ADMINS,
    params=(LIMIT,),
)
SHOW = Operation("One destination", _TAG, roles=READERS, errors=(404,), path_params=NAME)
DELETE = Operation(
    "Remove a destination with its outbox", _TAG, roles=ADMINS, errors=(404,), path_params=NAME
)
DELIVERIES = Operation(
    "Deliveries, newest first (the dead-letter queue: status=dead)",
    _TAG,
    roles=READERS,
    params=(STATUS, LIMIT),
    errors=(404,),
    path_params=NAME,
)
SYNC = Operation(
    "Queue what changed and send what is due, now",
    _TAG,
    roles=ADMINS,
    body={"type": "object", "additionalProperties": False},
    body_required=False,
    errors=(404,),
    path_params=NAME,
)
RETRY = Operation(
    "Dead deliveries back in the queue",
    _TAG,
    roles=ADMINS,
    body=RETRY_BODY,
    body_required=False,
    errors=(404,),
    path_params=NAME,
)


def _names(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(key, "must be a list of strings")
    return value


class DestinationsApi:
    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/destinations", self.list, "GET", LIST),
            ApiRoute("/api/destinations", self.create, "POST", CREATE),
            ApiRoute("/api/destinations/deletions", self.deletions, "GET", DELETIONS),
            ApiRoute("/api/destinations/{name}", self.show, "GET", SHOW),
            ApiRoute("/api/destinations/{name}", self.delete, "DELETE", DELETE),
            ApiRoute("/api/destinations/{name}/deliveries", self.deliveries, "GET", DELIVERIES),
            ApiRoute("/api/destinations/{name}/sync", self.sync, "POST", SYNC),
            ApiRoute("/api/destinations/{name}/retry", self.retry, "POST", RETRY),
        ]

    async def list(self, request: Request) -> Response:
        principal = require(request, self._ws.credentials, *READERS)
        query(request).done()
        found = await run_in_threadpool(lambda: self._ws.destinations.list())
        full = principal.role == Role.ADMIN
        return json_response(200, {"destinations": [d.to_json(full) for d in found]})

    async def create(self, request: Request) -> Response:
        principal: Principal = require(request, self._ws.credentials, *ADMINS)
        query(request).done()
        body = await json_object(request)
        check_fields(body, CREATE_FIELDS)
        fields = {
            key: text_field(body, key, required=key in ("name", "kind", "purpose"))
            for key in ("name", "kind", "purpose", "url", "directory", "write_key")
        }
        lists = {key: _names(body, key) for key in ("segments", "traits", "events")}

        def work() -> dict[str, Any]:
            created = self._ws.destinations.add(
                fields["name"] or "",
                fields["kind"] or "",
                purpose=fields["purpose"] or "",
                url=fields["url"],
                directory=fields["directory"],
                write_key=fields["write_key"],
                by=f"api:{principal.name}",
                **lists,
            )
            return created.to_json()

        return json_response(201, await run_in_threadpool(work))

    async def deletions(self, request: Request) -> Response:
        from empreinte.activate.destinations.model import delivery_json

        require(request, self._ws.credentials, *ADMINS)
        q = query(request)
        limit = q.get(LIMIT)
        q.done()
        found = await run_in_threadpool(self._ws.destinations.deletion_requests, limit)
        return json_response(200, {"deletions": [delivery_json(d) for d in found]})

    async def show(self, request: Request) -> Response:
        principal = require(request, self._ws.credentials, *READERS)
        query(request).done()
        found = await run_in_threadpool(self._ws.destinations.get, request.path_params["name"])
        return json_response(200, found.to_json(principal.role == Role.ADMIN))

    async def delete(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ADMINS)
        query(request).done()
        name = request.path_params["name"]
        await run_in_threadpool(self._ws.destinations.remove, name)
        return json_response(200, {"deleted": name})

    async def deliveries(self, request: Request) -> Response:
        from empreinte.activate.destinations.model import delivery_json

        require(request, self._ws.credentials, *READERS)
        q = query(request)
        status, limit = q.get(STATUS), q.get(LIMIT)
        q.done()
        name = request.path_params["name"]
        found = await run_in_threadpool(self._ws.destinations.deliveries, name, status, limit)
        return json_response(
            200, {"destination": name, "deliveries": [delivery_json(d) for d in found]}
        )

    async def sync(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ADMINS)
        query(request).done()
        check_fields(await json_object(request, empty=True), set())
        reports = await run_in_threadpool(self._ws.destinations.sync, request.path_params["name"])
        return json_response(200, reports[0].to_json())

    async def retry(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ADMINS)
        query(request).done()
        body = await json_object(request, empty=True)
        check_fields(body, {"ids"})
        ids = _names(body, "ids") if "ids" in body else None
        name = request.path_params["name"]
        n = await run_in_threadpool(self._ws.destinations.retry, name, ids)
        return json_response(200, {"destination": name, "queued": n})


class DestinationSender(BackgroundLoop):
    """A background thread that runs a round of every destination every `interval`
    seconds; a failure is logged and the next round tries again."""

    thread_name = "empreinte-destinations"

    def __init__(self, workspace: Workspace, interval: float | None = None):
        super().__init__()
        self._ws = workspace
        self._interval = interval

    def run_once(self) -> None:
        for report in self._ws.destinations.sync():
            if report.error:
                log.warning("destination %s: %s", report.destination, report.error)

    def _run(self) -> None:
        interval = self._interval or self._ws.destinations.settings.interval_seconds
        while not self._stop.wait(interval):
            try:
                self.run_once()
            except Exception:
                log.exception("the destinations' round failed; retried next round")
