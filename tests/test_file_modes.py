"""What holds personal data is the owner's alone: the workspace directory, the database and
its WAL, and every answer says its type is not to be sniffed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx

import empreinte
from conftest import Keys, ServerProcess


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_workspace_is_the_owners_alone(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the common default: files 0644, directories 0755
    try:
        with empreinte.open(tmp_path / "ws") as ws:
            ws.identify("u-1", traits={"email": "a@example.com"})
            assert mode(tmp_path / "ws") == 0o700
            assert mode(tmp_path / "ws" / "events.duckdb") == 0o600
        (tmp_path / "ws" / "events.duckdb").chmod(0o644)  # made by an older version
        with empreinte.open(tmp_path / "ws"):
            assert mode(tmp_path / "ws" / "events.duckdb") == 0o600
    finally:
        os.umask(old)


def test_every_answer_forbids_type_sniffing(server: ServerProcess, workspace: Keys) -> None:
    admin = {"Authorization": f"Bearer {workspace.admin_token}"}
    for path, headers in (
        ("/api/health", {}),
        ("/api/events", admin),
        ("/api/cx/nps?format=svg", admin),
        ("/api/nowhere", {}),
        ("/api/events", {}),
    ):
        answer = httpx.get(server.url + path, headers=headers, timeout=60)
        assert answer.headers["x-content-type-options"] == "nosniff", path
