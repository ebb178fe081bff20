"""Before the call (/voc/calls): people who browse then call, sent through the collector into
the demo; the page's tables are the API's, bad input is named, and a CX manager reads it in a
real browser, in English and in French."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dashboard_support import Dashboard, api, download, screenshot
from voc_journey_calls import messages

# The week of the planted calls (tests/voc_journey_calls.py: T0 is 2 March 2026).
WEEK = {"since": "2026-02-27", "until": "2026-03-09"}


def _phones(uid: str) -> tuple[str, str, str]:
    """Three French mobile numbers of this test's own, in 06 10 to 06 12: not every 06 range
    is allocated (06 39 and most of 06 9x are not), and an invalid number identifies nobody."""
    n = int(uid.removeprefix("t-"), 16) % 10**6
    first, second, third = (f"+33 6 1{k} {n:06d}" for k in range(3))
    return first, second, third


@pytest.fixture(scope="module")
def planted(dashboard: Dashboard) -> str:
    uid = "t-" + __import__("uuid").uuid4().hex[:12]
    sent = httpx.post(
        dashboard.url + "/v1/batch",
        json={"batch": messages(prefix=uid + "-", phones=_phones(uid))},
        auth=(dashboard.write_key, ""),
        timeout=60,
    )
    assert sent.status_code == 200, sent.text
    return uid


def test_the_tables_are_the_apis(
    planted: str, dashboard: Dashboard, client_as: Callable[[str], httpx.Client]
) -> None:
    client = client_as("analyst")
    query = f"/voc/calls?since={WEEK['since']}&until={WEEK['until']}"
    reasons = download(client, query + "&download=call-reasons")
    expected = api(dashboard, "/api/voc/calls/reasons", **WEEK)
    assert expected["calls"] >= 6 and expected["linked"] >= 4
    # No understanding has run on the demo: every reason is "unknown", a reason in words.
    shown = {"unknown": "Unknown reason"}
    assert [(r["Reason"], int(r["Calls"]), int(r["Linked to a session"])) for r in reasons] == [
        (shown.get(r["reason"], r["reason"]), r["calls"], r["linked"]) for r in expected["reasons"]
    ]
    pages = download(client, query + "&download=call-pages")
    rates = api(dashboard, "/api/voc/calls/pages", **WEEK)
    assert [(r["Page"], int(r["Sessions"]), int(r["Followed by a call"])) for r in pages] == [
        (r["page"], r["sessions"], r["called"]) for r in rates["rows"]
    ]
    # The planted checkout: marie's session before her call, walt's without one.
    assert any(r["Page"] == "Checkout" and int(r["Followed by a call"]) >= 1 for r in pages)
    repeats = download(client, query + "&download=call-repeats")
    assert (
        sum(int(r["Called again"]) for r in repeats)
        == api(dashboard, "/api/voc/calls/repeats", **WEEK)["repeated"]
    )


def test_bad_input_is_named_and_viewers_are_refused(
    client_as: Callable[[str], httpx.Client],
) -> None:
    client = client_as("analyst")
    hours = client.get("/voc/calls?hours=0")
    assert hours.status_code == 200 and "`hours` must be between 1 and 720" in hours.text
    since = client.get("/voc/calls?since=yesterday")
    assert "`since` must be a date (YYYY-MM-DD)" in since.text
    reason = client.get("/voc/calls?reason=" + "x" * 300)
    assert "reason must be 1 to 200 characters" in reason.text
    for answer in (hours, since, reason):
        assert "Traceback" not in answer.text
    assert client_as("viewer").get("/voc/calls").status_code == 403


def test_a_cx_manager_reads_what_came_before_the_calls(
    planted: str, page_as: Callable[..., Any], dashboard: Dashboard
) -> None:
    page = page_as("analyst", locale="en-GB")
    page.get_by_role("link", name="Voice of the customer").click()
    page.get_by_role("link", name="Before the call").click()
    page.wait_for_url(re.compile(r".*/voc/calls"))
    page.get_by_label("From (date)").fill(WEEK["since"])
    page.get_by_label("Until (excluded)").fill(WEEK["until"])
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"since=2026-02-27"))
    page.wait_for_selector("#call-pages .main-svg")
    linked = int(page.locator("#kpi-linked").inner_text().replace(",", ""))
    assert linked == api(dashboard, "/api/voc/calls/reasons", **WEEK)["linked"] >= 4
    assert page.locator("#call-reasons tbody tr").count() >= 1
    screenshot(page, "voc-calls-en")
    # One hour before the call: marie's checkout, two hours before hers, is no longer linked.
    page.get_by_label("Hours before the call").fill("1")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"hours=1"))
    fewer = int(page.locator("#kpi-linked").inner_text().replace(",", ""))
    assert fewer == api(dashboard, "/api/voc/calls/reasons", hours=1, **WEEK)["linked"] < linked
    assert not page.errors


def test_the_page_in_french(planted: str, page_as: Callable[..., Any]) -> None:
    page = page_as("analyst", locale="fr-FR")
    page.get_by_role("link", name="Voix du client").click()
    page.get_by_role("link", name="Avant l’appel").click()
    page.wait_for_url(re.compile(r".*/voc/calls"))
    assert page.get_by_role("heading", name="Avant l’appel", level=1).is_visible()
    assert page.get_by_role("heading", name="Appels par motif").is_visible()
    assert page.get_by_label("Heures avant l’appel").is_visible()
    screenshot(page, "voc-calls-fr")
    assert not page.errors
