"""The dashboard's frame, over HTTP: login and logout, the session cookie, CSRF, redirects,
languages, headers, static files, and login throttling — against the real server."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable

import httpx
import pytest

from dashboard_support import Dashboard, csrf_of, login
from servers import Keys, ServerProcess, serve_command


def fresh(dashboard: Dashboard, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=dashboard.url, timeout=60, headers=headers)


def test_the_root_sends_a_newcomer_to_the_login_page(dashboard: Dashboard) -> None:
    with fresh(dashboard) as client:
        answer = client.get("/")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login"
        page = client.get("/login")
        assert page.status_code == 200
        assert 'name="username"' in page.text and 'name="password"' in page.text
        # Every input has its label (the form is usable with a screen reader).
        assert page.text.count("<label") >= 2


def test_a_page_asked_before_login_comes_back_after_it(dashboard: Dashboard) -> None:
    with fresh(dashboard) as client:
        answer = client.get("/overview?period=quarter")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=%2Foverview%3Fperiod%3Dquarter"
        form = client.get(answer.headers["location"])
        assert 'value="/overview?period=quarter"' in form.text
        done = client.post(
            "/login",
            data={
                "csrf": csrf_of(form.text),
                "username": "demo-analyst",
                "password": dashboard.passwords["demo-analyst"],
                "next": "/overview?period=quarter",
            },
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/overview?period=quarter"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil"])
def test_login_never_redirects_to_another_site(dashboard: Dashboard, target: str) -> None:
    with fresh(dashboard) as client:
        form = client.get("/login")
        done = client.post(
            "/login",
            data={
                "csrf": csrf_of(form.text),
                "username": "demo-viewer",
                "password": dashboard.passwords["demo-viewer"],
                "next": target,
            },
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/overview"
        switched = client.get("/language/fr", params={"next": target})
        assert switched.headers["location"] == "/overview"


def test_the_session_cookie_is_httponly_and_samesite(dashboard: Dashboard) -> None:
    with fresh(dashboard) as client:
        done = login(client, "demo-viewer", dashboard.passwords["demo-viewer"])
        cookie = done.headers["set-cookie"]
        assert cookie.startswith("empreinte_session=ses_")
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain HTTP on loopback: a Secure cookie would be lost


def test_behind_a_tls_proxy_the_session_cookie_is_secure(dashboard: Dashboard) -> None:
    # uvicorn trusts X-Forwarded-Proto from loopback (the reverse proxy's address).
    with fresh(dashboard, **{"X-Forwarded-Proto": "https"}) as client:
        done = login(client, "demo-viewer", dashboard.passwords["demo-viewer"])
        assert "Secure" in done.headers["set-cookie"]


def test_a_wrong_password_is_refused_without_saying_which_part_is_wrong(
    dashboard: Dashboard,
) -> None:
    with fresh(dashboard) as client:
        known = login(client, "demo-admin", "not-the-password")
        unknown = login(client, "nobody-at-all", "not-the-password")
        for answer in (known, unknown):
            assert answer.status_code == 401
            assert "Wrong username or password." in answer.text
            assert "empreinte_session" not in answer.headers.get("set-cookie", "")
        # The form stays filled with the username, escaped.
        evil = login(client, '"><script>alert(1)</script>', "x")
        assert "<script>alert(1)</script>" not in evil.text
        assert "&#34;&gt;&lt;script&gt;" in evil.text or "&quot;&gt;&lt;script&gt;" in evil.text


def test_forms_without_a_valid_csrf_token_are_refused(dashboard: Dashboard) -> None:
    password = dashboard.passwords["demo-admin"]
    with fresh(dashboard) as client:
        client.get("/login")  # the CSRF cookie
        for token in ("", "0" * 64, "not-hex"):
            answer = client.post(
                "/login", data={"csrf": token, "username": "demo-admin", "password": password}
            )
            assert answer.status_code == 403
            assert "empreinte_session" not in answer.headers.get("set-cookie", "")
    with fresh(dashboard) as other:
        # A token from one browser does not work with another browser's cookie.
        with fresh(dashboard) as first:
            stolen = csrf_of(first.get("/login").text)
        other.get("/login")
        answer = other.post(
            "/login", data={"csrf": stolen, "username": "demo-admin", "password": password}
        )
        assert answer.status_code == 403


def test_a_form_posted_from_another_site_is_refused(dashboard: Dashboard) -> None:
    with fresh(dashboard) as client:
        token = csrf_of(client.get("/login").text)
        answer = client.post(
            "/login",
            data={
                "csrf": token,
                "username": "demo-admin",
                "password": dashboard.passwords["demo-admin"],
            },
            headers={"Origin": "https://evil.example"},
        )
        assert answer.status_code == 403


def test_logout_ends_the_session(
    dashboard: Dashboard, client_as: Callable[[str], httpx.Client]
) -> None:
    client = client_as("analyst")
    page = client.get("/overview")
    assert page.status_code == 200
    token = client.cookies["empreinte_session"]
    assert client.post("/logout", data={"csrf": ""}).status_code == 403
    done = client.post("/logout", data={"csrf": csrf_of(page.text)})
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert client.get("/overview").status_code == 303
    # A copy of the cookie taken before the logout (a shared computer, a stolen cookie) is
    # refused too, by the pages and by the API.
    with fresh(dashboard) as copy:
        copy.cookies.set("empreinte_session", token)
        assert copy.get("/overview").status_code == 303
        assert copy.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_an_api_session_logs_out(dashboard: Dashboard) -> None:
    with fresh(dashboard) as client:
        answer = client.post(
            "/api/login",
            json={"username": "demo-analyst", "password": dashboard.passwords["demo-analyst"]},
        )
        bearer = {"Authorization": f"Bearer {answer.json()['token']}"}
        assert client.get("/api/me", headers=bearer).json()["name"] == "demo-analyst"
        assert client.post("/api/logout", headers=bearer).status_code == 204
        refused = client.get("/api/me", headers=bearer)
        assert refused.status_code == 401 and "logged out" in refused.text
        assert client.post("/api/logout", headers=bearer).status_code == 401


def test_a_forged_or_tampered_session_cookie_is_no_one(dashboard: Dashboard) -> None:
    with fresh(dashboard) as client:
        done = login(client, "demo-admin", dashboard.passwords["demo-admin"])
        token = done.cookies["empreinte_session"]
        body, signature = token.rsplit(".", 1)
        tampered = body + "." + ("0" if signature[0] != "0" else "1") + signature[1:]
        for cookie in (tampered, "ses_" + "A" * 5000, "emp_not-a-session"):
            with fresh(dashboard) as forged:
                forged.cookies.set("empreinte_session", cookie)
                assert forged.get("/overview").status_code == 303


def test_pages_carry_a_strict_content_security_policy(
    client_as: Callable[[str], httpx.Client],
) -> None:
    page = client_as("viewer").get("/overview")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    # Every script and stylesheet comes from this server (no CDN: firewalls).
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith(("/static/", "data:")) for s in sources), sources
    # And no inline script: the policy would block it.
    assert not re.search(r"<script(?![^>]*(?:src=|application/json))[^>]*>", page.text)


def test_static_files_are_served_compressed_and_only_from_the_package(
    dashboard: Dashboard,
) -> None:
    with fresh(dashboard) as client:
        plotly = client.get("/static/plotly.min.js", headers={"accept-encoding": "gzip"})
        assert plotly.status_code == 200
        assert plotly.headers["content-encoding"] == "gzip"
        assert len(plotly.content) > 1_000_000  # decompressed by httpx: the whole library
        for name in ("..%2Fapp.py", "../app.py", ".hidden", "nothing.js"):
            assert client.get(f"/static/{name}").status_code == 404


def test_the_language_follows_the_browser_then_the_switch(dashboard: Dashboard) -> None:
    with fresh(dashboard, **{"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}) as client:
        page = client.get("/login")
        assert '<html lang="fr">' in page.text and "Mot de passe" in page.text
        client.get("/language/en", params={"next": "/login"})
        assert "Password" in client.get("/login").text
    with fresh(dashboard, **{"Accept-Language": "de-DE,de;q=0.9"}) as client:
        assert '<html lang="en">' in client.get("/login").text
    with fresh(dashboard, **{"Accept-Language": "," * 10_000 + "fr"}) as client:
        assert client.get("/login").status_code == 200


def test_a_role_may_not_open_a_page_it_is_not_given(
    dashboard: Dashboard, client_as: Callable[[str], httpx.Client]
) -> None:
    from empreinte.web.dashboard.pages import PAGES

    viewer = client_as("viewer")
    staff_only = [p for p in PAGES if "viewer" not in {r.value for r in p.roles}]
    for page in staff_only:
        path = re.sub(r"\{[^}]+\}", "x", page.path)
        answer = viewer.get(path)
        assert answer.status_code in (403, 404), (path, answer.status_code)
        assert f'href="{page.path}"' not in viewer.get("/overview").text


def test_login_attempts_are_throttled(
    workspace: Keys, start_server: Callable[[Keys], ServerProcess]
) -> None:
    """Its own server: the throttle counts failures per address, and loopback is everyone's."""
    subprocess.run(
        [
            *serve_command(),
            *("users", "create", "-w", str(workspace.path), "--username", "alice"),
            *("--role", "analyst", "--password-stdin"),
        ],
        input="correct horse battery staple\n",
        text=True,
        capture_output=True,
        check=True,
    )
    server = start_server(workspace)
    with httpx.Client(base_url=server.url, timeout=60) as client:
        statuses = [login(client, "alice", f"guess-{i}").status_code for i in range(6)]
        assert statuses[:5] == [401] * 5
        assert statuses[5] == 429
        locked = login(client, "alice", "correct horse battery staple")
        assert locked.status_code == 429  # even the right password waits
        assert int(locked.headers["retry-after"]) > 0
        assert "Too many attempts" in locked.text
