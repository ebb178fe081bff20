"""`GET /api/know/personas` and `/api/know/personas/{n}.png` on the real server over a small
demo: the cards in both languages, the picture, clear 4xx, and roles (viewers get 403)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import empreinte
from conftest import Keys, ServerProcess, make_workspace
from empreinte.demo import generate

PEOPLE = 300


@dataclass(frozen=True)
class World:
    server: ServerProcess
    keys: Keys

    def get(self, path: str = "", role: str = "analyst", **params: Any) -> httpx.Response:
        token = {
            "admin": self.keys.admin_token,
            "analyst": self.keys.analyst_token,
            "viewer": self.keys.viewer_token,
        }[role]
        return httpx.get(
            self.server.url + "/api/know/personas" + path,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("personas-api")
    keys = make_workspace(root / "ws")
    (keys.path / "empreinte.toml").write_text(
        "[consent]\ndefaults = { analytics = true, profiling = true }\n"
    )
    with empreinte.open(keys.path) as ws:
        report = ws.ingest(generate(PEOPLE))
        assert not report.rejected
    server = ServerProcess(keys.path, root).start()
    try:
        yield World(server, keys)
    finally:
        server.stop()


def test_the_cards_as_json_in_french_and_every_k_s_score(world: World) -> None:
    response = world.get(lang="fr", seed=1)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["chosen_by"] == "stability" and doc["lang"] == "fr" and doc["seed"] == 1
    assert [s["k"] for s in doc["scores"]] == list(range(2, 11))
    chosen = [s for s in doc["scores"] if s["chosen"]]
    assert len(chosen) == 1 and chosen[0]["k"] == doc["k"]
    assert chosen[0]["stability"] == max(s["stability"] for s in doc["scores"])
    cards = doc["cards"]
    assert [c["number"] for c in cards] == list(range(1, doc["k"] + 1))
    # Only people with enough history are in a persona (a third of them in this demo); the
    # others are counted.
    assert sum(c["people"] for c in cards) == doc["people"] >= 50
    assert doc["people"] + doc["too_little_history"] == doc["read"] > 300
    assert doc["coverage"] == pytest.approx(doc["people"] / doc["read"])
    assert doc["min_touchpoints"] == 25
    assert len({c["name"] for c in cards}) == doc["k"]
    assert all(c["lang"] == "fr" for c in cards)
    assert {"age_range", "generations", "channels", "nps", "themes", "quote"} <= set(cards[0])


def test_a_card_as_a_picture_and_a_missing_one(world: World) -> None:
    response = world.get("/1.png", k=3, lang="fr")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.content[:4] == b"\x89PNG"
    assert world.get("/4.png", k=3, lang="fr").status_code == 404
    bad = world.get("/zero.png")
    assert bad.status_code == 400 and "persona number" in bad.text


def test_bad_parameters_and_roles(world: World) -> None:
    assert world.get(k=1).status_code == 400
    assert world.get(lang="de").status_code == 400
    assert world.get(role="viewer").status_code == 403
    assert world.get("/1.png", role="viewer").status_code == 403
