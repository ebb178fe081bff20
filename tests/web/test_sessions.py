"""Real dashboard users, logged in over HTTP, using the API as they would: every route they
may call, interleaved, many times, on the real server. A store call that leaves a result
unfinished on its thread's cursor would make a later call on that thread fail (500)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import httpx

import empreinte
from conftest import Keys, ServerProcess
from empreinte.privacy.users import Users

PASSWORD = "correct horse battery staple"


def test_logged_in_users_use_every_route_without_a_server_error(
    workspace: Keys, start_server: Callable[[Keys], ServerProcess]
) -> None:
    with empreinte.open(workspace.path) as ws:
        users = Users.for_workspace(workspace.path, ws.privacy_store)
        for name, role in (("ada", "admin"), ("alan", "analyst"), ("vera", "viewer")):
            users.create(name, PASSWORD, role)
        ws.identify("u-1", traits={"email": "u1@example.com"})
        ws.track("NPS Answered", user_id="u-1", properties={"score": 9})
    server = start_server(workspace)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        profile = http.get(
            "/api/profiles",
            params={"userId": "u-1"},
            headers={"Authorization": f"Bearer {workspace.admin_token}"},
        ).json()["profileId"]
        routes = [
            ("GET", "/api/me", None),
            ("GET", f"/api/profiles/{profile}", None),
            ("GET", f"/api/profiles/{profile}/consent", None),
            ("GET", f"/api/profiles/{profile}/export", None),
            ("GET", f"/api/profiles/{profile}/timeline", None),
            ("GET", "/api/privacy/erasures", None),
            ("GET", "/api/privacy/suppressed", None),
            ("GET", "/api/cx/nps", None),
            ("GET", "/api/cx/experiments/checkout-countdown", None),
            ("GET", "/api/identity/conflicts", None),
            ("GET", "/api/events", None),
            ("POST", "/api/consent/confirm", {"token": "cnf_unknown"}),
            (
                "POST",
                "/api/consent",
                {"userId": "u-1", "purpose": "analytics", "granted": True, "wordingVersion": "v"},
            ),
        ]
        statuses: dict[tuple[str, str], set[int]] = {}
        tokens: dict[str, str] = {}

        def login(name: str) -> str:
            answer = http.post("/api/login", json={"username": name, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            token: str = answer.json()["token"]
            return token

        for name, (method, path, body) in itertools.product(("ada", "alan", "vera"), routes):
            # The admin logs in again before each call (a login is what used to leave the
            # cursor busy); the others keep their session.
            if name == "ada" or name not in tokens:
                tokens[name] = login(name)
            answer = http.request(
                method, path, json=body, headers={"Authorization": f"Bearer {tokens[name]}"}
            )
            assert answer.status_code < 500, (name, path, answer.text)
            statuses.setdefault((name, path), set()).add(answer.status_code)
        # The roles still hold with real sessions: the viewer may not export, the admin may.
        assert statuses[("vera", f"/api/profiles/{profile}/export")] == {403}
        assert statuses[("ada", f"/api/profiles/{profile}/export")] == {200}
        assert statuses[("ada", "/api/consent/confirm")] == {400}
