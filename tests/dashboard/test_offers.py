"""The Offers page on the demo served by the real `empreinte serve` (`make demo` loads the demo
offers and trains the recommender): the catalogue and the performance agree with the API,
viewers get 403 and no entry, and a marketer previews a person's next offers in French with
the reasons, which records no impression."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dashboard_support import Dashboard, api, screenshot


def _buyer(dashboard: Dashboard) -> str:
    """A demo customer who bought something and allows personalisation (the first such)."""
    events = api(dashboard, "/api/events", event="Order Completed", limit=200)["events"]
    for event in events:
        user = event.get("userId")
        if not user:
            continue
        found = httpx.get(
            dashboard.url + "/api/profiles",
            params={"userId": user},
            headers={"Authorization": f"Bearer {dashboard.admin_token}"},
            timeout=60,
        )
        if found.status_code != 200:
            continue
        pid = str(found.json()["profileId"])
        answer = api(dashboard, "/api/offers/next", profile=pid, n=1, seed=1)
        if answer["personalised"] and answer["offers"]:
            return pid
    pytest.fail("no personalised demo buyer")


def _shown(dashboard: Dashboard) -> dict[str, int]:
    return {r["offer_id"]: r["shown"] for r in api(dashboard, "/api/offers/performance")["offers"]}


def test_viewers_get_403_and_no_navigation_entry(
    client_as: Callable[[str], httpx.Client],
) -> None:
    viewer = client_as("viewer")
    assert viewer.get("/offers").status_code == 403
    assert 'href="/offers"' not in viewer.get("/overview").text
    assert 'href="/offers"' in client_as("analyst").get("/overview").text


def test_catalogue_and_performance_agree_with_the_api(
    dashboard: Dashboard, client_as: Callable[[str], httpx.Client]
) -> None:
    offers = api(dashboard, "/api/offers")["offers"]
    assert len(offers) >= 25  # the demo catalogue
    pid = _buyer(dashboard)
    api(dashboard, "/api/offers/next", profile=pid, n=3, seed=2)  # three impressions
    page = client_as("analyst").get("/offers").text
    for offer in offers:
        assert offer["offer_id"] in page
    performance = {r["offer_id"]: r for r in api(dashboard, "/api/offers/performance")["offers"]}
    shown = sum(r["shown"] for r in performance.values())
    assert shown >= 3
    download = client_as("analyst").get("/offers", params={"download": "offers-funnel"})
    assert download.status_code == 200
    rows = [line.split(",") for line in download.text.strip().splitlines()[1:]]
    assert sum(int(row[1]) for row in rows) == shown


def test_a_marketer_previews_a_persons_offers_in_french(
    dashboard: Dashboard, page_as: Callable[..., Any]
) -> None:
    pid = _buyer(dashboard)
    before = _shown(dashboard)
    page = page_as("analyst", locale="fr-FR")
    page.get_by_role("link", name="Offres").click()
    page.wait_for_url(re.compile(r".*/offers"))
    assert page.get_by_role("heading", name="Offres", exact=True).is_visible()
    screenshot(page, "offers-fr")
    page.get_by_label("Identifiant de profil").fill(pid)
    page.get_by_label("Canal").select_option("app")
    page.get_by_role("button", name="Afficher les offres").click()
    page.wait_for_url(re.compile(r".*profile=.*"))
    table = page.locator("#offers-next")
    assert table.is_visible()
    text = table.inner_text()
    assert "Pourquoi" in text
    assert re.search(r"a (acheté|regardé|mis) .* il y a|une de nos meilleures ventes", text)
    screenshot(page, "offers-preview-fr")
    assert _shown(dashboard) == before  # a preview is not an impression
    english = page_as("analyst")
    english.goto(f"{dashboard.url}/offers?profile={pid}&channel=app")
    assert "Why" in english.locator("#offers-next").inner_text()
    screenshot(english, "offers-preview-en")
    assert not page.errors and not english.errors
