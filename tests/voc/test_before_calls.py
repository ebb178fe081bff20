"""Cookie Vocal on real users and sessions (voc/before_calls.py, voc/call_reports.py): a
person browses the checkout, hits a failed payment and calls two hours later, identified by
her phone only; a call from an unknown number; sessions after the call or outside the window;
the reports per reason; erasure. The people are in tests/voc_journey_calls.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import empreinte
from empreinte.analytics.journeys.page_call_rates import called_after_web_rates
from empreinte.errors import AnalyticsError
from empreinte.privacy import erasure
from empreinte.voc.before_calls import CallScope, call_journeys
from empreinte.voc.call_reports import (
    avoidable_calls,
    before_calls,
    page_call_rates,
    repeat_calls,
)
from voc_journey_calls import ANSWERS, HOUR, MARIE_PHONE, MINUTE, T0, build


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    workspace = build(Path(tmp_path_factory.mktemp("before-calls")))
    yield workspace
    workspace.close()


def journeys_of(ws: Any, scope: CallScope | None = None) -> dict[str, dict[str, Any]]:
    """Each call's row, by the call centre's id of the call (its anonymous id)."""
    with ws.analytics() as log:
        frame = log.execute(call_journeys(log, scope or CallScope()))
    ids = {e["seq"]: e["anonymousId"] for e in _calls(ws)}
    return {ids[r["seq"]]: r for r in frame.to_dict("records")}


def _calls(ws: Any) -> list[dict[str, Any]]:
    return [
        {"seq": e["seq"], "anonymousId": e["anonymous_id"]}
        for e in ws.events(event="Call Completed", limit=100)
    ]


def test_the_checkout_call_is_linked_to_the_session_before_it(ws: Any) -> None:
    calls = journeys_of(ws)
    marie = calls["call-marie"]
    # Identified by her phone only: the caller number's phone key is her profile's.
    assert marie["profile_id"] == ws.profiles.find("phone", MARIE_PHONE)
    assert marie["by"] == "phone" and marie["reason"] == "payment"
    # The session of Home, Checkout and the failed payment; not the delivery help two days
    # before, nor the Orders page an hour after the call.
    assert (marie["linked"], marie["sessions"], marie["touchpoints"]) == (True, 1, 3)
    assert (marie["last_page"], marie["last_step"], marie["errors"]) == (
        "Checkout",
        "Payment Failed",
        1,
    )
    assert marie["checkout_abandoned"] and marie["last_channel"] == "web"


def test_a_call_from_an_unknown_number_links_to_nothing(ws: Any) -> None:
    unknown = journeys_of(ws)["call-unknown"]
    assert not unknown["linked"] and unknown["sessions"] == 0 and unknown["reason"] == "unknown"
    assert unknown["last_page"] is None or pd.isna(unknown["last_page"])


def test_an_order_after_the_checkout_is_not_an_abandon(ws: Any) -> None:
    theo = journeys_of(ws)["call-theo"]
    assert theo["by"] == "user" and theo["linked"] and theo["last_channel"] == "app"
    assert (theo["last_page"], theo["last_step"]) == ("Orders", "Order Completed")
    assert not theo["checkout_abandoned"]


def test_the_window_bounds_what_is_attached(ws: Any) -> None:
    # One hour: paul's page exactly an hour before his call still counts, marie's does not.
    calls = journeys_of(ws, CallScope(window=HOUR))
    assert calls["call-paul"]["linked"] and not calls["call-marie"]["linked"]
    assert not journeys_of(ws, CallScope(window=HOUR - MINUTE))["call-paul"]["linked"]
    # Three days: lea's second call reaches back to her visit before the first one.
    assert journeys_of(ws, CallScope(window=timedelta(days=3)))["call-lea-2"]["linked"]
    assert not journeys_of(ws)["call-lea-2"]["linked"]


def test_top_pages_and_steps_before_calls_per_reason(ws: Any) -> None:
    with ws.analytics() as log:
        report = before_calls(log)
    reasons = {
        r.reason: (r.calls, r.linked, r.with_errors, r.checkout_abandoned) for r in report.reasons
    }
    assert reasons == {
        "delivery": (3, 2, 0, 0),
        "payment": (1, 1, 1, 1),
        "refund": (1, 1, 0, 0),
        "unknown": (1, 0, 0, 0),
    }
    assert (report.calls, report.linked) == (6, 4)
    seen = {(r.reason, r.kind, r.value): (r.calls, r.share) for r in report.seen}
    assert seen[("payment", "page", "Checkout")] == (1, 1.0)
    assert seen[("payment", "step", "Payment Failed")] == (1, 1.0)
    assert seen[("payment", "last_page", "Checkout")] == (1, 1.0)
    # Delivery: paul saw the help page, lea Home and Tracking; the share is of linked calls.
    assert seen[("delivery", "page", "Delivery help")] == (1, 0.5)
    assert seen[("delivery", "last_page", "Tracking")] == (1, 0.5)
    assert not any(key[0] == "unknown" for key in seen)
    # Marie's Orders page after her call was not seen before it.
    assert ("payment", "page", "Orders") not in seen


def test_one_reason_and_a_top(ws: Any) -> None:
    with ws.analytics() as log:
        report = before_calls(log, CallScope(reason="delivery"), top=1)
        with pytest.raises(AnalyticsError, match="top"):
            before_calls(log, top=0)
    assert [r.reason for r in report.reasons] == ["delivery"]
    pages = [r for r in report.seen if r.kind == "page"]
    assert len(pages) == 1  # Delivery help, Home and Tracking tie at 1: the first by name
    assert pages[0].value == "Delivery help"


def test_avoidable_calls_did_not_reach_an_answer_page(ws: Any) -> None:
    with ws.analytics() as log:
        report = avoidable_calls(log, ANSWERS)
    rows = {r.reason: (r.calls, r.linked, r.reached, r.avoidable) for r in report.rows}
    # paul read /help/delivery before calling; lea did not (Home, Tracking); theo's refund
    # journey never reached /help/returns.
    assert rows == {"delivery": (3, 2, 1, 1), "refund": (1, 1, 0, 1)}
    assert (report.linked, report.avoidable) == (3, 2)
    # Answer pages given by name match too.
    with ws.analytics() as log:
        named = avoidable_calls(log, {"delivery": ["Tracking"]})
    assert named.rows[0].reached == 1 and named.rows[0].avoidable == 1


def test_called_after_the_web_rate_per_page(ws: Any) -> None:
    with ws.analytics() as log:
        report = page_call_rates(log)
    rates = {r.page: (r.sessions, r.called) for r in report.rows}
    # Sessions: marie ×3 (help two days before, the checkout, Orders after the call), paul,
    # lea, theo (app), walt; followed by a call within 24 h: marie's checkout, paul, lea, theo.
    assert (report.sessions, report.called) == (7, 4)
    assert rates["Checkout"] == (2, 1)  # marie's, walt's
    assert rates["Home"] == (3, 2)
    assert rates["Delivery help"] == (2, 1)
    assert rates["Orders"] == (2, 1)  # theo's screen before his call, marie's page after hers
    checkout = next(r for r in report.rows if r.page == "Checkout")
    assert checkout.rate == 0.5 and checkout.low < 0.5 < checkout.high


def test_friction_can_rate_pages_with_its_own_contacts(ws: Any) -> None:
    with ws.analytics() as log:
        none = called_after_web_rates(log)  # friction's contacts: Call Started, none here
        ours = called_after_web_rates(log, contact_steps=("Call Completed",))
    assert none.sessions == 7 and none.called == 0
    # Friction's contacts are the events' own owners, the same people here.
    assert ours.called == 4


def test_repeated_calls_within_seven_days_per_reason(ws: Any) -> None:
    with ws.analytics() as log:
        report = repeat_calls(log)
        shorter = repeat_calls(log, days=2)
    rows = {r.reason: (r.calls, r.repeated, r.same_reason) for r in report.rows}
    # lea called about her delivery again three days later; the unknown number's profile has
    # given no consent and is not read.
    assert rows == {"delivery": (3, 1, 1), "payment": (1, 0, 0), "refund": (1, 0, 0)}
    assert report.rows[0].reason == "delivery"
    assert {r.reason: r.repeated for r in shorter.rows}["delivery"] == 0


def test_since_until_and_bad_scopes(ws: Any) -> None:
    with ws.analytics() as log:
        later = before_calls(log, CallScope(since=T0 + 2 * HOUR))
    assert {r.reason for r in later.reasons} == {"payment", "delivery"}  # marie, lea's second
    with pytest.raises(AnalyticsError, match="window"):
        CallScope(window=timedelta(0))
    with pytest.raises(AnalyticsError, match="time zone"):
        CallScope(since=T0.replace(tzinfo=None))
    with pytest.raises(AnalyticsError, match="since"):
        CallScope(since=T0, until=T0)


def test_erasure_removes_her_calls_from_the_reports(tmp_path: Path) -> None:
    ws = build(tmp_path)
    try:
        marie = ws.profiles.find("phone", MARIE_PHONE)
        erasure.erase(ws, marie, "dpo")
        with ws.analytics() as log:
            report = before_calls(log)
            rates = page_call_rates(log)
        assert "payment" not in {r.reason for r in report.reasons}
        assert report.calls == 5
        assert not any(r.value == "Checkout" for r in report.seen)
        assert {r.page: (r.sessions, r.called) for r in rates.rows}["Checkout"] == (1, 0)
        assert MARIE_PHONE not in str(journeys_of(ws))
    finally:
        ws.close()


def test_chats_count_and_hostile_callers_link_to_nothing(tmp_path: Path) -> None:
    """A chat is a call of kind chat; a 30 KB caller number, a number that is not a text and a
    reason built to make a regex backtrack are data, not errors."""
    from voc_journey_calls import call, consent, page

    chat = call(T0 + 10 * MINUTE, "chat-1", user="zoe", event="Chat Completed")
    chat["context"] = {"channel": "chat"}
    huge = call(T0 + HOUR, "call-huge", caller=("callerNumber", "0" * 30_000))
    number = call(T0 + HOUR, "call-number", caller=("callerNumber", 33612345678))  # type: ignore[arg-type]
    messages = [consent("zoe"), page("zoe", "Help", "/help", T0), chat, huge, number]
    with empreinte.open(tmp_path) as ws:
        assert not ws.ingest(messages, source="web").rejected
        ws.flush()
        rows = journeys_of_kind(ws)
        with ws.analytics() as log:
            none = before_calls(log, CallScope(reason="(a+)+$" + "a" * 150))
    assert rows["chat"] == [(True, "Help")]
    assert sorted(rows["call"]) == [(False, None), (False, None)]
    assert none.calls == 0 and none.reasons == ()


def journeys_of_kind(ws: Any) -> dict[str, list[tuple[bool, str | None]]]:
    with ws.analytics() as log:
        frame = log.execute(call_journeys(log, CallScope()))
    out: dict[str, list[tuple[bool, str | None]]] = {}
    for r in frame.to_dict("records"):
        last = None if pd.isna(r["last_page"]) else r["last_page"]
        out.setdefault(r["kind"], []).append((bool(r["linked"]), last))
    return out
