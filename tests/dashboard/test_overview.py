"""The overview page: its numbers against the HTTP API on the same data, its downloads, and
what a marketer sees in a real browser, in English and in French."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dashboard_support import Dashboard, api, download, screenshot


def test_events_by_channel_add_up_to_the_logs_counts(
    dashboard: Dashboard, client_as: Callable[[str], httpx.Client]
) -> None:
    rows = download(client_as("viewer"), "/overview?download=activity-events")
    assert len(rows) >= 12  # the demo's twelve months (and what other tests sent since)
    channels = [c for c in rows[0] if c not in ("Period", "All channels")]
    assert {"web", "app", "store", "voice"} <= set(channels)
    for channel in channels:
        if channel == "unknown":  # events without a channel: no filter names them
            continue
        shown = sum(int(row[channel]) for row in rows)
        logged = api(dashboard, "/api/events", channel=channel, includeBots="false", limit=1)
        assert shown == logged["total"], channel
    everything = api(dashboard, "/api/events", includeBots="false", limit=1)["total"]
    assert sum(int(row["All channels"]) for row in rows) == everything


def test_active_people_count_each_person_once_across_channels(
    client_as: Callable[[str], httpx.Client],
) -> None:
    rows = download(client_as("viewer"), "/overview?download=activity-people")
    channels = [c for c in rows[0] if c not in ("Period", "All channels")]
    for row in rows:
        per_channel = [int(row[c]) for c in channels]
        # Someone active on two channels is one person in all: the total is at least the
        # largest channel's and at most their sum (the demo's people are multi-channel).
        assert max(per_channel) <= int(row["All channels"]) <= sum(per_channel)
    # The demo's people are multichannel: in its months, fewer people than channel-people.
    assert any(int(r["All channels"]) < sum(int(r[c]) for c in channels) for r in rows)


@pytest.mark.parametrize("survey", ["nps", "csat", "ces"])
def test_the_quarter_comparison_is_the_apis(
    dashboard: Dashboard, client_as: Callable[[str], httpx.Client], survey: str
) -> None:
    rows = {r["Score"]: r for r in download(client_as("analyst"), "/overview?download=quarters")}
    report = api(dashboard, f"/api/cx/{survey}", period="quarter")["rows"]
    latest, before = report[-1], report[-2]
    shown = rows[survey.upper()]
    assert shown["Quarter"] == latest["period"]
    assert shown["Previous quarter"] == before["period"]
    assert float(shown["Value"]) == pytest.approx(latest["score"])
    assert float(shown["Previous value"]) == pytest.approx(before["score"])
    assert int(shown["Answers (n)"]) == latest["n"]
    assert float(shown["p-value"]) == pytest.approx(latest["change_p_value"])
    expected = (
        "no significant change"
        if not latest["change_significant"]
        else ("significantly up" if latest["change"] > 0 else "significantly down")
    )
    assert shown["In plain words"] == expected


def test_the_trend_is_by_the_period_asked_with_its_interval_and_n(
    dashboard: Dashboard, client_as: Callable[[str], httpx.Client]
) -> None:
    client = client_as("analyst")
    rows = download(client, "/overview?period=quarter&download=trend-nps")
    report = api(dashboard, "/api/cx/nps", period="quarter")["rows"]
    assert [r["Period"] for r in rows] == [r["period"] for r in report]
    for shown, expected in zip(rows, report, strict=True):
        assert float(shown["NPS"]) == pytest.approx(expected["score"])
        assert float(shown["95% interval, low"]) == pytest.approx(expected["score_low"])
        assert int(shown["Answers (n)"]) == expected["n"]
    bad = client.get("/overview?period=fortnight")
    assert bad.status_code == 400
    assert "period" in bad.text and "Traceback" not in bad.text
    unknown = client.get("/overview?download=nothing")
    assert unknown.status_code == 404


def test_the_overview_in_a_browser_in_english_then_french(
    page_as: Callable[..., Any], tmp_path: Any
) -> None:
    page = page_as("analyst", locale="en-GB")
    page.wait_for_selector("#activity-events .main-svg")
    assert page.locator("div.chart .main-svg").count() >= 5  # activity ×2, NPS, CSAT, CES
    assert page.get_by_role("heading", name="Overview").is_visible()
    lead = page.locator("p.lead").inner_text()
    assert re.search(r"\d{1,3}(,\d{3})+ events received", lead), lead
    screenshot(page, "overview-en")

    # A chart downloads as a PNG picture.
    with page.expect_download() as downloaded:
        page.locator("button.png[data-chart='trend-nps']").click()
    picture = tmp_path / "nps.png"
    downloaded.value.save_as(picture)
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert picture.stat().st_size > 5_000

    # The period selector redraws the page by quarter.
    page.get_by_label("Period").select_option("quarter")
    page.wait_for_url(re.compile(r"period=quarter"))
    page.wait_for_selector("#trend-nps .main-svg")

    # French: labels, thousands separator and decimal comma.
    page.get_by_role("link", name="FR", exact=True).click()
    page.wait_for_selector("#activity-events .main-svg")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", name="Vue d’ensemble").is_visible()
    assert page.get_by_role("link", name="Vue d’ensemble").is_visible()
    lead = page.locator("p.lead").inner_text()
    assert re.search(r"\d{1,3}(\u202f\d{3})+ événements reçus", lead), lead
    values = page.locator("#quarters tbody td.number").all_inner_texts()
    assert any(re.fullmatch(r"-?\d+,\d", v) for v in values), values
    assert page.get_by_text("Ce trimestre par rapport au précédent").is_visible()
    screenshot(page, "overview-fr")
    assert not page.errors


def test_tables_sort_and_page_in_the_browser(page_as: Callable[..., Any]) -> None:
    page = page_as("viewer")
    page.wait_for_selector("#quarters")
    header = page.locator("#quarters thead th").nth(2)
    assert header.inner_text().strip() == "Value"
    header.get_by_role("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    values = [
        float(v.replace(",", ""))
        for v in page.locator("#quarters tbody tr td:nth-child(3)").all_inner_texts()
    ]
    assert values == sorted(values)
    header.get_by_role("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    values = [
        float(v.replace(",", ""))
        for v in page.locator("#quarters tbody tr td:nth-child(3)").all_inner_texts()
    ]
    assert values == sorted(values, reverse=True)
    # By week the activity table has 53 rows: twenty a page.
    page.goto(page.url.split("/overview")[0] + "/overview?period=week")
    page.locator("#activity-events-title").locator("xpath=..").locator("summary").click()
    table = page.locator("#activity-events-data")
    assert table.locator("tbody tr:visible").count() == 20
    pager = page.locator("#activity-events-data-title ~ .table-wrap + nav.pager")
    assert pager.locator("span").inner_text() == "Page 1 of 3"
    pager.get_by_role("button", name=re.compile("Next")).click()
    assert pager.locator("span").inner_text() == "Page 2 of 3"
    first_week = table.locator("tbody tr:visible td").first.inner_text()
    assert re.fullmatch(r"\d{4}-W\d{2}", first_week)
    assert not page.errors
