"""`GET /api/journeys/attribution` on the real server, over a small log whose figures are worked
out by hand (tests/journey_attribution_log.py): JSON, CSV and PNG answers, 400s naming the
parameter, and the roles (paths link a person's actions: admins and analysts only)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import empreinte
from conftest import Keys, ServerProcess, make_workspace
from journey_attribution_log import messages

PATH = "/api/journeys/attribution"


@dataclass(frozen=True)
class World:
    server: ServerProcess
    keys: Keys

    def get(self, role: str = "analyst", **params: Any) -> httpx.Response:
        token = {
            "admin": self.keys.admin_token,
            "analyst": self.keys.analyst_token,
            "viewer": self.keys.viewer_token,
        }[role]
        return httpx.get(
            self.server.url + PATH,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )

    def json(self, **params: Any) -> Any:
        response = self.get(**params)
        assert response.status_code == 200, response.text
        return json.loads(response.text)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("attribution-api")
    keys = make_workspace(root / "ws")
    with empreinte.open(keys.path) as ws:
        report = ws.ingest(messages())
        assert not report.rejected, report.rejected
        ws.flush()
    server = ServerProcess(keys.path, root).start()
    try:
        yield World(server, keys)
    finally:
        server.stop()


def test_every_model_side_by_side(world: World) -> None:
    body = world.json(models="first_touch,last_touch,linear,markov_1")
    assert (body["goal"], body["by"], body["value_property"]) == (
        "Order Completed",
        "channel",
        "revenue",
    )
    assert (body["conversions"], body["value"], body["non_converting"]) == (2, 150.0, 1)
    assert body["models"] == ["first_touch", "last_touch", "linear", "markov_1"]
    assert body["lookback_seconds"] == 30 * 86400
    rows = {row["channel"]: row for row in body["rows"]}
    assert rows["email"]["first_touch_value"] == 100.0
    assert rows["web"]["first_touch_value"] == 50.0
    assert rows["store"]["last_touch_conversions"] == 1.0
    assert rows["web"]["linear_conversions"] == pytest.approx(1 / 3 + 1 / 2)
    for model in body["models"]:
        assert sum(row[f"{model}_conversions"] for row in body["rows"]) == pytest.approx(2)
    assert 0 < body["conversion_probability"]["markov_1"] < 1


def test_options_change_the_paths(world: World) -> None:
    body = world.json(models="first_touch", lookback="10d", since="2026-03-01")
    first = {
        r["channel"]: r["first_touch_conversions"]
        for r in body["rows"]
        if r["first_touch_conversions"]
    }
    # 10 days back: the email (14 days before the order) is left out, the ad (7 days) is in
    assert first == {"social": 1.0, "web": 1.0}
    none = world.json(models="linear", value="none", goal_touch="false")
    assert none["value"] == 0.0 and none["conversions"] == 2


def test_csv_and_png(world: World) -> None:
    response = world.get(format="csv", models="linear", by="campaign")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows == [{"campaign": "(none)", "linear_conversions": "2.0", "linear_value": "150.0"}]
    chart = world.get(format="png", lang="fr")
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lookback": "soon"}, "lookback"),
        ({"half_life": "0d"}, "half_life"),
        ({"models": "shapley"}, "models"),
        ({"markov_orders": "9"}, "markov_orders"),
        ({"markov_orders": "one"}, "markov_orders"),
        ({"by": "country"}, "by"),
        ({"value": 'total"]'}, "value"),
        ({"session_gap": "0.5s"}, "session_gap"),
        ({"goal": "Nothing Happened", "format": "png"}, "format"),
        ({"limit": "3"}, "limit"),
    ],
)
def test_bad_parameters_are_400s_naming_them(
    world: World, params: dict[str, str], field: str
) -> None:
    response = world.get(**params)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


def test_viewers_may_not_read_paths(world: World) -> None:
    assert world.get("viewer").status_code == 403
    assert world.get("admin", models="first_touch").status_code == 200
