"""The Destinations page on the demo: the demo's CSV export of frequent buyers, delivery status
per destination, and an admin adding an export in the browser, sending it and finding the
file. Analysts read without forms; viewers get 403. Numbers asserted are the API's."""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from dashboard_support import Dashboard, api, csrf_of, download, screenshot


def test_the_demo_export_is_listed_with_its_deliveries(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    found = {d["name"]: d for d in api(dashboard, "/api/destinations")["destinations"]}
    demo = found["crm-export"]
    assert demo["kind"] == "csv" and demo["purpose"] == "marketing_email"
    exported = dashboard.workspace / "exports" / "crm" / "crm-export.csv"
    with exported.open() as f:
        people = list(csv.DictReader(f))
    assert people and {r["segment"] for r in people} == {"frequent-buyers"}
    client = client_as("analyst")
    page = client.get("/destinations")
    assert page.status_code == 200
    assert "crm-export" in page.text and "marketing_email" in page.text
    assert 'action="/destinations"' not in page.text  # analysts read, admins change
    rows = download(client, "/destinations?download=destinations")
    [row] = [r for r in rows if r["Name"] == "crm-export"]
    assert int(row["Sent"]) == demo["deliveries"]["sent"] >= 1


def test_viewers_and_analysts_cannot_change_destinations(
    client_as: Callable[[str], httpx.Client],
) -> None:
    viewer = client_as("viewer")
    assert viewer.get("/destinations").status_code == 403
    assert 'href="/destinations"' not in viewer.get("/overview").text
    analyst = client_as("analyst")
    token = csrf_of(analyst.get("/destinations").text)
    refused = analyst.post("/destinations/remove", data={"csrf": token, "name": "crm-export"})
    assert refused.status_code == 403


def test_a_receiver_that_cannot_be_reached_shows_as_failing(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    name = f"hook-{uuid.uuid4().hex[:6]}"
    made = httpx.post(
        f"{dashboard.url}/api/destinations",
        headers={"Authorization": f"Bearer {dashboard.admin_token}"},
        json={
            "name": name,
            "kind": "webhook",
            "url": "https://receiver.invalid/hook",
            "purpose": "marketing_email",
            "segments": ["frequent-buyers"],
        },
        timeout=60,
    )
    assert made.status_code == 201, made.text
    admin = client_as("admin")
    token = csrf_of(admin.get("/destinations").text)
    sent = admin.post("/destinations/sync", data={"csrf": token, "name": name})
    assert sent.status_code == 303 and sent.headers["location"].endswith("notice=synced")
    assert "brought up to date" in admin.get(sent.headers["location"]).text
    counts = api(dashboard, f"/api/destinations/{name}")["deliveries"]
    assert counts["failing"] > 0 and counts["sent"] == 0
    rows = download(admin, "/destinations?download=destinations")
    [row] = [r for r in rows if r["Name"] == name]
    assert int(row["Failing"]) == counts["failing"]


def test_an_admin_adds_an_export_in_the_browser_in_french(
    page_as: Callable[..., Any], dashboard: Dashboard
) -> None:
    name = f"audience-{uuid.uuid4().hex[:6]}"
    page = page_as("admin", locale="fr-FR")
    page.goto(dashboard.url + "/destinations")
    assert page.get_by_role("heading", name="Destinations", exact=True).is_visible()
    screenshot(page, "destinations-fr")
    page.get_by_label(re.compile("^Nom")).fill(name)
    page.get_by_label(re.compile("^Type de destination")).select_option("csv")
    page.get_by_label(re.compile("^Consentement requis")).select_option("marketing_email")
    page.get_by_label(re.compile("^URL, ou répertoire pour un export")).fill("audiences")
    page.get_by_label(re.compile("^Segments enregistrés|^Segments")).fill("frequent-buyers")
    page.get_by_label(re.compile("^Traits")).fill("country")
    page.get_by_role("button", name="Ajouter la destination").click()
    page.get_by_text(f"Destination « {name} » ajoutée").wait_for()
    row = page.locator("form[action='/destinations/sync']").filter(
        has=page.locator(f"input[value='{name}']")
    )
    row.get_by_role("button", name="Envoyer maintenant").click()
    page.get_by_text("La destination a été mise à jour.").wait_for()
    screenshot(page, "destinations-fr-sent")
    exported = dashboard.workspace / "exports" / "audiences" / f"{name}.csv"
    with exported.open() as f:
        people = list(csv.DictReader(f))
    demo = dashboard.workspace / "exports" / "crm" / "crm-export.csv"
    with demo.open() as f:
        same = list(csv.DictReader(f))
    assert sorted(r["profile_id"] for r in people) == sorted(r["profile_id"] for r in same)
    assert re.fullmatch(r"[A-Z]{2}", people[0]["country"] or "FR")
    assert not page.errors


def test_the_page_in_english(page_as: Callable[..., Any], dashboard: Dashboard) -> None:
    page = page_as("analyst")
    page.goto(dashboard.url + "/destinations")
    assert page.get_by_role("heading", name="Dead letters").is_visible()
    assert page.get_by_role("heading", name="Last deletion requests").is_visible()
    screenshot(page, "destinations-en")
    assert not page.errors
