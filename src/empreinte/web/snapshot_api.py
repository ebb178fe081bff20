"""`POST /api/snapshots`: a consistent copy of the workspace database, for the CLI beside a
running server.

DuckDB lets one process hold a database file. While `empreinte serve` runs, a read command of
the CLI asks the server for a snapshot (one transaction's view of every table), then reads that
copy with the ordinary code: every report and lookup works unchanged, as of the moment it was
asked. The server names the file (the caller gives no path) inside the workspace's
`snapshots/` folder; the CLI deletes it when done, and copies older than an hour are removed
on the next request.

Callers: the local CLI, with the secret the server wrote into the workspace (`server.json`,
readable only by the workspace's owner, and valid only while this process lives), or an admin.
"""

from __future__ import annotations

import hmac
import time
import uuid

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Role
from empreinte.web.auth import require
from empreinte.web.operation import ApiRoute, Operation
from empreinte.web.responses import json_response
from empreinte.workspace import Workspace

SNAPSHOTS = "snapshots"
_KEEP_SECONDS = 3600

SNAPSHOT = Operation(
    "A consistent copy of the workspace database, for the CLI beside the server",
    "operations",
    auth="token_or_local",
    roles=(Role.ADMIN,),
    ok=201,
    answer={
        "type": "object",
        "properties": {"snapshot": {"type": "string"}},
        "required": ["snapshot"],
    },
    errors=(503,),
    description="For an admin token, or the local CLI's secret (server.json). The body, if "
    "any, is ignored.",
)


class SnapshotApi:
    def __init__(self, workspace: Workspace, local_secret: str | None = None):
        self.workspace = workspace
        self._secret = local_secret
        self._folder = workspace.path / SNAPSHOTS

    def routes(self) -> list[ApiRoute]:
        return [ApiRoute("/api/snapshots", self.create, "POST", SNAPSHOT)]

    def _authorise(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        secret = self._secret
        if secret and scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), secret):
            return
        require(request, self.workspace.credentials, Role.ADMIN)

    def _take(self) -> str:
        self._folder.mkdir(mode=0o700, exist_ok=True)
        cutoff = time.time() - _KEEP_SECONDS
        for old in self._folder.glob("*.snapshot*"):
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        name = f"{uuid.uuid4().hex}.snapshot"
        self.workspace.engine.snapshot(self._folder / name)
        return name

    async def create(self, request: Request) -> Response:
        # Errors (401, 403, a storage that cannot copy: 503) answer through web/errors.py.
        self._authorise(request)
        name = await run_in_threadpool(self._take)
        return json_response(201, {"snapshot": name})
