"""The loyalty page on the demo served by the real `empreinte serve` (`make demo` loads the
programme and the autumn-2025 campaign co-funded by four brands).

Figures on the page are checked against the API (`/api/loyalty…`) called with the demo's
admin token on the same data: the page and the API share the service, not the page's code.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import httpx

from dashboard_support import Dashboard, csrf_of, screenshot

CAMPAIGN = "autumn-2025"


def api(dashboard: Dashboard, path: str, **params: Any) -> Any:
    answer = httpx.get(
        dashboard.url + path,
        params=params,
        headers={"Authorization": f"Bearer {dashboard.admin_token}"},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_viewers_get_403_and_analysts_cannot_run_it(
    client_as: Callable[[str], httpx.Client],
) -> None:
    viewer = client_as("viewer")
    assert viewer.get("/loyalty").status_code == 403
    assert 'href="/loyalty"' not in viewer.get("/overview").text
    analyst = client_as("analyst")
    page = analyst.get("/loyalty")
    assert page.status_code == 200 and "Run the programme now" not in page.text
    refused = analyst.post("/loyalty/run", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    admin = client_as("admin")
    ran = admin.post("/loyalty/run", data={"csrf": csrf_of(admin.get("/loyalty").text)})
    assert ran.status_code == 303 and ran.headers["location"].startswith("/loyalty")
    after = admin.get(ran.headers["location"])
    assert "The programme ran" in after.text


def test_the_page_shows_the_programme_and_the_campaign_as_the_api(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    overview = api(dashboard, "/api/loyalty")
    report = api(dashboard, f"/api/loyalty/campaigns/{CAMPAIGN}/report")
    text = html.unescape(client_as("analyst").get("/loyalty").text)
    assert f"{overview['points_outstanding']:,} points outstanding" in text
    assert f"{report['offered_people']:,} people offered challenges" in text
    assert f"{report['holdout_people']:,} held out" in text
    for row in report["challenges"]:
        assert f"buy {row['count']} {row['brand']} product(s) within {row['within']}" in text
    assert overview["ledger_sum"] == 0
    # The demo's people made progress: some challenges were paid, within the budget.
    paid = sum(row["completed"] for row in report["challenges"])
    assert paid > 0 and report["budget_left"] >= 0


def test_a_marketer_reads_a_brand_report_and_a_members_ledger_in_french(
    page_as: Callable[..., Any], dashboard: Dashboard
) -> None:
    brand = api(dashboard, f"/api/loyalty/campaigns/{CAMPAIGN}/report", brand="LEGO")
    page = page_as("analyst", locale="fr-FR")
    page.goto(dashboard.url + "/loyalty")
    assert page.get_by_role("heading", name="Fidélité", exact=True).count() == 1
    page.locator("select[name=brand]").select_option("LEGO")
    page.wait_for_url(lambda url: "brand=LEGO" in url)
    lift = page.locator(f"#lift-{CAMPAIGN}")
    lift.wait_for()
    rows = lift.locator("tbody tr")
    assert rows.count() == 1 and rows.first.locator("td").first.inner_text() == "LEGO"
    offered = brand["incremental_sales"]["LEGO"]["offered_people"]
    assert rows.first.locator("td").nth(1).inner_text().replace("\u202f", "") == str(offered)
    assert "Budget" in page.locator(f"#budget-{CAMPAIGN}-title").inner_text()
    screenshot(page, "loyalty-brand-fr")

    # A member's ledger: someone the campaign paid.
    paid = api(dashboard, f"/api/loyalty/campaigns/{CAMPAIGN}/people", status="paid")
    member = paid["people"][0]["profile_id"]
    page.get_by_label("Identifiant de profil").fill(member)
    page.get_by_role("button", name="Afficher le relevé").click()
    page.wait_for_url(lambda url: "profile=" in url)
    ledger = page.locator("#ledger")
    ledger.wait_for()
    assert "récompense" in (ledger.text_content() or "")
    balance = api(dashboard, f"/api/loyalty/members/{member}")["points"]
    lead = page.locator("p.lead", has_text=member).inner_text().replace("\u202f", "")
    assert f"{balance} points" in lead
    screenshot(page, "loyalty-ledger-fr")
