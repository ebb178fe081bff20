"""The ASGI application of a workspace: collector, read API, CORS, error pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response

from empreinte.collect.http import Collector
from empreinte.privacy.users import Users
from empreinte.web.api import ReadApi
from empreinte.web.cx_api import CxApi
from empreinte.web.identity_api import IdentityApi, IdentitySync
from empreinte.web.privacy_api import PrivacyApi
from empreinte.web.profiles_api import ProfilesApi
from empreinte.web.snapshot_api import SnapshotApi
from empreinte.workspace import Workspace

log = logging.getLogger(__name__)


async def _internal_error(request: Request, exc: Exception) -> Response:
    # Never a stack trace to the client; the log keeps it for the operator.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    body = {"code": "internal_error", "message": "an unexpected error occurred; it was logged"}
    return Response(orjson.dumps(body), 500, media_type="application/json")


async def _http_error(request: Request, exc: Exception) -> Response:
    # 404, 405…: the same JSON error body as every other answer, which clients can read.
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    body = {
        "code": codes.get(exc.status_code, "http_error"),
        "message": f"{request.method} {request.url.path}: {exc.detail}",
    }
    return Response(orjson.dumps(body), exc.status_code, exc.headers, media_type="application/json")


def create_app(
    workspace: Workspace,
    local_secret: str | None = None,
    on_shutdown: Callable[[], None] | None = None,
) -> Starlette:
    """The whole HTTP surface of `workspace`. Closing the app closes the workspace.

    `local_secret` lets the local CLI ask for snapshots (see web/snapshot_api.py);
    `on_shutdown` runs when the server stops (uvicorn then re-raises SIGTERM, so code after
    `uvicorn.run` would not)."""
    collector = Collector(workspace.credentials, workspace.writer, workspace.policy)
    api = ReadApi(workspace.engine, workspace.credentials)
    profiles = ProfilesApi(workspace)
    identity = IdentityApi(workspace)
    # Dashboard users: session tokens are accepted as Bearer tokens by `web.auth.require`.
    users = Users.for_workspace(workspace.path, workspace.privacy_store)
    privacy = PrivacyApi(workspace, users)
    cx = CxApi(workspace)
    snapshots = SnapshotApi(workspace, local_secret)
    # The identity graph follows the log in the background; reads also sync first.
    identity_sync = IdentitySync(workspace)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        identity_sync.start()
        yield
        identity_sync.stop()
        workspace.close()
        if on_shutdown is not None:
            on_shutdown()

    app = Starlette(
        routes=[
            *collector.routes(),
            *api.routes(),
            *profiles.routes(),
            *identity.routes(),
            *privacy.routes(),
            *cx.routes(),
            *snapshots.routes(),
        ],
        middleware=[
            # Browsers post from any site that embeds the tracking snippet.
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["*"],
                max_age=86_400,
            )
        ],
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
        lifespan=lifespan,
    )
    app.state.sessions = users
    return app
