"""The Customers page: search, the customer 360 and its timeline, through the real server.

What a page shows is checked against the profile, identity and consent APIs (admin token) on
the same demo, or against data planted through the collector; who may see what against the
API's rule (raw personal values for admins only, no e-mail or phone lookups for analysts).
"""

from __future__ import annotations

import html
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from dashboard_support import Dashboard, api, screenshot
from empreinte.demo.people import make_profile

DEMO_SEED = 7  # `empreinte demo`'s default seed
#: Any e-mail address: an analyst's page must hold none.
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
CHANNEL_LABELS = {
    "web": ("Web", "Web"),
    "app": ("App", "Application"),
    "email": ("E-mail", "E-mail"),
    "sms": ("SMS", "SMS"),
    "chat": ("Chat", "Chat"),
    "phone": ("Phone", "Téléphone"),
    "store": ("Store", "Magasin"),
    "push": ("Push", "Notification push"),
    "social": ("Social", "Réseaux sociaux"),
    "voice": ("Voice assistant", "Assistant vocal"),
}


def newest(dashboard: Dashboard, profile_id: str, limit: int) -> list[dict[str, Any]]:
    """The profile's newest events, newest first, from the timeline API."""
    page = api(
        dashboard,
        f"/api/profiles/{profile_id}/timeline",
        limit=limit,
        before="9999-12-31T23:59:59Z",
    )
    return list(reversed(page["events"]))


class Customer:
    """A demo customer: who they are (the demo's truth) and their profile (the API)."""

    def __init__(self, person: Any, profile: dict[str, Any]):
        self.person = person
        self.profile = profile
        self.profile_id: str = profile["profileId"]


@pytest.fixture(scope="module")
def customer(dashboard: Dashboard) -> Customer:
    """A demo customer with a user id, more than one page of events, and at least two
    channels among their newest 50 events."""
    for index in range(60):
        person = make_profile(index, DEMO_SEED)[0].person
        if person.user_id is None:
            continue
        answer = httpx.get(
            dashboard.url + "/api/profiles",
            params={"email": person.email},
            headers={"Authorization": f"Bearer {dashboard.admin_token}"},
            timeout=60,
        )
        if answer.status_code != 200:
            continue
        profile = answer.json()
        if profile["computed"]["events"] <= 60:
            continue
        if len({e["channel"] for e in newest(dashboard, profile["profileId"], 50)}) < 2:
            continue
        return Customer(person, profile)
    raise AssertionError("no demo customer with two channels and over 60 events")


def table_rows(page: str, table_id: str) -> list[str]:
    found = re.search(rf'<table class="data" id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S)
    assert found, f"no table {table_id}"
    return re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)


def timeline_times(page: str) -> list[datetime]:
    section = page.split('id="timeline"', 1)[1]
    return [datetime.fromisoformat(t) for t in re.findall(r'<time datetime="([^"]+)"', section)]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- roles -----------------------------------------------------------------------------------


def test_viewers_may_not_see_customers(
    client_as: Callable[[str], httpx.Client], customer: Customer
) -> None:
    viewer = client_as("viewer")
    for path in ("/customers", f"/customers/{customer.profile_id}", "/customers?q=x"):
        answer = viewer.get(path)
        assert answer.status_code == 403, path
        assert customer.person.email not in answer.text
    assert 'href="/customers"' not in viewer.get("/overview").text
    assert 'href="/customers"' in client_as("analyst").get("/overview").text


def test_logged_out_visitors_go_to_the_login(dashboard: Dashboard, customer: Customer) -> None:
    answer = httpx.get(f"{dashboard.url}/customers/{customer.profile_id}", timeout=30)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


# -- search ----------------------------------------------------------------------------------


def test_an_admin_finds_a_customer_by_email_phone_and_user_id(
    client_as: Callable[[str], httpx.Client], customer: Customer
) -> None:
    admin = client_as("admin")
    person = customer.person
    anonymous = [
        i["key"].split(":", 1)[1]
        for i in customer.profile["identifiers"]
        if i["type"] == "anonymous_id"
    ]
    searches: list[tuple[dict[str, str], str]] = [
        ({"q": person.email}, "E-mail address"),
        ({"q": person.email.upper()}, "E-mail address"),  # normalised as ingestion does
        ({"q": person.phone}, "Phone number"),
        ({"q": str(person.user_id), "kind": "userId"}, "User id"),
        ({"q": customer.profile_id}, "Profile id or pseudonym"),
        ({"q": anonymous[0]}, "Anonymous id"),  # guessed
    ]
    if person.loyalty_card:
        searches.append(({"q": person.loyalty_card, "kind": "loyaltyCard"}, "Loyalty card"))
    for query, kind in searches:
        page = admin.get("/customers", params=query)
        assert page.status_code == 200
        rows = table_rows(page.text, "results")
        assert len(rows) == 1, query
        assert f'href="/customers/{customer.profile_id}"' in rows[0]
        assert person.email in rows[0] and person.first_name in rows[0]
        assert kind in rows[0]


def test_a_search_that_finds_nobody_says_so(client_as: Callable[[str], httpx.Client]) -> None:
    admin = client_as("admin")
    page = admin.get("/customers", params={"q": f"nobody-{uuid.uuid4().hex}@example.com"})
    assert page.status_code == 200
    assert "0 customers found" in page.text and "No customer has this identifier" in page.text


def test_an_analyst_searches_by_user_id_and_pseudonym_and_sees_no_personal_data(
    client_as: Callable[[str], httpx.Client], customer: Customer, dashboard: Dashboard
) -> None:
    analyst = client_as("analyst")
    person = customer.person
    pseudonymised = api(dashboard, f"/api/profiles/{customer.profile_id}", pii="false")
    email_pseudonym = pseudonymised["traits"]["email"]
    assert email_pseudonym.startswith("pii_")
    for query in ({"q": person.user_id}, {"q": email_pseudonym}):
        page = analyst.get("/customers", params=query)
        assert page.status_code == 200
        rows = table_rows(page.text, "results")
        assert len(rows) == 1
        assert f'href="/customers/{customer.profile_id}"' in rows[0]
        assert email_pseudonym in rows[0]
        for secret in (person.email, person.phone, person.first_name, person.last_name):
            assert secret not in page.text
        assert not EMAIL.search(page.text)
    full = analyst.get(f"/customers/{customer.profile_id}")
    assert full.status_code == 200
    raw = full.content
    for secret in (person.email, person.phone, person.phone.lstrip("+")):
        assert secret.encode() not in raw
    assert not EMAIL.search(full.text), EMAIL.search(full.text)
    assert email_pseudonym in full.text
    assert "Pseudonymised personal data" in full.text


def test_analysts_may_not_look_people_up_by_email_or_phone(
    client_as: Callable[[str], httpx.Client], customer: Customer
) -> None:
    analyst = client_as("analyst")
    known = analyst.get("/customers", params={"q": customer.person.email})
    unknown = analyst.get("/customers", params={"q": f"x{uuid.uuid4().hex}@example.com"})
    by_kind = analyst.get("/customers", params={"q": customer.person.phone, "kind": "phone"})
    by_key = analyst.get("/customers", params={"q": "email:" + customer.person.email})
    for answer in (known, unknown, by_kind, by_key):
        assert answer.status_code == 200
        assert "Analysts cannot look people up by e-mail address or phone number" in answer.text
        assert 'id="results"' not in answer.text
        assert customer.profile_id not in answer.text
    # A phone number typed with the kind left to guess is tried as the other kinds only.
    guessed = analyst.get("/customers", params={"q": customer.person.phone})
    assert "Phone numbers are searched by admins only" in guessed.text
    assert customer.profile_id not in guessed.text


@pytest.mark.parametrize(
    "query",
    [
        {"q": "x", "kind": "nonsense"},
        {"q": "not an address", "kind": "email"},
        {"q": "12", "kind": "phone"},
        {"q": "a" * 5000},
        {"q": ["a", "b"]},
        {"q": "p_zz", "kind": "profile"},
        {"q": "colour:blue", "kind": "profile"},
    ],
)
def test_bad_searches_answer_a_message_and_keep_the_form(
    client_as: Callable[[str], httpx.Client], query: dict[str, Any]
) -> None:
    page = client_as("admin").get("/customers", params=query)
    assert page.status_code == 200
    assert 'class="error" role="alert"' in page.text
    assert "Traceback" not in page.text
    assert '<input type="search" name="q"' in page.text


# -- the 360 ---------------------------------------------------------------------------------


def test_the_360_shows_what_the_apis_know(
    client_as: Callable[[str], httpx.Client], customer: Customer, dashboard: Dashboard
) -> None:
    page = client_as("admin").get(f"/customers/{customer.profile_id}")
    assert page.status_code == 200
    text = page.text
    person = customer.person
    assert f"<h1>{person.first_name} {person.last_name}</h1>" in html.unescape(text)
    # Identities: one row per identifier of the profile, raw e-mail and phone for admins.
    identities = table_rows(text, "identities")
    assert len(identities) == len(customer.profile["identifiers"])
    assert any(person.email in row for row in identities)
    assert any(person.phone in row for row in identities)
    # Merge history: one row per step the identity API replays.
    explained = api(dashboard, f"/api/profiles/{customer.profile_id}/identity")
    assert len(table_rows(text, "merge-history")) == len(explained["steps"])
    # Events by channel, as the profile API computes them.
    for channel, count in customer.profile["computed"]["channels"].items():
        assert f"{CHANNEL_LABELS[channel][0]}: {count:,}" in text
    assert f'<div class="value">{customer.profile["computed"]["events"]:,}</div>' in text
    # Consent: the purposes granted, and every entry of the history.
    ledger = api(dashboard, f"/api/profiles/{customer.profile_id}/consent")
    granted = [p for p, s in ledger["purposes"].items() if s["status"] == "granted"]
    assert text.count('class="badge granted"') == len(granted)
    assert len(table_rows(text, "consent-history")) == len(ledger["history"])
    # Traits: one row per current trait.
    assert len(table_rows(text, "traits")) == len(customer.profile["traitHistory"])
    # Timeline: the newest 50 events, newest first.
    events = newest(dashboard, customer.profile_id, 50)
    assert timeline_times(text) == [moment(e["timestamp"]) for e in events]
    for event in events[:5]:
        if event["type"] == "track":
            assert html.escape(event["event"]) in text


def test_the_timeline_pages_back_to_the_first_event(
    client_as: Callable[[str], httpx.Client], customer: Customer, dashboard: Dashboard
) -> None:
    admin = client_as("admin")
    total = customer.profile["computed"]["events"]
    everything = newest(dashboard, customer.profile_id, 1000)
    assert len(everything) == total
    seen: list[datetime] = []
    path: str | None = f"/customers/{customer.profile_id}"
    pages = 0
    while path is not None:
        page = admin.get(path)
        assert page.status_code == 200
        seen += timeline_times(page.text)
        older = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        path = html.unescape(older.group(1)) if older else None
        pages += 1
        if pages > 1:
            assert 'rel="prev">' in page.text  # a later page links to newer events
        assert pages < 50
    assert pages == -(-total // 50)
    assert seen == [moment(e["timestamp"]) for e in everything]


def test_a_bad_timeline_cursor_is_a_message_not_an_error(
    client_as: Callable[[str], httpx.Client], customer: Customer
) -> None:
    admin = client_as("admin")
    page = admin.get(f"/customers/{customer.profile_id}", params={"before": "not-a-cursor"})
    assert page.status_code == 200
    assert "is neither a page cursor nor an ISO-8601 date-time" in page.text
    assert len(timeline_times(page.text)) == 50
    both = admin.get(f"/customers/{customer.profile_id}", params={"before": "1:1", "after": "1:1"})
    assert both.status_code == 200 and "not both" in both.text
    long = admin.get(f"/customers/{customer.profile_id}", params={"before": "9" * 5000})
    assert long.status_code == 200 and "is longer than" in long.text
    assert len(timeline_times(long.text)) == 50


def test_an_unknown_profile_is_not_found(client_as: Callable[[str], httpx.Client]) -> None:
    admin = client_as("admin")
    for path in (
        "/customers/p_0000000000000000",
        "/customers/%3Cscript%3E",
        "/customers/" + "p" * 300,
    ):
        answer = admin.get(path)
        assert answer.status_code == 404
        assert "<script>" not in answer.text


# -- data sent through the collector -------------------------------------------------------------


def _plant(dashboard: Dashboard, uid: str) -> str:
    """A person with hostile traits, a trait that changed, and four events on three
    channels; their profile id."""
    hostile = "<script>alert('pwned')</script>"
    batch = {
        "batch": [
            {  # segments read only the people who allow analytics
                "type": "track",
                "userId": uid,
                "messageId": f"{uid}-0",
                "event": "Consent Updated",
                "timestamp": "2026-03-01T09:59:00Z",
                "properties": {"purpose": "analytics", "granted": True, "wording_version": "t"},
                "context": {"channel": "web"},
            },
            {
                "type": "identify",
                "userId": uid,
                "messageId": f"{uid}-1",
                "timestamp": "2026-03-01T10:00:00Z",
                "traits": {
                    "nickname": hostile,
                    "marker": uid,
                    "email": f"{uid}@example.com",
                    "tier": "silver",
                },
                "context": {"channel": "web"},
            },
            {
                "type": "identify",
                "userId": uid,
                "messageId": f"{uid}-3",
                "timestamp": "2026-03-03T10:00:00Z",
                "traits": {"tier": "gold"},
                "context": {"channel": "app"},
            },
            {
                "type": "track",
                "userId": uid,
                "messageId": f"{uid}-2",
                "event": "<b>Store Visit</b>",
                "timestamp": "2026-03-02T10:00:00Z",
                "properties": {"comment": hostile},
                "context": {"channel": "store"},
            },
        ]
    }
    sent = httpx.post(
        dashboard.url + "/v1/batch", json=batch, auth=(dashboard.write_key, ""), timeout=30
    )
    assert sent.status_code == 200, sent.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = httpx.get(
            dashboard.url + "/api/profiles",
            params={"userId": uid},
            headers={"Authorization": f"Bearer {dashboard.admin_token}"},
            timeout=30,
        )
        if found.status_code == 200 and found.json()["computed"]["events"] == 4:
            return str(found.json()["profileId"])
        time.sleep(0.2)
    raise AssertionError("the planted events never reached the profile")


@pytest.fixture(scope="module")
def planted(dashboard: Dashboard) -> tuple[str, str]:
    uid = "t-cust-" + uuid.uuid4().hex[:12]
    return uid, _plant(dashboard, uid)


def test_hostile_values_sent_through_the_collector_show_as_text(
    client_as: Callable[[str], httpx.Client], planted: tuple[str, str]
) -> None:
    _uid, profile_id = planted
    for role in ("admin", "analyst"):
        page = client_as(role).get(f"/customers/{profile_id}")
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<b>Store Visit" not in page.text
        assert "&lt;b&gt;Store Visit&lt;/b&gt;" in page.text  # the event's name, as text
    admin_page = client_as("admin").get(f"/customers/{profile_id}").text
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in admin_page
    searched = client_as("admin").get("/customers", params={"q": "<script>x</script>"})
    assert "<script>x" not in searched.text and "&lt;script&gt;x&lt;/script&gt;" in searched.text
    # Three channels, each with its icon and its name for screen readers.
    assert admin_page.count('class="channel-icon"') == 3 + 4  # the summary, the timeline
    assert "Web: 2" in admin_page and "Store: 1" in admin_page and "App: 1" in admin_page


def test_a_trait_that_changed_shows_its_current_value_and_its_history(
    client_as: Callable[[str], httpx.Client], planted: tuple[str, str]
) -> None:
    _uid, profile_id = planted
    page = client_as("analyst").get(f"/customers/{profile_id}").text
    tier = [row for row in table_rows(page, "traits") if ">tier<" in row]
    assert len(tier) == 1 and ">gold<" in tier[0]
    earlier = page.split('id="trait-history-title"', 1)[1]
    assert "<summary>tier (1)</summary>" in earlier and "silver" in earlier


def test_segments_the_person_is_in(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard, planted: tuple[str, str]
) -> None:
    uid, profile_id = planted
    name = "t-customers-" + uuid.uuid4().hex[:8]
    headers = {"Authorization": f"Bearer {dashboard.admin_token}"}
    created = httpx.post(
        dashboard.url + "/api/segments",
        json={"name": name, "expression": f'traits.marker = "{uid}"'},
        headers=headers,
        timeout=60,
    )
    assert created.status_code == 201, created.text
    try:
        members = api(dashboard, f"/api/segments/{name}/members")
        assert profile_id in str(members)
        page = client_as("analyst").get(f"/customers/{profile_id}").text
        assert f"<strong>{name}</strong>" in page
        assert "(1 member)" in page
        other = client_as("analyst").get(f"/customers/{_other(dashboard, profile_id)}").text
        assert name not in other
    finally:
        httpx.delete(f"{dashboard.url}/api/segments/{name}", headers=headers, timeout=60)


def _other(dashboard: Dashboard, profile_id: str) -> str:
    person = make_profile(0, DEMO_SEED)[0].person
    found = api(dashboard, "/api/profiles", email=person.email)
    assert found["profileId"] != profile_id
    return str(found["profileId"])


def test_predictions_when_they_exist_are_formatted_per_locale() -> None:
    """The predictions table formats what a model run stored: a share as a percentage, a
    value with two decimals, a text as is (planted rows; running the models would change
    the demo every other page's tests read)."""
    from datetime import UTC
    from types import SimpleNamespace

    from starlette.datastructures import QueryParams

    from empreinte.credentials import Role
    from empreinte.store.computed_traits import ComputedTrait
    from empreinte.web.dashboard.cache import ReportCache
    from empreinte.web.dashboard.page import View
    from empreinte.web.dashboard.pages.customers import _predictions
    from empreinte.web.dashboard.session import Viewer

    at = datetime(2026, 5, 1, tzinfo=UTC)

    class Planted:
        predicted = (
            ComputedTrait("p_1", "clv", 2072.09216, None, at),
            ComputedTrait("p_1", "churn_risk", 0.5377, None, at),
            ComputedTrait("p_1", "persona", None, "<i>Everyday</i>", at),
        )

    for language, churn, clv, label in (
        ("en", "53.8%", "2,072.09", "Churn risk"),
        ("fr", "53,8 %", "2 072,09", "Risque d’attrition"),
    ):
        view = View(
            SimpleNamespace(config=SimpleNamespace(timezone="UTC")),  # type: ignore[arg-type]
            Viewer("a", Role.ADMIN, "t"),
            language,
            QueryParams(),
            "/customers/p_1",
            ReportCache(lambda: 0),
        )
        rows = {r["key"]: r for r in _predictions(view, Planted()).rows}  # type: ignore[arg-type]
        assert _spaces(rows["churn_risk"]["value"]) == churn
        assert _spaces(rows["clv"]["value"]) == clv
        assert rows["churn_risk"]["trait"] == label
        assert rows["persona"]["value"] == "<i>Everyday</i>"  # escaped by the template
        assert [r["key"] for r in _predictions(view, Planted()).rows][:2] == [  # type: ignore[arg-type]
            "churn_risk",
            "clv",
        ]


def _spaces(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


# -- in the browser --------------------------------------------------------------------------


def _search_and_open(page: Any, dashboard: Dashboard, text: str, button: str) -> None:
    page.goto(dashboard.url + "/customers")
    page.locator('input[name="q"]').fill(text)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_url(re.compile(r".*/customers\?q="))


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_an_admin_searches_by_email_and_reads_the_cross_channel_timeline(
    page_as: Callable[..., Any], dashboard: Dashboard, customer: Customer, locale: str
) -> None:
    french = locale.startswith("fr")
    page = page_as("admin", locale=locale)
    _search_and_open(page, dashboard, customer.person.email, "Rechercher" if french else "Search")
    screenshot(page, f"customers-search-admin-{locale[:2]}")
    result = page.locator("#results a", has_text=customer.profile_id)
    assert result.count() == 1
    result.click()
    page.wait_for_url(re.compile(rf".*/customers/{customer.profile_id}$"))
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == f"{customer.person.first_name} {customer.person.last_name}"
    timeline = page.locator("ol.timeline > li")
    assert timeline.count() == 50
    names = set(page.locator("ol.timeline .channel-name").all_inner_texts())
    expected = {
        CHANNEL_LABELS[e["channel"]][1 if french else 0]
        for e in newest(dashboard, customer.profile_id, 50)
    }
    assert names == expected and len(names) >= 2
    assert page.get_by_role(
        "heading", name="Parcours cross-canal" if french else "Cross-channel timeline"
    ).is_visible()
    events = customer.profile["computed"]["events"]
    shown = page.locator(".kpi .value").first.inner_text()
    assert shown.replace("\u202f", " ").replace("\xa0", " ") == (
        f"{events:,}".replace(",", " ") if french else f"{events:,}"
    )
    screenshot(page, f"customers-360-admin-{locale[:2]}")
    page.get_by_role("link", name=re.compile("Événements plus anciens|Older events")).click()
    page.wait_for_url(re.compile(r".*before=.*"))
    assert page.locator("ol.timeline > li").count() == min(50, events - 50)
    assert not page.errors


def test_an_analyst_finds_a_customer_by_user_id_and_sees_pseudonyms_only(
    page_as: Callable[..., Any], dashboard: Dashboard, customer: Customer
) -> None:
    page = page_as("analyst", width=1024)  # a tablet in landscape
    _search_and_open(page, dashboard, str(customer.person.user_id), "Search")
    assert "pii_" in page.locator("#results").inner_text()
    page.locator("#results a", has_text=customer.profile_id).click()
    page.wait_for_url(re.compile(rf".*/customers/{customer.profile_id}$"))
    assert page.get_by_role("heading", level=1).inner_text() == customer.profile_id
    body = page.content() + page.locator("body").inner_text()
    person = customer.person
    for secret in (person.email, person.phone, person.first_name + " " + person.last_name):
        assert secret not in body
    assert not EMAIL.search(body)
    assert page.get_by_text("Pseudonymised personal data").is_visible()
    # Nothing wider than the screen at tablet width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    screenshot(page, "customers-360-analyst-en-1024")
    assert not page.errors


def test_a_hostile_trait_shows_as_text_in_the_browser(
    page_as: Callable[..., Any], dashboard: Dashboard, planted: tuple[str, str]
) -> None:
    _uid, profile_id = planted
    page = page_as("admin")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{dashboard.url}/customers/{profile_id}")
    assert page.locator("#traits").get_by_text("<script>alert('pwned')</script>").count() == 1
    assert page.locator("ol.timeline").get_by_text("<b>Store Visit</b>").count() == 1
    channels = page.locator("ol.timeline .channel-name").all_inner_texts()
    assert channels == ["App", "Store", "Web", "Web"]  # newest first
    screenshot(page, "customers-360-hostile-en")
    assert not dialogs and not page.errors


def test_a_merged_away_id_opens_the_profile_it_merged_into(
    client_as: Callable[[str], httpx.Client], customer: Customer, dashboard: Dashboard
) -> None:
    explained = api(dashboard, f"/api/profiles/{customer.profile_id}/identity")
    merged = [s["otherProfileId"] for s in explained["steps"] if s["action"] == "merge"]
    assert merged, "the demo customer has no merge to follow"
    page = client_as("analyst").get(f"/customers/{merged[0]}")
    assert page.status_code == 200
    assert f"Profile {merged[0]} was merged into this one." in page.text
    assert f"<h1>{customer.profile_id}</h1>" in page.text


def test_downloads_follow_the_role(
    client_as: Callable[[str], httpx.Client], customer: Customer
) -> None:
    person = customer.person
    path = f"/customers/{customer.profile_id}"
    for table in ("traits", "identities", "merge-history", "consent-history"):
        analyst = client_as("analyst").get(path, params={"download": table})
        assert analyst.status_code == 200, table
        assert analyst.headers["content-type"].startswith("text/csv")
        assert person.email not in analyst.text and not EMAIL.search(analyst.text), table
    admin = client_as("admin").get(path, params={"download": "identities"})
    assert person.email in admin.text and person.phone in admin.text
    found = client_as("analyst").get(
        "/customers", params={"q": person.user_id, "download": "results"}
    )
    assert found.status_code == 200
    assert customer.profile_id in found.text and person.email not in found.text
