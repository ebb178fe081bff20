"""The segments and personas pages on the demo served by the real `empreinte serve`.

Every number the pages show is checked against the API (`/api/segments…`,
`/api/know/personas`) called with the demo's admin token on the same data: the page and the
API share the service, but not the page's code. Segments are named with `uid` so that tests
sharing the demo do not collide.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from dashboard_support import Dashboard, csrf_of, screenshot

FR = 'country = "FR"'
FR_BUYERS = 'country = "FR" and orders >= 2'


def api(dashboard: Dashboard, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(
        method,
        dashboard.url + path,
        headers={"Authorization": f"Bearer {dashboard.admin_token}"},
        timeout=120,
        **kwargs,
    )


def api_size(dashboard: Dashboard, expression: str) -> int:
    answer = api(dashboard, "GET", "/api/segments/preview", params={"expression": expression})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["size"])


def live_size(text: str) -> int:
    found = re.search(r'data-size="(\d+)"', text)
    assert found, text
    return int(found.group(1))


def save(client: httpx.Client, **form: str) -> httpx.Response:
    token = csrf_of(client.get("/segments").text)
    fields = {"name": "", "expression": "", "description": "", "schedule": "", **form}
    return client.post("/segments", data={"csrf": token, **fields})


# -- roles ---------------------------------------------------------------------------------


def test_viewers_get_403_and_no_navigation_entry(
    client_as: Callable[[str], httpx.Client],
) -> None:
    viewer = client_as("viewer")
    for path in ("/segments", "/personas", "/segments/-/size?expression=x", "/personas/card"):
        assert viewer.get(path).status_code == 403, path
    assert 'href="/segments"' not in viewer.get("/overview").text
    token = csrf_of(viewer.get("/overview").text)
    refused = viewer.post("/segments", data={"csrf": token, "name": "v", "expression": FR})
    assert refused.status_code == 403
    for role in ("analyst", "admin"):
        client = client_as(role)
        assert 'href="/segments"' in client.get("/overview").text
        assert client.get("/segments").status_code == 200


def test_logged_out_is_sent_to_login(dashboard: Dashboard) -> None:
    answer = httpx.get(dashboard.url + "/segments", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


# -- the builder -----------------------------------------------------------------------------


def test_live_size_is_the_apis(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    analyst = client_as("analyst")
    sizes = {}
    for expression in (FR, FR_BUYERS, "orders >= 1"):
        answer = analyst.get("/segments/-/size", params={"expression": expression})
        assert answer.status_code == 200
        assert "<html" not in answer.text  # a fragment, not a page
        sizes[expression] = live_size(answer.text)
        assert sizes[expression] == api_size(dashboard, expression)
    assert 0 < sizes[FR_BUYERS] < sizes[FR]
    # Without script, the page counts the expression given in its address.
    page = analyst.get("/segments", params={"expression": FR})
    assert live_size(page.text) == sizes[FR]


def test_a_wrong_expression_shows_its_line_column_and_caret(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    expression = 'country = "FR" and contry = "DE"'
    refused = api(dashboard, "GET", "/api/segments/preview", params={"expression": expression})
    assert refused.status_code == 400
    body = refused.json()
    answer = client_as("analyst").get("/segments/-/size", params={"expression": expression})
    assert answer.status_code == 200
    text = html.unescape(answer.text)
    assert f"line {body['line']}, column {body['column']}" in text
    assert "did you mean 'country'" in text
    caret_line = " " * (body["column"] - 1) + "^"
    assert "\n  " + caret_line in text
    # A broken syntax too (an unclosed string), and an empty expression is no error.
    broken = client_as("analyst").get("/segments/-/size", params={"expression": 'country = "FR'})
    assert "cannot be read" in broken.text
    empty = client_as("analyst").get("/segments/-/size", params={"expression": ""})
    assert "Type an expression" in empty.text


def test_hostile_input_is_refused_with_a_message(
    client_as: Callable[[str], httpx.Client],
) -> None:
    analyst = client_as("analyst")
    too_long = analyst.get("/segments/-/size", params={"expression": "x" * 5000})
    assert too_long.status_code == 400 and "longer than" in too_long.text
    twice = analyst.get("/segments/-/size?expression=a&expression=b")
    assert twice.status_code == 400
    assert analyst.get("/personas", params={"k": "99"}).status_code == 400
    assert analyst.get("/personas/card", params={"n": "abc"}).status_code == 400
    assert analyst.get("/segments/no-such-segment").status_code == 404
    # A form without its CSRF token changes nothing.
    forged = analyst.post("/segments", data={"name": "forged", "expression": FR})
    assert forged.status_code == 403
    assert "forged" not in api_names(analyst)


def api_names(client: httpx.Client) -> set[str]:
    page = client.get("/segments").text
    return set(re.findall(r'<a href="/segments/([^"]+)">', page))


# -- saving, one segment, refresh, delete ----------------------------------------------------


def test_save_list_show_refresh_delete(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard, uid: str
) -> None:
    analyst = client_as("analyst")
    name = f"fr buyers {uid}"
    saved = save(analyst, name=name, expression=FR_BUYERS, schedule="1d", description="test")
    assert saved.status_code == 303
    assert saved.headers["location"] == "/segments/" + quote(name, safe="") + "?notice=saved"

    shown = api(dashboard, "GET", "/api/segments/" + quote(name, safe="")).json()
    assert shown["created_by"] == "dashboard:demo-analyst"
    listed = analyst.get("/segments").text
    row = re.search(
        r"<tr>\s*<td[^>]*><a href=\"/segments/" + re.escape(quote(name, safe="")) + r"\">.*?</tr>",
        listed,
        re.S,
    )
    assert row, listed
    assert FR_BUYERS in html.unescape(row.group(0))
    assert f'data-sort="{shown["size"]}"' in row.group(0)

    page = analyst.get("/segments/" + quote(name, safe=""))
    assert page.status_code == 200
    members = api(dashboard, "GET", f"/api/segments/{quote(name, safe='')}/members").json()
    linked = re.findall(r'<a href="/customers/(p_[0-9a-f]+)">', page.text)
    assert set(linked) == set(members["members"]) and members["total"] == shown["size"] > 0
    assert "@" not in "".join(linked)  # pseudonymous ids, never an e-mail
    history = api(
        dashboard, "GET", f"/api/segments/{quote(name, safe='')}/history", params={"limit": 1000}
    ).json()
    assert len(history["changes"]) == shown["size"]  # everyone entered at the first refresh
    assert page.text.count(">entered</span>") == shown["size"]

    csv = analyst.get("/segments/" + quote(name, safe=""), params={"download": "size"})
    assert csv.status_code == 200
    lines = csv.text.strip().splitlines()
    assert lines[0] == "Refresh,People,Entered,Left"
    assert lines[1].endswith(f",{shown['size']},{shown['size']},0")

    token = csrf_of(page.text)
    path = "/segments/" + quote(name, safe="")
    refreshed = analyst.post(path + "/refresh", data={"csrf": token})
    assert refreshed.status_code == 303 and "notice=refreshed" in refreshed.headers["location"]
    after = api(dashboard, "GET", path.replace("/segments", "/api/segments")).json()
    assert after["last_computed_at"] >= shown["last_computed_at"]

    # The same name twice is refused on the page, the form kept.
    again = save(analyst, name=name, expression=FR)
    assert again.status_code == 200 and "exists" in html.unescape(again.text)
    assert f">{FR}</textarea>" in html.unescape(again.text)

    # A segment another one uses cannot be deleted: said on the page.
    user = f"user {uid}"
    assert save(analyst, name=user, expression=f'in_segment("{name}")').status_code == 303
    blocked = analyst.post(path + "/delete", data={"csrf": token})
    assert blocked.status_code == 200 and "is used by" in html.unescape(blocked.text)
    for doomed in (user, name):
        gone = analyst.post("/segments/" + quote(doomed, safe="") + "/delete", data={"csrf": token})
        assert gone.status_code == 303 and gone.headers["location"] == "/segments?notice=deleted"
    assert api(dashboard, "GET", path.replace("/segments", "/api/segments")).status_code == 404


def test_change_a_segment(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard, uid: str
) -> None:
    admin = client_as("admin")
    name = f"changing {uid}"
    path = "/segments/" + quote(name, safe="")
    assert save(admin, name=name, expression=FR).status_code == 303
    token = csrf_of(admin.get(path).text)
    form = {"csrf": token, "expression": FR_BUYERS, "description": "now buyers", "schedule": ""}
    changed = admin.post(path + "/update", data=form)
    assert changed.status_code == 303 and "notice=updated" in changed.headers["location"]
    shown = api(dashboard, "GET", "/api/segments/" + quote(name, safe="")).json()
    assert shown["expression"] == FR_BUYERS and shown["size"] == api_size(dashboard, FR_BUYERS)
    assert shown["description"] == "now buyers" and shown["schedule"] is None
    page = admin.get(path).text
    assert f"{shown['size']} people, as of the last refresh." in page
    # A wrong expression: said on the page with its column, the form kept, nothing changed.
    form["expression"] = 'country = "FR" and'
    refused = admin.post(path + "/update", data=form)
    assert refused.status_code == 200
    text = html.unescape(refused.text)
    assert "cannot be read: line 1, column" in text and '>country = "FR" and</textarea>' in text
    again = api(dashboard, "GET", "/api/segments/" + quote(name, safe="")).json()
    assert again["expression"] == FR_BUYERS
    admin.post(path + "/delete", data={"csrf": token})


def test_overlap_is_the_apis(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard, uid: str
) -> None:
    admin = client_as("admin")
    a, b = f"fr {uid}", f"buyers {uid}"
    assert save(admin, name=a, expression=FR).status_code == 303
    assert save(admin, name=b, expression="orders >= 2").status_code == 303
    try:
        pairs = api(dashboard, "GET", "/api/segments/overlap", params={"name": [a, b]}).json()
        both = pairs["pairs"][0]["both"]
        csv = admin.get("/segments/" + quote(a, safe=""), params={"download": "overlap"})
        rows = [line.split(",") for line in csv.text.strip().splitlines()]
        mine = [r for r in rows if r[0] == b]
        assert mine and int(mine[0][2]) == both > 0
    finally:
        token = csrf_of(admin.get("/segments").text)
        for name in (a, b):
            admin.post("/segments/" + quote(name, safe="") + "/delete", data={"csrf": token})


def test_text_people_typed_is_shown_as_text(
    client_as: Callable[[str], httpx.Client], uid: str
) -> None:
    analyst = client_as("analyst")
    script = "<script>alert(1)</script>"
    name = f"xss {uid}"
    expression = f'traits.city = "{script}"'
    saved = save(analyst, name=name, expression=expression, description=script)
    assert saved.status_code == 303
    for page in (analyst.get("/segments").text, analyst.get("/segments/" + quote(name)).text):
        assert script not in page
        assert html.escape(script) in page or html.escape(script, quote=False) in page
    wrong = analyst.get("/segments/-/size", params={"expression": f'{script} = "x"'})
    assert script not in wrong.text and "&lt;script&gt;" in wrong.text
    token = csrf_of(analyst.get("/segments").text)
    analyst.post("/segments/" + quote(name, safe="") + "/delete", data={"csrf": token})


# -- personas ----------------------------------------------------------------------------


def card_names(text: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r"<h2>Persona \d+: ([^<]+)</h2>", text)]


def personas_page(client: httpx.Client, timeout: float = 240) -> str:
    """The personas page once computed: it says so (and reloads itself) while they are."""
    deadline = time.monotonic() + timeout
    while True:
        page = client.get("/personas")
        assert page.status_code == 200
        if '<meta http-equiv="refresh"' not in page.text:
            return page.text
        assert 'class="card computing" role="status"' in page.text
        assert time.monotonic() < deadline, "the personas were never computed"
        time.sleep(1)


def test_persona_cards_are_the_apis_in_both_languages(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    analyst = client_as("analyst")
    for lang in ("en", "fr"):
        report = api(dashboard, "GET", "/api/know/personas", params={"lang": lang}).json()
        analyst.cookies.set("empreinte_lang", lang)
        text = personas_page(analyst)
        assert card_names(text) == [c["name"] for c in report["cards"]]
        assert text.count('class="persona-card"') == len(report["cards"]) >= 2
        assert f'<article class="persona-card" lang="{lang}">' in text
        for card in report["cards"]:
            assert f"{card['people']:,}".replace(",", "\u202f" if lang == "fr" else ",") in text
    assert "Nombre de personas" in text and "Valeur client" in text
    card = analyst.get("/personas/card", params={"n": "1"})
    assert card.status_code == 200 and 'src="data:image/png;base64,iVBOR' in card.text
    too_far = analyst.get("/personas/card", params={"n": str(len(report["cards"]) + 1)})
    assert too_far.status_code == 400 and "there are" in too_far.text


def test_rfm_and_clv_summary_is_the_apis(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    analyst = client_as("analyst")
    personas_page(analyst)
    rfm = api(dashboard, "GET", "/api/know/rfm").json()
    csv = analyst.get("/personas", params={"download": "rfm"})
    assert csv.status_code == 200
    counts = {line.split(",")[0]: int(line.split(",")[1]) for line in csv.text.splitlines()[1:]}
    assert counts == {row["segment"]: row["customers"] for row in rfm["rows"]}


class _Store:
    def __init__(self) -> None:
        self.erased: list[dict[str, Any]] = []

    def erasure_count(self) -> int:
        return len(self.erased)


class _Report(str):
    """A persona report that is its own name, without cards (so without quotes)."""

    cards: tuple[Any, ...] = ()


class _Know:
    def __init__(self) -> None:
        self.calls = 0

    def personas(self, k: Any, seed: int, *, lang: str) -> _Report:
        self.calls += 1
        return _Report(f"report {self.calls} {lang}")


def test_personas_are_computed_in_the_background_and_dropped_by_an_erasure() -> None:
    from empreinte.web.dashboard.pages.segments import PersonaReports

    ws = SimpleNamespace(path="/nowhere", privacy_store=_Store(), know=_Know())
    view: Any = SimpleNamespace(ws=ws, language="fr")
    reports = PersonaReports(max_age=3600)
    entry, running = reports.get(view, None)
    assert entry is None and running  # nothing yet: computing
    entry = reports.wait(view, None, timeout=10)
    assert entry is not None and entry.report == "report 1 fr"
    assert reports.get(view, None) == (entry, False)  # fresh: kept, not computed again
    ws.privacy_store.erased.append({"id": 1})  # an erasure: the card may quote them
    assert reports.get(view, None)[0] is None
    assert reports.wait(view, None, timeout=10).report == "report 2 fr"  # type: ignore[union-attr]
    reports.max_age = 0  # stale: shown while a new one is computed
    stale, running = reports.get(view, None)
    assert stale is not None and stale.report == "report 2 fr" and running
    reports.max_age = 3600

    def settled() -> Any:
        deadline = time.monotonic() + 10
        while True:
            entry, running = reports.get(view, None)
            if not running or time.monotonic() > deadline:
                return entry
            time.sleep(0.05)

    assert settled().report == "report 3 fr"
    latest = settled()
    assert reports.get(view, None, renew=True) == (latest, True)  # ?fresh=1: computed again
    assert settled().report == "report 4 fr" and ws.know.calls == 4


# -- in the browser --------------------------------------------------------------------------


def test_a_marketer_builds_a_segment_in_the_browser(
    page_as: Callable[..., Any], dashboard: Dashboard, uid: str
) -> None:
    page = page_as("analyst")
    page.goto(dashboard.url + "/segments")
    box = page.get_by_label("Expression")
    box.fill(FR)
    size = page.locator("#live-size .size-number")
    size.wait_for()
    first = int(size.get_attribute("data-size"))
    assert first == api_size(dashboard, FR)
    assert size.inner_text().replace(",", "") == str(first)
    screenshot(page, "segments-live-size")

    box.fill(FR_BUYERS)
    page.wait_for_function(
        "n => { const e = document.querySelector('#live-size .size-number');"
        " return e && e.dataset.size !== String(n); }",
        arg=first,
    )
    second = int(size.get_attribute("data-size"))
    assert second == api_size(dashboard, FR_BUYERS) and second < first

    box.fill('country = "FR" and contry = "DE"')
    error = page.locator("#live-size .segment-error")
    error.wait_for()
    assert "line 1, column 20" in error.inner_text()
    screenshot(page, "segments-error")

    box.fill(FR_BUYERS)
    size.wait_for()
    name = f"FR buyers {uid}"
    page.get_by_label("Name").fill(name)
    page.get_by_label("Refresh every").fill("1d")
    page.get_by_role("button", name="Save the segment").click()
    page.wait_for_url(re.compile(r".*/segments/FR%20buyers.*notice=saved"))
    assert "The segment was saved" in page.locator(".notice").inner_text()
    assert page.locator("#members tbody tr:visible").count() == min(25, second)
    screenshot(page, "segments-one")

    page.get_by_role("link", name="All segments").click()
    # A click does not wait for the next page: counting at once could read the page before it
    # (a fresh-clone run of the suite, under load, counted 0).
    page.wait_for_url(re.compile(r".*/segments$"))
    listed = page.locator("#segments tbody tr", has_text=name)
    listed.wait_for(state="attached")
    assert listed.count() == 1
    screenshot(page, "segments-list")
    assert not page.errors


def test_persona_cards_in_the_browser_in_french(
    page_as: Callable[..., Any], dashboard: Dashboard
) -> None:
    report = api(dashboard, "GET", "/api/know/personas", params={"lang": "fr"}).json()
    page = page_as("admin", locale="fr-FR")
    page.goto(dashboard.url + "/personas")
    cards = page.locator("article.persona-card")
    cards.first.wait_for(timeout=240_000)  # the page reloads itself while they are computed
    assert cards.count() == len(report["cards"])
    first = report["cards"][0]
    assert cards.first.locator("h2").inner_text() == f"Persona 1 : {first['name']}".replace(
        " : ", ": "
    )
    assert "personnes" in cards.first.inner_text()
    people = f"{first['people']:,}".replace(",", "\u202f")
    assert people in cards.first.inner_text()
    assert page.get_by_role("heading", name="Valeur client").count() == 1
    screenshot(page, "personas-fr")
    page.get_by_role("link", name="La fiche en image (PNG)").first.click()
    page.wait_for_url(re.compile(r".*/personas/card\?n=1"))
    assert page.locator("img").first.evaluate("i => i.naturalWidth") > 500
    screenshot(page, "personas-card-fr")

    page.goto(dashboard.url + "/segments")
    page.get_by_label("Expression").fill(FR)
    size = page.locator("#live-size .size-number")
    size.wait_for()
    assert int(size.get_attribute("data-size")) == api_size(dashboard, FR)
    assert "personnes correspondent" in page.locator("#live-size").inner_text()
    page.get_by_label("Expression").fill('country = "FR" et')
    page.locator("#live-size .segment-error").wait_for()
    assert "illisible : ligne 1, colonne" in page.locator("#live-size").inner_text()
    screenshot(page, "segments-fr-error")
    assert not page.errors


@pytest.mark.parametrize("width", [1024])
def test_personas_in_english_at_tablet_width(
    page_as: Callable[..., Any], dashboard: Dashboard, width: int
) -> None:
    page = page_as("analyst", width=width)
    page.goto(dashboard.url + "/personas")
    page.locator("article.persona-card").first.wait_for(timeout=240_000)
    assert page.locator("article.persona-card").count() >= 2
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(page, "personas-en-1024")
    assert not page.errors


def test_a_persona_card_shows_what_customers_wrote_as_text() -> None:
    """The page inserts each card's own HTML (persona_cards.py): a product name or a comment
    sent through the collector holding markup must come out as text."""
    from markupsafe import Markup

    from empreinte.analytics.know.persona_cards import PersonaCard

    script = "<script>alert(1)</script>"
    card = PersonaCard(
        number=1,
        name=f"Buyers {script}",
        lang="en",
        people=3,
        share=1.0,
        age_range=None,
        generations=(),
        countries=((script, 1.0),),
        cities=(),
        income_bands=(),
        channels=(("web", 1.0),),
        mobile_share=0.0,
        categories=(),
        products=(script,),
        journey=None,
        journey_share=0.0,
        nps=None,
        nps_low=None,
        nps_high=None,
        nps_n=0,
        themes=(),
        payment_failed_share=0.0,
        called_after_web_share=0.0,
        quote=f'"{script}" & <b>bold</b>',
    )
    shown = str(Markup(card.to_html()))  # as build_personas hands it to the template
    assert "<script>" not in shown and "<b>" not in shown
    assert shown.count("&lt;script&gt;") == 4  # name, country, product, quote
