"""The year-in-review page, the batch command and the public share page, on the demo served
by the real `empreinte serve`.

Who has a story is found the way an operator would: `empreinte stories render` beside the
running server (a snapshot), whose files are named by profile id. People who refused
personalisation are found with a saved segment (`not consented("personalisation")`).
"""

from __future__ import annotations

import html
import re
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from dashboard_support import Dashboard, api, csrf_of, screenshot
from servers import serve_command

YEAR = 2025


def _render(dashboard: Dashboard, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *serve_command(),
            "stories",
            "render",
            "--year",
            str(YEAR),
            "--out",
            str(out),
            "-w",
            str(dashboard.workspace),
            *extra,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"NO_COLOR": "1", "COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def people(dashboard: Dashboard, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Profile ids: with a French story, with an English one, and a buyer who refused
    personalisation; and what the batch said."""
    out = tmp_path_factory.mktemp("stories")
    done = _render(dashboard, out)
    files = sorted(p.name for p in out.glob("*.png"))
    found = {
        lang: [name.split("-")[0] for name in files if name.endswith(f"-{lang}.png")]
        for lang in ("fr", "en")
    }
    assert found["fr"] and found["en"], files
    name = f"refused-{uuid.uuid4().hex[:8]}"
    saved = httpx.post(
        f"{dashboard.url}/api/segments",
        json={
            "name": name,
            "expression": 'did("Order Completed") and not consented("personalisation")',
        },
        headers={"Authorization": f"Bearer {dashboard.admin_token}"},
        timeout=120,
    )
    assert saved.status_code == 201, saved.text
    refused = api(dashboard, f"/api/segments/{name}/members")["members"]
    assert refused
    return {"fr": found["fr"], "en": found["en"], "refused": refused, "segment": name,
            "stdout": done.stdout, "files": files}  # fmt: skip


def test_batch_skips_who_refused_personalisation_without_naming_them(
    dashboard: Dashboard, people: dict[str, Any], tmp_path: Path
) -> None:
    # Nobody who refused has a file, and the count says how many were left out.
    assert not {p.split("-")[0] for p in people["files"]} & set(people["refused"])
    skipped = re.search(r"skipped: (\d+) without personalisation consent", people["stdout"])
    assert skipped and int(skipped.group(1)) > 0
    done = _render(dashboard, tmp_path, "--segment", people["segment"])
    assert list(tmp_path.glob("*.png")) == []
    assert "0 stories written" in done.stdout
    for profile in people["refused"]:
        assert profile not in done.stdout


def test_the_page_shows_the_story_the_api_gives(
    client_as: Callable[[str], httpx.Client], dashboard: Dashboard, people: dict[str, Any]
) -> None:
    profile = people["fr"][0]
    page = client_as("analyst").get("/year-in-review", params={"profile": profile, "year": YEAR})
    assert page.status_code == 200
    story = api(dashboard, f"/api/stories/{profile}/{YEAR}")
    text = html.unescape(page.text)
    for slide in story["slides"]:
        assert slide["figure"] in text and slide["title"] in text
    assert 'src="data:image/png;base64,' in page.text
    community = api(dashboard, "/api/stories/community", year=YEAR)
    assert (
        f"{community['buyers']:,}".replace(",", "\u202f") in page.text
        or str(community["buyers"]) in page.text
    )


def test_no_story_for_who_refused_personalisation(
    client_as: Callable[[str], httpx.Client], people: dict[str, Any]
) -> None:
    client = client_as("admin")
    profile = people["refused"][0]
    page = client.get("/year-in-review", params={"profile": profile, "year": YEAR})
    assert "does not allow personalisation" in page.text
    assert "data:image/png" not in page.text
    token = csrf_of(page.text)
    shared = client.post(
        "/year-in-review/share",
        data={"csrf": token, "profile": profile, "year": str(YEAR), "lang": ""},
    )
    assert "/stories/" not in shared.text


def test_a_marketer_previews_and_shares_a_story_in_the_browser(
    page_as: Callable[..., Any], browser: Any, dashboard: Dashboard, people: dict[str, Any]
) -> None:
    page = page_as("analyst", locale="fr-FR")
    page.goto(f"{dashboard.url}/year-in-review?year={YEAR}")
    page.get_by_label("Identifiant de profil").fill(people["fr"][0])
    page.get_by_role("button", name="Aperçu").click()
    page.wait_for_selector(".story-slides")
    assert "Bilan de l'année" in page.title() or page.get_by_role(
        "heading", name="Bilan de l'année"
    )
    width = page.eval_on_selector(".story-png img", "img => img.naturalWidth")
    height = page.eval_on_selector(".story-png img", "img => img.naturalHeight")
    assert (width, height) == (1080, 1920)
    page.get_by_role("button", name="Créer un lien de partage").click()
    link = page.wait_for_selector("a.share-link")
    path = link.get_attribute("href")
    assert path and path.startswith("/stories/")
    screenshot(page, "stories-preview-fr")
    assert page.errors == []
    # Anyone holding the link sees the story, without logging in.
    stranger = browser.new_context(locale="en-US", viewport={"width": 430, "height": 932})
    try:
        public = stranger.new_page()
        answer = public.goto(dashboard.url + path)
        assert answer is not None and answer.status == 200
        assert public.locator("section.impact, section.products").count() >= 1
        screenshot(public, "stories-public-page")
        public.goto(dashboard.url + path + "/story.png")
        screenshot(public, "stories-public-png")
    finally:
        stranger.close()


def test_the_preview_in_english(
    page_as: Callable[..., Any], dashboard: Dashboard, people: dict[str, Any]
) -> None:
    page = page_as("admin")
    page.goto(f"{dashboard.url}/year-in-review?year={YEAR}&profile={people['en'][0]}")
    page.wait_for_selector(".story-slides")
    assert page.locator(".story-slides h3").inner_text().startswith("Your year in review")
    screenshot(page, "stories-preview-en")
