"""The Partners page: the API's figures, no cell below k in what it downloads, bad input named,
and what a retailer's marketer does in a real browser, in English and in French."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from dashboard_support import Dashboard, api, download, screenshot

COUNTS = ("Category buyers", "Brand buyers", "Repeat buyers")
SWITCHES = ("Bought twice or more", "Kept (brand → brand)", "Lost (brand → others)")


def test_the_brands_are_the_apis(
    dashboard: Dashboard, client_as: Callable[[str], httpx.Client]
) -> None:
    rows = download(client_as("analyst"), "/partners?download=brands")
    expected = api(dashboard, "/api/partners/brands")["brands"]
    assert expected and [(r["Brand"], int(r["Buyers"])) for r in rows] == [
        (b["name"], b["buyers"]) for b in expected
    ]
    assert all(int(r["Buyers"]) >= 10 for r in rows)


def test_the_report_tables_are_the_apis_with_no_cell_below_k(
    dashboard: Dashboard, client_as: Callable[[str], httpx.Client]
) -> None:
    brand = api(dashboard, "/api/partners/brands")["brands"][0]["name"]
    client = client_as("analyst")
    path = f"/partners?brand={brand}&by=generation"
    buyers = download(client, path + "&download=partner-buyers")
    switching = download(client, path + "&download=partner-switching")
    report = api(dashboard, "/api/partners/report", brand=brand, by="generation")
    assert len(buyers) == len(switching) == len(report["rows"])
    suppressed = 0
    for shown, row in zip(buyers, report["rows"], strict=True):
        for label, key in zip(
            COUNTS, ("category_buyers", "brand_buyers", "repeat_buyers"), strict=True
        ):
            if row[key] is None:
                assert shown[label] == "suppressed"
                suppressed += 1
            else:
                assert int(shown[label]) == row[key] >= 10
    for shown in switching:
        for label in SWITCHES:
            assert shown[label] == "suppressed" or int(shown[label]) >= 10
    assert suppressed > 0  # a 600-person shop by generation has small cells


def test_a_k_below_the_workspaces_is_refused_naming_it(
    client_as: Callable[[str], httpx.Client],
) -> None:
    page = client_as("analyst").get("/partners?brand=Apple&k=3")
    assert page.status_code == 200
    assert "k: give a whole number from 10" in page.text
    unknown = client_as("analyst").get("/partners?brand=No%20Such%20Brand")
    assert "brand: no brand" in unknown.text


def test_a_marketer_picks_a_brand_and_reads_it_by_generation(
    page_as: Callable[..., Any], tmp_path: Any
) -> None:
    page = page_as("analyst", locale="en-GB")
    page.get_by_role("link", name="Partners").click()
    page.wait_for_url(re.compile(r".*/partners"))
    assert page.locator("#brands tbody tr").count() >= 3
    screenshot(page, "partners-brands-en")

    page.locator("select[name=brand]").select_option("Apple")
    page.locator("select[name=by]").select_option("generation")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"brand=Apple"))
    page.wait_for_selector("#partner-rates .main-svg")
    assert page.get_by_role("heading", name="Apple per category").is_visible()
    groups = page.locator("#partner-buyers tbody td:nth-child(2)").all_inner_texts()
    assert {"All", "Gen Z"} <= set(groups)
    assert page.locator("#partner-buyers span.badge.suppressed").count() > 0
    numbers = page.locator("#partner-buyers tbody td.number").all_inner_texts()
    for text in numbers:
        assert text == "suppressed" or int(text.replace(",", "")) >= 10, text
    screenshot(page, "partners-report-en")

    with page.expect_download() as downloaded:
        page.locator("a[href*='download=partner-switching']").click()
    saved = tmp_path / "switching.csv"
    downloaded.value.save_as(saved)
    assert saved.read_text().startswith("Category,Group,Bought twice or more")

    page.get_by_role("link", name="FR", exact=True).click()
    page.wait_for_selector("#partner-rates .main-svg")
    assert page.get_by_role("heading", name="Partenaires").is_visible()
    assert page.locator("#partner-buyers span.badge.suppressed").first.inner_text() == "masqué"
    assert "Tous" in page.locator("#partner-buyers tbody td:nth-child(2)").all_inner_texts()
    screenshot(page, "partners-report-fr")
    assert page.errors == []
