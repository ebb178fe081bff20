"""`/api/voc/...` on the real server: refresh, texts (filtered, paged), one text, topics
renamed and merged, reasons, quality, agents (admins only); bad parameters name themselves.
And `VocRefresher`, the server's background refresh."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import empreinte
from conftest import Keys, ServerProcess, make_workspace
from empreinte.web.voc_api import VocRefresher
from voc.calls import T0, call, days, planted, turns


@dataclass(frozen=True)
class World:
    server: ServerProcess
    keys: Keys

    def call(self, method: str, path: str, role: str = "analyst", **kwargs: Any) -> httpx.Response:
        token = {
            "admin": self.keys.admin_token,
            "analyst": self.keys.analyst_token,
            "viewer": self.keys.viewer_token,
        }[role]
        return httpx.request(
            method,
            self.server.url + path,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
            **kwargs,
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("voc-api")
    keys = make_workspace(root / "ws")
    with empreinte.open(keys.path) as ws:
        for i, (_, text) in enumerate(planted(40)):
            call(ws, turns(("customer", text)), user=f"u{i % 7}", at=T0 + days(i % 14),
                 agent=f"agent-{i % 2}")  # fmt: skip
        call(ws, turns(("customer", "Toujours pas de remboursement, je suis furieux")), user="x")
    server = ServerProcess(keys.path, root).start()
    try:
        yield World(server, keys)
    finally:
        server.stop()


def test_refresh_then_read_over_http(world: World) -> None:
    answer = world.call("POST", "/api/voc/refresh", "admin", json={})
    assert answer.status_code == 200, answer.text
    assert answer.json()["texts"] == 41
    page = world.call("GET", "/api/voc/texts", params={"limit": 10, "offset": 5}).json()
    assert page["total"] == 41 and len(page["texts"]) == 10
    (refund,) = world.call("GET", "/api/voc/texts", params={"reason": "refund"}).json()["texts"]
    detail = world.call("GET", f"/api/voc/texts/{refund['seq']}").json()
    assert detail["turns"][0]["text"].startswith("Toujours pas")
    assert detail["sentiment"] < 0
    negative = world.call("GET", "/api/voc/texts", params={"sentiment": "negative"}).json()
    assert refund["seq"] in {t["seq"] for t in negative["texts"]}
    reasons = world.call("GET", "/api/voc/reasons", "viewer", params={"period": "month"}).json()
    assert sum(r["texts"] for r in reasons["reasons"]) == 41
    quality = world.call("GET", "/api/voc/quality").json()["reasons"]
    assert quality[0]["reason"] == "*" and quality[0]["contacts"] == 41


def test_topics_renamed_and_merged_over_http(world: World) -> None:
    world.call("POST", "/api/voc/refresh", "admin")
    topics = world.call("GET", "/api/voc/topics", "viewer").json()["topics"]
    assert len(topics) >= 2
    a, b = topics[0]["topic_id"], topics[1]["topic_id"]
    renamed = world.call("PATCH", f"/api/voc/topics/{a}", json={"label": "Livraison"}).json()
    assert renamed["label"] == "Livraison" and renamed["named"]
    merged = world.call("PATCH", f"/api/voc/topics/{b}", json={"merged_into": a})
    assert merged.json()["merged_into"] == a
    only_a = world.call("GET", "/api/voc/texts", params={"topic": a, "limit": 1000}).json()
    assert only_a["total"] == topics[0]["texts"] + topics[1]["texts"]
    trend = world.call("GET", "/api/voc/topics/trend", "viewer", params={"period": "week"}).json()
    assert {r["topic_id"] for r in trend["trend"]} >= {a}
    assert b not in {r["topic_id"] for r in trend["trend"]}
    world.call("PATCH", f"/api/voc/topics/{b}", json={"merged_into": None})


def test_agents_are_for_admins(world: World) -> None:
    world.call("POST", "/api/voc/refresh", "admin")
    assert world.call("GET", "/api/voc/agents", "analyst").status_code == 403
    agents = world.call("GET", "/api/voc/agents", "admin").json()["agents"]
    assert {a["agent_id"] for a in agents} == {"agent-0", "agent-1"}
    assert world.call("GET", "/api/voc/texts", "viewer").status_code == 403


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("GET", "/api/voc/texts", {"params": {"sentiment": "angry"}}, "sentiment"),
        ("GET", "/api/voc/texts", {"params": {"limit": 0}}, "limit"),
        ("GET", "/api/voc/texts/abc", {}, "seq"),
        ("GET", "/api/voc/reasons", {"params": {"period": "fortnight"}}, "period"),
        ("PATCH", "/api/voc/topics/1", {"json": {"label": 3}}, "label"),
        ("PATCH", "/api/voc/topics/1", {"json": {"merged_into": "2"}}, "merged_into"),
        ("PATCH", "/api/voc/topics/1", {"json": {"colour": "red"}}, "colour"),
        ("PATCH", "/api/voc/topics/1", {"json": {"label": "x" * 200}}, "label"),
    ],
)
def test_bad_requests_name_the_field(
    world: World, method: str, path: str, kwargs: dict[str, Any], field: str
) -> None:
    answer = world.call(method, path, **kwargs)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field


def test_the_background_refresher_analyses_new_texts(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        refresher = VocRefresher(ws, interval=3600)
        call(ws, turns(("customer", "Mon colis est en retard")))
        assert refresher.run_once() == 1
        assert refresher.run_once() == 0
        assert ws.voc.count() == 1
