"""The Sources page: write keys (listed by fingerprint, made and shown once, revoked after a
confirmation), the live ingestion count, refused events with their reasons, the bot share.
Admins only. Every number asserted is of data the test itself sends, with keys it makes."""

from __future__ import annotations

import base64
import csv
import html
import io
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dashboard_support import Dashboard, csrf_of, screenshot
from empreinte.credentials import key_digest

BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
KEY = re.compile(r'<code id="new-key">(wk_[A-Za-z0-9_-]+)</code>')


def uid(prefix: str = "src") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def auth(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def track(url: str, key: str, user_agent: str = BROWSER, **fields: Any) -> httpx.Response:
    message = {
        "type": "track",
        "event": "Product Viewed",
        "userId": uid("user"),
        "messageId": str(uuid.uuid4()),
        "context": {"userAgent": user_agent},
        **fields,
    }
    return httpx.post(f"{url}/v1/track", json=message, headers=auth(key), timeout=30)


def create_key(client: httpx.Client, source: str) -> tuple[httpx.Response, str | None]:
    page = client.get("/sources")
    answer = client.post("/sources/keys", data={"csrf": csrf_of(page.text), "source": source})
    found = KEY.search(answer.text)
    return answer, found.group(1) if found else None


def csv_of(client: httpx.Client, path: str, download: str) -> list[dict[str, str]]:
    answer = client.get(path, params={"download": download})
    assert answer.status_code == 200, answer.text
    return list(csv.DictReader(io.StringIO(answer.text)))


# -- roles ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["analyst", "viewer"])
def test_only_admins_see_sources(client_as: Callable[[str], httpx.Client], role: str) -> None:
    client = client_as(role)
    for path in ("/sources", "/sources/live", "/sources?download=write-keys"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "wk_" not in answer.text
    overview = client.get("/overview")
    assert overview.status_code == 200
    assert 'href="/sources"' not in overview.text
    # Forms are refused too, CSRF token or not.
    refused = client.post("/sources/keys", data={"csrf": csrf_of(overview.text), "source": uid()})
    assert refused.status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(dashboard: Dashboard) -> None:
    answer = httpx.get(f"{dashboard.url}/sources", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


# -- write keys -----------------------------------------------------------------------------


def test_keys_are_listed_by_fingerprint_never_by_the_key(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    client = client_as("admin")
    page = client.get("/sources")
    assert page.status_code == 200
    assert key_digest(dashboard.write_key)[:12] in page.text
    assert dashboard.write_key not in page.text
    assert 'href="/sources"' in client.get("/overview").text
    rows = csv_of(client, "/sources", "write-keys")
    assert any(r["Source"] == "web" and r["Status"] == "active" for r in rows)
    assert all(dashboard.write_key not in str(r) for r in rows)


def test_a_new_key_is_shown_once_with_its_snippets_and_works(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    client = client_as("admin")
    source = uid()
    answer, key = create_key(client, source)
    assert answer.status_code == 200 and key, answer.text
    # The snippets carry the key.
    shown = html.unescape(answer.text)
    assert f'writeKey: "{key}"' in shown
    assert f'Client("{key}", host="{dashboard.url}")' in shown
    # Shown once: the next visit has its fingerprint, not the key.
    again = client.get("/sources").text
    assert key not in again
    assert key_digest(key)[:12] in again
    assert track(dashboard.url, key).status_code == 200


def test_create_refuses_bad_names_with_a_message_and_keeps_the_form(
    client_as: Callable[[str], httpx.Client],
) -> None:
    client = client_as("admin")
    for name, message in (
        ("<script>alert(1)</script>", "letters, digits"),
        ("", "Give the source a name"),
        ("python", "empreinte&#39;s own source"),
        ("x" * 65, "at most 64 characters"),
    ):
        answer, key = create_key(client, name)
        assert answer.status_code == 200, answer.text
        assert key is None
        assert message in answer.text, name
        assert "<script>alert(1)" not in answer.text
    answer, _ = create_key(client, "<script>alert(1)</script>")
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in answer.text
    # Without the CSRF token nothing is made.
    before = len(csv_of(client, "/sources", "write-keys"))
    forged = client.post("/sources/keys", data={"source": uid()})
    assert forged.status_code == 403
    assert len(csv_of(client, "/sources", "write-keys")) == before


def test_revoke_asks_for_a_confirmation_then_the_key_is_refused(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    client = client_as("admin")
    source = uid()
    _, key = create_key(client, source)
    assert key and track(dashboard.url, key).status_code == 200
    digest = key_digest(key)
    confirm = client.get("/sources", params={"revoke": digest})
    assert f"of the source “{source}”?" in confirm.text
    token = csrf_of(confirm.text)
    # Not ticked: nothing happens.
    unticked = client.post("/sources/keys/revoke", data={"csrf": token, "key": digest})
    assert "Tick the box" in unticked.text
    assert track(dashboard.url, key).status_code == 200
    done = client.post(
        "/sources/keys/revoke",
        data={"csrf": token, "key": digest, "confirm": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/sources?notice=revoked"
    assert "requests that send it are now refused" in client.get(done.headers["location"]).text
    assert track(dashboard.url, key).status_code == 401
    rows = {r["Key fingerprint"]: r for r in csv_of(client, "/sources", "write-keys")}
    assert rows[digest[:12]]["Status"] == "revoked" and rows[digest[:12]]["Revoked"]
    # Twice, or a key that does not exist: a message, not a stack trace.
    again = client.post(
        "/sources/keys/revoke", data={"csrf": token, "key": digest, "confirm": "yes"}
    )
    assert again.status_code == 200 and "already revoked" in again.text
    for bad in ("nope", "<script>", "0" * 64):
        shown = client.get("/sources", params={"revoke": bad})
        assert shown.status_code == 200 and "No such key" in shown.text


# -- ingestion, refusals, bots --------------------------------------------------------------


def live_row(client: httpx.Client, source: str) -> dict[str, int] | None:
    html = client.get("/sources/live").text
    row = re.search(rf'<tr data-source="{re.escape(source)}">(.*?)</tr>', html, re.S)
    if row is None:
        return None
    cells = dict(re.findall(r'data-count="(\w+)">([\d,]+)<', row.group(1)))
    return {k: int(v.replace(",", "")) for k, v in cells.items()}


def test_live_counts_refusals_and_bot_share_of_a_new_source(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    client = client_as("admin")
    source = uid()
    _, key = create_key(client, source)
    assert key
    assert live_row(client, source) is None
    for _ in range(6):
        assert track(dashboard.url, key).status_code == 200
    for _ in range(2):
        assert track(dashboard.url, key, user_agent=BOT).status_code == 200
    # Refused: no identity; a property key that is personal data and a <script>.
    hostile = "<script>alert(1)</script>marie@example.com"
    assert track(dashboard.url, key, userId=None).status_code == 400
    assert track(dashboard.url, key, properties={hostile: 2**70}).status_code == 400

    assert live_row(client, source) == {"minute": 8, "hour": 8, "refused": 2}
    page = client.get("/sources")
    assert hostile not in page.text and "marie@example.com" not in page.text
    assert "<script>alert(1)" not in page.text

    refused = [r for r in csv_of(client, "/sources", "refused") if r["Source"] == source]
    assert {(r["Rule"], r["Field"], r["Last 24 hours"]) for r in refused} == {
        ("missing_identity", "userId", "1"),
        ("integer_too_large", "properties.…", "1"),
    }
    bots = [r for r in csv_of(client, "/sources", "bots") if r["Source"] == source]
    assert len(bots) == 1
    assert (bots[0]["Events, 7 days"], bots[0]["Bots, 7 days"]) == ("8", "2")
    assert float(bots[0]["Bot share, 7 days"]) == pytest.approx(0.25)
    assert float(bots[0]["Bot share, 30 days"]) == pytest.approx(0.25)
    minutes = csv_of(client, "/sources", "ingestion")
    assert sum(int(r[source]) for r in minutes) == 8


def test_bad_query_parameters_get_a_message(client_as: Callable[[str], httpx.Client]) -> None:
    client = client_as("admin")
    twice = client.get("/sources?revoke=a&revoke=b")
    assert twice.status_code == 400 and "give it once" in twice.text
    long = client.get("/sources", params={"revoke": "a" * 5000})
    assert long.status_code == 400
    assert client.get("/sources?download=nothing").status_code == 404


# -- in the browser -------------------------------------------------------------------------


def test_admin_creates_a_key_sends_with_it_sees_refusals_and_revokes_it(
    page_as: Callable[..., Any], dashboard: Dashboard
) -> None:
    page = page_as("admin")
    page.goto(dashboard.url + "/sources")
    screenshot(page, "sources-en")
    source = uid("shop")
    page.get_by_label("Source name").fill(source)
    page.get_by_role("button", name="Create the key").click()
    key = page.locator("#new-key").inner_text().strip()
    assert key.startswith("wk_")
    snippet = page.locator("#created-snippet-1").inner_text()
    assert key in snippet
    assert f'cdnURL: "{dashboard.url}"' in snippet  # this server, filled in
    screenshot(page, "sources-new-key")

    page.goto(dashboard.url + "/sources")
    assert key not in page.content()
    cell = page.locator(f'tr[data-source="{source}"] td[data-count="hour"]')
    assert cell.count() == 0
    for _ in range(3):
        assert track(dashboard.url, key).status_code == 200
    # The live count moves without a reload (static/sources.js polls /sources/live).
    cell.wait_for(timeout=15_000)
    assert cell.inner_text() == "3"
    assert track(dashboard.url, key, event="").status_code == 400
    refused = page.locator(f'tr[data-source="{source}"] td[data-count="refused"]')
    deadline = time.monotonic() + 15
    while refused.inner_text() != "1" and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert refused.inner_text() == "1"

    page.reload()
    reasons = page.locator("#refused tbody tr", has_text=source)
    assert reasons.count() == 1
    assert "a required field is missing" in reasons.inner_text()
    assert "event" in reasons.inner_text()
    screenshot(page, "sources-refused")

    page.locator("#write-keys tbody tr", has_text=source).get_by_role(
        "link", name="Revoke…"
    ).click()
    page.get_by_label("I understand that senders using this key will be refused.").check()
    screenshot(page, "sources-revoke")
    page.get_by_role("button", name="Revoke the key").click()
    page.get_by_role("status").filter(has_text="now refused").wait_for()
    assert track(dashboard.url, key).status_code == 401
    assert "revoked" in page.locator("#write-keys tbody tr", has_text=source).inner_text()
    assert not page.errors


def test_in_french_with_french_numbers(page_as: Callable[..., Any], dashboard: Dashboard) -> None:
    page = page_as("admin", locale="fr-FR")
    page.goto(dashboard.url + "/sources")
    assert page.get_by_role("heading", name="Clés d’écriture").count() == 1
    assert page.get_by_role("heading", name="Part des robots par source").count() == 1
    # The demo's events arrived when the demo was made: thousands, written the French way.
    demo = page.locator('tr[data-source="demo"] td[data-count="hour"]').inner_text()
    assert re.fullmatch(r"\d{1,3}(\u202f\d{3})+", demo), demo
    page.locator("#bots").wait_for()
    screenshot(page, "sources-fr")
    assert not page.errors


def test_analyst_has_no_sources_page_in_the_browser(
    page_as: Callable[..., Any], dashboard: Dashboard
) -> None:
    page = page_as("analyst")
    assert page.get_by_role("navigation").get_by_role("link", name="Sources").count() == 0
    answer = page.goto(dashboard.url + "/sources")
    assert answer.status == 403
    screenshot(page, "sources-analyst-403")
    assert not page.errors


def test_refusals_of_a_large_batch_are_counted_too(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    """A batch of 32 KB and more is validated by the server's worker process when it has one
    (one by default on several cores): its refusals come back to the server and are counted
    the same."""
    client = client_as("admin")
    source = uid()
    _, key = create_key(client, source)
    assert key
    messages: list[dict[str, Any]] = [
        {"type": "track", "event": "Viewed", "userId": f"u{i}", "properties": {"pad": "x" * 400}}
        for i in range(100)
    ]
    for i in range(0, 100, 10):
        messages[i] = {"type": "track", "userId": f"u{i}", "properties": {"pad": "x" * 400}}
    body = {"batch": messages}
    assert len(str(body)) > 40_000
    answer = httpx.post(f"{dashboard.url}/v1/batch", json=body, headers=auth(key), timeout=30)
    assert answer.status_code == 200 and len(answer.json()["rejected"]) == 10
    refused = [r for r in csv_of(client, "/sources", "refused") if r["Source"] == source]
    assert [(r["Rule"], r["Field"], r["Last 24 hours"]) for r in refused] == [
        ("missing_field", "event", "10")
    ]
    assert live_row(client, source) == {"minute": 90, "hour": 90, "refused": 10}
