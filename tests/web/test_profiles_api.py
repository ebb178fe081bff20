"""The profile and identity API on the real server: every role against every endpoint, 403
before 404, no raw personal data for analysts, redirects after a merge, unmerging, and clear
400s."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from empreinte.identity.identifiers import normalise_phone

UNKNOWN = "p_0000000000000000"


@dataclass(frozen=True)
class Person:
    uid: str
    profile_id: str
    email: str
    phone: str  # as typed on the web (national format)
    first_name: str
    last_name: str
    birthday: str
    postcode: str
    card: str
    till: str  # the store's anonymous id

    @property
    def e164(self) -> str:
        return normalise_phone(self.phone, "FR").value

    def secrets(self) -> list[str]:
        """Every raw personal value, as sent and as normalised."""
        digits = self.phone.replace(" ", "")
        return [
            self.email,
            self.email.lower(),
            self.phone,
            digits,
            self.e164,
            self.e164[3:],
            self.first_name,
            self.last_name,
            self.birthday,
            # Quoted: five digits alone could occur by chance in a time or a cursor.
            f'"{self.postcode}"',
        ]


def mobile(rng: random.Random) -> str:
    while True:
        digits = f"06{rng.randrange(10**8):08d}"
        if normalise_phone(digits, "FR").valid:
            return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def send(api: Any, messages: list[dict[str, Any]]) -> None:
    for message in messages:
        message.setdefault("messageId", str(uuid.uuid4()))
    response = api.post("/v1/batch", {"batch": messages})
    assert response.status_code == 200, response.text


def call(
    api: Any,
    method: str,
    path: str,
    token: str | None,
    body: Any = None,
    **params: Any,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "GET":
        response: httpx.Response = api.http.get(path, params=params, headers=headers)
    else:
        response = api.http.post(path, json=body, headers=headers)
    return response


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refused(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] and body["message"] and "Traceback" not in response.text
    assert "traits" not in body and "events" not in body
    if field is not None:
        assert body.get("field") == field, body
    return body


def person(api: Any, uid: str) -> Person:
    """Someone seen on the web, in a shop and on the phone, with personal data."""
    rng = random.Random(uid)
    tag = uid.replace("-", "")
    p = {
        "email": f"Zephyrine.{tag}@Example.org",
        "phone": mobile(rng),
        "first_name": f"Zephyrine{tag[-4:]}",
        "last_name": f"Quenneville{tag[-4:]}",
        "birthday": "1979-04-23",
        "postcode": f"{rng.randrange(10000, 95999)}",
        "card": f"card-{uid}",
        "till": f"till-{uid}",
    }
    send(
        api,
        [
            {
                "type": "page",
                "anonymousId": f"web-{uid}",
                "name": "Home",
                "context": {"channel": "web", "locale": "fr-FR"},
                "timestamp": "2025-04-01T10:00:00Z",
            },
            {
                "type": "identify",
                "anonymousId": f"web-{uid}",
                "userId": f"user-{uid}",
                "traits": {
                    "email": p["email"],
                    "phone": p["phone"],
                    "first_name": p["first_name"],
                    "last_name": p["last_name"],
                    "birthday": p["birthday"],
                    "address": {"city": "Nantes", "postal_code": p["postcode"]},
                },
                "context": {"channel": "web"},
                "timestamp": "2025-04-01T10:05:00Z",
            },
            {
                "type": "track",
                "anonymousId": p["till"],
                "event": "Order Completed",
                "properties": {"order_id": f"o-{uid}", "revenue": 30, "currency": "EUR"},
                "context": {
                    "channel": "store",
                    "externalIds": [{"id": p["card"], "type": "loyalty_card"}],
                    "traits": {"email": p["email"].upper(), "first_name": p["first_name"]},
                },
                "timestamp": "2025-04-02T15:00:00Z",
            },
            {
                "type": "track",
                "anonymousId": f"call-{uid}",
                "event": "Call Started",
                "properties": {"caller_number": p["phone"]},
                "context": {"channel": "phone"},
                "timestamp": "2025-04-03T09:00:00Z",
            },
        ],
    )
    found = ok(call(api, "GET", "/api/profiles", api.keys.admin_token, userId=f"user-{uid}"))
    return Person(uid=uid, profile_id=found["profileId"], **p)


def tokens(api: Any) -> dict[str, str | None]:
    keys = api.keys
    return {
        "admin": keys.admin_token,
        "analyst": keys.analyst_token,
        "viewer": keys.viewer_token,
        "none": None,
    }


# -- who may do what ------------------------------------------------------------------------


def test_every_role_against_every_endpoint(api: Any, uid: str) -> None:
    jane = person(api, uid)
    pid = jane.profile_id
    spare = f"loyalty_card:{uid}-spare"
    # (method, path, body or query, {role: status}); admin actions come last, in order.
    read = {"admin": 200, "analyst": 200, "viewer": 403, "none": 401}
    admin_only = {"admin": 200, "analyst": 403, "viewer": 403, "none": 401}
    table: list[tuple[str, str, dict[str, Any], dict[str, int]]] = [
        ("GET", f"/api/profiles/{pid}", {}, read),
        ("GET", "/api/profiles", {"userId": f"user-{uid}"}, read),
        ("GET", "/api/profiles", {"anonymousId": f"web-{uid}"}, read),
        ("GET", "/api/profiles", {"loyaltyCard": jane.card}, read),
        ("GET", "/api/profiles", {"email": jane.email}, admin_only),
        ("GET", "/api/profiles", {"phone": jane.phone}, admin_only),
        ("GET", f"/api/profiles/{pid}", {"pii": "true"}, admin_only),
        ("GET", f"/api/profiles/{pid}/timeline", {}, read),
        ("GET", f"/api/profiles/{pid}/timeline", {"pii": "true"}, admin_only),
        ("GET", f"/api/profiles/{pid}/identity", {}, read),
        ("GET", "/api/identity/conflicts", {}, read),
        ("GET", "/api/identity/conflicts", {"profileId": pid}, read),
        ("POST", "/api/identity/block", {"idKey": spare, "reason": "test"}, admin_only),
        ("POST", "/api/identity/unblock", {"idKey": spare}, admin_only),
        (
            "POST",
            "/api/identity/cut",
            {"idKey": f"anonymous_id:{jane.till}", "profileId": pid},
            admin_only,
        ),
        ("POST", "/api/identity/rebuild", {}, admin_only),
    ]
    for method, path, data, expected in table:
        # The refused roles first: a refusal must change nothing and reveal nothing.
        for role in ("none", "viewer", "analyst", "admin"):
            token = tokens(api)[role]
            if method == "GET":
                response = call(api, method, path, token, **data)
            else:
                response = call(api, method, path, token, data)
            assert response.status_code == expected[role], (method, path, data, role, response.text)
            if expected[role] != 200:
                refused(response, expected[role])


def test_403_comes_before_404_and_says_nothing(api: Any, uid: str) -> None:
    jane = person(api, uid)
    viewer, analyst, admin = api.keys.viewer_token, api.keys.analyst_token, api.keys.admin_token
    for path in (
        f"/api/profiles/{UNKNOWN}",
        f"/api/profiles/{UNKNOWN}/timeline",
        "/api/profiles/x",
    ):
        refused(call(api, "GET", path, viewer), 403)
        refused(call(api, "GET", path, analyst), 404)
        refused(call(api, "GET", path, admin), 404)
    refused(call(api, "GET", f"/api/profiles/{UNKNOWN}/identity", viewer), 403)
    refused(call(api, "GET", f"/api/profiles/{UNKNOWN}/identity", analyst), 404)
    # Whether the person exists or not, the refusal is word for word the same.
    for role in (viewer, analyst):
        known = call(api, "GET", "/api/profiles", role, email=jane.email)
        unknown = call(api, "GET", "/api/profiles", role, email=f"nobody-{uid}@example.org")
        assert known.status_code == unknown.status_code == 403
        assert known.json() == unknown.json()
        bad = call(api, "GET", "/api/profiles", role, email="not-an-email")
        assert bad.status_code == 403 and bad.json() == known.json()
    existing = call(api, "GET", f"/api/profiles/{jane.profile_id}", viewer)
    missing = call(api, "GET", f"/api/profiles/{UNKNOWN}", viewer)
    assert existing.status_code == missing.status_code == 403
    assert existing.json() == missing.json()
    refused(call(api, "GET", "/api/profiles", admin, email=f"nobody-{uid}@example.org"), 404)
    refused(call(api, "GET", "/api/profiles", analyst, loyaltyCard=f"nope-{uid}"), 404)


def test_analysts_see_no_raw_personal_data_anywhere(api: Any, uid: str) -> None:
    jane = person(api, uid)
    analyst = api.keys.analyst_token
    pid = jane.profile_id
    responses = [
        call(api, "GET", f"/api/profiles/{pid}", analyst),
        call(api, "GET", "/api/profiles", analyst, userId=f"user-{uid}"),
        call(api, "GET", "/api/profiles", analyst, loyaltyCard=jane.card),
        call(api, "GET", f"/api/profiles/{pid}/timeline", analyst),
        call(api, "GET", f"/api/profiles/{pid}/timeline", analyst, includeBots="true"),
        call(api, "GET", f"/api/profiles/{pid}/identity", analyst),
        call(api, "GET", "/api/identity/conflicts", analyst, profileId=pid),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        text = response.text
        for secret in jane.secrets():
            assert secret not in text, (secret, str(response.url))
            assert secret.lower() not in text.lower(), (secret, str(response.url))
    profile = responses[0].json()
    assert profile["personalData"] == "pseudonymised"
    assert profile["traits"]["email"].startswith("pii_")
    assert profile["traits"]["address"] == {
        "city": "Nantes",
        "postal_code": profile["traits"]["address"]["postal_code"],
    }
    # Computed server-side from the raw birthday; only the year leaves.
    assert profile["computed"]["birthYear"] == 1979
    assert len(responses[3].json()["events"]) == 4

    # Admins see raw values by default, pseudonyms when they ask.
    admin = ok(call(api, "GET", f"/api/profiles/{pid}", api.keys.admin_token))
    assert admin["personalData"] == "raw"
    assert admin["traits"]["first_name"] == jane.first_name
    assert admin["traits"]["email"] == jane.email.upper()  # the store typed it last
    timeline = call(api, "GET", f"/api/profiles/{pid}/timeline", api.keys.admin_token)
    assert jane.phone in timeline.text
    pseudo = call(api, "GET", f"/api/profiles/{pid}", api.keys.admin_token, pii="false")
    assert pseudo.json()["personalData"] == "pseudonymised"
    assert jane.first_name not in pseudo.text


# -- merges, redirects and unmerging ----------------------------------------------------------


def test_a_merged_away_id_answers_with_the_survivor(api: Any, uid: str) -> None:
    admin = api.keys.admin_token
    send(
        api,
        [
            {
                "type": "identify",
                "anonymousId": f"a-{uid}",
                "traits": {"email": f"merge-{uid}@example.org"},
                "timestamp": "2025-05-01T10:00:00Z",
            },
            {
                "type": "track",
                "userId": f"u-{uid}",
                "event": "Signed Up",
                "timestamp": "2025-05-01T11:00:00Z",
            },
        ],
    )
    older = ok(call(api, "GET", "/api/profiles", admin, anonymousId=f"a-{uid}"))["profileId"]
    newer = ok(call(api, "GET", "/api/profiles", admin, userId=f"u-{uid}"))["profileId"]
    assert older != newer
    send(
        api,
        [
            {
                "type": "identify",
                "userId": f"u-{uid}",
                "traits": {"email": f"MERGE-{uid}@example.org"},
                "timestamp": "2025-05-01T12:00:00Z",
            }
        ],
    )
    response = call(api, "GET", f"/api/profiles/{newer}", api.keys.analyst_token)
    body = ok(response)
    assert body["profileId"] == older and body["redirectedFrom"] == newer
    assert response.headers["content-location"] == f"/api/profiles/{older}"
    timeline = call(api, "GET", f"/api/profiles/{newer}/timeline", admin)
    assert ok(timeline)["redirectedFrom"] == newer and len(timeline.json()["events"]) == 3
    assert timeline.headers["content-location"] == f"/api/profiles/{older}/timeline"
    explained = ok(call(api, "GET", f"/api/profiles/{newer}/identity", admin))
    assert explained["profileId"] == older and explained["redirectedFrom"] == newer
    assert any(s["action"] == "merge" for s in explained["steps"])
    current = ok(call(api, "GET", f"/api/profiles/{older}", admin))
    assert current["redirectedFrom"] is None


def test_block_cut_and_unblock_through_the_api(api: Any, uid: str) -> None:
    jane = person(api, uid)
    admin = api.keys.admin_token
    pid = jane.profile_id

    blocked = ok(
        call(api, "POST", "/api/identity/block", admin, {"loyaltyCard": jane.card, "reason": "x"})
    )
    assert blocked["idKey"] == f"loyalty_card:{jane.card}"
    refused(call(api, "GET", "/api/profiles", admin, loyaltyCard=jane.card), 404)
    ok(call(api, "POST", "/api/identity/unblock", admin, {"idKey": f"loyalty_card:{jane.card}"}))
    assert ok(call(api, "GET", "/api/profiles", admin, loyaltyCard=jane.card))["profileId"] == pid
    refused(call(api, "POST", "/api/identity/unblock", admin, {"loyaltyCard": jane.card}), 409)

    # The phone can be named by its raw number: it is pseudonymised as at ingestion.
    cut = ok(
        call(
            api,
            "POST",
            "/api/identity/cut",
            admin,
            {"phone": jane.e164, "profileId": pid, "reason": "call centre line"},
        )
    )
    assert cut["idKey"].startswith("phone:pii_")
    # A cut identifier stays with its first holder and never joins two people again: another
    # caller on the same line, known by her e-mail, stays apart from Jane.
    assert ok(call(api, "GET", "/api/profiles", admin, phone=jane.phone))["profileId"] == pid
    other = f"other.{uid}@example.org"
    send(api, [{"type": "identify", "anonymousId": f"line-{uid}", "traits": {"email": other}}])
    send(
        api,
        [
            {
                "type": "track",
                "event": "Call Completed",
                "anonymousId": f"line-{uid}",
                "channel": "phone",
                "properties": {"caller_number": jane.phone},
            }
        ],
    )
    caller = ok(call(api, "GET", "/api/profiles", admin, email=other))["profileId"]
    assert caller != pid
    assert ok(call(api, "GET", "/api/profiles", admin, email=jane.email))["profileId"] == pid
    explained = ok(call(api, "GET", f"/api/profiles/{pid}/identity", admin))
    assert [(o["action"], o["actor"]) for o in explained["overrides"]] == [
        ("block", "api:ops"),
        ("unblock", "api:ops"),
        ("cut", "api:ops"),
    ]
    refused(
        call(api, "POST", "/api/identity/cut", admin, {"phone": jane.phone, "profileId": caller}),
        409,
    )
    ok(call(api, "POST", "/api/identity/unblock", admin, {"phone": jane.phone}))
    assert ok(call(api, "GET", "/api/profiles", admin, phone=jane.phone))["profileId"] == pid


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({}, "lookup"),
        ({"userId": "a", "loyaltyCard": "b"}, "loyaltyCard"),
        ({"userId": "a", "colour": "red"}, "colour"),
        ({"userId": "a", "pii": "maybe"}, "pii"),
    ],
)
def test_bad_lookups_are_400_naming_the_field(api: Any, params: dict[str, str], field: str) -> None:
    refused(call(api, "GET", "/api/profiles", api.keys.admin_token, **params), 400, field)


def test_bad_requests_are_400_naming_the_field(api: Any, uid: str) -> None:
    admin = api.keys.admin_token
    send(api, [{"type": "track", "userId": f"u-{uid}", "event": "E"}])
    pid = ok(call(api, "GET", "/api/profiles", admin, userId=f"u-{uid}"))["profileId"]
    timeline = f"/api/profiles/{pid}/timeline"
    for params, field in (
        ({"limit": "abc"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "5000"}, "limit"),
        ({"after": "last tuesday"}, "after"),
        ({"after": "1:1", "before": "2:2"}, "before"),
        ({"includeBots": "yes"}, "includeBots"),
        ({"sort": "desc"}, "sort"),
    ):
        refused(call(api, "GET", timeline, admin, **params), 400, field)
    refused(call(api, "GET", "/api/identity/conflicts", admin, limit="lots"), 400, "limit")
    refused(call(api, "GET", "/api/identity/conflicts", admin, before="x"), 400, "before")

    def post(path: str, content: bytes) -> httpx.Response:
        response: httpx.Response = api.http.post(
            path,
            content=content,
            headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        )
        return response

    refused(post("/api/identity/block", b"{not json"), 400, "body")
    refused(post("/api/identity/block", b"[1, 2]"), 400, "body")
    for body, field in (
        ({}, "idKey"),
        ({"idKey": "nonsense"}, "idKey"),
        ({"idKey": "planet:mars"}, "idKey"),
        ({"idKey": "email:not-an-email"}, "idKey"),
        ({"email": 5}, "email"),
        ({"email": "a@b.example", "phone": "0611223344"}, "phone"),
        ({"idKey": "user_id:x", "reason": "r" * 5000}, "reason"),
        ({"idKey": "user_id:x", "colour": "red"}, "colour"),
    ):
        refused(call(api, "POST", "/api/identity/block", admin, body), 400, field)
    refused(call(api, "POST", "/api/identity/cut", admin, {"idKey": f"user_id:u-{uid}"}), 400)
    refused(
        call(
            api,
            "POST",
            "/api/identity/cut",
            admin,
            {"idKey": f"user_id:u-{uid}", "profileId": UNKNOWN},
        ),
        404,
    )
