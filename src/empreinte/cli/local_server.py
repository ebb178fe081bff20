"""The CLI beside a running server.

`empreinte serve` holds the workspace's database (DuckDB allows one process per file). It
advertises itself in the workspace: `server.json` (readable by the workspace's owner only)
names its address and a secret made for this run. A read command that finds the database
held asks that server for a snapshot (`POST /api/snapshots`), then reads the copy with the
ordinary code, so every report and lookup works while the collector goes on ingesting. Commands
that change the workspace still need the server stopped, or the HTTP API.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import orjson

from empreinte.errors import WorkspaceLocked

ADVERT = "server.json"


@dataclass(frozen=True)
class LocalServer:
    url: str
    secret: str
    pid: int

    @classmethod
    def start(cls, workspace: Path, host: str, port: int) -> LocalServer:
        """Advertise a server about to listen on host:port for `workspace`."""
        # A server on every interface is reached by the CLI on the loopback one.
        local = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "[::1]"}.get(host, host)
        if ":" in local and not local.startswith("["):
            local = f"[{local}]"
        server = cls(f"http://{local}:{port}", secrets.token_urlsafe(32), os.getpid())
        doc = {"url": server.url, "secret": server.secret, "pid": server.pid}
        path = workspace / ADVERT
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(orjson.dumps(doc))
        return server

    def stop(self, workspace: Path) -> None:
        """Withdraw the advert, if it is still this server's."""
        if advertised(workspace) == self:
            (workspace / ADVERT).unlink(missing_ok=True)

    def snapshot(self, workspace: Path) -> Path:
        """A fresh snapshot of the workspace database, taken by the server."""
        from empreinte.web.snapshot_api import SNAPSHOTS

        request = urllib.request.Request(
            f"{self.url}/api/snapshots",
            method="POST",
            headers={"Authorization": f"Bearer {self.secret}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as answer:
                name = orjson.loads(answer.read())["snapshot"]
        except (OSError, ValueError, KeyError) as exc:
            raise WorkspaceLocked(
                f"the workspace {workspace} is held by the server at {self.url}, which did not "
                f"give a snapshot ({exc}); try again, or stop the server"
            ) from None
        path = workspace / SNAPSHOTS / Path(str(name)).name
        if not path.is_file():
            raise WorkspaceLocked(f"the server at {self.url} serves another workspace")
        return path


def advertised(workspace: Path) -> LocalServer | None:
    """The server that says it holds `workspace`, if its advert is there and readable."""
    try:
        doc = orjson.loads((workspace / ADVERT).read_bytes())
        return LocalServer(str(doc["url"]), str(doc["secret"]), int(doc["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def discard(snapshot: Path) -> None:
    """Remove a snapshot and what the engine left beside it."""
    for leftover in (snapshot, *snapshot.parent.glob(snapshot.name + ".*")):
        with contextlib.suppress(OSError):
            leftover.unlink()
