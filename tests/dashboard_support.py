"""What the dashboard's tests share besides fixtures: the browser's flags, the demo's users,
logging in through the form, screenshots."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx

CHROMIUM = "/usr/bin/chromium"
# The network is closed: without these, Chromium stalls on refused connections at start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTEFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "dashboard"
DEMO_PEOPLE = 600


@dataclass(frozen=True)
class Dashboard:
    url: str
    workspace: Path
    passwords: dict[str, str]  # username → password
    write_key: str
    admin_token: str

    USERS: ClassVar[dict[str, str]] = {
        "admin": "demo-admin",
        "analyst": "demo-analyst",
        "viewer": "demo-viewer",
    }

    def username(self, role: str) -> str:
        return self.USERS[role]


CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    form = client.get("/login")
    return client.post(
        "/login",
        data={"csrf": csrf_of(form.text), "username": username, "password": password},
    )


def screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot kept as a test artefact."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def api(dashboard: Dashboard, path: str, **params: Any) -> Any:
    """The HTTP API's JSON answer to a GET, with the demo's admin token: the independent
    figures pages are checked against."""
    answer = httpx.get(
        dashboard.url + path,
        params=params,
        headers={"Authorization": f"Bearer {dashboard.admin_token}"},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def download(client: httpx.Client, path: str) -> list[dict[str, str]]:
    """A page's CSV download (`?download=<id>`), as rows."""
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(answer.text)))
