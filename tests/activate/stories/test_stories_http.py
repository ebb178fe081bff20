"""The year in review through the real server: the staff API, share links (forged and altered
tokens, withdrawal, erasure) and the public page and image, with real HTTP clients."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from stories_planted import build

from conftest import Keys, ServerProcess, make_workspace


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, Keys, dict[str, str]]]:
    path = tmp_path_factory.mktemp("stories-http")
    keys = make_workspace(path)
    ids = build(path)
    server = ServerProcess(path, tmp_path_factory.mktemp("logs")).start()
    try:
        yield server, keys, ids
    finally:
        server.stop()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _share(server: ServerProcess, keys: Keys, profile: str, **body: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/stories/{profile}/2025/share",
        json=body,
        headers=_auth(keys.analyst_token),
        timeout=30,
    )


def test_staff_read_a_story_as_json_and_png_viewers_do_not(
    served: tuple[ServerProcess, Keys, dict[str, str]],
) -> None:
    server, keys, ids = served
    url = f"{server.url}/api/stories/{ids['bob']}/2025"
    answer = httpx.get(url, headers=_auth(keys.analyst_token), timeout=30)
    assert answer.status_code == 200
    body = answer.json()
    assert body["lang"] == "en" and body["slides"][0]["figure"] == "$432.00"
    assert body["figures"]["co2_avoided_kg"] == 102.0
    image = httpx.get(
        url, params={"format": "png", "lang": "fr"}, headers=_auth(keys.admin_token), timeout=30
    )
    assert image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (1080, 1920)
    assert httpx.get(url, headers=_auth(keys.viewer_token), timeout=30).status_code == 403
    refused = httpx.get(
        f"{server.url}/api/stories/{ids['carol']}/2025", headers=_auth(keys.admin_token), timeout=30
    )
    assert refused.status_code == 404 and "personalisation" in refused.json()["message"]
    # Staff cannot make a link for a person without consent either.
    assert _share(server, keys, ids["carol"]).status_code == 404


def test_the_public_page_and_image_need_no_login(
    served: tuple[ServerProcess, Keys, dict[str, str]],
) -> None:
    server, keys, ids = served
    made = _share(server, keys, ids["dave"], lang="fr")
    assert made.status_code == 201
    link = made.json()
    assert ids["dave"] not in link["token"] and link["url"].endswith(link["path"])
    page = httpx.get(link["url"], timeout=30)
    assert page.status_code == 200
    assert "Votre bilan de l&#39;année" in page.text or "Votre bilan de l'année" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "script-src" not in page.headers["content-security-policy"]
    assert "<script" not in page.text
    english = httpx.get(link["url"], params={"lang": "en"}, timeout=30)
    assert "Your year in review" in english.text and "story.png?lang=en" in english.text
    image = httpx.get(f"{link['url']}/story.png", timeout=30)
    assert image.status_code == 200
    assert Image.open(io.BytesIO(image.content)).size == (1080, 1920)


def test_forged_and_altered_tokens_are_404(
    served: tuple[ServerProcess, Keys, dict[str, str]],
) -> None:
    server, keys, ids = served
    token = _share(server, keys, ids["dave"]).json()["token"]
    link_id, mac = token.split(".")
    flip = {"A": "B"}.get(mac[0], "A")
    forged = [
        f"{link_id}.{flip}{mac[1:]}",  # the signature altered
        f"{flip}{link_id[1:]}.{mac}",  # the link id altered
        f"{link_id}.",  # no signature
        link_id,
        ids["dave"],  # the profile id is no token
        "x" * 200,
    ]
    for bad in forged:
        assert httpx.get(f"{server.url}/stories/{bad}", timeout=30).status_code == 404, bad
        assert httpx.get(f"{server.url}/stories/{bad}/story.png", timeout=30).status_code == 404
    assert httpx.get(f"{server.url}/stories/{token}", timeout=30).status_code == 200


def test_withdrawing_personalisation_turns_the_link_off(
    served: tuple[ServerProcess, Keys, dict[str, str]],
) -> None:
    server, keys, ids = served
    url = _share(server, keys, ids["alice"]).json()["url"]
    assert httpx.get(url, timeout=30).status_code == 200
    # Alice withdraws from her own browser (any source may withdraw).
    sent = httpx.post(
        f"{server.url}/v1/track",
        json={
            "userId": "alice",
            "event": "Consent Updated",
            "properties": {"purpose": "personalisation", "granted": False, "wording_version": "v1"},
        },
        auth=(keys.write_key, ""),
        timeout=30,
    )
    assert sent.status_code == 200
    assert httpx.get(url, timeout=30).status_code == 404
    assert httpx.get(f"{url}/story.png", timeout=30).status_code == 404
    story = httpx.get(
        f"{server.url}/api/stories/{ids['alice']}/2025", headers=_auth(keys.admin_token), timeout=30
    )
    assert story.status_code == 404


def test_an_erased_person_s_link_is_dead(
    served: tuple[ServerProcess, Keys, dict[str, str]], tmp_path: Path
) -> None:
    server, keys, ids = served
    url = _share(server, keys, ids["bob"]).json()["url"]
    assert httpx.get(url, timeout=30).status_code == 200
    erased = httpx.delete(
        f"{server.url}/api/profiles/{ids['bob']}", headers=_auth(keys.admin_token), timeout=60
    )
    assert erased.status_code == 200
    # The link row goes with the person, in the erasure's transaction (it names them).
    assert erased.json()["counts"]["story_links"] >= 1
    assert httpx.get(url, timeout=30).status_code == 404


def test_community_and_catalogue(served: tuple[ServerProcess, Keys, dict[str, str]]) -> None:
    server, keys, _ = served
    community = httpx.get(
        f"{server.url}/api/stories/community",
        params={"year": 2025},
        headers=_auth(keys.analyst_token),
        timeout=30,
    )
    assert community.status_code == 200 and community.json()["buyers"] >= 3
    products = httpx.get(f"{server.url}/api/products", headers=_auth(keys.viewer_token), timeout=30)
    assert {p["product_id"] for p in products.json()["products"]} == {"PH1N", "PH1R", "LTR", "BKN"}
