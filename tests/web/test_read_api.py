"""The operators' read API (`GET /api/events`) on the real server: tokens, roles and filters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def send(api: Any, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for message in messages:
        message.setdefault("messageId", str(uuid.uuid4()))
    response = api.post("/v1/batch", {"batch": messages})
    assert response.status_code == 200, response.text
    return messages


# -- who may read -----------------------------------------------------------------------------


def test_health_needs_no_token(api: Any) -> None:
    response = api.http.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_admin_token_reads(api: Any, uid: str) -> None:
    [message] = send(api, [{"type": "track", "event": "E", "userId": uid}])
    response = api.get_events(userId=uid)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["total"] == 1
    [event] = body["events"]
    assert event["messageId"] == message["messageId"]
    assert event["source"] == "web"
    assert event["receivedAt"].endswith("Z")


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] and body["message"]
    assert "events" not in body
    return body


def test_no_token_is_401(api: Any) -> None:
    _error(api.http.get("/api/events"), 401)
    _error(api.http.get("/api/events", headers={"Authorization": "Bearer"}), 401)
    _error(api.http.get("/api/events", headers={"Authorization": "Bearer emp_made_up"}), 401)


def test_the_write_key_never_reads(api: Any) -> None:
    key = api.keys.write_key
    _error(api.http.get("/api/events", headers={"Authorization": f"Bearer {key}"}), 401)
    _error(api.http.get("/api/events", auth=(key, "")), 401)
    _error(api.http.get("/api/events", params={"writeKey": key}), 401)
    # An admin token sent the collector's way (Basic) is not accepted for reading either.
    _error(api.http.get("/api/events", auth=(api.keys.admin_token, "")), 401)


@pytest.mark.parametrize("role", ["analyst", "viewer"])
def test_raw_events_are_for_admins_only(api: Any, role: str) -> None:
    token = getattr(api.keys, f"{role}_token")
    body = _error(api.get_events(token=token), 403)
    assert body["code"] == "forbidden"


# -- filters ----------------------------------------------------------------------------------


def test_filter_by_user_anonymous_id_and_event(api: Any, uid: str) -> None:
    anon = f"{uid}-anon"
    messages = send(
        api,
        [
            {"type": "track", "event": "Viewed", "userId": uid},
            {"type": "track", "event": "Bought", "userId": uid},
            {"type": "track", "event": "Viewed", "anonymousId": anon},
            {"type": "page", "anonymousId": anon, "name": "Home"},
            {"type": "track", "event": "Viewed", "userId": f"{uid}-other"},
        ],
    )
    ids = [m["messageId"] for m in messages]

    def found(**params: Any) -> set[str]:
        return {e["messageId"] for e in api.events(**params)}

    assert found(userId=uid) == {ids[0], ids[1]}
    assert found(anonymousId=anon) == {ids[2], ids[3]}
    assert found(userId=uid, event="Viewed") == {ids[0]}
    assert found(anonymousId=anon, event="Viewed") == {ids[2]}
    assert found(anonymousId=anon, type="page") == {ids[3]}
    assert found(userId=uid, event="Nothing") == set()


def test_filter_by_source_channel_and_message_id(api: Any, uid: str) -> None:
    [web] = send(api, [{"type": "track", "event": "E", "userId": uid}])
    app = {"type": "screen", "name": "Home", "userId": uid, "messageId": str(uuid.uuid4())}
    response = api.post("/v1/batch", {"batch": [app]}, write_key=api.keys.app_write_key)
    assert response.status_code == 200

    def found(**params: Any) -> list[str]:
        return [e["messageId"] for e in api.events(userId=uid, **params)]

    assert found(source="app") == [app["messageId"]]
    assert found(source="web") == [web["messageId"]]
    assert found(channel="app") == [app["messageId"]]
    assert found(messageId=web["messageId"]) == [web["messageId"]]


def test_since_and_until_select_by_event_time(api: Any, uid: str) -> None:
    months = [datetime(2024, m, 1, 12, tzinfo=UTC) for m in (1, 2, 3, 4)]
    messages = send(
        api,
        [
            {"type": "track", "event": f"M{t.month}", "userId": uid, "timestamp": t.isoformat()}
            for t in months
        ],
    )
    by_month = {t.month: m["messageId"] for t, m in zip(months, messages, strict=True)}

    def found(**params: Any) -> set[int]:
        return {when(e["timestamp"]).month for e in api.events(userId=uid, **params)}

    assert found(since="2024-01-15T00:00:00Z") == {2, 3, 4}
    assert found(until="2024-02-15T00:00:00+00:00") == {1, 2}
    assert found(since="2024-01-15", until="2024-03-15") == {2, 3}
    assert found(since=months[1].isoformat()) == {2, 3, 4}  # since is inclusive
    # A time with an offset means the same instant: 13:00+01:00 is 12:00 UTC.
    assert found(since="2024-04-01T13:00:00+01:00") == {4}
    assert found(since="2024-04-01T13:00:01+01:00") == set()
    assert len(by_month) == 4


def test_limit_order_count_and_total(api: Any, uid: str) -> None:
    messages = send(api, [{"type": "track", "event": f"E{i}", "userId": uid} for i in range(7)])
    sent = [m["messageId"] for m in messages]

    asc = api.get_events(userId=uid, order="asc", limit=3).json()
    assert [e["messageId"] for e in asc["events"]] == sent[:3]
    assert asc["count"] == 3 and asc["total"] == 7
    desc = api.get_events(userId=uid, order="desc", limit=3).json()
    assert [e["messageId"] for e in desc["events"]] == sent[::-1][:3]
    default = api.events(userId=uid)
    assert [e["messageId"] for e in default] == sent[::-1]  # newest first by default
    # Paging with after/before on seq.
    seqs = [e["seq"] for e in api.events(userId=uid, order="asc")]
    after = api.events(userId=uid, order="asc", after=seqs[3])
    assert [e["messageId"] for e in after] == sent[4:]
    before = api.events(userId=uid, order="asc", before=seqs[2])
    assert [e["messageId"] for e in before] == sent[:2]


def test_limit_allows_1_to_1000(api: Any, uid: str) -> None:
    send(api, [{"type": "track", "event": "E", "userId": uid} for _ in range(3)])
    assert api.get_events(userId=uid, limit=1).json()["count"] == 1
    assert api.get_events(userId=uid, limit=1000).json()["count"] == 3


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": "ten"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"order": "sideways"}, "order"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2024-02-30"}, "until"),
        ({"includeBots": "maybe"}, "includeBots"),
        ({"after": "x"}, "after"),
        ({"before": "1.5"}, "before"),
        ({"user": "u1"}, "user"),
    ],
)
def test_bad_parameter_is_400_naming_it(api: Any, params: dict[str, str], named: str) -> None:
    response = api.get_events(**params)
    body = _error(response, 400)
    assert named in body["message"]


def test_times_are_utc_iso_8601(api: Any, uid: str) -> None:
    happened = datetime.now(UTC) - timedelta(days=3)
    send(api, [{"type": "track", "event": "E", "userId": uid, "timestamp": happened.isoformat()}])
    [event] = api.events(userId=uid)
    for key in ("timestamp", "originalTimestamp", "receivedAt"):
        assert event[key].endswith("Z")
        assert when(event[key]).utcoffset() == timedelta(0)
    assert when(event["timestamp"]) == happened
