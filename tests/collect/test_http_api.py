"""The Segment HTTP Tracking API end to end: the real server, real clients, read back over HTTP.

Most tests share one server (`api`) and tell their events apart by ids of their own (`uid`);
the few that restart a server get one of their own.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from segment.analytics.client import Client

MESSAGE_LIMIT = 32 * 1024
BATCH_LIMIT = 500 * 1024
MAX_MESSAGES = 2_500

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def mid() -> str:
    return str(uuid.uuid4())


def track(user: str, event: str = "Clicked", **fields: Any) -> dict[str, Any]:
    return {"type": "track", "event": event, "userId": user, "messageId": mid(), **fields}


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """A JSON error body with `code` and `message`, as the official clients read it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("code"), str) and body["code"]
    assert isinstance(body.get("message"), str) and body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body


def sized(message: dict[str, Any], size: int) -> dict[str, Any]:
    """`message` padded so that its compact JSON is exactly `size` bytes."""
    base = len(orjson.dumps({**message, "properties": {"pad": ""}}))
    padded = {**message, "properties": {"pad": "x" * (size - base)}}
    assert len(orjson.dumps(padded)) == size
    return padded


def post_raw(api: Any, path: str, content: bytes, **headers: str) -> Any:
    return api.post(path, content=content, headers={"Content-Type": "application/json", **headers})


# -- the official client --------------------------------------------------------------------


def test_official_client_sends_every_type_and_they_read_back(api: Any, uid: str) -> None:
    errors: list[Any] = []
    client = Client(
        api.keys.write_key, host=api.url, sync_mode=True, on_error=lambda e, b: errors.append(e)
    )
    sent = {
        "track": client.track(
            user_id=uid,
            event="Order Completed",
            properties={"total": 12.5, "currency": "EUR", "items": [{"sku": "A-1"}]},
            context={"channel": "store", "locale": "fr-FR"},
        )[1],
        "identify": client.identify(
            user_id=uid, traits={"email": "ada@example.com", "birthYear": 1990}
        )[1],
        "page": client.page(user_id=uid, name="Home", properties={"path": "/"})[1],
        "screen": client.screen(user_id=uid, name="Cart", properties={"items": 2})[1],
        "group": client.group(user_id=uid, group_id=f"{uid}-acme", traits={"plan": "pro"})[1],
        "alias": client.alias(previous_id=f"{uid}-anon", user_id=uid)[1],
    }
    assert errors == []

    stored = {e["type"]: e for e in api.events(userId=uid)}
    assert set(stored) == set(sent)
    for kind, message in sent.items():
        event = stored[kind]
        assert event["messageId"] == message["messageId"]
        assert event["userId"] == uid
        assert event["source"] == "web"
        assert event["context"]["library"]["name"] == "analytics-python"
        assert event["isBot"] is False
        # The client stamps timestamp and sentAt; both are kept.
        assert when(event["originalTimestamp"]) == when(message["timestamp"])
        assert "sentAt" in event and "receivedAt" in event

    assert stored["track"]["event"] == "Order Completed"
    assert stored["track"]["properties"] == {
        "total": 12.5,
        "currency": "EUR",
        "items": [{"sku": "A-1"}],
    }
    assert stored["track"]["channel"] == "store"
    assert stored["track"]["context"]["locale"] == "fr-FR"
    assert stored["identify"]["traits"] == {"email": "ada@example.com", "birthYear": 1990}
    assert stored["page"]["name"] == "Home"
    assert stored["page"]["properties"] == {"path": "/"}
    assert stored["page"]["channel"] == "web"
    assert stored["screen"]["name"] == "Cart"
    assert stored["screen"]["channel"] == "app"
    assert stored["group"]["groupId"] == f"{uid}-acme"
    assert stored["group"]["traits"] == {"plan": "pro"}
    assert stored["alias"]["previousId"] == f"{uid}-anon"


def test_official_client_batches_with_gzip(api: Any, uid: str) -> None:
    errors: list[Any] = []
    client = Client(
        api.keys.write_key,
        host=api.url,
        gzip=True,
        upload_size=40,
        upload_interval=0.05,
        on_error=lambda e, b: errors.append(e),
    )
    ids = [
        client.track(anonymous_id=uid, event="Viewed", properties={"n": n})[1]["messageId"]
        for n in range(150)
    ]
    client.flush()
    client.shutdown()
    assert errors == []
    events = api.events(anonymousId=uid)
    assert sorted(e["messageId"] for e in events) == sorted(ids)
    assert sorted(e["properties"]["n"] for e in events) == list(range(150))


# -- every endpoint ---------------------------------------------------------------------------


SINGLE = {
    "track": {"event": "Signed Up", "properties": {"plan": "pro"}},
    "identify": {"traits": {"name": "Ada"}},
    "page": {"name": "Pricing", "properties": {"path": "/pricing"}},
    "screen": {"name": "Home"},
    "group": {"groupId": "acme", "traits": {"size": 10}},
    "alias": {"previousId": "anon-1"},
}


@pytest.mark.parametrize("letter", [False, True], ids=["full", "analytics.js"])
@pytest.mark.parametrize("kind", list(SINGLE))
def test_every_single_message_endpoint(api: Any, uid: str, kind: str, letter: bool) -> None:
    path = f"/v1/{kind[0]}" if letter else f"/v1/{kind}"
    message_id = mid()
    # No `type`: the endpoint says what the message is.
    response = api.post(path, {"userId": uid, "messageId": message_id, **SINGLE[kind]})
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True

    [event] = api.events(messageId=message_id)
    assert event["type"] == kind
    assert event["userId"] == uid
    for field, value in SINGLE[kind].items():
        assert event[field] == value


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/import", "/v1/b"])
def test_every_batch_endpoint(api: Any, uid: str, path: str) -> None:
    batch = [
        track(uid, "Product Viewed"),
        {"type": "identify", "userId": uid, "traits": {"vip": True}, "messageId": mid()},
        {"type": "page", "anonymousId": uid, "name": "Home", "messageId": mid()},
        {"type": "screen", "userId": uid, "name": "Cart", "messageId": mid()},
        {"type": "group", "userId": uid, "groupId": "g1", "messageId": mid()},
        {"type": "alias", "userId": uid, "previousId": "old", "messageId": mid()},
    ]
    response = api.post(path, {"batch": batch})
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == len(batch)
    stored = {e["messageId"]: e["type"] for e in api.events(userId=uid)}
    stored |= {e["messageId"]: e["type"] for e in api.events(anonymousId=uid)}
    assert stored == {m["messageId"]: m["type"] for m in batch}


def test_empty_batch_is_accepted(api: Any) -> None:
    response = api.post("/v1/batch", {"batch": []})
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 0


def test_wrong_method_or_path_gets_a_json_error(api: Any) -> None:
    response = api.http.get("/v1/track")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["allow"]
    assert_error(api.post("/v1/trak", {"event": "E", "userId": "u"}), 404, "not_found")


# -- auth -------------------------------------------------------------------------------------


def test_write_key_as_basic_username(api: Any, uid: str) -> None:
    message = track(uid)
    token = base64.b64encode(f"{api.keys.write_key}:".encode()).decode()
    response = api.post(
        "/v1/track", message, auth=False, headers={"Authorization": f"Basic {token}"}
    )
    assert response.status_code == 200, response.text
    [event] = api.events(messageId=message["messageId"])
    assert event["source"] == "web"


def test_write_key_in_the_body(api: Any, uid: str) -> None:
    single = {**track(uid), "writeKey": api.keys.write_key}
    batch = {"batch": [track(uid)], "writeKey": api.keys.app_write_key}
    assert api.post("/v1/track", single, auth=False).status_code == 200
    assert api.post("/v1/batch", batch, auth=False).status_code == 200
    sources = {e["messageId"]: e["source"] for e in api.events(userId=uid)}
    assert sources == {single["messageId"]: "web", batch["batch"][0]["messageId"]: "app"}
    # The key is a credential: it is not kept with the event.
    assert all("writeKey" not in json.dumps(e) for e in api.events(userId=uid))


def test_missing_write_key_is_401(api: Any, uid: str) -> None:
    for path, body in (("/v1/track", track(uid)), ("/v1/batch", {"batch": [track(uid)]})):
        body_ = assert_error(api.post(path, body, auth=False), 401, "unauthorized")
        assert "write key" in body_["message"]
    assert api.total(userId=uid) == 0


def test_unknown_write_key_is_401(api: Any, uid: str) -> None:
    assert_error(api.post("/v1/track", track(uid), write_key="wk_not-a-key"), 401)
    assert_error(api.post("/v1/track", {**track(uid), "writeKey": "wk_not-a-key"}, auth=False), 401)
    # An API token is not a write key either.
    token = api.keys.admin_token
    assert_error(api.post("/v1/batch", {"batch": [track(uid)]}, write_key=token), 401)
    assert_error(
        api.post(
            "/v1/track", track(uid), auth=False, headers={"Authorization": "Basic %%%notbase64"}
        ),
        401,
    )
    assert api.total(userId=uid) == 0


# -- limits -----------------------------------------------------------------------------------


def test_single_message_at_and_over_32_kb(api: Any, uid: str) -> None:
    at_limit = sized(track(uid, "At"), MESSAGE_LIMIT)
    over = sized(track(uid, "Over"), MESSAGE_LIMIT + 1)
    assert post_raw(api, "/v1/track", orjson.dumps(at_limit)).status_code == 200
    body = assert_error(post_raw(api, "/v1/track", orjson.dumps(over)), 400)
    assert "32 KB" in body["message"] or str(MESSAGE_LIMIT) in body["message"]
    assert [e["event"] for e in api.events(userId=uid)] == ["At"]


def test_message_over_32_kb_inside_a_batch_is_rejected_alone(api: Any, uid: str) -> None:
    batch = [
        sized(track(uid, "At"), MESSAGE_LIMIT),
        sized(track(uid, "Over"), MESSAGE_LIMIT + 1),
        track(uid, "Small"),
    ]
    response = post_raw(api, "/v1/batch", orjson.dumps({"batch": batch}))
    assert response.status_code == 200, response.text  # as Segment: the valid ones are stored
    body = response.json()
    [rejected] = body["rejected"]
    assert rejected["index"] == 1
    assert rejected["messageId"] == batch[1]["messageId"]
    assert "32 KB" in rejected["message"] or str(MESSAGE_LIMIT) in rejected["message"]
    assert body["stored"] == 2
    assert sorted(e["event"] for e in api.events(userId=uid)) == ["At", "Small"]


def _batch_of_size(uid: str, size: int) -> bytes:
    """A batch body of exactly `size` bytes, every message well under 32 KB."""
    messages = [sized(track(uid, f"Pad {i}"), 30_000) for i in range(size // 30_000)]
    body = orjson.dumps({"batch": messages})
    last = messages[-1]
    messages[-1] = sized(last, len(orjson.dumps(last)) - (len(body) - size))
    body = orjson.dumps({"batch": messages})
    assert len(body) == size
    return body


def test_batch_body_at_and_over_500_kb(api: Any, uid: str) -> None:
    at_limit = _batch_of_size(uid, BATCH_LIMIT)
    response = post_raw(api, "/v1/batch", at_limit)
    assert response.status_code == 200, response.text
    stored = api.total(userId=uid)
    assert stored == len(orjson.loads(at_limit)["batch"])

    over = _batch_of_size(f"{uid}-over", BATCH_LIMIT + 1)
    body = assert_error(post_raw(api, "/v1/batch", over), 400, "request_too_large")
    assert "500 KB" in body["message"]
    # The same without Content-Length (chunked): the limit holds on what is read.
    chunks = (over[i : i + 65_536] for i in range(0, len(over), 65_536))
    body = assert_error(api.post("/v1/batch", content=chunks), 400, "request_too_large")
    assert "500 KB" in body["message"]
    assert api.total(userId=f"{uid}-over") == 0


def test_batch_of_2500_messages_is_accepted_2501_refused(api: Any, uid: str) -> None:
    ok = [{"type": "track", "event": "E", "userId": uid, "messageId": mid()} for _ in range(2500)]
    response = api.post("/v1/batch", {"batch": ok})
    assert response.status_code == 200, response.text
    assert api.total(userId=uid) == MAX_MESSAGES

    other = f"{uid}-too-many"
    too_many = [track(other, "E") for _ in range(MAX_MESSAGES + 1)]
    body = assert_error(api.post("/v1/batch", {"batch": too_many}), 400, "batch_too_large")
    assert str(MAX_MESSAGES) in body["message"].replace(",", "")
    assert api.total(userId=other) == 0


# -- gzip -------------------------------------------------------------------------------------


def test_gzip_bodies_are_accepted(api: Any, uid: str) -> None:
    single = track(uid, "Zipped single")
    batch = [track(uid, "Zipped batch") for _ in range(20)]
    gz = {"Content-Encoding": "gzip"}
    assert post_raw(api, "/v1/track", gzip.compress(orjson.dumps(single)), **gz).status_code == 200
    response = post_raw(api, "/v1/batch", gzip.compress(orjson.dumps({"batch": batch})), **gz)
    assert response.status_code == 200, response.text
    assert api.total(userId=uid) == 21


def test_corrupt_gzip_is_400(api: Any, uid: str) -> None:
    good = gzip.compress(orjson.dumps({"batch": [track(uid)]}))
    gz = {"Content-Encoding": "gzip"}
    garbled = good[:12] + bytes(b ^ 0x5A for b in good[12:-8]) + good[-8:]
    assert_error(post_raw(api, "/v1/batch", garbled, **gz), 400, "invalid_gzip")
    assert_error(post_raw(api, "/v1/batch", good[:-6], **gz), 400, "invalid_gzip")  # truncated
    assert_error(post_raw(api, "/v1/batch", b"not gzip at all", **gz), 400, "invalid_gzip")
    # Small on the wire, huge once inflated: refused by the 500 KB limit, not inflated whole.
    bomb = gzip.compress(orjson.dumps({"batch": [track(uid, "x" * 5_000_000)]}))
    assert len(bomb) < 50_000
    assert_error(post_raw(api, "/v1/batch", bomb, **gz), 400, "request_too_large")
    assert api.total(userId=uid) == 0


# -- CORS and analytics.js ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/t", "/v1/p", "/v1/batch", "/v1/track"])
def test_cors_preflight(api: Any, path: str) -> None:
    response = api.http.options(
        path,
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://shop.example")
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed and "authorization" in allowed


def test_text_plain_body_from_a_browser(api: Any, uid: str) -> None:
    # analytics.js posts text/plain (no preflight) with the write key in the body.
    message = {
        "type": "page",
        "anonymousId": uid,
        "name": "Home",
        "messageId": mid(),
        "writeKey": api.keys.write_key,
        "context": {"library": {"name": "analytics.js", "version": "next-1.70.0"}},
    }
    response = api.post(
        "/v1/p",
        content=json.dumps(message),
        auth=False,
        headers={"Content-Type": "text/plain", "Origin": "https://shop.example"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] in ("*", "https://shop.example")
    [event] = api.events(anonymousId=uid)
    assert event["messageId"] == message["messageId"]
    assert event["channel"] == "web"
    # Errors reach the page's script too: they carry the CORS header.
    refused = api.post(
        "/v1/p",
        content=json.dumps({**message, "writeKey": "wk_unknown"}),
        auth=False,
        headers={"Content-Type": "text/plain", "Origin": "https://shop.example"},
    )
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] in ("*", "https://shop.example")


# -- messageId dedup --------------------------------------------------------------------------


def test_the_same_batch_sent_three_times_is_stored_once(api: Any, uid: str) -> None:
    batch = {"batch": [track(uid, f"E{i}") for i in range(50)]}
    answers = [api.post("/v1/batch", batch) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json()["stored"] == 50
    assert [a.json()["duplicates"] for a in answers[1:]] == [50, 50]
    events = api.events(userId=uid)
    assert sorted(e["messageId"] for e in events) == sorted(m["messageId"] for m in batch["batch"])


def test_duplicates_inside_one_batch_are_stored_once(api: Any, uid: str) -> None:
    message = track(uid)
    response = api.post("/v1/batch", {"batch": [message, message, track(uid), message]})
    assert response.status_code == 200
    assert response.json() == {"success": True, "stored": 2, "duplicates": 2}
    assert api.total(userId=uid) == 2
    assert api.total(messageId=message["messageId"]) == 1


def test_dedup_is_per_source(api: Any, uid: str) -> None:
    message = track(uid)
    assert api.post("/v1/batch", {"batch": [message]}).status_code == 200
    assert (
        api.post("/v1/batch", {"batch": [message]}, write_key=api.keys.app_write_key).json()[
            "stored"
        ]
        == 1
    )
    events = api.events(messageId=message["messageId"])
    assert sorted(e["source"] for e in events) == ["app", "web"]


def test_missing_message_id_gets_one(api: Any, uid: str) -> None:
    message = {"type": "track", "event": "No Id", "userId": uid}
    assert api.post("/v1/track", message).status_code == 200
    assert api.post("/v1/batch", {"batch": [message]}).status_code == 200
    events = api.events(userId=uid)
    ids = [e["messageId"] for e in events]
    # Two sends without an id are two events, each with an id of its own.
    assert len(ids) == 2 and all(isinstance(i, str) and i for i in ids)
    assert len(set(ids)) == 2


@pytest.mark.slow
def test_dedup_survives_a_restart(workspace: Any, server: Any, connect: Any) -> None:
    batch = {"batch": [track("restart-user") for _ in range(30)]}
    assert connect(server.url, workspace).post("/v1/batch", batch).json()["stored"] == 30
    server.restart()  # a graceful stop, then a new process on the same workspace
    client = connect(server.url, workspace)
    again = client.post("/v1/batch", batch)
    assert again.status_code == 200
    assert again.json()["stored"] == 0 and again.json()["duplicates"] == 30
    assert client.total(userId="restart-user") == 30
    server.kill()  # and after a crash
    server.start()
    client = connect(server.url, workspace)
    assert client.post("/v1/batch", batch).json()["duplicates"] == 30
    assert client.total(userId="restart-user") == 30


# -- clock skew -------------------------------------------------------------------------------


def test_clock_skew_is_corrected_from_sent_at(api: Any, uid: str) -> None:
    device_now = datetime.now(UTC) - timedelta(hours=1)  # the device's clock is 1 h behind
    happened = device_now - timedelta(minutes=10)  # the event took place 10 min before sending
    message = track(uid, timestamp=happened.isoformat(), sentAt=device_now.isoformat())
    before = datetime.now(UTC)
    assert api.post("/v1/track", message).status_code == 200
    after = datetime.now(UTC)

    [event] = api.events(userId=uid)
    received = when(event["receivedAt"])
    assert before - timedelta(seconds=1) <= received <= after + timedelta(seconds=1)
    assert when(event["timestamp"]) == received - timedelta(minutes=10)
    assert when(event["originalTimestamp"]) == happened
    assert when(event["sentAt"]) == device_now


def test_batch_sent_at_applies_to_its_messages(api: Any, uid: str) -> None:
    sent = datetime(2020, 5, 1, 12, 0, tzinfo=UTC)  # a device clock years off
    own = sent + timedelta(minutes=1)
    batch = {
        "sentAt": sent.isoformat(),
        "batch": [
            track(uid, "Uses batch sentAt", timestamp=(sent - timedelta(minutes=3)).isoformat()),
            track(
                uid,
                "Has its own",
                timestamp=(sent - timedelta(minutes=3)).isoformat(),
                sentAt=own.isoformat(),
            ),
            track(uid, "No timestamp"),
        ],
    }
    assert api.post("/v1/batch", batch).status_code == 200
    events = {e["event"]: e for e in api.events(userId=uid)}
    first = events["Uses batch sentAt"]
    assert when(first["sentAt"]) == sent
    assert when(first["timestamp"]) == when(first["receivedAt"]) - timedelta(minutes=3)
    second = events["Has its own"]
    assert when(second["sentAt"]) == own
    assert when(second["timestamp"]) == when(second["receivedAt"]) - timedelta(minutes=4)
    third = events["No timestamp"]
    assert when(third["timestamp"]) == when(third["receivedAt"])


def test_without_sent_at_the_timestamp_is_kept(api: Any, uid: str) -> None:
    happened = datetime(2024, 2, 29, 8, 30, 15, 250_000, tzinfo=UTC)
    assert api.post("/v1/track", track(uid, timestamp=happened.isoformat())).status_code == 200
    [event] = api.events(userId=uid)
    assert when(event["timestamp"]) == happened
    assert when(event["originalTimestamp"]) == happened


@pytest.mark.parametrize(
    ("timestamp", "sent_at"),
    [
        ("0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"),  # corrected: thousands of years BC
        ("2024-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),  # corrected: year 4049
        ("9999-12-31T23:59:59-05:00", None),  # past 9999 once in UTC
    ],
)
def test_a_wild_device_clock_never_breaks_reading(
    api: Any, uid: str, timestamp: str, sent_at: str | None
) -> None:
    message = track(uid, timestamp=timestamp, sentAt=sent_at)
    response = api.post("/v1/track", message)
    if response.status_code == 400:  # refusing it is fine, with the field named
        assert response.json()["rejected"][0]["field"] in ("timestamp", "sentAt")
        return
    assert response.status_code == 200, response.text
    [event] = api.events(userId=uid)  # readable, not a 500
    assert event["messageId"] == message["messageId"]
    try:
        expected = when(timestamp).astimezone(UTC)
    except OverflowError:  # not a Python datetime once in UTC: only its presence is checked
        assert event["originalTimestamp"]
    else:
        assert when(event["originalTimestamp"]) == expected
    # And the log stays readable for everyone else too.
    assert api.get_events(limit=1000).status_code == 200


# -- validation -------------------------------------------------------------------------------


INVALID = [
    ("track", {"userId": "u"}, "event"),
    ("track", {"event": "E"}, "userId"),
    ("group", {"userId": "u"}, "groupId"),
    ("alias", {"userId": "u"}, "previousId"),
    ("track", {"event": "E", "userId": "u", "timestamp": "last tuesday"}, "timestamp"),
    ("track", {"event": "E", "userId": "u", "properties": [1, 2]}, "properties"),
    ("identify", {"userId": "u", "traits": "vip"}, "traits"),
    ("track", {"event": "E", "userId": {"id": 1}}, "userId"),
]


@pytest.mark.parametrize(("kind", "message", "field"), INVALID)
def test_invalid_single_message_is_400_with_field_and_reason(
    api: Any, uid: str, kind: str, message: dict[str, Any], field: str
) -> None:
    message = {**message, "messageId": f"{uid}-bad"}
    body = assert_error(api.post(f"/v1/{kind}", message), 400)
    [rejected] = body["rejected"]
    assert rejected["index"] == 0
    assert rejected["field"] == field
    assert rejected["messageId"] == f"{uid}-bad"
    assert field in rejected["message"] and len(rejected["message"]) > len(field) + 5
    assert api.total(messageId=f"{uid}-bad") == 0


def test_mixed_batch_stores_the_valid_and_lists_the_invalid(api: Any, uid: str) -> None:
    valid = {0: track(uid, "A"), 2: track(uid, "B"), 5: track(uid, "C")}
    invalid: dict[int, tuple[Any, str | None]] = {
        1: ({"type": "track", "userId": uid, "messageId": mid()}, "event"),
        3: ({"type": "group", "userId": uid, "messageId": mid()}, "groupId"),
        4: (42, None),
        6: ({"type": "teleport", "userId": uid}, "type"),
        7: ({**track(uid, "D"), "timestamp": "2024-13-45"}, "timestamp"),
        8: (["not", "an", "object"], None),
    }
    batch = [valid[i] if i in valid else invalid[i][0] for i in range(9)]
    response = api.post("/v1/batch", {"batch": batch})
    # 200 as Segment answers: the official clients count a 400 as the whole batch failed.
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and "3 valid ones are stored" in body["message"]
    assert body["stored"] == len(valid)
    assert [r["index"] for r in body["rejected"]] == sorted(invalid)
    for rejected in body["rejected"]:
        assert rejected["field"] == invalid[rejected["index"]][1]
        assert rejected["message"]
    stored = sorted(e["messageId"] for e in api.events(userId=uid))
    assert stored == sorted(m["messageId"] for m in valid.values())


def test_a_batch_with_no_valid_message_is_400(api: Any, uid: str) -> None:
    batch = [{"type": "track", "userId": uid, "messageId": mid()}, {"type": "teleport"}]
    body = assert_error(api.post("/v1/batch", {"batch": batch}), 400, "invalid_messages")
    assert body["success"] is False and body["stored"] == 0
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(0, "event"), (1, "type")]
    assert api.total(userId=uid) == 0


def test_malformed_json_names_the_position(api: Any) -> None:
    body = b'{\n  "batch": [\n    {"type": "track",, "event": "E"}\n  ]\n}'
    error = assert_error(post_raw(api, "/v1/batch", body), 400, "invalid_json")
    assert "line 3" in error["message"]
    assert re.search(r"column \d+", error["message"])
    error = assert_error(post_raw(api, "/v1/track", b""), 400, "invalid_json")
    assert "line 1" in error["message"]


def test_body_of_the_wrong_shape(api: Any) -> None:
    assert_error(post_raw(api, "/v1/track", b"[1, 2]"), 400)
    assert_error(api.post("/v1/batch", {"messages": []}), 400, "invalid_body")
    assert_error(api.post("/v1/batch", {"batch": {"type": "track"}}), 400, "invalid_body")
    assert_error(api.post("/v1/batch", {"batch": [], "sentAt": "soon"}), 400)


# -- bots and channels ------------------------------------------------------------------------


def test_bots_are_flagged_kept_and_filterable(api: Any, uid: str) -> None:
    bot = {"type": "page", "anonymousId": uid, "messageId": mid(), "name": "Home"}
    human = {"type": "page", "anonymousId": uid, "messageId": mid(), "name": "Home"}
    bot["context"] = {"userAgent": GOOGLEBOT}
    human["context"] = {"userAgent": CHROME}
    assert api.post("/v1/batch", {"batch": [bot, human]}).status_code == 200
    flags = {e["messageId"]: e["isBot"] for e in api.events(anonymousId=uid)}
    assert flags == {bot["messageId"]: True, human["messageId"]: False}
    kept = api.events(anonymousId=uid, includeBots="false")
    assert [e["messageId"] for e in kept] == [human["messageId"]]


@pytest.mark.parametrize(
    ("message", "channel"),
    [
        ({"type": "track", "event": "E", "context": {"channel": "store"}}, "store"),
        ({"type": "track", "event": "E", "context": {"channel": "phone"}}, "phone"),
        (
            {
                "type": "page",
                "context": {"channel": "email", "library": {"name": "analytics.js"}},
            },
            "email",
        ),
        ({"type": "track", "event": "E", "context": {"library": {"name": "analytics.js"}}}, "web"),
        ({"type": "page", "name": "Home"}, "web"),
        ({"type": "screen", "name": "Home"}, "app"),
        (
            {"type": "track", "event": "E", "context": {"library": {"name": "analytics-ios"}}},
            "app",
        ),
    ],
)
def test_channel_is_kept_or_inferred(
    api: Any, uid: str, message: dict[str, Any], channel: str
) -> None:
    message = {**message, "userId": uid, "messageId": mid()}
    assert api.post("/v1/batch", {"batch": [message]}).status_code == 200
    [event] = api.events(userId=uid)
    assert event["channel"] == channel
