"""The dashboard's fixtures (imported by tests/conftest.py: a conftest.py of its own in
tests/dashboard would take the name `conftest` from the top one, which tests import from).

The dashboard under test: the demo data served by the real `empreinte serve`, the demo's own
users (and a viewer), an HTTP client that logs in through the login form, and Debian's
Chromium driven by Playwright.

One demo per xdist worker (session scope): `empreinte demo --no-serve` with fewer people than
the default, then the server on it. Tests that add data use ids of their own (`uid`).
Screenshots go to `test-artifacts/dashboard/` (kept by CI as artefacts; not in git).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dashboard_support import CHROMIUM, CHROMIUM_ARGS, Dashboard, login
from servers import ServerProcess, serve_command

DEMO_PEOPLE = 600


def _create_viewer(workspace: Path) -> str:
    password = "viewer-password-" + os.urandom(6).hex()
    subprocess.run(
        [
            *serve_command(),
            *("users", "create", "-w", str(workspace)),
            *("--username", "demo-viewer", "--role", "viewer", "--password-stdin"),
        ],
        input=password + "\n",
        text=True,
        capture_output=True,
        check=True,
    )
    return password


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    root = tmp_path_factory.mktemp("dashboard")
    workspace = root / "demo"
    done = subprocess.run(
        [
            *serve_command(),
            "demo",
            "--no-serve",
            "--dir",
            str(workspace),
            "--people",
            str(DEMO_PEOPLE),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
        check=True,
    )
    passwords = dict(
        line.split(" ", 1) for line in (workspace / "demo-logins.txt").read_text().splitlines()
    )
    passwords["demo-viewer"] = _create_viewer(workspace)
    # Tests compare pages with the API on data other tests add to: no minute-old figures
    # (the cache has tests of its own, tests/dashboard/test_cache.py).
    with (workspace / "empreinte.toml").open("a") as config:
        config.write("\n[dashboard]\nreport_cache_seconds = 0\n")
    write_key = re.search(r"write key \(source 'web'\):\s+(\S+)", done.stdout)
    token = re.search(r"admin API token:\s+(\S+)", done.stdout)
    assert write_key and token, done.stdout
    # What a newcomer reads: where the dashboard is, and how to log in.
    assert "dashboard: http://127.0.0.1:8000/" in done.stdout
    assert f"log in as demo-admin with password {passwords['demo-admin']}" in done.stdout
    server = ServerProcess(workspace, root).start()
    try:
        yield Dashboard(server.url, workspace, passwords, write_key.group(1), token.group(1))
    finally:
        server.stop()


@pytest.fixture
def client_as(dashboard: Dashboard) -> Iterator[Callable[[str], httpx.Client]]:
    """An HTTP client logged in through the login form as the demo user of a role."""
    clients: list[httpx.Client] = []

    def make(role: str) -> httpx.Client:
        client = httpx.Client(base_url=dashboard.url, timeout=60)
        clients.append(client)
        username = dashboard.username(role)
        answer = login(client, username, dashboard.passwords[username])
        assert answer.status_code == 303, answer.text
        return client

    yield make
    for client in clients:
        client.close()


# Per module, not per session: while Playwright's sync API runs, its event loop is the
# thread's, and tests of other modules in the same worker that call asyncio.run would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_as(browser: Any, dashboard: Dashboard) -> Iterator[Callable[..., Any]]:
    """A browser page logged in through the form as the demo user of a role; its console
    errors are collected in `page.errors` (a page that throws fails its test)."""
    contexts: list[Any] = []

    def make(role: str, locale: str = "en-GB", width: int = 1280) -> Any:
        context = browser.new_context(
            locale=locale, viewport={"width": width, "height": 900}, accept_downloads=True
        )
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(dashboard.url + "/login")
        username = dashboard.username(role)
        page.get_by_label(re.compile("Username|Identifiant")).fill(username)
        page.get_by_label(re.compile("Password|Mot de passe")).fill(dashboard.passwords[username])
        page.get_by_role("button", name=re.compile("Log in|Se connecter")).click()
        page.wait_for_url(re.compile(r".*/overview"))
        return page

    yield make
    for context in contexts:
        context.close()
