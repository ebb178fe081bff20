"""A conversation's transcript checked at the door, its texts redacted in `normalise` (the
collector's, the importers' and the Python API's one path), fail closed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

import empreinte
from empreinte.collect import text_redaction
from empreinte.collect.limits import MAX_MESSAGE_BYTES, MAX_TRANSCRIPT_BYTES
from empreinte.collect.transcripts import check_transcript
from empreinte.collect.validate import normalise, now_micros
from empreinte.errors import InvalidMessage, RedactionUnavailable
from empreinte.privacy.pii import IngestPolicy
from empreinte.privacy.pseudonym import Pseudonymiser
from empreinte.voc.model import MAX_TURN_CHARS, MAX_TURNS
from empreinte.workspace import Workspace
from voc.ingest.planted import CARD_SPACED, EMAIL_EN, PHONE_FR, english_turns, french_turns
from voc.ingest.worker_probe import language_model_loaded

POLICY = IngestPolicy(Pseudonymiser(b"k" * 32))


def call(turns: Any, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Call Completed",
        "anonymousId": "a-1",
        "properties": {"transcript": turns, **properties},
    }


def stored(message: dict[str, Any], max_bytes: int = MAX_MESSAGE_BYTES) -> dict[str, Any]:
    row = normalise(
        message, source="test", received_at=now_micros(), policy=POLICY, max_bytes=max_bytes
    )
    assert row.properties is not None
    properties: dict[str, Any] = orjson.loads(row.properties)
    return {"properties": properties, "channel": row.channel, "pii": row.pii}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with empreinte.open(tmp_path_factory.mktemp("transcripts")) as workspace:
        yield workspace


# -- the shape ----------------------------------------------------------------------------------


def test_speakers_are_read_as_agent_or_customer_and_other_keys_dropped() -> None:
    turns = check_transcript(
        [
            {"speaker": "Conseiller", "text": "Bonjour", "start": 0, "end": 1.5},
            {"speaker": "CLIENT", "text": "Bonjour", "start": 1.5, "end": 3, "name": "Jeanne"},
            {"speaker": "caller", "text": "Hi"},
            {"speaker": "advisor", "text": "Hello", "start": 4, "end": 4},
        ]
    )
    assert [t["speaker"] for t in turns] == ["agent", "customer", "customer", "agent"]
    assert turns[1] == {"speaker": "customer", "text": "Bonjour", "start": 1.5, "end": 3}
    assert turns[2]["start"] is None and turns[2]["end"] is None


@pytest.mark.parametrize(
    ("transcript", "field"),
    [
        ("hello", "properties.transcript"),
        ({"speaker": "agent"}, "properties.transcript"),
        ([{"speaker": "agent", "text": "a"}, "turn"], "properties.transcript[1]"),
        ([{"speaker": "robot", "text": "a"}], "properties.transcript[0].speaker"),
        ([{"speaker": ["agent"], "text": "a"}], "properties.transcript[0].speaker"),
        ([{"speaker": "agent"}], "properties.transcript[0].text"),
        ([{"speaker": "agent", "text": 12}], "properties.transcript[0].text"),
        (
            [{"speaker": "agent", "text": "x" * (MAX_TURN_CHARS + 1)}],
            "properties.transcript[0].text",
        ),
        ([{"speaker": "agent", "text": "a", "start": "0"}], "properties.transcript[0].start"),
        ([{"speaker": "agent", "text": "a", "start": True}], "properties.transcript[0].start"),
        ([{"speaker": "agent", "text": "a", "start": -1}], "properties.transcript[0].start"),
        ([{"speaker": "agent", "text": "a", "end": float("inf")}], "properties.transcript[0].end"),
        ([{"speaker": "agent", "text": "a", "start": 5, "end": 2}], "properties.transcript[0].end"),
        ([{"speaker": "agent", "text": "a"}] * (MAX_TURNS + 1), "properties.transcript"),
    ],
)
def test_a_bad_transcript_is_refused_naming_the_field(transcript: Any, field: str) -> None:
    with pytest.raises(InvalidMessage) as caught:  # as a file's conversation (over 32 KB)
        stored(call(transcript), max_bytes=MAX_TRANSCRIPT_BYTES)
    assert (caught.value.code, caught.value.field) == ("invalid_transcript", field)


def test_the_limits_themselves_are_accepted() -> None:
    turns = [{"speaker": "agent", "text": "ok", "start": 0, "end": 0}] * MAX_TURNS
    assert len(check_transcript(turns)) == MAX_TURNS
    assert check_transcript([{"speaker": "agent", "text": "é" * MAX_TURN_CHARS}])


def test_an_error_never_quotes_the_text() -> None:
    secret = f"ma carte {CARD_SPACED}"
    with pytest.raises(InvalidMessage) as caught:
        stored(call([{"speaker": "robot", "text": secret}]))
    with pytest.raises(InvalidMessage) as long:
        stored(call([{"speaker": "agent", "text": secret * 400}]))
    assert CARD_SPACED not in str(caught.value) and CARD_SPACED not in str(long.value)


def test_a_bad_duration_is_named() -> None:
    with pytest.raises(InvalidMessage) as caught:
        stored(call([], duration="long"))
    assert caught.value.field == "properties.duration"


# -- redaction in normalise -----------------------------------------------------------------------


def test_a_call_is_stored_redacted_with_its_language_duration_and_channel() -> None:
    fr = stored(call(french_turns(), queue="billing"))
    assert fr["channel"] == "phone"
    properties = fr["properties"]
    assert properties["language"] == "fr" and properties["duration"] == 25
    assert CARD_SPACED not in str(properties) and PHONE_FR not in str(properties)
    assert "<CARD>" in properties["transcript"][1]["text"]
    assert fr["pii"] is None  # not opted in: the original is kept nowhere
    en = stored({**call(english_turns()), "event": "Chat Completed"})
    assert en["channel"] == "chat" and en["properties"]["language"] == "en"
    assert EMAIL_EN not in str(en["properties"])


def test_a_call_without_transcript_is_a_call_all_the_same() -> None:
    properties = stored(call(None, duration=42))["properties"]
    assert properties["duration"] == 42 and properties["transcript"] is None


@pytest.mark.parametrize("key", ["comment", "feedback", "review", "verbatim"])
def test_a_verbatim_on_any_event_is_redacted(key: str) -> None:
    message = {
        "type": "track",
        "event": "Review Submitted",
        "userId": "u-1",
        "properties": {key: f"Très déçu, appelez le {PHONE_FR}", "stars": 1},
    }
    properties = stored(message)["properties"]
    assert properties[key] == "Très déçu, appelez le <PHONE>"
    assert properties["stars"] == 1


def test_a_batch_keeps_its_good_calls_beside_a_bad_one(ws: Workspace) -> None:
    report = ws.ingest(
        [
            {**call(french_turns()), "messageId": "good-1"},
            {**call([{"speaker": "agent", "text": "a", "start": 3, "end": 1}]), "messageId": "bad"},
            {**call(english_turns()), "messageId": "good-2"},
        ]
    )
    assert report.stored == 2
    [refused] = report.rejected
    assert (refused.index, refused.code, refused.field) == (
        1,
        "invalid_transcript",
        "properties.transcript[0].end",
    )


# -- fail closed ----------------------------------------------------------------------------------


class Boom(RuntimeError):
    pass


def test_a_failing_redaction_refuses_the_message_and_logs_no_text(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise Boom(f"could not read {CARD_SPACED}")

    monkeypatch.setattr(text_redaction, "redact_turns", broken)
    with caplog.at_level(logging.DEBUG), pytest.raises(RedactionUnavailable) as caught:
        stored(call(french_turns()))
    assert caught.value.status == 503 and caught.value.retry_after
    assert CARD_SPACED not in str(caught.value) and CARD_SPACED not in caplog.text
    assert "Boom" in caplog.text


def test_a_failing_redaction_refuses_the_whole_request_in_the_collector(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a per-message rejection (a 200 beside it, never retried): the request is refused,
    503, and the client sends it again later."""
    from empreinte.collect.http import Collector

    monkeypatch.setattr(
        text_redaction, "redact_text", lambda *a, **k: (_ for _ in ()).throw(Boom())
    )
    collector = Collector(ws.credentials, ws.writer, ws.policy)
    body = {
        "batch": [
            {"type": "track", "event": "Page Viewed", "userId": "u"},
            {
                "type": "track",
                "event": "Review Submitted",
                "userId": "u",
                "properties": {"review": "x"},
            },
        ]
    }
    before = ws.count()
    with pytest.raises(RedactionUnavailable):
        collector._validate(body, None, "web")
    assert ws.count() == before


def test_a_transcript_under_another_event_is_redacted_too() -> None:
    turns = [{"speaker": "customer", "text": f"au {PHONE_FR}"}]
    as_turns = stored({**call(turns), "event": "Support Session Ended"})["properties"]
    assert as_turns["transcript"][0]["text"] == "au <PHONE>" and "language" not in as_turns
    as_text = stored({**call(f"Client: au {PHONE_FR}"), "event": "Support Session Ended"})
    assert as_text["properties"]["transcript"] == "Client: au <PHONE>"
    with pytest.raises(InvalidMessage) as caught:
        stored({**call([{"speaker": "x", "text": "a"}]), "event": "Support Session Ended"})
    assert caught.value.field == "properties.transcript[0].speaker"
    with pytest.raises(InvalidMessage):  # a conversation's transcript is a list of turns
        stored(call(f"Client: au {PHONE_FR}"))


def test_over_http_a_failing_redaction_answers_503_with_retry_after(
    faulty_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real app (in a thread, so that the redaction can be broken): the client is told
    to retry, nothing is stored, the text is in no answer."""
    import httpx

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise Boom(f"cannot read {PHONE_FR}")

    monkeypatch.setattr(text_redaction, "redact_text", broken)
    message = {
        "event": "Review Submitted",
        "userId": "u",
        "properties": {"review": f"au {PHONE_FR}"},
    }
    with httpx.Client(base_url=faulty_server.url, timeout=30) as http:
        answer = http.post("/v1/track", json=message, auth=(faulty_server.keys.write_key, ""))
    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "redaction_unavailable"
    assert answer.headers["Retry-After"] == "5" and PHONE_FR not in answer.text
    assert faulty_server.workspace.count() == 0


@pytest.mark.parametrize("warm", [False, True])
def test_workers_load_the_models_at_start_only_when_told(ws: Workspace, warm: bool) -> None:
    """`serve` tells them for a workspace that has taken conversations (web/app.py)."""
    import time

    from empreinte.collect.workers import ValidationPool

    pool = ValidationPool(1, ws.policy, warm_texts=warm)
    pool.start()
    try:
        deadline = time.monotonic() + 180
        while not pool.ready():
            time.sleep(0.05)
        loaded = pool._executor.submit(language_model_loaded).result()
        while warm and not loaded and time.monotonic() < deadline:
            time.sleep(0.2)
            loaded = pool._executor.submit(language_model_loaded).result()
        assert loaded is warm
    finally:
        pool.close()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
_TURN = st.fixed_dictionaries(
    {},
    optional={
        "speaker": st.sampled_from(["agent", "Client", "robot", ""]) | _JSON,
        "text": st.text(max_size=30) | _JSON,
        "start": st.floats() | st.integers(-5, 5) | _JSON,
        "end": st.floats() | st.integers(-5, 5) | _JSON,
    },
)


@given(st.lists(_TURN, max_size=6) | _JSON)
def test_any_json_is_turns_or_an_invalid_transcript(value: Any) -> None:
    try:
        turns = check_transcript(value)
    except InvalidMessage as exc:
        assert exc.code == "invalid_transcript" and exc.field
        assert exc.field.startswith("properties.transcript")
        return
    for turn in turns:
        assert set(turn) == {"speaker", "text", "start", "end"}
        assert turn["speaker"] in ("agent", "customer") and isinstance(turn["text"], str)
        if turn["start"] is not None and turn["end"] is not None:
            assert 0 <= turn["start"] <= turn["end"]
