"""The privacy page (/privacy): consent rates per purpose over time, the match review queue,
events dropped by suppression, the erasure audit trail and the erasure form.

Two worlds:
- the shared demo (`dashboard`, read only here): roles, bad input, downloads, and the consent
  rates against the engine's own rule (`privacy.consent.allowed_profiles`, SQL) on a snapshot
  the server takes through the API;
- a small workspace of this module's own, planted before its server starts (people with
  consents at known dates, three pending match reviews, one of them carrying `<script>`),
  where the page's forms change things: accept and reject reviews (HTTP and in Chromium),
  erase a person, and see their later events dropped. Numbers are checked against what was
  planted and against the privacy API (`/api/profiles/{id}/consent`, `/api/privacy/erasures`,
  `/api/privacy/suppressed`).
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import empreinte
from dashboard_support import Dashboard, csrf_of, login, screenshot
from empreinte.privacy.consent import PURPOSES, allowed_profiles
from empreinte.privacy.users import Users
from empreinte.store.match_store import MatchReview, MatchStore, ReviewStatus
from servers import ServerProcess

XSS = "<script>alert('privacy')</script>"
FILLERS = 10
CONSENT_DATA = "section[aria-labelledby='consent-rates-title'] details.chart-data summary"


# -- the shared demo -------------------------------------------------------------------------


def test_roles_viewer_refused_analyst_without_erasures(
    client_as: Callable[[str], httpx.Client],
) -> None:
    viewer = client_as("viewer")
    refused = viewer.get("/privacy")
    assert refused.status_code == 403
    assert 'href="/privacy"' not in viewer.get("/overview").text  # no menu entry either
    analyst = client_as("analyst").get("/privacy")
    assert analyst.status_code == 200
    assert 'href="/privacy"' in analyst.text
    assert "Consent rate per purpose" in analyst.text
    assert "Matches waiting for a decision" in analyst.text
    assert "Events dropped by suppression" in analyst.text
    # The erasure audit and the erasure form are admins' (GET /api/privacy/erasures, DELETE).
    assert "Erasure audit trail" not in analyst.text and "/privacy/erase" not in analyst.text
    assert client_as("analyst").get("/privacy?download=erasures").status_code == 404
    # No inline script (the policy allows none): the charts' data travel as JSON.
    assert "script-src 'self'" in analyst.headers["content-security-policy"]
    assert not re.search(r"<script(?![^>]*(?:src=|application/json))[^>]*>", analyst.text)
    admin = client_as("admin").get("/privacy")
    assert admin.status_code == 200
    assert "Erasure audit trail" in admin.text and 'action="/privacy/erase"' in admin.text
    assert client_as("admin").get("/privacy?download=erasures").status_code == 200


def test_consent_rates_against_the_engine_rule_on_a_snapshot(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard
) -> None:
    admin = client_as("admin")
    answer = admin.get("/privacy", params={"download": "consent-rates"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert len(rows) >= 6  # the demo spans months
    last = rows[-1]
    # An independent count: the engine's SQL of the consent rule, on a copy the server makes.
    made = httpx.post(
        dashboard.url + "/api/snapshots",
        headers={"Authorization": f"Bearer {dashboard.admin_token}"},
        timeout=120,
    )
    assert made.status_code == 201, made.text
    snapshot = dashboard.workspace / "snapshots" / made.json()["snapshot"]
    ws = empreinte.open(dashboard.workspace, create=False, snapshot=snapshot)
    try:
        everyone = len(ws.privacy_store.profile_ids())
        allowing = {p: len(allowed_profiles(ws, p)) for p in PURPOSES}
    finally:
        ws.close()
        snapshot.unlink(missing_ok=True)
    names = {
        "analytics": "Analytics",
        "personalisation": "Personalisation",
        "marketing_email": "Marketing e-mails",
        "marketing_sms": "Marketing SMS",
        "profiling": "Profiling",
    }
    assert int(last["People known"]) == everyone
    for purpose, name in names.items():
        assert int(last[f"{name} (people)"]) == allowing[purpose], purpose
        assert float(last[name]) == pytest.approx(allowing[purpose] / everyone)
    assert 0 < allowing["analytics"] < everyone  # the demo has both answers
    # The page's headline figures are the same numbers.
    page = admin.get("/privacy").text
    assert f"{allowing['analytics']:,} of {everyone:,} people" in page


def test_bad_input_is_a_message_not_a_failure(client_as: Callable[[str], httpx.Client]) -> None:
    analyst = client_as("analyst")
    bad = analyst.get("/privacy", params={"period": "fortnight", "reviews_from": "-4"})
    assert bad.status_code == 200
    assert "This address has a value the page cannot use" in bad.text
    assert "`period` must be one of week, month, quarter" in bad.text
    assert "`reviews_from` must be between" in bad.text
    assert 'id="consent-rates"' in bad.text  # the page is still there, by month
    twice = analyst.get("/privacy?period=week&period=month")
    assert twice.status_code == 200 and "given 2 times" in twice.text
    hostile = analyst.get("/privacy", params={"period": XSS})
    assert hostile.status_code == 200 and XSS not in hostile.text
    assert "`period` must be one of" in hostile.text
    assert analyst.get("/privacy", params={"download": "nothing-like-it"}).status_code == 404
    weeks = analyst.get("/privacy", params={"period": "week", "download": "consent-rates"})
    assert weeks.status_code == 200 and re.search(r"\d{4}-W\d{2}", weeks.text)


def test_forms_need_csrf_and_the_admin_role(client_as: Callable[[str], httpx.Client]) -> None:
    admin = client_as("admin")
    forged = admin.post("/privacy/reviews/accept", data={"review_id": "mr_x"})
    assert forged.status_code == 403
    analyst = client_as("analyst")
    token = csrf_of(analyst.get("/privacy").text)
    for path in ("/privacy/reviews/accept", "/privacy/reviews/reject", "/privacy/erase"):
        answer = analyst.post(path, data={"csrf": token, "review_id": "mr_x", "value": "x"})
        assert answer.status_code == 403, path


# -- a workspace of our own, planted -----------------------------------------------------------


@dataclass(frozen=True)
class Planted:
    url: str
    workspace: Path
    passwords: dict[str, str]
    write_key: str
    admin_token: str
    profiles: dict[str, str]  # user id → profile id
    reviews: dict[str, str]  # name → review id

    @contextmanager
    def client(self, username: str) -> Iterator[httpx.Client]:
        """An HTTP client logged in through the form as `username`."""
        with httpx.Client(base_url=self.url, timeout=60) as client:
            answer = login(client, username, self.passwords[username])
            assert answer.status_code == 303, answer.text
            yield client

    def api(self, path: str) -> Any:
        answer = httpx.get(
            self.url + path, headers={"Authorization": f"Bearer {self.admin_token}"}, timeout=60
        )
        assert answer.status_code == 200, answer.text
        return answer.json()


def _at(month: int, day: int) -> str:
    return datetime(2026, month, day, 12, tzinfo=UTC).isoformat()


def _identify(user: str, when: str, **traits: str) -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": user,
        "traits": traits,
        "timestamp": when,
        "messageId": str(uuid.uuid4()),
    }


def _consent(user: str, purpose: str, granted: bool, when: str, **props: str) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Consent Updated",
        "userId": user,
        "timestamp": when,
        "messageId": str(uuid.uuid4()),
        "properties": {"purpose": purpose, "granted": granted, "wording_version": "v1", **props},
    }


# The consents, by hand: Jan ann and bob known; Feb + cat; Mar + dan and eve.
#   analytics: ann (Jan 11 →), bob (Feb 1 → Mar 3), cat (Feb 3 →)
#   personalisation: bob (Jan 21 →); marketing_email: ann, confirmed Feb 5 (pending Jan 12)
MESSAGES = [
    _identify("ann", _at(1, 10), email="ann@example.com", first_name="Ann"),
    _consent("ann", "analytics", True, _at(1, 11)),
    _consent("ann", "marketing_email", True, _at(1, 12), confirmation="pending"),
    _consent("ann", "marketing_email", True, _at(2, 5), confirmation="confirmed"),
    _identify("bob", _at(1, 20), email="bob@example.com", first_name="Bob"),
    _consent("bob", "personalisation", True, _at(1, 21)),
    _consent("bob", "analytics", True, _at(2, 1)),
    _consent("bob", "analytics", False, _at(3, 3)),
    _identify("cat", _at(2, 2), email="cat@example.com", first_name="Cat"),
    _consent("cat", "analytics", True, _at(2, 3)),
    _identify("dan", _at(3, 1), email="dan@example.com", first_name="Daniel"),
    _identify("eve", _at(3, 2), email="eve@example.com", first_name="Eve"),
]


def _review(name: str, profile: str, user: str, probability: float, left: str) -> MatchReview:
    return MatchReview(
        review_id=f"mr_test_{name}",
        created_at=datetime(2026, 4, 1, 9, tzinfo=UTC),
        source_file="crm-export.csv",
        record_id=f"crm-{name}",
        profile_id=profile,
        other_record_id=None,
        probability=probability,
        detail={
            "id_type": "crm_id",
            "match_weight": 3.2,
            "link": {"userId": user},
            "comparisons": [
                {
                    "name": "name",
                    "level": "fuzzy",
                    "left": left,
                    "right": user.title(),
                    "match_weight": 2.5,
                },
                {
                    "name": "email",
                    "level": "exact",
                    "left": f"{user}@example.com",
                    "right": f"{user}@example.com",
                    "match_weight": 7.25,
                },
                {
                    "name": "city",
                    "level": "else",
                    "left": "Lyon",
                    "right": None,
                    "match_weight": -1.5,
                },
            ],
        },
        status=ReviewStatus.PENDING,
    )


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    root = tmp_path_factory.mktemp("privacy-page")
    path = root / "ws"
    path.mkdir(mode=0o700)
    (path / "empreinte.toml").write_text('[consent]\ntrusted_sources = ["crm"]\n')
    ws = empreinte.open(path)
    try:
        write_key = ws.credentials.create_write_key("web")
        admin_token = ws.credentials.create_api_token("privacy-ops", "admin")
        users = Users.for_workspace(ws.path, ws.privacy_store)
        passwords = {}
        for username, role in (
            ("p-admin", "admin"),
            ("p-analyst", "analyst"),
            ("p-viewer", "viewer"),
        ):
            passwords[username] = "pw-" + os.urandom(8).hex()
            users.create(username, passwords[username], role)
        report = ws.ingest(MESSAGES, source="crm")
        assert not report.rejected, report.rejected
        profiles = {}
        for user in ("ann", "bob", "cat", "dan", "eve"):
            found = ws.profiles.find("userId", user)
            assert found is not None
            profiles[user] = found
        reviews = {
            "dan": _review("dan", profiles["dan"], "dan", 0.82, "Dan"),
            "cat": _review("cat", profiles["cat"], "cat", 0.64, "Catherine"),
            "xss": _review("xss", profiles["bob"], "bob", 0.41, XSS),
        }
        # Doubtful pairs enough for a second page of the queue (10 a page), least probable.
        fillers = [
            _review(f"filler{n:02d}", profiles["ann"], "ann", 0.30 + n / 1000, f"Anne {n}")
            for n in range(FILLERS)
        ]
        MatchStore(ws.engine).save([*reviews.values(), *fillers])
    finally:
        ws.close()
    server = ServerProcess(path, root).start()
    try:
        yield Planted(
            server.url,
            path,
            passwords,
            write_key,
            admin_token,
            profiles,
            {k: r.review_id for k, r in reviews.items()},
        )
    finally:
        server.stop()


def _consent_rows(client: httpx.Client) -> dict[str, dict[str, str]]:
    answer = client.get("/privacy", params={"download": "consent-rates"})
    assert answer.status_code == 200
    rows = csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff")))
    return {r["Period"]: r for r in rows}


def test_planted_consent_rates_month_by_month(planted: Planted) -> None:
    with planted.client("p-analyst") as analyst:
        rows = _consent_rows(analyst)
    jan, feb = rows["2026-01"], rows["2026-02"]
    assert (jan["People known"], jan["Analytics (people)"], jan["Personalisation (people)"]) == (
        "2",
        "1",
        "1",
    )
    assert jan["Marketing e-mails (people)"] == "0"  # pending until February
    assert float(jan["Analytics"]) == pytest.approx(0.5)
    assert (feb["People known"], feb["Analytics (people)"], feb["Marketing e-mails (people)"]) == (
        "3",
        "3",
        "1",
    )
    assert float(feb["Personalisation"]) == pytest.approx(1 / 3)
    # March: dan and eve arrive, bob withdraws analytics (eve may have been erased since).
    assert rows["2026-03"]["Analytics (people)"] == "2"
    assert rows["2026-03"]["Marketing SMS (people)"] == "0"


def test_consent_now_matches_the_api_person_by_person(planted: Planted) -> None:
    allowed = dict.fromkeys(PURPOSES, 0)
    for user in ("ann", "bob", "cat", "dan"):
        ledger = planted.api(f"/api/profiles/{planted.profiles[user]}/consent")
        for purpose, state in ledger["purposes"].items():
            allowed[purpose] += bool(state["allowed"])
    assert allowed["analytics"] == 2 and allowed["marketing_email"] == 1
    with planted.client("p-admin") as admin:
        page = admin.get("/privacy").text
    headlines = re.findall(r'<div class="sub">(\d+) of (\d+) people</div>', page)
    assert [int(a) for a, _ in headlines] == [allowed[p] for p in PURPOSES]


def test_queue_shows_evidence_to_admins_only_and_escapes_it(planted: Planted) -> None:
    with planted.client("p-admin") as admin:
        page = admin.get("/privacy").text
    assert "Record crm-dan ↔ profile " + planted.profiles["dan"] in page
    assert "dan@example.com" in page and "Catherine" in page
    assert XSS not in page and "&lt;script&gt;alert(&#39;privacy&#39;)&lt;/script&gt;" in page
    assert page.count('action="/privacy/reviews/accept"') >= 1
    # Most probable first.
    assert page.index("crm-dan") < page.index("crm-cat") < page.index("crm-xss")
    with planted.client("p-analyst") as analyst:
        seen = analyst.get("/privacy").text
    assert planted.profiles["dan"] in seen and "fuzzy" in seen  # the queue, the agreement
    for raw in ("dan@example.com", "Catherine", "crm-dan", "Lyon", "&lt;script&gt;"):
        assert raw not in seen, raw
    assert "/privacy/reviews/accept" not in seen and "In the file" not in seen


def test_queue_is_paged_on_the_server(planted: Planted) -> None:
    with planted.client("p-analyst") as analyst:
        first = analyst.get("/privacy").text
        total = int(re.search(r"1–10 of (\d+) pending", first).group(1))  # type: ignore[union-attr]
        assert total > 10 and first.count("<article") == 10
        assert "reviews_from=10#reviews" in first
        second = analyst.get("/privacy", params={"reviews_from": "10"}).text
        assert f"11–{total} of {total} pending" in second
        assert second.count("<article") == total - 10
        assert "reviews_from=0#reviews" in second and "reviews_from=20" not in second
        # Past the end: the last page, not an empty one.
        beyond = analyst.get("/privacy", params={"reviews_from": "5000"}).text
        assert f"11–{total} of {total} pending" in beyond


def test_reject_a_review_and_refusals_on_the_page(planted: Planted) -> None:
    with planted.client("p-admin") as admin:
        token = csrf_of(admin.get("/privacy").text)
        rejected = admin.post(
            "/privacy/reviews/reject", data={"csrf": token, "review_id": planted.reviews["cat"]}
        )
        assert rejected.status_code == 303
        assert rejected.headers["location"] == "/privacy?notice=rejected"
        after = admin.get("/privacy?notice=rejected").text
        assert "Match rejected: the pair will not be proposed again." in after
        assert "crm-cat" not in after
        again = admin.post(
            "/privacy/reviews/reject", data={"csrf": token, "review_id": planted.reviews["cat"]}
        )
        assert again.status_code == 200
        assert "Refused: review mr_test_cat is already rejected" in again.text
        unknown = admin.post("/privacy/reviews/accept", data={"csrf": token, "review_id": XSS})
        assert unknown.status_code == 200 and "Refused: no match review" in unknown.text
        assert XSS not in unknown.text


def test_erase_a_person_then_their_events_are_dropped(planted: Planted) -> None:
    with planted.client("p-admin") as admin:
        token = csrf_of(admin.get("/privacy").text)
        unconfirmed = admin.post(
            "/privacy/erase", data={"csrf": token, "by": "userId", "value": "eve"}
        )
        assert unconfirmed.status_code == 200
        assert "Tick the box to confirm" in unconfirmed.text
        assert 'value="eve"' in unconfirmed.text  # the form stays filled
        nobody = admin.post(
            "/privacy/erase",
            data={"csrf": token, "by": "userId", "value": "nobody-here", "confirm": "yes"},
        )
        assert nobody.status_code == 200 and "Refused:" in nobody.text
        erased = admin.post(
            "/privacy/erase", data={"csrf": token, "by": "userId", "value": "eve", "confirm": "yes"}
        )
        assert erased.status_code == 303, erased.text
        assert erased.headers["location"] == "/privacy?notice=erased"
        audit = planted.api("/api/privacy/erasures")["erasures"]
        assert len(audit) == 1 and audit[0]["actor"] == "dashboard:p-admin"
        page = admin.get("/privacy?notice=erased").text
        assert "The person was erased" in page
        assert audit[0]["erasureId"] in page and "dashboard:p-admin" in page
        # Eve's browser sends again: the collector drops it, and the page counts it.
        sent = httpx.post(
            planted.url + "/v1/batch",
            json={"batch": [{"type": "track", "event": "Page Viewed", "userId": "eve"}] * 2},
            auth=(planted.write_key, ""),
            timeout=30,
        )
        assert sent.status_code == 200
        deadline = time.monotonic() + 20
        while planted.api("/api/privacy/suppressed")["total"] < 2:
            assert time.monotonic() < deadline, "the suppressed events were never counted"
            time.sleep(0.2)
        counted = planted.api("/api/privacy/suppressed")
        page = admin.get("/privacy").text
        assert f"{counted['total']} events dropped by suppression in all." in page
        table = admin.get("/privacy", params={"download": "suppressed"}).text
        assert "web" in table and str(counted["suppressed"][0]["events"]) in table


def test_viewer_is_refused_on_the_planted_world(planted: Planted) -> None:
    with planted.client("p-viewer") as viewer:
        assert viewer.get("/privacy").status_code == 403


# -- in Chromium -------------------------------------------------------------------------------


def _browser_page(
    browser: Any, planted: Planted, username: str, locale: str = "en-GB", width: int = 1280
) -> Any:
    context = browser.new_context(
        locale=locale, viewport={"width": width, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(planted.url + "/login?next=/privacy")
    page.get_by_label(re.compile("Username|Identifiant")).fill(username)
    page.get_by_label(re.compile("Password|Mot de passe")).fill(planted.passwords[username])
    page.get_by_role("button", name=re.compile("Log in|Se connecter")).click()
    page.wait_for_url(re.compile(r".*/privacy"))
    return page


def test_in_the_browser_admin_reads_rates_and_accepts_a_match(
    browser: Any, planted: Planted
) -> None:
    page = _browser_page(browser, planted, "p-admin")
    page.wait_for_selector("#consent-rates .main-svg")
    assert page.locator("#consent-rates .scatterlayer .trace").count() == len(PURPOSES)
    page.locator("#consent-rates").scroll_into_view_if_needed()
    screenshot(page, "privacy-admin")
    # The rates in the chart's data table: February, everyone known allowed analytics.
    page.locator(CONSENT_DATA).click()
    february = page.locator("#consent-rates-data tr", has_text="2026-02")
    assert february.count() == 1
    cells = february.locator("td").all_inner_texts()
    assert cells[:4] == ["2026-02", "3", "100.0%", "33.3%"]
    # The queue: accept Dan's record.
    card = page.locator('article[data-review="mr_test_dan"]')
    assert card.locator("td", has_text="dan@example.com").count() == 2
    pending = page.locator("#reviews-count").inner_text()
    card.get_by_role("button", name="Accept").click()
    page.wait_for_url(re.compile(r".*notice=accepted"))
    assert page.get_by_role("status").inner_text() == (
        "Match accepted: the record now belongs to the profile."
    )
    assert page.locator('article[data-review="mr_test_dan"]').count() == 0
    after = page.locator("#reviews-count").inner_text()
    total = int(re.search(r"of (\d+) pending", pending).group(1))  # type: ignore[union-attr]
    assert after.endswith(f"of {total - 1} pending")
    screenshot(page, "privacy-admin-accepted")
    assert not page.errors
    # The merge is real: the record's id now belongs to Dan's profile (the identity API).
    explained = planted.api(f"/api/profiles/{planted.profiles['dan']}/identity")
    assert "crm-dan" in str(explained)
    page.context.close()


def test_in_the_browser_french_and_analyst(browser: Any, planted: Planted) -> None:
    page = _browser_page(browser, planted, "p-admin", locale="fr-FR")
    page.wait_for_selector("#consent-rates .main-svg")
    assert page.get_by_role("heading", name="Confidentialité", level=1).is_visible()
    assert page.get_by_role("heading", name="Taux de consentement par finalité").is_visible()
    assert page.get_by_role("heading", name="Journal des effacements").is_visible()
    page.locator(CONSENT_DATA).click()
    february = page.locator("#consent-rates-data tr", has_text="2026-02")
    cells = february.locator("td").all_inner_texts()
    assert re.fullmatch(r"100,0\s%", cells[2]) and re.fullmatch(r"33,3\s%", cells[3]), cells
    screenshot(page, "privacy-admin-fr")
    assert not page.errors
    page.context.close()

    analyst = _browser_page(browser, planted, "p-analyst", width=1024)  # a tablet
    analyst.wait_for_selector("#consent-rates .main-svg")
    assert analyst.get_by_role("button", name="Accept").count() == 0
    assert analyst.get_by_text("crm-export.csv").count() >= 1
    assert analyst.get_by_text("Catherine").count() == 0
    assert analyst.get_by_role("heading", name="Erasure audit trail").count() == 0
    # Nothing wider than the screen but the tables' own scrolling boxes.
    assert analyst.evaluate("document.documentElement.scrollWidth") <= 1024
    screenshot(analyst, "privacy-analyst-1024")
    assert not analyst.errors
    analyst.context.close()
