"""Workspaces and the real server as a subprocess: what tests share besides fixtures.

Importable from any test directory as `servers` (tests/ is on the path); `conftest` re-exports
it for the tests that import it from there.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

import empreinte

STARTUP_TIMEOUT = 30.0


# -- workspaces -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """A workspace on disk and the secrets made for it (shown once, kept here by the test)."""

    path: Path
    write_key: str  # source "web"
    app_write_key: str  # source "app"
    admin_token: str
    analyst_token: str
    viewer_token: str


def make_workspace(path: Path) -> Keys:
    """A fresh workspace with two sources and one API token per role, then closed."""
    ws = empreinte.open(path)
    try:
        return Keys(
            path=path,
            write_key=ws.credentials.create_write_key("web"),
            app_write_key=ws.credentials.create_write_key("app"),
            admin_token=ws.credentials.create_api_token("ops", "admin"),
            analyst_token=ws.credentials.create_api_token("analyst", "analyst"),
            viewer_token=ws.credentials.create_api_token("viewer", "viewer"),
        )
    finally:
        ws.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, alive: Callable[[], bool], describe: Callable[[], str]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"the server at {url} exited during start-up\n{describe()}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server at {url} did not become healthy\n{describe()}")


def cli(*argv: str) -> subprocess.CompletedProcess[str]:
    """`empreinte ARGV…` in a fresh interpreter, as a user runs it (beside a running server,
    say, where an in-process runner would share its state)."""
    return subprocess.run(
        [sys.executable, "-c", "from empreinte.cli import main; main()", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )


# -- the real server, as a subprocess ---------------------------------------------------------


def serve_command() -> list[str]:
    script = Path(sys.executable).parent / "empreinte"
    if script.exists():
        return [str(script)]
    found = shutil.which("empreinte")
    if found:
        return [found]
    return [sys.executable, "-c", "from empreinte.cli import main; main()"]


class ServerProcess:
    """`empreinte serve -w DIR --port PORT`, started, killed and restarted by a test."""

    def __init__(self, workspace: Path, log_dir: Path):
        self.workspace = workspace
        self.port = free_port()
        self._log_dir = log_dir
        self._starts = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self._log_dir / f"server-{self.port}-{self._starts}.log"

    def start(self) -> ServerProcess:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        for attempt in range(3):
            self._starts += 1
            with self.log_path.open("wb") as log:
                self.proc = subprocess.Popen(
                    [
                        *serve_command(),
                        "serve",
                        "-w",
                        str(self.workspace),
                        "--port",
                        str(self.port),
                        # Batches go through a validation worker, whatever the cores.
                        "--workers",
                        "1",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, "NO_COLOR": "1"},
                )
            try:
                wait_healthy(self.url, self.alive, self.log)
                return self
            except RuntimeError:
                self.kill()
                if attempt == 2 or "address already in use" not in self.log().lower():
                    raise
                self.port = free_port()  # lost a race for the port: take another one
        raise AssertionError("unreachable")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def kill(self) -> None:
        """`kill -9`: no shutdown hook runs, nothing is flushed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """A graceful stop (SIGTERM), as an operator would do; SIGKILL if it hangs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()


_serve_command = serve_command
