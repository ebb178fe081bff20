"""`/api/sources…`: write keys (list, create, revoke) and what the collector refused.

The same operations as the dashboard's Sources page, for scripts and infrastructure tools:
admins only, like the page. A write key is shown once, in the answer that creates it; lists
name keys by their SHA-256 digest (what a revocation takes). A revocation is refused at once by
the server that answers it. Refusals are the collector's in-memory register
(collect/rejections.py): per source and reason (the rule and the field, never the value), per
hour over the last 24 hours of this server process.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.collect.rejections import RejectionRegister, RejectionReport
from empreinte.credentials import Role, key_digest
from empreinte.errors import InvalidInput
from empreinte.store.records import SourceKey
from empreinte.web.auth import require
from empreinte.web.operation import ApiRoute, Operation, query
from empreinte.web.params import json_object
from empreinte.web.responses import json_response
from empreinte.workspace import Workspace

_TAG = "sources"
_ADMIN = (Role.ADMIN,)
_STRING = {"type": "string"}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_KEY = {
    "type": "object",
    "properties": {
        "source": _STRING,
        "keyHash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "createdAt": _TIME,
        "revokedAt": _TIME,
    },
    "required": ["source", "keyHash", "createdAt", "revokedAt"],
}
KEYS = Operation(
    "Every write key made, revoked ones too (by digest: keys are not kept)",
    _TAG,
    roles=_ADMIN,
    answer={
        "type": "object",
        "properties": {"keys": {"type": "array", "items": _KEY}},
        "required": ["keys"],
    },
)
CREATE_KEY = Operation(
    "Make a write key for a source (created if new); the key is shown once, here",
    _TAG,
    roles=_ADMIN,
    body={
        "type": "object",
        "properties": {"source": {"type": "string", "minLength": 1, "maxLength": 64}},
        "required": ["source"],
        "additionalProperties": False,
    },
    ok=201,
    errors=(400,),
    answer={
        "type": "object",
        "properties": {"source": _STRING, "writeKey": _STRING, "keyHash": _STRING},
        "required": ["source", "writeKey", "keyHash"],
    },
)
REVOKE_KEY = Operation(
    "Revoke a write key by its digest: requests that send it are refused (401) from now on",
    _TAG,
    roles=_ADMIN,
    errors=(404,),
    path_params={"key_hash": "the key's SHA-256 digest, as the list gives it"},
    answer=_KEY,
)
REJECTIONS = Operation(
    "What the collector refused over the last 24 hours, per source and reason",
    _TAG,
    roles=_ADMIN,
    description="Reasons name the rule and the field, never the value sent. Counted in memory "
    "by this server process since it started (`since`).",
)
_MAX_BODY = 4096


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def key_json(key: SourceKey) -> dict[str, Any]:
    return {
        "source": key.source,
        "keyHash": key.key_hash,
        "createdAt": _time(key.created_at),
        "revokedAt": _time(key.revoked_at),
    }


def rejections_json(report: RejectionReport) -> dict[str, Any]:
    return {
        "since": _time(report.started),
        "reasons": [
            {
                "source": count.reason.source,
                "code": count.reason.code,
                "field": count.reason.field,
                "total": count.total,
                "thisHour": count.this_hour,
                "hours": [{"hour": _time(h), "refused": n} for h, n in count.hours],
                "lastSeen": _time(count.last_seen),
            }
            for count in report.counts
        ],
    }


class SourcesApi:
    """Routes of the sources API over one workspace and its collector's refusal register."""

    def __init__(self, workspace: Workspace, rejections: RejectionRegister):
        self._ws = workspace
        self._rejections = rejections

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/sources/keys", self.keys, "GET", KEYS),
            ApiRoute("/api/sources/keys", self.create_key, "POST", CREATE_KEY),
            ApiRoute("/api/sources/keys/{key_hash}/revoke", self.revoke_key, "POST", REVOKE_KEY),
            ApiRoute("/api/sources/rejections", self.rejections, "GET", REJECTIONS),
        ]

    async def keys(self, request: Request) -> Response:
        require(request, self._ws.credentials, *_ADMIN)
        query(request).done()  # no parameters: an unknown one is refused
        keys = await run_in_threadpool(self._ws.credentials.write_key_list)
        return json_response(200, {"keys": [key_json(k) for k in keys]})

    async def create_key(self, request: Request) -> Response:
        require(request, self._ws.credentials, *_ADMIN)
        body = await json_object(request, max_bytes=_MAX_BODY)
        unknown = sorted(set(body) - {"source"})
        if unknown:
            raise InvalidInput(unknown[0], 'unknown field; the body is {"source": "<name>"}')
        source = body.get("source")
        if not isinstance(source, str):
            raise InvalidInput("source", "give the source's name as a string")
        key = await run_in_threadpool(self._ws.credentials.create_write_key, source)
        return json_response(201, {"source": source, "writeKey": key, "keyHash": key_digest(key)})

    async def revoke_key(self, request: Request) -> Response:
        require(request, self._ws.credentials, *_ADMIN)
        key_hash = request.path_params["key_hash"]
        key = await run_in_threadpool(self._ws.credentials.revoke_write_key, key_hash)
        return json_response(200, key_json(key))

    async def rejections(self, request: Request) -> Response:
        require(request, self._ws.credentials, *_ADMIN)
        query(request).done()
        return json_response(200, rejections_json(self._rejections.report()))
