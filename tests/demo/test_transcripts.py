"""The demo's call transcripts and reviews: reasons that follow the journeys, well-formed turns,
planted personal data, determinism.

Read from the default demo (the session's `truth`, 2,000 people) and from the stand-alone
stream `transcripts(n)` that bench/voc.py uses. What the stored workspace holds after the
demo's write is tests/demo/test_demo_voice_redacted.py's.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from empreinte.demo import Person
from empreinte.demo.transcripts import card_number, iban_fr, in_words, transcripts
from empreinte.voc.model import MAX_TURN_CHARS, MAX_TURNS, SPEAKERS

Message = dict[str, Any]
Truth = list[tuple[Person, list[Message]]]

_PAYMENT_WORDS = re.compile(r"pai|carte|débit|pay|card|charged|declin", re.IGNORECASE)


def _time(message: Message) -> datetime:
    return datetime.fromisoformat(message["timestamp"])


def _calls(truth: Truth) -> list[tuple[Person, list[Message], Message]]:
    return [
        (person, messages, m)
        for person, messages in truth
        for m in messages
        if m.get("event") == "Call Completed"
    ]


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


# ---- reasons follow what people did before --------------------------------------------------


def test_a_failed_payment_or_an_abandoned_checkout_is_followed_by_a_call_about_payment(
    truth: Truth,
) -> None:
    linked = 0
    for _, messages, call in _calls(truth):
        order_id = call["properties"].get("order_id")
        started = next(
            _time(m)
            for m in messages
            if m.get("event") == "Call Started"
            and m["properties"]["call_id"] == call["properties"]["call_id"]
        )
        trouble = [
            _time(m)
            for m in messages
            if m.get("event") in ("Payment Failed", "Checkout Started")
            and m["properties"].get("order_id") == order_id
        ]
        completed_before = any(
            m.get("event") == "Order Completed"
            and m["properties"].get("order_id") == order_id
            and _time(m) < started
            for m in messages
        )
        if (
            order_id
            and not completed_before
            and trouble
            and timedelta(0) < started - max(trouble) <= timedelta(hours=8)
        ):
            linked += 1
            assert call["properties"]["queue"] == "payments", call["properties"]["call_id"]
            turns = call["properties"]["transcript"]
            opening = next(t for t in turns if t["speaker"] == "customer")
            assert _PAYMENT_WORDS.search(opening["text"]), opening["text"]
    assert linked >= 20


def test_calls_about_a_parcel_or_a_refund_name_an_order_placed_before(truth: Truth) -> None:
    seen = Counter[str]()
    for _, messages, call in _calls(truth):
        queue = call["properties"]["queue"]
        if queue not in ("orders", "returns"):
            continue
        seen[queue] += 1
        order_id = call["properties"]["order_id"]
        placed = [
            _time(m)
            for m in messages
            if m.get("event") == "Order Completed" and m["properties"]["order_id"] == order_id
        ]
        assert placed and min(placed) < _time(call), call["properties"]["call_id"]
    assert seen["orders"] >= 50 and seen["returns"] >= 20


def test_a_complaint_follows_a_contact_left_unresolved_within_days(truth: Truth) -> None:
    complaints = 0
    for _, messages, call in _calls(truth):
        if call["properties"]["queue"] != "escalations":
            continue
        complaints += 1
        at = _time(call)
        assert any(
            m.get("event") in ("Call Ended", "Chat Ended")
            and m["properties"]["resolved"] is False
            and timedelta(minutes=1) < at - _time(m) <= timedelta(days=7)
            for m in messages
        ), call["properties"]["call_id"]
    assert complaints >= 20


def test_some_people_call_twice_within_seven_days_and_every_reason_is_planted(
    truth: Truth,
) -> None:
    twice = 0
    for _, messages in truth:
        times = sorted(_time(m) for m in messages if m.get("event") == "Call Completed")
        twice += any(b - a <= timedelta(days=7) for a, b in itertools.pairwise(times))
    assert twice >= 20
    queues = Counter(call["properties"]["queue"] for _, _, call in _calls(truth))
    assert set(queues) == {"orders", "returns", "payments", "sales", "escalations", "accounts"}
    assert max(queues.values()) < 0.5 * sum(queues.values())  # no reason drowns the others


def test_a_share_of_people_call_and_reviews_follow_their_orders(truth: Truth) -> None:
    callers = {person.person_id for person, _, _ in _calls(truth)}
    assert 0.1 < len(callers) / len(truth) < 0.5
    ratings = Counter[str]()
    for _, messages in truth:
        orders = {
            m["properties"]["order_id"]: m for m in messages if m.get("event") == "Order Completed"
        }
        for m in messages:
            if m.get("event") != "Review Submitted":
                continue
            review = m["properties"]
            assert review["order_id"] in orders and _time(orders[review["order_id"]]) < _time(m)
            assert review["rating"] in range(1, 6) and review["review"].strip()
            late = any(
                e.get("event") == "Order Delivered"
                and e["properties"]["order_id"] == review["order_id"]
                and e["properties"]["delay_days"] > 0
                for e in messages
            )
            ratings["late" if late else "on_time"] += review["rating"]
            ratings["n_late" if late else "n_on_time"] += 1
    assert ratings["n_on_time"] >= 100 and ratings["n_late"] >= 5
    assert ratings["late"] / ratings["n_late"] < ratings["on_time"] / ratings["n_on_time"] - 0.5


# ---- well formed -----------------------------------------------------------------------------


def test_every_transcript_is_well_formed_for_the_voice_of_the_customer(truth: Truth) -> None:
    gaps: Counter[str] = Counter()
    overtalk: Counter[str] = Counter()
    conversations: Counter[str] = Counter()
    for person, messages in truth:
        ended = {
            m["properties"].get("call_id") or m["properties"].get("chat_id")
            for m in messages
            if m.get("event") in ("Call Ended", "Chat Ended")
        }
        for message in messages:
            event = message.get("event")
            if event not in ("Call Completed", "Chat Completed"):
                continue
            conversations[event] += 1
            props = message["properties"]
            turns = props["transcript"]
            assert (props.get("call_id") or props["chat_id"]) in ended  # of a contact made
            assert 3 <= len(turns) <= MAX_TURNS
            assert props["language"] == ("fr" if person.country == "FR" else "en")
            if event == "Call Completed":
                assert props["caller_number"] == person.phone
            assert props["queue"] and props["agent_id"].startswith(f"AG-{person.country}-")
            assert len(orjson.dumps(message)) < 32 * 1024
            previous: dict[str, Any] | None = None
            gap = talked_over = False
            for turn in turns:
                assert set(turn) == {"speaker", "text", "start", "end"}
                assert turn["speaker"] in SPEAKERS
                assert isinstance(turn["text"], str) and 0 < len(turn["text"]) <= MAX_TURN_CHARS
                assert 0 <= turn["start"] < turn["end"] <= props["duration"]
                if previous is not None:
                    assert turn["start"] >= previous["start"]
                    gap = gap or turn["start"] - previous["end"] > 5
                    talked_over = talked_over or turn["start"] < previous["end"]
                previous = turn
            # Conversations with a long silence, with someone talking over someone.
            gaps[event] += gap
            overtalk[event] += talked_over
    calls, chats = conversations["Call Completed"], conversations["Chat Completed"]
    assert calls >= 300 and chats >= 300
    assert 0.1 * calls < gaps["Call Completed"] < calls  # holds: long silences in some calls
    assert 0.05 * calls < overtalk["Call Completed"] < calls
    assert overtalk["Chat Completed"] == 0  # typed: nobody talks over anyone


# ---- planted personal data -------------------------------------------------------------------


@pytest.fixture(scope="module")
def stream() -> list[Any]:
    return list(transcripts(600, seed=11))


def test_personal_data_of_every_kind_is_planted_as_people_say_it(stream: list[Any]) -> None:
    kinds = Counter[str]()
    split_cards = 0
    for _, call in stream:
        text = "\n".join(turn["text"] for turn in call.turns)
        for item in call.planted:
            kinds[item.kind] += 1
            parts = [part.strip() for part in item.said.split("|")]
            assert all(part in text for part in parts), item
            if item.kind == "CARD":
                digits = "".join(ch for ch in item.said if ch.isdigit())
                if not digits:  # said in words
                    words = in_words("0123456789", call.language).split()
                    digits = "".join(
                        str(words.index(w)) for w in re.findall(r"\w+", item.said) if w in words
                    )
                assert len(digits) == 16 and _luhn(digits), item
                split_cards += len(parts) == 2
    assert set(kinds) == {"CARD", "IBAN", "EMAIL", "PHONE", "PERSON", "ADDRESS"}
    assert min(kinds.values()) >= 5 and split_cards >= 3


def test_card_numbers_and_ibans_pass_their_checks() -> None:
    import random

    rng = random.Random(3)
    for _ in range(200):
        assert _luhn(card_number(rng))
        iban = iban_fr(rng).replace(" ", "")
        assert len(iban) == 27 and iban.startswith("FR")
        rearranged = iban[4:] + iban[:4]
        assert int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


# ---- determinism -----------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_transcripts_and_a_prefix_is_a_prefix(
    stream: list[Any],
) -> None:
    again = list(transcripts(600, seed=11))
    assert [c.turns for _, c in again] == [c.turns for _, c in stream]
    assert [c.turns for _, c in transcripts(50, seed=11)] == [c.turns for _, c in stream[:50]]
    assert [c.turns for _, c in transcripts(50, seed=12)] != [c.turns for _, c in stream[:50]]
    with pytest.raises(ValueError, match="n must be"):
        next(transcripts(-1))
