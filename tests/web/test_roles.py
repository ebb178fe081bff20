"""Who may call what: every HTTP endpoint of the app × every kind of caller, on the real server.

The routes are enumerated from `create_app`: an endpoint without a row in `TABLE` fails
`test_every_endpoint_has_a_row`, so a new endpoint cannot ship without saying who may call it.

Callers: nobody, a write key (which only writes: sent as the collector expects it on /v1, as a
Bearer token elsewhere), API tokens of each role, and the session token of a dashboard user
with the analyst role. Expected answers are status classes: 401 (who are you?), 403 (known,
not allowed), 2xx, or 4xx (a client error past the role check: 400, 404, 409).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

import empreinte
from conftest import Keys, ServerProcess, make_workspace
from empreinte.privacy.users import Users
from empreinte.web.app import create_app

CALLERS = ("nobody", "write_key", "viewer", "analyst", "admin", "analyst_session")
PASSWORD = "an analyst passphrase"
UNKNOWN_PROFILE = "p_0123456789abcdef"


@dataclass(frozen=True)
class World:
    """The server and what the rows need: tokens, and ids of seeded people."""

    server: ServerProcess
    tokens: dict[str, str | None]
    write_key: str
    person: str  # a profile every reading row may look at
    erasable: str  # a profile the admin's DELETE erases


@dataclass(frozen=True)
class Call:
    """One request: path parameters are filled from the world."""

    path: str
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class Row:
    call: Callable[[World], Call]
    expect: dict[str, str]


def admin_only(admin: str) -> dict[str, str]:
    return {
        "nobody": "401",
        "write_key": "401",
        "viewer": "403",
        "analyst": "403",
        "admin": admin,
        "analyst_session": "403",
    }


def readers(answer: str, admin: str | None = None) -> dict[str, str]:
    return {
        "nobody": "401",
        "write_key": "401",
        "viewer": "403",
        "analyst": answer,
        "admin": admin or answer,
        "analyst_session": answer,
    }


def any_role(answer: str) -> dict[str, str]:
    return {**{c: answer for c in CALLERS}, "nobody": "401", "write_key": "401"}


def everyone(answer: str) -> dict[str, str]:
    return dict.fromkeys(CALLERS, answer)


COLLECTOR = {**everyone("401"), "write_key": "2xx"}


def event(kind: str) -> Callable[[World], Call]:
    message: dict[str, Any] = {"type": kind, "userId": "roles-writer"}
    message |= {
        "track": {"event": "Role Checked"},
        "identify": {"traits": {"plan": "pro"}},
        "page": {"name": "Home"},
        "screen": {"name": "Home"},
        "group": {"groupId": "acme"},
        "alias": {"previousId": "roles-anon"},
    }.get(kind, {})
    return lambda w: Call(f"/v1/{kind}", body=message)


def batch(path: str) -> Callable[[World], Call]:
    return lambda w: Call(path, body={"batch": [{"type": "track", "event": "E", "userId": "x"}]})


SINGLE_KINDS = ("track", "identify", "page", "screen", "group", "alias")

# (method, route path) → row. Every route of the app must appear here.
TABLE: dict[tuple[str, str], Row] = {
    # -- the collector: write keys only --
    ("POST", "/v1/batch"): Row(batch("/v1/batch"), COLLECTOR),
    ("POST", "/v1/import"): Row(batch("/v1/import"), COLLECTOR),
    ("POST", "/v1/b"): Row(batch("/v1/b"), COLLECTOR),
    **{("POST", f"/v1/{k}"): Row(event(k), COLLECTOR) for k in SINGLE_KINDS},
    **{
        ("POST", f"/v1/{k[0]}"): Row(
            lambda w, k=k: Call(f"/v1/{k[0]}", body=event(k)(w).body), COLLECTOR
        )
        for k in SINGLE_KINDS
    },
    # The settings of analytics.js are public by design: the key is in the path (and in every
    # web page that embeds the snippet). An unknown key is a 404.
    ("GET", "/v1/projects/{write_key}/settings"): Row(
        lambda w: Call(f"/v1/projects/{w.write_key}/settings"), everyone("2xx")
    ),
    # -- health and sessions: public --
    ("GET", "/api/health"): Row(lambda w: Call("/api/health"), everyone("2xx")),
    # The API's description holds no data and no secret.
    ("GET", "/api/openapi.json"): Row(lambda w: Call("/api/openapi.json"), everyone("2xx")),
    ("POST", "/api/login"): Row(
        lambda w: Call("/api/login", body={"username": "nobody", "password": "wrong password"}),
        everyone("401"),
    ),
    ("GET", "/api/me"): Row(lambda w: Call("/api/me"), any_role("2xx")),
    # API tokens are not sessions: they are revoked, not logged out. A session logs out
    # (a session of its own: the shared one must live on).
    ("POST", "/api/logout"): Row(
        lambda w: Call("/api/logout", body={}),
        {**any_role("4xx"), "analyst_session": "2xx"},
    ),
    # -- the event log: raw personal data, admins only --
    ("GET", "/api/events"): Row(lambda w: Call("/api/events", {"limit": 1}), admin_only("2xx")),
    # a copy of the whole database, for the local CLI (its own secret) or an admin
    ("POST", "/api/snapshots"): Row(lambda w: Call("/api/snapshots", body={}), admin_only("2xx")),
    # -- sources: write keys and refusals, admins only (the dashboard's Sources page) --
    ("GET", "/api/sources/keys"): Row(lambda w: Call("/api/sources/keys"), admin_only("2xx")),
    ("POST", "/api/sources/keys"): Row(
        lambda w: Call("/api/sources/keys", body={"source": "roles-shop"}), admin_only("2xx")
    ),
    ("POST", "/api/sources/keys/{key_hash}/revoke"): Row(
        lambda w: Call(f"/api/sources/keys/{'0' * 64}/revoke", body={}), admin_only("4xx")
    ),
    ("GET", "/api/sources/rejections"): Row(
        lambda w: Call("/api/sources/rejections"), admin_only("2xx")
    ),
    # -- profiles: readers; analysts see pseudonyms only --
    ("GET", "/api/profiles"): Row(
        lambda w: Call("/api/profiles", {"userId": "roles-person"}), readers("2xx")
    ),
    ("GET", "/api/profiles/{profile_id}"): Row(
        lambda w: Call(f"/api/profiles/{w.person}"), readers("2xx")
    ),
    ("GET", "/api/profiles/{profile_id}/timeline"): Row(
        lambda w: Call(f"/api/profiles/{w.person}/timeline"), readers("2xx")
    ),
    ("GET", "/api/profiles/{profile_id}/identity"): Row(
        lambda w: Call(f"/api/profiles/{w.person}/identity"), readers("2xx")
    ),
    ("GET", "/api/identity/conflicts"): Row(
        lambda w: Call("/api/identity/conflicts"), readers("2xx")
    ),
    # -- changing the identity graph: admins --
    ("POST", "/api/identity/block"): Row(
        lambda w: Call("/api/identity/block", body={"anonymousId": "roles-garbage"}),
        admin_only("2xx"),
    ),
    ("POST", "/api/identity/cut"): Row(
        lambda w: Call(
            "/api/identity/cut", body={"anonymousId": "roles-kiosk", "profileId": w.person}
        ),
        admin_only("2xx"),
    ),
    ("POST", "/api/identity/unblock"): Row(
        # Nothing is blocked under this key: a 409 past the role check.
        lambda w: Call("/api/identity/unblock", body={"anonymousId": "roles-never-blocked"}),
        admin_only("4xx"),
    ),
    ("POST", "/api/identity/rebuild"): Row(
        lambda w: Call("/api/identity/rebuild", body={}), admin_only("2xx")
    ),
    # -- privacy --
    ("GET", "/api/profiles/{profile_id}/consent"): Row(
        lambda w: Call(f"/api/profiles/{w.person}/consent"), readers("2xx")
    ),
    ("POST", "/api/consent"): Row(
        lambda w: Call(
            "/api/consent",
            body={
                "userId": "roles-person",
                "purpose": "analytics",
                "granted": True,
                "wordingVersion": "v1",
            },
        ),
        admin_only("2xx"),
    ),
    # The person's confirmation link carries the token: no API token is needed, and an
    # unknown or used token is a 400 for everyone.
    ("POST", "/api/consent/confirm"): Row(
        lambda w: Call("/api/consent/confirm", body={"token": "cnf_" + "0" * 43}),
        everyone("4xx"),
    ),
    ("GET", "/api/profiles/{profile_id}/export"): Row(
        lambda w: Call(f"/api/profiles/{w.person}/export"), admin_only("2xx")
    ),
    ("DELETE", "/api/profiles/{profile_id}"): Row(
        lambda w: Call(f"/api/profiles/{w.erasable}"), admin_only("2xx")
    ),
    ("GET", "/api/privacy/erasures"): Row(
        lambda w: Call("/api/privacy/erasures"), admin_only("2xx")
    ),
    ("GET", "/api/privacy/suppressed"): Row(
        lambda w: Call("/api/privacy/suppressed"), readers("2xx")
    ),
    # -- CX reports: aggregates for every role (viewers read the dashboards that show them);
    # the detractors list names people (pseudonymous ids, comments): readers only --
    **{
        ("GET", f"/api/cx/{survey}"): Row(
            lambda w, survey=survey: Call(f"/api/cx/{survey}", {"period": "quarter"}),
            any_role("2xx"),
        )
        for survey in ("nps", "csat", "ces")
    },
    # No survey answers in this world: a 400 (too little data) past the role check.
    ("GET", "/api/cx/drivers"): Row(
        lambda w: Call("/api/cx/drivers", {"bootstrap": 0}), any_role("4xx")
    ),
    ("GET", "/api/cx/kano"): Row(lambda w: Call("/api/cx/kano"), any_role("2xx")),
    # No such experiment here: a 400 past the role check.
    ("GET", "/api/cx/experiments/{name}"): Row(
        lambda w: Call("/api/cx/experiments/roles-test"), any_role("4xx")
    ),
    ("GET", "/api/cx/detractors"): Row(lambda w: Call("/api/cx/detractors"), readers("2xx")),
    # -- omnichannel journeys: they link each person's actions, for analysts and admins --
    ("GET", "/api/journeys/channels"): Row(
        lambda w: Call("/api/journeys/channels"), readers("2xx")
    ),
    ("GET", "/api/journeys/ropo"): Row(lambda w: Call("/api/journeys/ropo"), readers("2xx")),
    ("GET", "/api/journeys/friction"): Row(
        lambda w: Call("/api/journeys/friction"), readers("2xx")
    ),
    # A funnel follows people through their journey: readers only.
    ("GET", "/api/journeys/funnel"): Row(
        lambda w: Call("/api/journeys/funnel", {"step": "Order Completed"}), readers("2xx")
    ),
    # -- journeys follow people: readers only (no such step here: a 400 past the role check) --
    ("GET", "/api/journeys/paths"): Row(
        lambda w: Call("/api/journeys/paths", {"from": "Roles Never Seen"}), readers("4xx")
    ),
    ("GET", "/api/journeys/retention"): Row(
        lambda w: Call("/api/journeys/retention"), readers("2xx")
    ),
    ("GET", "/api/journeys/attribution"): Row(
        lambda w: Call("/api/journeys/attribution", {"models": "first_touch"}), readers("2xx")
    ),
    # -- stories (issue 15): a person's story is for staff; the catalogue for every role; the
    # share pages are public and answer 404 to a token that is not a live link --
    ("GET", "/api/stories/community"): Row(
        lambda w: Call("/api/stories/community", {"year": 2025}), readers("2xx")
    ),
    ("GET", "/api/stories/{profile}/{year}"): Row(
        lambda w: Call(f"/api/stories/{w.person}/2025"), readers("4xx")
    ),
    ("POST", "/api/stories/{profile}/{year}/share"): Row(
        lambda w: Call(f"/api/stories/{w.person}/2025/share", body={}), readers("4xx")
    ),
    ("DELETE", "/api/stories/{profile}/links"): Row(
        lambda w: Call(f"/api/stories/{UNKNOWN_PROFILE}/links"), admin_only("4xx")
    ),
    ("GET", "/api/products"): Row(lambda w: Call("/api/products"), any_role("2xx")),
    ("GET", "/stories/{token}"): Row(lambda w: Call("/stories/forged.token"), everyone("4xx")),
    ("GET", "/stories/{token}/story.png"): Row(
        lambda w: Call("/stories/forged.token/story.png"), everyone("4xx")
    ),
    # -- segments read people's behaviour: readers only (writes past the role check refused
    # as 4xx: an unknown field, a segment never saved) --
    ("GET", "/api/segments"): Row(lambda w: Call("/api/segments"), readers("2xx")),
    ("POST", "/api/segments"): Row(
        lambda w: Call("/api/segments", body={"name": "roles", "expression": "rolez = 1"}),
        readers("4xx"),
    ),
    ("GET", "/api/segments/preview"): Row(
        lambda w: Call("/api/segments/preview", {"expression": "orders >= 1"}), readers("2xx")
    ),
    ("GET", "/api/segments/overlap"): Row(lambda w: Call("/api/segments/overlap"), readers("2xx")),
    ("GET", "/api/segments/{name}"): Row(
        lambda w: Call("/api/segments/never-saved"), readers("4xx")
    ),
    ("PATCH", "/api/segments/{name}"): Row(
        lambda w: Call("/api/segments/never-saved", body={"schedule": "1d"}), readers("4xx")
    ),
    ("GET", "/api/segments/{name}/members"): Row(
        lambda w: Call("/api/segments/never-saved/members"), readers("4xx")
    ),
    ("GET", "/api/segments/{name}/history"): Row(
        lambda w: Call("/api/segments/never-saved/history"), readers("4xx")
    ),
    ("POST", "/api/segments/{name}/refresh"): Row(
        lambda w: Call("/api/segments/never-saved/refresh", body={}), readers("4xx")
    ),
    ("DELETE", "/api/segments/{name}"): Row(
        lambda w: Call("/api/segments/never-saved"), readers("4xx")
    ),
    # -- RFM and CLV score people: readers only (no order here: a 400 past the role check) --
    ("GET", "/api/know/rfm"): Row(lambda w: Call("/api/know/rfm"), readers("4xx")),
    ("GET", "/api/know/clv"): Row(lambda w: Call("/api/know/clv"), readers("4xx")),
    # -- voice of the customer: journeys before calls link a person's actions (as journeys) --
    ("GET", "/api/voc/calls/reasons"): Row(
        lambda w: Call("/api/voc/calls/reasons"), readers("2xx")
    ),
    ("GET", "/api/voc/calls/avoidable"): Row(
        lambda w: Call("/api/voc/calls/avoidable"), readers("2xx")
    ),
    ("GET", "/api/voc/calls/pages"): Row(lambda w: Call("/api/voc/calls/pages"), readers("2xx")),
    ("GET", "/api/voc/calls/repeats"): Row(
        lambda w: Call("/api/voc/calls/repeats"), readers("2xx")
    ),
    # -- partner insights: k-anonymous aggregates made to leave the company, viewers too
    # (no brand with k buyers here: the report is a 400 past the role check) --
    ("GET", "/api/partners/brands"): Row(lambda w: Call("/api/partners/brands"), any_role("2xx")),
    ("GET", "/api/partners/report"): Row(
        lambda w: Call("/api/partners/report", {"brand": "Acme"}), any_role("4xx")
    ),
    # -- know the user: profiling people, for analysts and admins; predict writes: admins --
    # (two people are too few for a churn model: a 400 past the role check)
    ("GET", "/api/know/churn"): Row(lambda w: Call("/api/know/churn"), readers("4xx")),
    ("GET", "/api/know/generations"): Row(lambda w: Call("/api/know/generations"), readers("2xx")),
    ("GET", "/api/know/icp"): Row(
        lambda w: Call("/api/know/icp", {"industry": "retail"}), readers("2xx")
    ),
    ("POST", "/api/know/predict"): Row(
        lambda w: Call("/api/know/predict", body={"only": ["churn_risk"]}), admin_only("2xx")
    ),
    # -- personas cluster people (profiling): readers only (too few people here: a 400) --
    ("GET", "/api/know/personas"): Row(lambda w: Call("/api/know/personas"), readers("4xx")),
    ("GET", "/api/know/personas/{n}.png"): Row(
        lambda w: Call("/api/know/personas/1.png"), readers("4xx")
    ),
    # -- offers: the catalogue and a person's next offers for readers; writes for admins (an
    # offer without a title: a 400 past the role check) --
    ("GET", "/api/offers"): Row(lambda w: Call("/api/offers"), readers("2xx")),
    ("POST", "/api/offers"): Row(
        lambda w: Call("/api/offers", body={"offer_id": "roles"}), admin_only("4xx")
    ),
    ("GET", "/api/offers/performance"): Row(
        lambda w: Call("/api/offers/performance"), readers("2xx")
    ),
    ("GET", "/api/offers/next"): Row(
        lambda w: Call("/api/offers/next", {"profile": w.person}), readers("2xx")
    ),
    ("GET", "/api/offers/{offer_id}"): Row(
        lambda w: Call("/api/offers/never-saved"), readers("4xx")
    ),
    # -- loyalty: points are about people; readers read, only admins move points --
    ("GET", "/api/loyalty"): Row(lambda w: Call("/api/loyalty"), readers("2xx")),
    ("POST", "/api/loyalty/run"): Row(
        lambda w: Call("/api/loyalty/run", body={}), admin_only("2xx")
    ),
    ("GET", "/api/loyalty/campaigns"): Row(
        lambda w: Call("/api/loyalty/campaigns"), readers("2xx")
    ),
    ("POST", "/api/loyalty/campaigns"): Row(
        lambda w: Call("/api/loyalty/campaigns", body={"name": "roles"}), admin_only("4xx")
    ),
    ("POST", "/api/loyalty/campaigns/{name}/offer"): Row(
        lambda w: Call("/api/loyalty/campaigns/never-saved/offer", body={}), admin_only("4xx")
    ),
    ("POST", "/api/loyalty/campaigns/{name}/complete"): Row(
        lambda w: Call("/api/loyalty/campaigns/never-saved/complete", body={"profile": w.person}),
        admin_only("4xx"),
    ),
    ("GET", "/api/loyalty/campaigns/{name}/people"): Row(
        lambda w: Call("/api/loyalty/campaigns/never-saved/people"), readers("4xx")
    ),
    ("GET", "/api/loyalty/campaigns/{name}/report"): Row(
        lambda w: Call("/api/loyalty/campaigns/never-saved/report"), readers("4xx")
    ),
    ("GET", "/api/loyalty/members/{profile}"): Row(
        lambda w: Call(f"/api/loyalty/members/{w.person}"), readers("2xx")
    ),
    ("GET", "/api/loyalty/members/{profile}/ledger"): Row(
        lambda w: Call(f"/api/loyalty/members/{w.person}/ledger"), readers("2xx")
    ),
    ("POST", "/api/loyalty/members/{profile}/redeem"): Row(
        lambda w: Call(
            f"/api/loyalty/members/{w.person}/redeem", body={"points": 1, "reference": "r"}
        ),
        admin_only("4xx"),
    ),
    ("GET", "/api/loyalty/members/{profile}/challenges"): Row(
        lambda w: Call(f"/api/loyalty/members/{w.person}/challenges"), readers("2xx")
    ),
    ("POST", "/api/loyalty/members/{profile}/challenges"): Row(
        lambda w: Call(
            f"/api/loyalty/members/{w.person}/challenges",
            body={"campaign": "never-saved", "challenge": "x"},
        ),
        admin_only("4xx"),
    ),
    # -- destinations: analysts read, admins configure (an unknown purpose: a 400 past the
    # role check; a destination never made: a 404) --
    ("GET", "/api/destinations"): Row(lambda w: Call("/api/destinations"), readers("2xx")),
    ("POST", "/api/destinations"): Row(
        lambda w: Call(
            "/api/destinations",
            body={"name": "roles", "kind": "webhook", "purpose": "nope", "url": "https://x.io"},
        ),
        admin_only("4xx"),
    ),
    ("GET", "/api/destinations/deletions"): Row(
        lambda w: Call("/api/destinations/deletions"), admin_only("2xx")
    ),
    ("GET", "/api/destinations/{name}"): Row(
        lambda w: Call("/api/destinations/never-made"), readers("4xx")
    ),
    ("DELETE", "/api/destinations/{name}"): Row(
        lambda w: Call("/api/destinations/never-made"), admin_only("4xx")
    ),
    ("GET", "/api/destinations/{name}/deliveries"): Row(
        lambda w: Call("/api/destinations/never-made/deliveries"), readers("4xx")
    ),
    ("POST", "/api/destinations/{name}/sync"): Row(
        lambda w: Call("/api/destinations/never-made/sync", body={}), admin_only("4xx")
    ),
    ("POST", "/api/destinations/{name}/retry"): Row(
        lambda w: Call("/api/destinations/never-made/retry", body={}), admin_only("4xx")
    ),
    # -- voice of the customer: texts for readers, aggregates for every role, agents and the
    # refresh for admins (an unknown text or topic: a 404 past the role check) --
    ("GET", "/api/voc/texts"): Row(lambda w: Call("/api/voc/texts"), readers("2xx")),
    ("GET", "/api/voc/texts/{seq}"): Row(lambda w: Call("/api/voc/texts/999999"), readers("4xx")),
    ("GET", "/api/voc/topics"): Row(lambda w: Call("/api/voc/topics"), any_role("2xx")),
    ("GET", "/api/voc/topics/trend"): Row(lambda w: Call("/api/voc/topics/trend"), any_role("2xx")),
    ("PATCH", "/api/voc/topics/{topic_id}"): Row(
        lambda w: Call("/api/voc/topics/999999", body={"label": "x"}), readers("4xx")
    ),
    ("GET", "/api/voc/reasons"): Row(lambda w: Call("/api/voc/reasons"), any_role("2xx")),
    ("GET", "/api/voc/quality"): Row(lambda w: Call("/api/voc/quality"), readers("2xx")),
    ("GET", "/api/voc/agents"): Row(lambda w: Call("/api/voc/agents"), admin_only("2xx")),
    ("POST", "/api/voc/refresh"): Row(
        lambda w: Call("/api/voc/refresh", body={}), admin_only("2xx")
    ),
}


def app_routes(tmp_path: Path) -> set[tuple[str, str]]:
    """(method, path) of every route `create_app` serves (HEAD comes with GET)."""
    ws = empreinte.open(tmp_path / "routes")
    try:
        app = create_app(ws)
        out = set()
        for route in app.routes:
            methods = getattr(route, "methods", None) or set()
            for method in methods - {"HEAD"}:
                out.add((method, getattr(route, "path", "")))
        return out
    finally:
        ws.close()


def test_every_endpoint_has_a_row(tmp_path: Path) -> None:
    served = app_routes(tmp_path)
    missing = sorted(served - set(TABLE))
    assert not missing, (
        f"endpoint(s) without a row in tests/web/test_roles.py TABLE: {missing}; "
        "add one saying which callers may use it"
    )
    stale = sorted(set(TABLE) - served)
    assert not stale, f"rows for endpoints the app no longer serves: {stale}"


# -- the world: one real server, seeded before it starts ------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("roles")
    keys: Keys = make_workspace(root / "ws")
    # Every caller tries every route, logins included, from one address: more failures than
    # a real address would make (tests/privacy/test_login_throttle.py tests the limits).
    (keys.path / "empreinte.toml").write_text("[logins]\nper_user = 1000\nper_address = 1000\n")
    with empreinte.open(keys.path) as ws:
        ws.identify(
            "roles-person", anonymous_id="roles-kiosk", traits={"email": "person@roles.example"}
        )
        ws.identify("roles-erasable", traits={"email": "erasable@roles.example"})
        person = ws.profiles.find("userId", "roles-person")
        erasable = ws.profiles.find("userId", "roles-erasable")
        assert person and erasable
        Users.for_workspace(ws.path, ws.privacy_store).create("ana", PASSWORD, "analyst")
    server = ServerProcess(keys.path, root)
    server.start()
    try:
        login = httpx.post(
            f"{server.url}/api/login", json={"username": "ana", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        tokens: dict[str, str | None] = {
            "nobody": None,
            "write_key": keys.write_key,
            "viewer": keys.viewer_token,
            "analyst": keys.analyst_token,
            "admin": keys.admin_token,
            "analyst_session": login.json()["token"],
        }
        yield World(server, tokens, keys.write_key, person, erasable)
    finally:
        server.stop()


def headers_for(world: World, caller: str, path: str) -> dict[str, str]:
    token = world.tokens[caller]
    if caller == "analyst_session" and path == "/api/logout":
        login = httpx.post(
            f"{world.server.url}/api/login", json={"username": "ana", "password": PASSWORD}
        )
        token = login.json()["token"]
    if token is None:
        return {}
    if caller == "write_key" and path.startswith("/v1/"):
        # As the Segment clients send it: the HTTP Basic username.
        basic = base64.b64encode(f"{token}:".encode()).decode()
        return {"Authorization": f"Basic {basic}"}
    return {"Authorization": f"Bearer {token}"}


def status_class(status: int) -> str:
    if status in (401, 403):
        return str(status)
    if 200 <= status < 300:
        return "2xx"
    if 400 <= status < 500:
        return "4xx"
    return str(status)


def send(world: World, method: str, call: Call, caller: str) -> httpx.Response:
    return httpx.request(
        method,
        world.server.url + call.path,
        params=call.params,
        json=call.body,
        headers=headers_for(world, caller, call.path),
        timeout=30,
    )


CASES = [
    pytest.param(method, path, caller, id=f"{method} {path} as {caller}")
    for (method, path) in TABLE
    for caller in CALLERS
]


@pytest.mark.parametrize(("method", "path", "caller"), CASES)
def test_role_table(world: World, method: str, path: str, caller: str) -> None:
    row = TABLE[(method, path)]
    response = send(world, method, row.call(world), caller)
    expected = row.expect[caller]
    assert status_class(response.status_code) == expected, (
        f"{method} {path} as {caller}: {response.status_code} {response.text[:300]}"
    )
    if expected in ("401", "403"):
        body = response.json()
        assert body["code"] in ("unauthorized", "forbidden") and body["message"]


# -- refusals say nothing about whether a person exists ----------------------------------------


PROFILE_ROUTES = [(m, p) for (m, p) in TABLE if "{profile_id}" in p]


@pytest.mark.parametrize(
    ("method", "path"), PROFILE_ROUTES, ids=[f"{m} {p}" for m, p in PROFILE_ROUTES]
)
def test_refusals_are_the_same_for_known_and_unknown_people(
    world: World, method: str, path: str
) -> None:
    for caller in ("nobody", "write_key", "viewer", "analyst", "analyst_session"):
        if TABLE[(method, path)].expect[caller] not in ("401", "403"):
            continue
        answers = set()
        for profile_id in (world.person, UNKNOWN_PROFILE, "not-even-an-id"):
            call = Call(path.replace("{profile_id}", profile_id))
            response = send(world, method, call, caller)
            answers.add((response.status_code, response.text))
        assert len(answers) == 1, (caller, answers)


def test_analysts_may_not_look_people_up_by_personal_data(world: World) -> None:
    for caller in ("analyst", "analyst_session"):
        response = send(
            world, "GET", Call("/api/profiles", {"email": "person@roles.example"}), caller
        )
        assert response.status_code == 403
    response = send(world, "GET", Call("/api/profiles", {"email": "person@roles.example"}), "admin")
    assert response.status_code == 200


def test_a_session_token_stops_working_when_tampered(world: World) -> None:
    token = world.tokens["analyst_session"]
    assert token
    for forged in (token[:-1] + ("0" if token[-1] != "0" else "1"), "ses_x.y", token + "."):
        response = httpx.get(
            world.server.url + "/api/me", headers={"Authorization": f"Bearer {forged}"}
        )
        assert response.status_code == 401
    response = httpx.post(
        world.server.url + "/api/login", json={"username": "ana", "password": "not it at all"}
    )
    unknown = httpx.post(
        world.server.url + "/api/login", json={"username": "nobody", "password": "not it at all"}
    )
    assert response.status_code == unknown.status_code == 401
    assert response.json() == unknown.json()
    me = httpx.get(world.server.url + "/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"name": "ana", "role": "analyst"}
