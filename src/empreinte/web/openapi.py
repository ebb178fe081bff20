"""The OpenAPI 3.1 document of the HTTP API, made from the routes themselves.

Every route of the app is an `ApiRoute` carrying its `Operation` (web/operation.py): who may
call it, the query parameters it reads (the same declarations the handler reads them with),
its JSON body, its answers. `document(routes)` turns them into the document, served at
`GET /api/openapi.json` to anyone (it describes the API; it holds no data and no secret).
tests/web/test_openapi.py checks that every route is in it and that it is valid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from empreinte.web.operation import JSON, ApiRoute, Operation
from empreinte.web.params import Texts
from empreinte.web.responses import json_response

PATH = "/api/openapi.json"
VERSION = "3.1.0"

ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "stable and machine-readable"},
        "message": {"type": "string", "description": "what to do about it"},
        "field": {"type": "string", "description": "the parameter or body field at fault"},
    },
    "required": ["code", "message"],
}
_ERRORS = {
    400: "Bad request: a parameter or the body is malformed, out of bounds or unknown "
    "(`field` names it); the request cannot be answered as asked",
    401: "Missing or unknown credentials",
    403: "The credentials' role may not do this",
    404: "Not found",
    409: "Conflicts with the current state",
    429: "Too many requests: retry after Retry-After seconds",
    503: "Temporarily unavailable: retry after Retry-After seconds",
}
_RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}},
}
SECURITY_SCHEMES: dict[str, Any] = {
    "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`empreinte tokens create`, emp_…) or a dashboard "
        "session token (`POST /api/login`, ses_…); each carries a role: admin, analyst or "
        "viewer. POST /api/snapshots also takes the local CLI's secret.",
    },
    "writeKey": {
        "type": "http",
        "scheme": "basic",
        "description": "A source's write key as the HTTP Basic username, empty password, as "
        "the Segment libraries send it (or `writeKey` in the body). Write keys only write.",
    },
}
_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "public": [],
    "token": [{"apiToken": []}],
    "token_or_local": [{"apiToken": []}],
    "write_key": [{"writeKey": []}],
}
_SUCCESS_SCHEMAS: dict[str, dict[str, Any]] = {
    "text/csv": {"type": "string"},
    "image/png": {"type": "string", "contentMediaType": "image/png"},
    "image/svg+xml": {"type": "string"},
    "text/html": {"type": "string"},  # a shared story's public page
    "application/vnd.apache.parquet": {
        "type": "string",
        "contentMediaType": "application/vnd.apache.parquet",
    },
}

OPENAPI = Operation("This document: every route of the HTTP API", "operations", auth="public")


def operation_id(method: str, path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", f"{method.lower()} {path}").strip("_")


def _parameters(route: ApiRoute) -> list[dict[str, Any]]:
    op = route.operation
    names = op.path_params or {}
    found: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            **({"description": names[name]} if name in names else {}),
        }
        for name in route.param_convertors
    ]
    for param in op.params:
        entry = {
            "name": param.name,
            "in": "query",
            "required": False,
            "description": param.description,
            "schema": param.schema(),
        }
        if isinstance(param, Texts):
            entry |= {"style": "form", "explode": True}
        found.append(entry)
    return found


def _responses(op: Operation) -> dict[str, Any]:
    content = {
        media: {"schema": dict(op.answer) if media == JSON else _SUCCESS_SCHEMAS[media]}
        for media in op.media
    }
    found: dict[str, Any] = {str(op.ok): {"description": op.summary, "content": content}}
    for status in op.statuses():
        found[str(status)] = {"$ref": f"#/components/responses/{status}"}
    return found


def _operation(route: ApiRoute) -> dict[str, Any]:
    op = route.operation
    description = op.description
    if op.roles and op.auth != "public":
        roles = ", ".join(role.value for role in op.roles)
        description = f"Roles: {roles}. {description}".strip()
    found: dict[str, Any] = {
        "operationId": operation_id(route.method, route.path),
        "summary": op.summary,
        "tags": [op.tag],
        "security": _SECURITY[op.auth],
        "parameters": _parameters(route),
        "responses": _responses(op),
    }
    if description:
        found["description"] = description
    if op.roles and op.auth != "public":
        found["x-roles"] = [role.value for role in op.roles]
    if op.body is not None:
        found["requestBody"] = {
            "required": op.body_required,
            "content": {JSON: {"schema": dict(op.body)}},
        }
    return found


def _error_response(status: int) -> dict[str, Any]:
    found: dict[str, Any] = {
        "description": _ERRORS[status],
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status in (429, 503):
        found["headers"] = _RETRY_AFTER
    return found


def document(routes: Iterable[BaseRoute], version: str) -> dict[str, Any]:
    """The OpenAPI document of `routes` (those without an operation are left out: the test
    that compares the app's routes with the document catches them)."""
    paths: dict[str, dict[str, Any]] = {}
    statuses: set[int] = set()
    for route in routes:
        if not isinstance(route, ApiRoute):
            continue
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
        statuses.update(route.operation.statuses())
    return {
        "openapi": VERSION,
        "info": {
            "title": "empreinte",
            "version": version,
            "description": "Collection (the Segment HTTP Tracking API), profiles, identity, "
            "privacy and CX reports of one workspace. Every error answers "
            '`{"code", "message"}` (and `field` when a parameter is at fault).',
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Error": ERROR},
            "responses": {str(s): _error_response(s) for s in sorted(statuses)},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


class OpenApi:
    """`GET /api/openapi.json`: the document of the app serving it, made on first request."""

    def __init__(self, version: str):
        self._version = version
        self._cached: Mapping[str, Any] | None = None

    def routes(self) -> list[ApiRoute]:
        return [ApiRoute(PATH, self.serve, "GET", OPENAPI)]

    async def serve(self, request: Request) -> Response:
        if self._cached is None:
            self._cached = document(request.app.routes, self._version)
        return json_response(200, self._cached)
