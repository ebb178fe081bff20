"""The error answers of the whole app: one handler for the `EmpreinteError` tree, one for
Starlette's own 404/405, one for anything unexpected. Routes just raise.

Each error answers with its class's status, code and headers (`Retry-After` for 429/503) and
the body of `EmpreinteError.to_json()`. A server-side error (5xx) shows its class's generic
message: its own text (a DuckDB message naming the WAL's path…) goes to the operator's log,
never to the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from empreinte.errors import EmpreinteError
from empreinte.web.responses import error_response, json_response

log = logging.getLogger(__name__)

Handler = Callable[[Request, Exception], Awaitable[Response]]


async def empreinte_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EmpreinteError)
    if not exc.exposed:
        # The caller gets the class's generic message; the operator gets what happened.
        log.error(
            "%s %s answered %d (%s): %s",
            request.method,
            request.url.path,
            exc.status,
            type(exc).__name__,
            exc,
            exc_info=exc.status == 500,
        )
    return json_response(exc.status, exc.to_json(), exc.headers())


async def http_error(request: Request, exc: Exception) -> Response:
    # 404, 405…: the same JSON error body as every other answer, which clients can read.
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    return error_response(
        exc.status_code,
        codes.get(exc.status_code, "http_error"),
        f"{request.method} {request.url.path}: {exc.detail}",
        dict(exc.headers or {}),
    )


async def internal_error(request: Request, exc: Exception) -> Response:
    # Never a stack trace to the client; the log keeps it for the operator.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", EmpreinteError.public_message)


# For `Starlette(exception_handlers=...)`. Starlette picks the handler of the nearest class in
# the exception's MRO, so every subclass of EmpreinteError goes to `empreinte_error`.
EXCEPTION_HANDLERS: Mapping[Any, Handler] = {
    EmpreinteError: empreinte_error,
    HTTPException: http_error,
    Exception: internal_error,
}
