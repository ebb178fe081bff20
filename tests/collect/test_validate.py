"""The Segment rules, one message at a time (the HTTP tests check the same through the server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from empreinte.collect.limits import MAX_MESSAGE_BYTES
from empreinte.collect.validate import normalise, parse_time
from empreinte.errors import InvalidMessage
from empreinte.privacy.pii import IngestPolicy
from empreinte.privacy.pseudonym import Pseudonymiser

POLICY = IngestPolicy(Pseudonymiser(b"k" * 32))
NOW = parse_time("2026-03-01T12:00:00Z", "now")
assert NOW is not None


def row(message: object, **kwargs: object):  # type: ignore[no-untyped-def]
    return normalise(message, source="web", received_at=NOW, policy=POLICY, **kwargs)  # type: ignore[arg-type]


def micros(text: str) -> int:
    value = parse_time(text, "t")
    assert value is not None
    return value


@pytest.mark.parametrize(
    ("message", "field", "code"),
    [
        ({"type": "track", "userId": "u"}, "event", "missing_field"),
        ({"type": "track", "userId": "u", "event": "  "}, "event", "missing_field"),
        ({"type": "track", "event": "E"}, "userId", "missing_identity"),
        ({"type": "group", "userId": "u"}, "groupId", "missing_field"),
        ({"type": "alias", "userId": "u"}, "previousId", "missing_field"),
        ({"type": "alias", "previousId": "a"}, "userId", "missing_field"),
        ({"type": "jump", "userId": "u"}, "type", "invalid_type"),
        (
            {"type": "track", "userId": "u", "event": "E", "properties": [1]},
            "properties",
            "invalid_field",
        ),
        ({"type": "identify", "userId": "u", "traits": "x"}, "traits", "invalid_field"),
        (
            {"type": "track", "userId": "u", "event": "E", "timestamp": "yesterday"},
            "timestamp",
            "invalid_timestamp",
        ),
        ({"type": "track", "userId": {"a": 1}, "event": "E"}, "userId", "invalid_field"),
        ({"type": "page", "userId": "u", "name": 3}, "name", "invalid_field"),
    ],
)
def test_rule_breaches_name_the_field(message: dict[str, object], field: str, code: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        row(message)
    assert caught.value.field == field
    assert caught.value.code == code
    assert field in str(caught.value)


def test_non_object_message_is_refused() -> None:
    with pytest.raises(InvalidMessage, match="JSON object"):
        row(["track"])


def test_message_size_limit_is_32_kb() -> None:
    base = {"type": "track", "userId": "u", "event": "E", "properties": {"blob": ""}}
    overhead = len(orjson.dumps(base))
    at_limit = {**base, "properties": {"blob": "x" * (MAX_MESSAGE_BYTES - overhead)}}
    assert row(at_limit).event == "E"
    over = {**base, "properties": {"blob": "x" * (MAX_MESSAGE_BYTES - overhead + 1)}}
    with pytest.raises(InvalidMessage, match="32 KB") as caught:
        row(over)
    assert caught.value.code == "message_too_large"


def test_alias_needs_no_anonymous_id_and_numbers_become_strings() -> None:
    out = row({"type": "alias", "previousId": 42, "userId": 7})
    assert (out.previous_id, out.user_id, out.anonymous_id) == ("42", "7", None)


def test_missing_message_id_gets_a_unique_one() -> None:
    first = row({"type": "identify", "userId": "u"})
    second = row({"type": "identify", "userId": "u"})
    assert first.message_id and second.message_id and first.message_id != second.message_id
    assert row({"type": "identify", "userId": "u", "messageId": "m-1"}).message_id == "m-1"


@given(
    skew=st.integers(min_value=-86_400 * 365, max_value=86_400 * 365),
    delay=st.integers(min_value=0, max_value=86_400 * 3),
)
def test_clock_skew_is_corrected_from_sent_at(skew: int, delay: int) -> None:
    """A device clock off by `skew` seconds sends an event `delay` seconds after it happened."""
    happened = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    device = happened + timedelta(seconds=skew)
    message = {
        "type": "track",
        "userId": "u",
        "event": "E",
        "timestamp": device.isoformat(),
        "sentAt": (device + timedelta(seconds=delay)).isoformat(),
    }
    out = row(message)
    assert out.timestamp == NOW - delay * 1_000_000
    assert out.original_timestamp == micros(device.isoformat())
    assert out.received_at == NOW


def test_batch_sent_at_applies_when_the_message_has_none() -> None:
    out = row(
        {"type": "track", "userId": "u", "event": "E", "timestamp": "2020-01-01T00:00:00Z"},
        batch_sent_at=micros("2020-01-01T00:05:00Z"),
    )
    assert out.timestamp == NOW - 300 * 1_000_000


def test_without_sent_at_the_timestamp_is_kept_and_without_timestamp_it_is_now() -> None:
    kept = row({"type": "track", "userId": "u", "event": "E", "timestamp": "2020-01-01T00:00:00"})
    assert kept.timestamp == micros("2020-01-01T00:00:00+00:00")
    assert row({"type": "track", "userId": "u", "event": "E"}).timestamp == NOW


@pytest.mark.parametrize(
    ("message", "channel"),
    [
        ({"context": {"channel": "Store"}}, "store"),
        ({"context": {"channel": "phone", "library": {"name": "analytics.js"}}}, "phone"),
        ({"context": {"library": {"name": "analytics.js", "version": "2"}}}, "web"),
        ({"context": {"library": {"name": "analytics-ios"}}}, "app"),
        ({"channel": "browser"}, "web"),
        ({"channel": "mobile"}, "app"),
        ({"type": "screen"}, "app"),
        ({"type": "page"}, "web"),
        ({"context": {"userAgent": "Mozilla/5.0"}}, "web"),
        ({}, None),
    ],
)
def test_channel_is_kept_or_inferred(message: dict[str, object], channel: str | None) -> None:
    full = {"type": "track", "event": "E", "userId": "u", **message}
    assert row(full).channel == channel


def test_known_crawlers_are_flagged_not_dropped() -> None:
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    chrome = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36"
    )
    assert row({"type": "page", "anonymousId": "a", "context": {"userAgent": googlebot}}).is_bot
    assert not row({"type": "page", "anonymousId": "a", "context": {"userAgent": chrome}}).is_bot


def test_batch_context_merges_under_the_message_context() -> None:
    out = row(
        {"type": "track", "event": "E", "userId": "u", "context": {"locale": "fr-FR"}},
        batch_context={"locale": "en-US", "library": {"name": "analytics-ios"}},
    )
    assert orjson.loads(out.context or "{}") == {
        "locale": "fr-FR",
        "library": {"name": "analytics-ios"},
    }


def test_unknown_top_level_fields_are_kept_and_write_key_is_not() -> None:
    out = row({"type": "track", "event": "E", "userId": "u", "version": 2, "writeKey": "secret"})
    assert orjson.loads(out.extra or "{}") == {"version": 2}
    assert "secret" not in repr(out)
