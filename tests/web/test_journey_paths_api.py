"""`GET /api/journeys/paths` and `/api/journeys/retention` on the real server, over a small
hand-built log whose figures are read by eye: JSON, CSV and charts, clear 400s, roles."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import empreinte
from conftest import Keys, ServerProcess, make_workspace

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # Monday of 2026-W10
PNG = b"\x89PNG\r\n\x1a\n"


def track(person: str, event: str, minutes: float, channel: str = "web") -> dict[str, Any]:
    return {
        "type": "track",
        "event": event,
        "userId": person,
        "timestamp": (T0 + timedelta(minutes=minutes)).isoformat(),
        "context": {"channel": channel},
    }


def messages() -> list[dict[str, Any]]:
    out = []
    for person in ("a", "b", "c"):
        out.append(
            {
                "type": "track",
                "event": "Consent Updated",
                "userId": person,
                "timestamp": T0.isoformat(),
                "properties": {"purpose": "analytics", "granted": True, "wording_version": "v1"},
            }
        )
    out += [track("a", "Product Viewed", 1), track("a", "Cart", 2), track("a", "Order", 3)]
    out += [track("b", "Product Viewed", 1), track("b", "Cart", 2)]
    out += [track("c", "Product Viewed", 1), track("c", "Called", 3, "phone")]
    out += [track("a", "Order", 60 * 24 * 8, "store")]  # a week later, in the shop
    return out


@dataclass(frozen=True)
class World:
    server: ServerProcess
    keys: Keys

    def get(self, path: str, role: str = "analyst", **params: Any) -> httpx.Response:
        token = {"analyst": self.keys.analyst_token, "viewer": self.keys.viewer_token}[role]
        return httpx.get(
            self.server.url + path,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("journey-paths-api")
    keys = make_workspace(root / "ws")
    with empreinte.open(keys.path) as ws:
        assert not ws.ingest(messages()).rejected
    server = ServerProcess(keys.path, root).start()
    try:
        yield World(server, keys)
    finally:
        server.stop()


def test_paths_as_json(world: World) -> None:
    response = world.get("/api/journeys/paths", **{"from": "Product Viewed", "depth": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["occurrences"], body["people"], body["direction"]) == (3, 3, "next")
    edges = {(r["level"], r["source"], r["target"]): r["transitions"] for r in body["sankey"]}
    assert edges == {
        (1, "Product Viewed", "Cart"): 2,
        (1, "Product Viewed", "Called"): 1,
        (2, "Cart", "Order"): 1,
        (2, "Cart", "(end)"): 1,
        (2, "Called", "(end)"): 1,
    }
    first = [s for s in body["steps"] if s["level"] == 1]
    assert [(s["step"], s["share"]) for s in first] == [("Cart", 2 / 3), ("Called", 1 / 3)]


def test_paths_backwards_by_channel_as_csv_and_png(world: World) -> None:
    response = world.get("/api/journeys/paths", to="Order", depth=1, label="channel", format="csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {(r["source"], r["target"], r["transitions"]) for r in rows} == {
        ("web", "web", "1"),  # a's cart on the web, then the order on the web
        ("web", "store", "1"),  # that order, then (a week later) one in the shop
    }
    png = world.get("/api/journeys/paths", **{"from": "Product Viewed", "format": "png"})
    assert png.status_code == 200 and png.content.startswith(PNG)


def test_retention(world: World) -> None:
    response = world.get(
        "/api/journeys/retention", start="Product Viewed", periods=2, **{"return": "Order"}
    )
    assert response.status_code == 200, response.text
    cells = {
        (c["cohort"], c["bucket"]): (c["size"], c["returned"]) for c in response.json()["cells"]
    }
    # a ordered the same week and the next one; b and c never did
    assert cells[("2026-W10", 0)] == (3, 1)
    assert cells[("2026-W10", 1)] == (3, 1)
    png = world.get("/api/journeys/retention", format="png", unbounded="true")
    assert png.status_code == 200 and png.content.startswith(PNG)


@pytest.mark.parametrize(
    ("route", "params", "field"),
    [
        ("paths", {}, "from"),
        ("paths", {"from": "Nothing Like It"}, "from"),
        ("paths", {"from": "Cart", "within": "soon"}, "within"),
        ("paths", {"from": "Cart", "depth": "0"}, "depth"),
        ("paths", {"from": "Cart", "colour": "red"}, "colour"),
        ("retention", {"by": "nonsense"}, "by"),
        ("retention", {"return": "Nothing Like It"}, "return"),
        ("retention", {"by": "country", "format": "png"}, "by"),
    ],
)
def test_bad_requests_name_the_parameter(
    world: World, route: str, params: dict[str, str], field: str
) -> None:
    response = world.get(f"/api/journeys/{route}", **params)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


def test_viewers_may_not_follow_journeys(world: World) -> None:
    for route in ("paths", "retention"):
        response = world.get(f"/api/journeys/{route}", "viewer", **{"from": "Cart"})
        assert response.status_code == 403
