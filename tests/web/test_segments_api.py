"""`/api/segments` on the real server over the hand-built people of the segment tests: create,
list, show with its history, paged members, refresh, overlap, preview of an unsaved
expression, delete; errors with the expression's line and column; viewers get 403. And the
server's scheduler (`SegmentScheduler`) refreshing due segments."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import empreinte
from analytics.know.segment_people import people
from conftest import Keys, ServerProcess, make_workspace
from empreinte.web.know_segments_api import SegmentScheduler


@dataclass(frozen=True)
class World:
    server: ServerProcess
    keys: Keys
    ids: dict[str, str]

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
    root = tmp_path_factory.mktemp("segments-api")
    keys = make_workspace(root / "ws")
    with empreinte.open(keys.path) as ws:
        report = ws.ingest(people(), source="python")
        assert not report.rejected, report.rejected
        ws.flush()
        ids = {u: ws.profiles.find("userId", u) or "" for u in ("ann", "bob", "cleo", "eve")}
    server = ServerProcess(keys.path, root).start()
    try:
        yield World(server, keys, ids)
    finally:
        server.stop()


def test_a_segment_over_http(world: World) -> None:
    body = {"name": "fr", "expression": 'country = "FR"', "schedule": "1d"}
    created = world.call("POST", "/api/segments", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["size"] == 2 and created.json()["created_by"] == "api:analyst"
    assert world.call("POST", "/api/segments", json=body).status_code == 409
    world.call("POST", "/api/segments", json={"name": "buyers", "expression": "orders >= 1"})

    listed = world.call("GET", "/api/segments").json()["segments"]
    assert {s["name"]: s["size"] for s in listed} == {"buyers": 3, "fr": 2}

    page = world.call("GET", "/api/segments/fr/members", params={"limit": 1}).json()
    assert page["total"] == 2 and len(page["members"]) == 1 and page["next_offset"] == 1
    rest = world.call("GET", "/api/segments/fr/members", params={"offset": 1}).json()
    assert set(page["members"] + rest["members"]) == {world.ids["ann"], world.ids["bob"]}
    assert rest["next_offset"] is None

    shown = world.call("GET", "/api/segments/fr").json()
    assert shown["size"] == 2 and shown["schedule"] == "1d"
    assert [(h["entered"], h["left"]) for h in shown["history"]] == [(2, 0)]
    history = world.call(
        "GET", "/api/segments/fr/history", params={"profileId": world.ids["ann"]}
    ).json()
    assert [c["change"] for c in history["changes"]] == ["entered"]

    patched = world.call(
        "PATCH", "/api/segments/fr", json={"expression": 'country in ["FR", "DE"]', "schedule": ""}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["size"] == 3 and patched.json()["schedule"] is None
    bad = world.call("PATCH", "/api/segments/fr", json={"expression": "orders >"})
    assert bad.status_code == 400 and bad.json()["field"] == "expression"
    assert world.call("PATCH", "/api/segments/fr", json={"colour": "red"}).status_code == 400

    refreshed = world.call("POST", "/api/segments/fr/refresh")
    assert refreshed.status_code == 200, refreshed.text
    assert (refreshed.json()["entered"], refreshed.json()["left"]) == (0, 0)

    overlap = world.call("GET", "/api/segments/overlap", params={"name": ["fr", "buyers"]})
    (pair,) = overlap.json()["pairs"]
    assert (pair["a"], pair["b"], pair["both"]) == ("fr", "buyers", 3)  # all buy
    assert pair["jaccard"] == pytest.approx(1)

    assert world.call("DELETE", "/api/segments/fr", role="admin").status_code == 200
    assert world.call("GET", "/api/segments/fr").status_code == 404
    assert world.call("DELETE", "/api/segments/buyers").status_code == 200


def test_preview_gives_the_live_size(world: World) -> None:
    answer = world.call(
        "GET", "/api/segments/preview", params={"expression": 'traits.plan = "pro"'}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"expression": 'traits.plan = "pro"', "size": 2}


def test_a_mistake_answers_400_with_its_line_and_column(world: World) -> None:
    answer = world.call(
        "GET", "/api/segments/preview", params={"expression": 'orders > 1 and contry = "FR"'}
    )
    assert answer.status_code == 400
    doc = answer.json()
    assert (doc["field"], doc["line"], doc["column"]) == ("expression", 1, 16)
    assert doc["reason"].startswith("unknown field 'contry' (did you mean 'country'?)")
    assert doc["message"].splitlines()[2] == "  " + " " * 15 + "^"


@pytest.mark.parametrize(
    "expression",
    [
        "(" * 1000 + "orders > 1" + ")" * 1000,
        'traits.city = "x"' + " or orders > 1" * 300,
        'consented("everything")',
    ],
)
def test_hostile_expressions_are_refused_or_bounded(world: World, expression: str) -> None:
    answer = world.call("GET", "/api/segments/preview", params={"expression": expression})
    assert answer.status_code == 400, answer.text


def test_viewers_may_not_read_segments(world: World) -> None:
    assert world.call("GET", "/api/segments", role="viewer").status_code == 403
    assert (
        world.call(
            "GET", "/api/segments/preview", role="viewer", params={"expression": "orders > 1"}
        ).status_code
        == 403
    )


def test_the_scheduler_refreshes_due_segments(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        ws.ingest(people(), source="python")
        ws.flush()
        ws.segments.create("hourly", "orders >= 1", schedule="1h", refresh=False)
        ws.segments.create("by hand", "orders >= 2", refresh=False)
        scheduler = SegmentScheduler(ws, interval=3600)
        assert scheduler.run_once() == 1
        assert ws.segments.size("hourly") == 3 and ws.segments.size("by hand") == 0
        assert scheduler.run_once() == 0  # computed less than an hour ago
