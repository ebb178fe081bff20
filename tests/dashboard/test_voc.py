"""The Voice of the customer pages on the demo, with calls of this test's own sent through the
collector: reasons and topics with their trends for every role, quality for staff, agents for
admins; the conversations (redacted, with sentiment) for staff, one opened turn by turn; in
French in the browser. Numbers asserted are the API's."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dashboard_support import Dashboard, api, csrf_of, download, screenshot

TEXT = "Toujours pas de remboursement, c'est inadmissible, je suis furieux"


@pytest.fixture(scope="module")
def calls(dashboard: Dashboard) -> str:
    """Three calls of an agent of this module's own, the last one a refund; analysed."""
    agent = f"agent-{uuid.uuid4().hex[:6]}"
    lines = ["Mon colis n'est jamais arrivé", "Le livreur n'est pas passé", TEXT]
    batch = [
        {
            "type": "track",
            "event": "Call Completed",
            "userId": f"{agent}-caller",
            "timestamp": f"2026-03-0{2 + i}T10:00:00Z",
            "context": {"channel": "phone"},
            "properties": {
                "agent_id": agent,
                "language": "fr",
                "duration": 30,
                "transcript": [
                    {"speaker": "agent", "text": "Bonjour", "start": 0, "end": 2},
                    {"speaker": "customer", "text": line, "start": 3, "end": 9},
                ],
            },
        }
        for i, line in enumerate(lines)
    ]
    sent = httpx.post(
        f"{dashboard.url}/v1/batch",
        auth=(dashboard.write_key, ""),
        json={"batch": batch},
        timeout=60,
    )
    assert sent.status_code == 200, sent.text
    refreshed = httpx.post(
        f"{dashboard.url}/api/voc/refresh",
        headers={"Authorization": f"Bearer {dashboard.admin_token}"},
        json={},
        timeout=300,
    )
    assert refreshed.status_code == 200, refreshed.text
    return agent


def test_reasons_and_topics_match_the_api(
    calls: str, client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    reasons = api(dashboard, "/api/voc/reasons", period="week")["reasons"]
    viewer = client_as("viewer")
    page = viewer.get("/voc")
    assert page.status_code == 200
    assert "Why people call" in page.text and "What they talk about" in page.text
    assert "Quality of service per reason" not in page.text  # staff only
    rows = download(viewer, "/voc?download=voc-reasons")
    assert {r["Reason"]: int(r["Conversations"]) for r in rows} == {
        r["reason"]: r["texts"] for r in reasons
    }
    assert viewer.get("/voc/conversations").status_code == 403
    analyst = client_as("analyst")
    text = analyst.get("/voc").text
    assert "Quality of service per reason" in text and calls not in text  # agents: admins
    admin_rows = download(client_as("admin"), "/voc?download=voc-agents")
    (mine,) = [r for r in admin_rows if r["Agent"] == calls]
    assert int(mine["Contacts"]) == 3


def test_conversations_filtered_and_one_opened(
    calls: str, client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    refunds = api(dashboard, "/api/voc/texts", reason="refund", limit=1000)["texts"]
    analyst = client_as("analyst")
    rows = download(analyst, "/voc/conversations?reason=refund&download=voc-texts")
    assert sorted(int(r["Text"]) for r in rows) == sorted(t["seq"] for t in refunds)
    mine = next(t for t in refunds if t["sentiment"] is not None and t["sentiment"] < 0)
    page = analyst.get(f"/voc/conversations?reason=refund&seq={mine['seq']}")
    assert page.status_code == 200
    assert re.search(r"Text \d+", page.text)
    bad = analyst.get("/voc/conversations?sentiment=furious")
    assert bad.status_code == 400 and "sentiment" in bad.text


def test_the_pages_in_french_in_the_browser(
    calls: str, page_as: Callable[..., Any], dashboard: Dashboard
) -> None:
    page = page_as("admin", locale="fr-FR")
    page.goto(dashboard.url + "/voc")
    assert page.get_by_role("heading", name="Voix du client", exact=True).is_visible()
    assert page.get_by_role("heading", name="Pourquoi ils appellent").is_visible()
    assert page.get_by_role("heading", name="Par conseiller (pour l’accompagnement)").is_visible()
    screenshot(page, "voc-fr")
    page.get_by_role("link", name="Lire les conversations").click()
    page.get_by_label("Motif").select_option("refund")
    page.wait_for_url(re.compile(r".*reason=refund.*"))
    page.locator("#voc-texts a").first.click()
    page.locator("#conversation").wait_for()
    assert page.locator("#conversation li.customer").count() >= 1
    screenshot(page, "voc-conversation-fr")
    assert not page.errors


def test_an_analyst_renames_and_merges_a_topic(
    calls: str, client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    topics = api(dashboard, "/api/voc/topics")["topics"]
    assert len(topics) >= 2
    first, second = topics[0]["topic_id"], topics[1]["topic_id"]
    analyst = client_as("analyst")
    token = csrf_of(analyst.get("/voc").text)
    form = {"csrf": token, "topic_id": str(first), "label": "Retards", "merged_into": ""}
    done = analyst.post("/voc/topics", data=form)
    assert done.status_code == 303 and done.headers["location"].endswith("notice=topic_changed")
    merged = {"csrf": token, "topic_id": str(second), "label": "", "merged_into": str(first)}
    assert analyst.post("/voc/topics", data=merged).status_code == 303
    after = {t["topic_id"]: t for t in api(dashboard, "/api/voc/topics")["topics"]}
    assert after[first]["label"] == "Retards" and after[second]["merged_into"] == first
    refused = analyst.post("/voc/topics", data={**form, "topic_id": "9" * 12})
    assert refused.status_code == 200 and "Refused" in refused.text and "no topic" in refused.text
    undo = {"csrf": token, "topic_id": str(second), "label": "", "merged_into": ""}
    assert analyst.post("/voc/topics", data=undo).status_code == 303
    viewer = client_as("viewer")
    assert 'action="/voc/topics"' not in viewer.get("/voc").text
