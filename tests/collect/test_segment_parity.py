"""Where the collector's answers follow Segment's, or refuse clearly where Segment would lose
data silently: integers beyond 64 bits, absurd `sentAt` clocks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from empreinte.collect.clock import CLOCK_SKEW_FLAG, MAX_SEND_DELAY, SKEW_TOLERANCE, event_time
from empreinte.collect.validate import normalise
from empreinte.errors import InvalidMessage
from empreinte.privacy.pii import IngestPolicy
from empreinte.privacy.pseudonym import Pseudonymiser

POLICY = IngestPolicy(Pseudonymiser(b"k" * 32))


def mid() -> str:
    return str(uuid.uuid4())


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def raw_track(uid: str, properties: str) -> str:
    """A track message as JSON text: integer literals stay as written."""
    return (
        f'{{"type": "track", "event": "Paid", "userId": "{uid}", '
        f'"messageId": "{mid()}", "properties": {properties}}}'
    )


def post_text(api: Any, path: str, text: str) -> Any:
    return api.post(path, content=text.encode(), headers={"Content-Type": "application/json"})


# -- integers beyond 64 bits --------------------------------------------------------------------


def test_integers_beyond_64_bits_are_refused_by_name_and_the_rest_kept_exact(
    api: Any, uid: str
) -> None:
    batch = [
        raw_track(uid, '{"order_id": 18446744073709551615, "note": "u64 max, exact"}'),
        raw_track(uid, '{"order_id": 18446744073709551616}'),
        raw_track(uid, '{"lines": [{"sku": "A", "ean": -9223372036854775809}]}'),
        raw_track(uid, '{"id": 123456789012345678901234567890}'),
        raw_track(uid, '{"comment": "ref 123456789012345678901234567890"}'),  # text: kept
        raw_track(uid, '{"big": ' + "9" * 5000 + "}"),  # never converted: no quadratic parse
    ]
    response = post_text(api, "/v1/batch", '{"batch": [' + ", ".join(batch) + "]}")
    assert response.status_code == 200, response.text
    rejected = {r["index"]: r for r in response.json()["rejected"]}
    assert {i: r["field"] for i, r in rejected.items()} == {
        1: "properties.order_id",
        2: "properties.lines.0.ean",
        3: "properties.id",
        5: "properties.big",
    }
    assert all(r["code"] == "integer_too_large" for r in rejected.values())
    assert "18446744073709551616" in rejected[1]["message"]
    assert "as a string" in rejected[1]["message"]
    assert "5000 digits" in rejected[5]["message"] and len(rejected[5]["message"]) < 200
    stored = sorted((e["properties"] for e in api.events(userId=uid)), key=str)
    assert stored == [
        {"comment": "ref 123456789012345678901234567890"},
        {"order_id": 18446744073709551615, "note": "u64 max, exact"},
    ]


def test_a_single_message_with_a_huge_integer_is_400_naming_it(api: Any, uid: str) -> None:
    response = post_text(api, "/v1/track", raw_track(uid, '{"n": {"m": 99999999999999999999}}'))
    assert response.status_code == 400, response.text
    assert response.json()["rejected"][0]["field"] == "properties.n.m"
    assert api.total(userId=uid) == 0


def test_a_huge_integer_in_the_batch_context_refuses_the_batch(api: Any, uid: str) -> None:
    text = '{"context": {"app": {"build": 99999999999999999999}}, "batch": [' + raw_track(uid, "{}")
    response = post_text(api, "/v1/batch", text + "]}")
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "context.app.build"
    assert api.total(userId=uid) == 0


def test_the_python_api_names_the_value_json_cannot_carry() -> None:
    message = {"type": "track", "event": "E", "userId": "u", "properties": {"a": [1, 2**70]}}
    with pytest.raises(InvalidMessage) as refused:
        normalise(message, source="py", received_at=0, policy=POLICY)
    assert refused.value.field == "properties.a.1"
    assert refused.value.code == "integer_too_large"
    message["properties"] = {"tags": {"a", "b"}}
    with pytest.raises(InvalidMessage) as refused:
        normalise(message, source="py", received_at=0, policy=POLICY)
    assert refused.value.field == "properties.tags" and "set" in str(refused.value)


# -- clock skew -------------------------------------------------------------------------------

MINUTE = 60 * 1_000_000
DAY = 24 * 60 * MINUTE
NOW = 1_750_000_000 * 1_000_000


@pytest.mark.parametrize(
    ("original", "sent_at", "expected", "flag"),
    [
        (None, NOW, NOW, None),
        (NOW - 5 * DAY, None, NOW - 5 * DAY, None),  # no sentAt: the device's time
        (NOW - 3 * MINUTE, NOW - 1 * MINUTE, NOW - 2 * MINUTE, None),  # corrected
        (NOW - 10 * 365 * DAY, NOW - 10 * 365 * DAY + MINUTE, NOW - MINUTE, None),  # bad clock
        (NOW - MAX_SEND_DELAY, NOW, NOW - MAX_SEND_DELAY, None),  # a long queue, at the bound
        (NOW - MAX_SEND_DELAY - 1, NOW, NOW - MAX_SEND_DELAY - 1, "sentAt ignored"),
        (NOW, NOW - SKEW_TOLERANCE, NOW + SKEW_TOLERANCE, None),  # sent "before": slack
        (NOW, NOW - 275 * 365 * DAY, NOW, "sentAt ignored"),  # sentAt in 1750
        (NOW - DAY, NOW + 125 * 365 * DAY, NOW - DAY, "sentAt ignored"),  # sentAt in 2150
        (NOW + DAY, NOW - DAY, NOW + DAY, "sentAt ignored"),  # as without sentAt
        (NOW + DAY, None, NOW + DAY, None),  # the sender's time: importers, the Python API
    ],
)
def test_the_skew_correction_is_bounded(
    original: int | None, sent_at: int | None, expected: int, flag: str | None
) -> None:
    assert event_time(original, sent_at, NOW) == (expected, flag)


def test_an_absurd_sent_at_is_ignored_and_flagged(api: Any, uid: str) -> None:
    happened = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    messages = {
        "1875": {"sentAt": "1875-01-01T00:00:00Z"},
        "2150": {"sentAt": "2150-01-01T00:00:00Z"},
        "honest": {"sentAt": (happened + timedelta(minutes=3)).isoformat()},
    }
    for name, fields in messages.items():
        message = {"type": "track", "event": name, "userId": uid, "messageId": mid()}
        body = {**message, "timestamp": happened.isoformat(), **fields}
        assert api.post("/v1/track", body).status_code == 200
    events = {e["event"]: e for e in api.events(userId=uid)}
    for name in ("1875", "2150"):
        assert when(events[name]["timestamp"]) == happened  # the device's own time
        assert events[name]["context"][CLOCK_SKEW_FLAG] == "sentAt ignored"
    honest = events["honest"]
    assert when(honest["timestamp"]) == when(honest["receivedAt"]) - timedelta(minutes=3)
    assert CLOCK_SKEW_FLAG not in honest.get("context", {})
