"""`GET /api/journeys/funnel` on the real server over a small log: the figures, CSV and PNG,
the dropped list, clear 400s naming the parameter, and roles (viewers get 403)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import empreinte
from conftest import Keys, ServerProcess, make_workspace
from funnel_journeys import funnel_messages

STEPS = ["Product Viewed", "Product Added", "Order Completed[channel=store]"]


@dataclass(frozen=True)
class World:
    server: ServerProcess
    keys: Keys
    ids: dict[str, str]

    def get(self, role: str = "analyst", **params: Any) -> httpx.Response:
        token = {
            "admin": self.keys.admin_token,
            "analyst": self.keys.analyst_token,
            "viewer": self.keys.viewer_token,
        }[role]
        return httpx.get(
            self.server.url + "/api/journeys/funnel",
            params={"step": STEPS, **params},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("funnel-api")
    keys = make_workspace(root / "ws")
    with empreinte.open(keys.path) as ws:
        report = ws.ingest(funnel_messages())
        assert not report.rejected, report.rejected
        ws.flush()
        ids = {u: ws.profiles.find("userId", u) or "" for u in ("f1", "f2", "f3", "f4", "f5")}
    server = ServerProcess(keys.path, root).start()
    try:
        yield World(server, keys, ids)
    finally:
        server.stop()


def test_the_funnel_figures(world: World) -> None:
    response = world.get(window="7d")
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["steps"] == STEPS and doc["window_seconds"] == 7 * 86400
    assert [r["count"] for r in doc["rows"]] == [5, 3, 2]  # nc has no consent
    assert doc["rows"][2]["median_seconds"] == pytest.approx((23 + 47) / 2 * 3600)


def test_breakdown_csv_and_chart(world: World) -> None:
    response = world.get(by="country", format="csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "FR,1,Product Viewed,2," in response.text.replace("\r", "")
    chart = world.get(format="png")
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")


def test_the_dropped_list(world: World) -> None:
    response = world.get(dropped=1)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["total"] == 2 and sorted(doc["people"]) == sorted([world.ids["f4"], world.ids["f5"]])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"window": "soon"}, "window"),
        ({"window": "inf"}, "window"),  # was an OverflowError, a 500
        ({"window": "1e308d"}, "window"),
        ({"window": "99999999999d"}, "window"),
        ({"mode": "sideways"}, "mode"),
        ({"by": "colour"}, "by"),
        ({"dropped": 3}, "dropped"),
        ({"step": ["A[colour]", "B"]}, "step"),
        ({"limt": 5}, "limt"),
    ],
)
def test_bad_parameters_are_400s_naming_them(
    world: World, params: dict[str, Any], field: str
) -> None:
    response = world.get(**params)
    assert response.status_code == 400, response.text
    assert response.json().get("field") == field


def test_viewers_may_not_follow_people(world: World) -> None:
    assert world.get("viewer").status_code == 403
    assert world.get("admin").status_code == 200
