"""The journeys pages: the funnel builder, drop-off lists, paths, channels, ROPO, calls after
the web and attribution, over the demo served by the real `empreinte serve`.

Every number asserted is checked against the HTTP API (`/api/journeys/*` with the demo's admin
token) on the same data, or against events the test sent itself through the collector, never
against what the page code computed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from dashboard_support import Dashboard, api, screenshot

STEPS = ("Product Viewed", "Checkout Started", "Order Completed")
TABS = (
    "/journeys",
    "/journeys/paths",
    "/journeys/channels",
    "/journeys/ropo",
    "/journeys/calls",
    "/journeys/attribution",
)


class _Tables(HTMLParser):
    """The cells of every `table.data` of a page: id → rows → (data-sort, text, href)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str, str | None]]]] = {}
        self._table: str | None = None
        self._cell: list[Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and "data" in (found.get("class") or ""):
            self._table = found.get("id") or ""
            self.tables[self._table] = []
        elif self._table is not None and tag == "tr":
            self.tables[self._table].append([])
        elif self._table is not None and tag == "td":
            self._cell = [found.get("data-sort") or "", "", None]
        elif self._cell is not None and tag == "a":
            self._cell[2] = found.get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "td" and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append(tuple(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[1] += data


def tables_of(html: str) -> dict[str, list[list[tuple[str, str, str | None]]]]:
    parser = _Tables()
    parser.feed(html)
    return {k: [r for r in rows if r] for k, rows in parser.tables.items()}


def funnel_query(*steps: str, **more: str) -> str:
    return urlencode([*(("step", s) for s in steps), *more.items()])


def column(rows: list[list[tuple[str, str, str | None]]], index: int) -> list[str]:
    return [row[index][0] for row in rows]


# -- roles -------------------------------------------------------------------------------------


def test_viewers_get_403_and_no_link_as_on_the_api(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    viewer = client_as("viewer")
    for tab in TABS:
        assert viewer.get(tab).status_code == 403, tab
    assert 'href="/journeys"' not in viewer.get("/overview").text
    # The API refuses viewers the same reports (tests/web/test_roles.py's matrix).
    analyst = client_as("analyst")
    assert 'href="/journeys"' in analyst.get("/overview").text


def test_anonymous_visitors_are_sent_to_the_login(dashboard: Dashboard) -> None:
    answer = httpx.get(dashboard.url + "/journeys/paths?anchor=x", timeout=30)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


# -- funnel ------------------------------------------------------------------------------------


def test_the_funnel_shows_the_apis_numbers(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    page = client_as("analyst").get("/journeys?" + funnel_query(*STEPS, window="7d"))
    assert page.status_code == 200
    rows = tables_of(page.text)["funnel-steps"]
    expected = api(dashboard, "/api/journeys/funnel", step=list(STEPS), window="7d")["rows"]
    assert [int(v) for v in column(rows, 1)] == [r["count"] for r in expected]
    assert [int(v) for v in column(rows, 4)] == [r["drop_off"] for r in expected]
    for shown, truth in zip(column(rows, 2), expected, strict=True):
        assert float(shown) == pytest.approx(truth["conversion"])
    assert expected[0]["count"] > expected[-1]["count"] > 0
    # the step boxes suggest the event names of the data
    assert '<option value="NPS Answered">' in page.text
    # the chart's data is the same
    chart = tables_of(page.text)["funnel-data"]
    assert [int(v) for v in column(chart, 1)] == [r["count"] for r in expected]


def test_a_breakdown_and_strict_mode_match_the_api(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    query = funnel_query(*STEPS, window="1d", mode="strict", by="generation", count="entries")
    page = client_as("admin").get("/journeys?" + query)
    rows = tables_of(page.text)["funnel-steps"]
    shown = {(row[0][1], row[1][1]): int(row[2][0]) for row in rows}
    expected = api(
        dashboard,
        "/api/journeys/funnel",
        step=list(STEPS),
        window="1d",
        mode="strict",
        by="generation",
        count="entries",
    )["rows"]
    assert shown == {(r["group"], f"{r['step']}. {r['label']}"): r["count"] for r in expected}
    assert len({r["group"] for r in expected}) > 1


def test_a_period_limits_the_funnel_as_on_the_api(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    whole = api(dashboard, "/api/journeys/funnel", step=list(STEPS))["rows"]
    expected = api(
        dashboard, "/api/journeys/funnel", step=list(STEPS), since="2025-03-01", until="2025-06-01"
    )["rows"]
    analyst = client_as("analyst")
    page = analyst.get("/journeys?" + funnel_query(*STEPS, since="2025-03-01", until="2025-06-01"))
    rows = tables_of(page.text)["funnel-steps"]
    assert [int(v) for v in column(rows, 1)] == [r["count"] for r in expected]
    assert 0 < expected[0]["count"] < whole[0]["count"]
    assert 'value="2025-03-01"' in page.text
    wrong = analyst.get("/journeys?" + funnel_query(*STEPS, since="2025-06-01", until="2025-03-01"))
    assert "must be after" in wrong.text and 'value="2025-06-01"' in wrong.text
    garbled = analyst.get("/journeys?" + funnel_query(*STEPS, since="1st of March"))
    assert "must be a date" in garbled.text


def test_who_dropped_is_the_apis_list_linked_to_each_customer(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    analyst = client_as("analyst")
    page = analyst.get("/journeys?" + funnel_query(*STEPS))
    links = [cell[2] for row in tables_of(page.text)["funnel-steps"] for cell in row if cell[2]]
    assert len(links) == 2 and "dropped=1" in links[0] and "dropped=2" in links[1]
    listed = analyst.get(links[1].split("#")[0])
    rows = tables_of(listed.text)["dropped-people"]
    expected = api(dashboard, "/api/journeys/funnel", step=list(STEPS), dropped=2)
    assert [row[0][1] for row in rows] == expected["people"]
    assert expected["total"] == len(rows) > 0
    assert all(row[0][2] == f"/customers/{row[0][1]}" for row in rows)
    csv = analyst.get(links[1].split("#")[0] + "&download=dropped-people")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[1:] == expected["people"]
    # what they are: pseudonymous profile ids, never an e-mail address
    assert "@" not in "".join(row[0][1] for row in rows)


def test_bad_steps_show_the_parsers_message_and_keep_the_form(
    client_as: Callable[[str], httpx.Client],
) -> None:
    analyst = client_as("analyst")
    page = analyst.get("/journeys?" + funnel_query("Product Viewed[oops", "Order Completed"))
    assert page.status_code == 200
    assert "write filters as Event Name[key=value,key=value]" in page.text
    assert 'value="Product Viewed[oops"' in page.text
    assert 'value="Order Completed"' in page.text
    window = analyst.get("/journeys?" + funnel_query(*STEPS, window="7 weeks"))
    assert "window &#39;7 weeks&#39;" in window.text and 'value="7 weeks"' in window.text
    one = analyst.get("/journeys?" + funnel_query("Product Viewed"))
    assert "Give at least two steps." in one.text
    many = analyst.get("/journeys?" + funnel_query(*["Product Viewed"] * 21))
    assert many.status_code == 200 and "at most 20 steps" in many.text
    dropped = analyst.get("/journeys?" + funnel_query(*STEPS, dropped="zero"))
    assert "must be a whole number" in dropped.text
    mode = analyst.get("/journeys?" + funnel_query(*STEPS, mode="sideways"))
    assert mode.status_code == 400 and "must be one of ordered, strict, unordered" in mode.text
    for answer in (page, window, one, many, dropped, mode):
        assert "Traceback" not in answer.text


def test_a_script_sent_through_the_collector_shows_as_text(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard, uid: str
) -> None:
    hostile = "<script>alert('journeys')</script>"
    # journeys count people who allow analytics: a cookie banner's grant counts from the web
    consent = {"event": "Consent Updated", "properties": {"purpose": "analytics", "granted": True}}
    sent_events = [
        consent,
        *(
            {"event": e, "properties": {"ref": hostile}}
            for e in ("Product Viewed", "Order Completed")
        ),
    ]
    for event in sent_events:
        sent = httpx.post(
            dashboard.url + "/v1/track",
            json={"userId": uid, **event},
            auth=(dashboard.write_key, ""),
            timeout=30,
        )
        assert sent.status_code == 200, sent.text
    query = funnel_query("Product Viewed", "Order Completed", by="properties.ref")
    page = client_as("analyst").get("/journeys?" + query)
    assert hostile not in page.text
    assert "&lt;script&gt;alert(&#39;journeys&#39;)&lt;/script&gt;" in page.text
    rows = tables_of(page.text)["funnel-steps"]
    mine = [row for row in rows if row[0][1] == hostile]
    # planted: one person, both steps
    assert [int(row[2][0]) for row in mine] == [1, 1]


def test_a_funnel_nobody_entered_says_what_to_send(
    client_as: Callable[[str], httpx.Client],
) -> None:
    page = client_as("analyst").get(
        "/journeys?" + funnel_query("Never Sent Once", "Order Completed")
    )
    assert "Nobody went through this funnel" in page.text
    assert "analytics.track(" in page.text and "Never Sent Once" in page.text
    assert 'data-kpi="entered">0<' in page.text


def test_who_dropped_in_one_group_of_a_breakdown_is_the_apis(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    analyst = client_as("analyst")
    page = analyst.get("/journeys?" + funnel_query(*STEPS, by="channel"))
    rows = tables_of(page.text)["funnel-steps"]
    links = [row[-1][2] for row in rows if row[-1][2] and "group=web" in row[-1][2]]
    assert links, "no list link for the web group"
    listed = tables_of(analyst.get(links[0].split("#")[0]).text)["dropped-people"]
    step = int(re.search(r"dropped=(\d+)", links[0]).group(1))  # type: ignore[union-attr]
    expected = api(
        dashboard, "/api/journeys/funnel", step=list(STEPS), by="channel", dropped=step, group="web"
    )
    assert [row[0][1] for row in listed] == expected["people"] and expected["total"] > 0


def test_the_tables_download_as_csv(client_as: Callable[[str], httpx.Client]) -> None:
    answer = client_as("analyst").get("/journeys?" + funnel_query(*STEPS, download="funnel-steps"))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    lines = answer.text.splitlines()
    assert lines[0].startswith("Step,People,Conversion from step 1") and len(lines) == 4


# -- the other tabs ------------------------------------------------------------------------------


def test_paths_are_the_apis_sankey(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    query = urlencode({"anchor": "Checkout Started", "depth": "2", "top": "4"})
    page = client_as("analyst").get("/journeys/paths?" + query)
    assert page.status_code == 200 and '"type":"sankey"' in page.text
    rows = tables_of(page.text)["paths-data"]
    expected = api(
        dashboard, "/api/journeys/paths", **{"from": "Checkout Started", "depth": 2, "top": 4}
    )
    shown = {(r[1][1], r[2][1], int(r[0][0])): int(r[3][0]) for r in rows}
    assert shown == {
        (t["source"], t["target"], t["level"]): t["transitions"] for t in expected["sankey"]
    }
    unknown = client_as("analyst").get("/journeys/paths?anchor=Prodcut+Viewed")
    assert "unknown step" in unknown.text and 'value="Prodcut Viewed"' in unknown.text
    deep = client_as("analyst").get("/journeys/paths?anchor=Order+Completed&depth=99")
    assert deep.status_code == 200 and "must be between 1 and 10" in deep.text
    assert 'value="99"' in deep.text and 'value="Order Completed"' in deep.text
    assert "paths-data" not in deep.text


def test_channels_ropo_calls_and_attribution_are_the_apis(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    analyst = client_as("analyst")
    channels = tables_of(analyst.get("/journeys/channels").text)
    classes = api(dashboard, "/api/journeys/channels")["rows"]
    assert [int(v) for v in column(channels["channel-classes-data"], 2)] == [
        r["people"] for r in classes
    ]
    mix = api(dashboard, "/api/journeys/channels", view="mix")
    assert {r[0][1]: int(r[1][0]) for r in channels["channel-mix-data"]} == {
        r["channel"]: r["people"] for r in mix["channels"]
    }

    ropo = tables_of(analyst.get("/journeys/ropo?window_days=3").text)["ropo-data"]
    for row, direction in zip(ropo, ("ropo", "showrooming"), strict=True):
        [truth] = api(dashboard, "/api/journeys/ropo", direction=direction, window_days=3)["rows"]
        assert int(row[1][0]) == truth["purchases"]
        assert float(row[3][0]) == pytest.approx(truth["purchase_rate"])

    calls_page = analyst.get("/journeys/calls")
    calls = api(dashboard, "/api/journeys/friction", kind="calls")
    shown = tables_of(calls_page.text)["called-pages-data"]
    pages = [r for r in calls["ranking"] if r["kind"] == "page"]
    assert [(r[0][1], int(r[1][0])) for r in shown] == [(p["value"], p["calls"]) for p in pages]

    page = analyst.get("/journeys/attribution?models=heuristic&by=channel")
    attribution = api(dashboard, "/api/journeys/attribution", models="heuristic")
    table = tables_of(page.text)["attribution-conversions-data"]
    truth = {r["channel"]: r for r in attribution["rows"]}
    assert {r[0][1] for r in table} == set(truth)
    for row in table:
        for i, model in enumerate(attribution["models"], 1):
            assert float(row[i][0]) == pytest.approx(truth[row[0][1]][f"{model}_conversions"])
    bad = analyst.get("/journeys/attribution?lookback=forever")
    assert "lookback" in bad.text and 'value="forever"' in bad.text


# -- in the browser ------------------------------------------------------------------------------


def _people_at_steps(page: Any) -> list[int]:
    cells = page.locator("#funnel-steps tbody tr td:nth-child(2)")
    return [int(cells.nth(i).get_attribute("data-sort")) for i in range(cells.count())]


def test_a_marketer_builds_a_funnel_and_reads_who_dropped(
    page_as: Callable[..., Any], dashboard: Dashboard
) -> None:
    page = page_as("admin")
    page.goto(dashboard.url + "/journeys")
    page.get_by_role("link", name="Journeys").first.wait_for()
    steps = page.locator("input[name=step]")
    for i, step in enumerate(("Product Added", "Checkout Started", "Order Completed")):
        steps.nth(i).fill(step)
    page.get_by_label("Conversion window").fill("3d")
    page.get_by_label("Order of the steps").select_option("ordered")
    page.get_by_role("button", name="Show the funnel").click()
    page.wait_for_url(re.compile(r".*step=Product\+Added.*"))
    page.locator("#funnel .main-svg").first.wait_for()
    expected = api(
        dashboard,
        "/api/journeys/funnel",
        step=["Product Added", "Checkout Started", "Order Completed"],
        window="3d",
    )["rows"]
    assert _people_at_steps(page) == [r["count"] for r in expected]
    entered = page.locator("[data-kpi=entered]").inner_text()
    assert int(re.sub(r"\D", "", entered)) == expected[0]["count"]
    # a fourth box is there to add a step
    assert page.locator("input[name=step]").count() == 4
    screenshot(page, "journeys-funnel-en")

    page.locator("#funnel-steps a", has_text="list").first.click()
    page.locator("#dropped").wait_for()
    dropped = api(
        dashboard,
        "/api/journeys/funnel",
        step=["Product Added", "Checkout Started", "Order Completed"],
        window="3d",
        dropped=1,
    )
    caption = page.locator("#dropped .caption").inner_text()
    assert int(re.sub(r"\D", "", caption.split(" ")[0])) == dropped["total"]
    first = page.locator("#dropped tbody tr:not([hidden]) a").first
    assert first.inner_text() == dropped["people"][0]
    screenshot(page, "journeys-dropped-en")
    assert not page.errors


def test_paths_draw_a_sankey_and_every_tab_renders(
    page_as: Callable[..., Any], dashboard: Dashboard
) -> None:
    page = page_as("analyst", width=1024)
    page.goto(dashboard.url + "/journeys/paths")
    page.get_by_label("Step", exact=True).fill("Checkout Started")
    page.get_by_label("Direction").select_option("previous")
    page.get_by_role("button", name="Show the paths").click()
    page.wait_for_url(re.compile(r".*direction=previous.*"))
    page.locator("svg .sankey").first.wait_for()
    assert page.locator("svg .sankey .sankey-node").count() > 3
    screenshot(page, "journeys-paths-en")
    for tab, name in (
        ("channels", "Channels"),
        ("ropo", "ROPO and showrooming"),
        ("calls", "Calls after the web"),
        ("attribution", "Attribution"),
    ):
        page.get_by_role("link", name=name, exact=True).click()
        page.wait_for_url(re.compile(rf".*/journeys/{tab}$"))
        page.locator(".chart .main-svg").first.wait_for()
        screenshot(page, f"journeys-{tab}-en")
    assert not page.errors


def test_the_funnel_in_french(page_as: Callable[..., Any], dashboard: Dashboard) -> None:
    page = page_as("analyst", locale="fr-FR")
    page.goto(dashboard.url + "/journeys?" + funnel_query(*STEPS))
    page.get_by_role("heading", name="Construire un entonnoir").wait_for()
    page.locator("#funnel .main-svg").first.wait_for()
    expected = api(dashboard, "/api/journeys/funnel", step=list(STEPS))["rows"]
    entered = page.locator("[data-kpi=entered]").inner_text()
    # French digit grouping: a narrow no-break space (1 234), from Babel
    assert entered == f"{expected[0]['count']:,}".replace(",", "\u202f")
    rate = page.locator("[data-kpi=rate]").inner_text()
    assert rate.endswith("%") and "," in rate
    assert page.get_by_role("columnheader", name="Conversion depuis l’étape 1").count() == 1
    screenshot(page, "journeys-funnel-fr")
    # by generation: one bar per step and generation, with a legend
    page.get_by_label("Ventilation").fill("generation")
    page.get_by_role("button", name="Afficher l’entonnoir").click()
    page.wait_for_url(re.compile(r".*by=generation.*"))
    page.locator("#funnel .legend").first.wait_for()
    groups = {
        r["group"]
        for r in api(dashboard, "/api/journeys/funnel", step=list(STEPS), by="generation")["rows"]
    }
    assert page.locator("#funnel .legend .traces").count() == min(len(groups), 8)
    screenshot(page, "journeys-breakdown-fr")
    assert not page.errors
