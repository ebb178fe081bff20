"""The Experience page: its figures against the HTTP API on the same data (scores, drivers,
Kano, experiments), the roles (viewers get no detractors), hostile input shown as text, bad
input as a message on the page, and what a CX manager does with it in a real browser."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from starlette.datastructures import QueryParams

from dashboard_support import Dashboard, api, download, screenshot
from empreinte.analytics.cx.experiments import VariantCounts, analyze_experiment
from empreinte.analytics.cx.exposures import ExperimentReport
from empreinte.web.dashboard.cache import ReportCache
from empreinte.web.dashboard.page import View
from empreinte.web.dashboard.pages.experience import _verdict


def number(text: str) -> float | None:
    return None if text == "" else float(text)


def track(dashboard: Dashboard, user_id: str, event: str, properties: dict[str, Any]) -> None:
    sent = httpx.post(
        dashboard.url + "/v1/track",
        json={"userId": user_id, "event": event, "properties": properties},
        auth=(dashboard.write_key, ""),
        timeout=30,
    )
    assert sent.status_code == 200, sent.text


# -- scores ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("survey", "period", "by"),
    [("nps", "quarter", "channel"), ("csat", "month", ""), ("ces", "year", "generation")],
)
def test_scores_are_the_apis_with_their_change_in_plain_words(
    dashboard: Dashboard,
    client_as: Callable[[str], httpx.Client],
    survey: str,
    period: str,
    by: str,
) -> None:
    query = f"score={survey}&period={period}&by={by}"
    rows = download(client_as("analyst"), f"/experience?{query}&download=scores-data")
    params = {"period": period, **({"by": by} if by else {})}
    report = api(dashboard, f"/api/cx/{survey}", **params)["rows"]
    assert len(rows) == len(report) > 0
    value = survey.upper()
    for shown, expected in zip(rows, report, strict=True):
        assert shown["Period"] == expected["period"]
        if by:
            assert shown[by] == expected["group"]
        assert int(shown["Answers (n)"]) == expected["n"]
        assert float(shown[value]) == pytest.approx(expected["score"])
        assert number(shown["95% interval, low"]) == pytest.approx(expected["score_low"])
        assert number(shown["95% interval, high"]) == pytest.approx(expected["score_high"])
        assert number(shown["Change"]) == pytest.approx(expected["change"])
        words = shown["In plain words"]
        if expected["change"] is None:
            assert words.startswith("first period")
        elif expected["change_significant"]:
            direction = "up" if expected["change"] > 0 else "down"
            assert words.startswith(direction) and "a real change" in words, words
            assert expected["previous"] in words
        else:
            assert "could be noise" in words, words
        reliable = expected["n"] >= 30  # the workspace's [cx] min_n (default)
        assert shown["Reliable"] == ("yes" if reliable else "small sample")
        assert expected["reliable"] == reliable


def test_viewers_see_no_small_group_and_no_detractors(
    dashboard: Dashboard, client_as: Callable[[str], httpx.Client]
) -> None:
    viewer = client_as("viewer")
    rows = download(viewer, "/experience?score=nps&period=quarter&by=channel&download=scores-data")
    assert rows and all(int(r["Answers (n)"]) >= 10 for r in rows)  # [cx] viewer_min_group
    everyone = api(dashboard, "/api/cx/nps", period="quarter", by="channel")["rows"]
    assert any(r["n"] < 10 for r in everyone)  # the analyst sees them: the test means something
    page = viewer.get("/experience")
    assert page.status_code == 200
    assert "/experience/detractors" not in page.text
    assert "Detractors to call back" not in page.text
    refused = viewer.get("/experience/detractors")
    assert refused.status_code == 403
    assert "<table" not in refused.text
    # Kano: no feature of fewer than 10 answers for viewers either.
    for row in download(viewer, "/experience/kano?download=kano-data"):
        assert int(row["Answers (n)"]) >= 10
    analyst = client_as("analyst").get("/experience")
    assert 'href="/experience/detractors"' in analyst.text


def test_the_navigation_leads_to_the_scores_for_every_role(
    client_as: Callable[[str], httpx.Client],
) -> None:
    for role in ("admin", "analyst", "viewer"):
        html = client_as(role).get("/overview").text
        assert re.search(r'<a href="/experience"[^>]*>Experience</a>', html), role


def test_bad_input_is_a_message_on_the_page_with_the_form_kept(
    client_as: Callable[[str], httpx.Client],
) -> None:
    client = client_as("analyst")
    cases = {
        "/experience?by=properties.comment": "free text",
        "/experience?by=favourite_colour": "unknown attribute",
        "/experience?score=happiness": "score",
        "/experience?since=yesterday": "since",
        "/experience?since=2025-06-01&until=2025-01-01": "until",
        "/experience/drivers?window_days=0": "window_days",
        "/experience/detractors?days=-3": "days",
        "/experience/kano?until=31/12/2025": "until",
        "/experience/experiments?window_days=x": "window_days",
        "/experience/experiments?name=no-such-test": "no-such-test",
    }
    for path, words in cases.items():
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert 'role="alert"' in answer.text, path
        alert = answer.text.split('role="alert"', 1)[1].split("</p>", 1)[0]
        assert words in alert, (path, alert)
        assert "Traceback" not in answer.text
    kept = client.get("/experience?by=properties.comment&period=month&score=ces")
    assert 'value="properties.comment"' in kept.text
    assert '<option value="month" selected>' in kept.text
    assert '<option value="ces" selected>' in kept.text
    # Hostile values come back as text, in the message and in the form.
    for path in (
        "/experience?by=properties.<script>alert(1)</script>",
        "/experience/experiments?name=<script>alert(1)</script>",
        "/experience/experiments?goal=<script>alert(1)</script>",
        "/experience/detractors?touchpoint=<script>alert(1)</script>",
    ):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "<script>alert" not in answer.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text, path
    unknown = client.get("/experience?download=nothing")
    assert unknown.status_code == 404


# -- detractors --------------------------------------------------------------------------------


def test_a_detractors_comment_is_text_and_links_to_the_customer(
    dashboard: Dashboard, client_as: Callable[[str], httpx.Client]
) -> None:
    uid = uuid.uuid4().hex[:10]
    touchpoint = f"tp-{uid}"
    comment = f'<script>alert("{uid}")</script> Livraison <b>en retard</b>'
    track(
        dashboard,
        f"angry-{uid}",
        "NPS Answered",
        {"score": 2, "touchpoint": touchpoint, "comment": comment, "survey_id": "nps-dash"},
    )
    [person] = api(dashboard, "/api/cx/detractors", touchpoint=touchpoint)["people"]
    for role in ("admin", "analyst"):
        page = client_as(role).get(f"/experience/detractors?touchpoint={touchpoint}")
        assert page.status_code == 200
        assert f'alert("{uid}")' not in page.text
        assert f"&lt;script&gt;alert(&#34;{uid}&#34;)&lt;/script&gt;" in page.text
        assert "&lt;b&gt;en retard&lt;/b&gt;" in page.text
        assert f'href="/customers/{person["profile_id"]}"' in page.text
    rows = download(
        client_as("analyst"),
        f"/experience/detractors?touchpoint={touchpoint}&download=detractors-data",
    )
    assert [r["Comment"] for r in rows] == [person["comment"]]
    assert rows[0]["Score given"] == "2" and rows[0]["Customer"] == person["profile_id"]
    # A hostile touchpoint as a breakdown: escaped in the table and in the chart's JSON.
    track(dashboard, f"other-{uid}", "NPS Answered", {"score": 9, "touchpoint": f"<i>{uid}</i>"})
    scores = client_as("analyst").get("/experience?by=touchpoint&period=year")
    assert f"<i>{uid}" not in scores.text
    assert f"&lt;i&gt;{uid}&lt;/i&gt;" in scores.text  # the table
    assert f"\\u003ci\\u003e{uid}\\u003c/i\\u003e" in scores.text  # the figure's JSON


def test_an_empty_period_points_to_the_latest_low_answer(
    client_as: Callable[[str], httpx.Client],
) -> None:
    client = client_as("analyst")
    # The demo's answers are in 2025; a week ending on 1 Jan 2025 has none.
    page = client.get("/experience/detractors?days=7&until=2025-01-01&score=nps")
    assert page.status_code == 200
    assert "Nobody to call back in this period" in page.text
    found = re.search(r'href="\?([^"]*until=(\d{4}-\d{2}-\d{2})[^"]*)"', page.text)
    assert found, page.text
    follow = client.get("/experience/detractors?" + found.group(1).replace("&amp;", "&"))
    assert "/customers/" in follow.text


# -- key drivers and Kano ----------------------------------------------------------------------


def test_key_drivers_are_the_apis(
    dashboard: Dashboard, client_as: Callable[[str], httpx.Client]
) -> None:
    client = client_as("viewer")
    rows = download(client, "/experience/drivers?score=nps&window_days=30&download=drivers-data")
    body = api(dashboard, "/api/cx/drivers", survey="nps", window_days=30)
    expected = body["drivers"]
    assert len(rows) == len(expected) == 8
    for shown, driver in zip(rows, expected, strict=True):
        assert int(shown["Rank"]) == driver["rank"]
        assert float(shown["Share of R²"]) == pytest.approx(driver["importance"])
        assert number(shown["95% interval, low"]) == pytest.approx(driver["ci_low"])
        assert number(shown["95% interval, high"]) == pytest.approx(driver["ci_high"])
        direction = {1: "raises the score", -1: "lowers the score"}.get(driver["direction"], "")
        assert shown["Direction"] == direction
    assert rows[0]["Part of the journey"] == "Unresolved contacts"  # planted by the demo
    html = client.get("/experience/drivers").text
    r2 = round(body["r_squared"] * 100)
    assert f"go with {r2}% of the differences between NPS answers" in html
    assert f"({body['n']:,} answers)" in html


def test_kano_is_the_apis(dashboard: Dashboard, client_as: Callable[[str], httpx.Client]) -> None:
    rows = download(client_as("analyst"), "/experience/kano?download=kano-data")
    features = {f["feature"]: f for f in api(dashboard, "/api/cx/kano")["features"]}
    assert {r["Feature"] for r in rows} == set(features)
    for shown in rows:
        expected = features[shown["Feature"]]
        assert int(shown["Answers (n)"]) == expected["n"]
        assert float(shown["Better"]) == pytest.approx(expected["better"])
        assert float(shown["Worse"]) == pytest.approx(expected["worse"])
        assert shown["Category"] == (expected["tied"] or expected["dominant"]).replace(", ", " = ")
        assert float(shown["Must-be"]) == pytest.approx(expected["Must-be"])


# -- experiments -------------------------------------------------------------------------------


def test_the_demo_experiment_has_its_verdict_from_the_apis_numbers(
    dashboard: Dashboard, client_as: Callable[[str], httpx.Client]
) -> None:
    client = client_as("viewer")
    body = api(dashboard, "/api/cx/experiments/checkout-countdown")
    listed = download(client, "/experience/experiments?download=experiments-list")
    assert [r["Experiment"] for r in listed] == ["checkout-countdown"]
    assert listed[0]["Variants"] == "control, no_countdown"
    variants = {v["variant"]: v for v in body["variants"]}
    shown = download(client, "/experience/experiments?download=experiment-0-data")
    assert [int(r["Visitors"]) for r in shown] == [v["exposed"] for v in body["variants"]]
    assert [int(r["Converted"]) for r in shown] == [v["converted"] for v in body["variants"]]
    html = client.get("/experience/experiments").text
    verdict = re.search(r'<p class="verdict (\w+)">([^<]*)</p>', html)
    assert verdict, html
    treatment = variants["no_countdown"]
    if treatment["p_value"] < 0.05:
        word = "better" if treatment["absolute_lift"] > 0 else "worse"
        lift = abs(treatment["absolute_lift"]) * 100
        assert f"no_countdown converts {lift:.1f} points {word}" in verdict.group(2)
    else:
        # The API's own sentence says how many users per arm the test needs.
        needed = re.search(
            r"needed per arm to detect a lift of [^:]*: ([\d,]+)", body["verdict"]["en"]
        )
        assert needed, body["verdict"]["en"]
        more = int(needed.group(1).replace(",", "")) - min(v["exposed"] for v in body["variants"])
        assert verdict.group(1) == "wait"
        assert verdict.group(2).startswith(f"Not enough data yet: {more:,} more visitors per")
        low = treatment["absolute_lift_ci_low"] * 100
        assert f"CI {'−' if low < 0 else '+'}{abs(low):.1f} to" in verdict.group(2)


def _view(language: str) -> View:
    workspace = SimpleNamespace(config=SimpleNamespace(timezone="UTC"))
    cache = ReportCache(lambda: 0)
    return View(cast(Any, workspace), cast(Any, None), language, QueryParams(""), "/", cache)


def _report(control: tuple[int, int], treatment: tuple[int, int]) -> ExperimentReport:
    from datetime import timedelta

    result = analyze_experiment([VariantCounts("A", *control), VariantCounts("B", *treatment)], "A")
    return ExperimentReport("planted", "Order Completed", timedelta(days=7), result, 0, 0, 0)


def test_verdicts_in_plain_words_in_english_and_french() -> None:
    # 16 % against 10 % of 1,000 each: B is better by 6.0 points, well beyond noise.
    report = _report((1000, 100), (1000, 160))
    [comparison] = report.result.comparisons
    ci = comparison.absolute_lift_ci
    text, tone = _verdict(_view("en"), report, comparison)
    assert tone == "good"
    assert text == (
        f"B converts 6.0 points better than A (95% CI +{ci.low * 100:.1f} to "
        f"+{ci.high * 100:.1f}): ship B."
    )
    text, _ = _verdict(_view("fr"), report, comparison)
    assert text.startswith("B convertit 6,0 points de mieux que A (IC à 95 % : +")
    assert text.endswith(": déployez B.")
    # The other way round: keep A.
    worse = _report((1000, 160), (1000, 100))
    text, tone = _verdict(_view("en"), worse, worse.result.comparisons[0])
    assert (
        tone == "bad" and text.startswith("B converts 6.0 points worse than A") and "keep A" in text
    )
    # Too few visitors to tell: how many more each variant needs, from the power formula.
    small = _report((100, 10), (100, 12))
    c = small.result.comparisons[0]
    from scipy import stats

    h = 2 * math.asin(math.sqrt(0.11)) - 2 * math.asin(math.sqrt(0.10))
    needed = math.ceil(2 * (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) ** 2 / h**2)
    assert c.sample_size_per_arm == pytest.approx(needed, abs=1)
    text, tone = _verdict(_view("en"), small, c)
    assert tone == "wait"
    assert text.startswith(f"Not enough data yet: {c.sample_size_per_arm - 100:,} more visitors")
    text, _ = _verdict(_view("fr"), small, c)
    more_fr = f"{c.sample_size_per_arm - 100:,}".replace(",", "\u202f")
    assert text.startswith(f"Pas encore assez de données : il faut {more_fr} visiteurs de plus")


def test_every_text_of_the_experience_page_is_in_french() -> None:
    from empreinte.web.dashboard.i18n import untranslated

    missing = {
        text: where
        for text, where in untranslated()["fr"].items()
        if any("experience" in place for place in where)
    }
    assert not missing, missing


# -- in a browser --------------------------------------------------------------------------


def _cell(page: Any, table: str, period: str, group: str, column: int) -> str:
    row = (
        page.locator(f"#{table} tbody tr")
        .filter(has=page.locator("td:nth-child(1)", has_text=re.compile(f"^{period}$")))
        .filter(has=page.locator("td:nth-child(2)", has_text=re.compile(f"^{group}$")))
    )
    return str(row.locator(f"td:nth-child({column})").inner_text()).strip()


def test_a_cx_manager_reads_nps_by_quarter_and_channel_in_english_then_french(
    dashboard: Dashboard, page_as: Callable[..., Any]
) -> None:
    page = page_as("analyst", locale="en-GB", width=1024)
    page.get_by_role("link", name="Experience").click()
    page.wait_for_url(re.compile(r".*/experience$"))
    page.locator("select[name=score]").select_option("nps")
    page.get_by_label("Period").select_option("quarter")
    page.get_by_label("Breakdown").fill("channel")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"by=channel"))
    page.wait_for_selector("#scores .main-svg")
    rows = api(dashboard, "/api/cx/nps", period="quarter", by="channel")["rows"]
    biggest = max(rows, key=lambda r: r["n"])
    shown = _cell(page, "scores-data", biggest["period"], biggest["group"], 4)
    assert re.fullmatch(r"-?\d+\.\d", shown), shown
    assert abs(float(shown) - biggest["score"]) <= 0.05 + 1e-9
    n = _cell(page, "scores-data", biggest["period"], biggest["group"], 3)
    assert n == f"{biggest['n']:,}"
    assert page.locator("#scores .scatterlayer .trace").count() == len({r["group"] for r in rows})
    screenshot(page, "experience-scores-en")

    page.get_by_role("link", name="Key drivers").click()
    page.wait_for_selector("#drivers .main-svg")
    assert page.locator("p.summary").inner_text().startswith("Together, these parts")
    screenshot(page, "experience-drivers-en")
    page.get_by_role("link", name="Detractors to call back").click()
    page.get_by_label("Ending (excluded)").fill("2026-01-01")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#detractors-data")
    screenshot(page, "experience-detractors-en")
    page.get_by_role("link", name="Kano").click()
    page.wait_for_selector("#kano .main-svg")
    screenshot(page, "experience-kano-en")
    page.get_by_role("link", name="Experiments").click()
    verdict = page.locator("p.verdict").first.inner_text()
    assert verdict.startswith(("Not enough data yet", "no_countdown converts"))
    screenshot(page, "experience-experiments-en")

    # French: the scores again, labels and decimal comma.
    page.get_by_role("link", name="Scores").click()
    page.get_by_label("Breakdown").fill("channel")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"by=channel"))
    page.get_by_role("link", name="FR", exact=True).click()
    page.wait_for_selector("#scores .main-svg")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", name="Expérience", exact=True).is_visible()
    assert page.get_by_role("link", name="Facteurs clés").is_visible()
    assert page.get_by_label("Ventilation").input_value() == "channel"
    shown = _cell(page, "scores-data", biggest["period"], biggest["group"], 4)
    assert re.fullmatch(r"-?\d+,\d", shown), shown
    assert abs(float(shown.replace(",", ".")) - biggest["score"]) <= 0.05 + 1e-9
    words = _cell(page, "scores-data", biggest["period"], biggest["group"], 8)
    assert words.startswith(("première période", "en hausse", "en baisse")) or "bruit" in words
    screenshot(page, "experience-scores-fr")
    page.get_by_role("link", name="Tests A/B").click()
    assert (
        page.locator("p.verdict")
        .first.inner_text()
        .startswith(("Pas encore assez de données", "no_countdown convertit"))
    )
    screenshot(page, "experience-experiments-fr")
    assert not page.errors


def test_every_tab_is_labelled_and_fits_a_tablet(
    dashboard: Dashboard, page_as: Callable[..., Any]
) -> None:
    unlabelled = """() => Array.from(document.querySelectorAll(
        'input:not([type=hidden]), select, textarea'))
      .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
      .map(el => el.outerHTML.slice(0, 120))"""
    page = page_as("admin", width=768)
    for path in (
        "/experience?by=channel&period=quarter",
        "/experience/drivers",
        "/experience/detractors?until=2026-01-01",
        "/experience/kano",
        "/experience/experiments",
    ):
        page.goto(dashboard.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate(unlabelled) == [], path
        assert page.locator("h1").count() == 1, path
        assert page.locator("nav.tabs a[aria-current=page]").count() == 1, path
        assert page.locator("header nav a[aria-current=page]").inner_text() == "Experience"
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
    screenshot(page, "experience-experiments-768")
    assert not page.errors
