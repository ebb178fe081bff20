"""`GET /api/know/rfm` and `GET /api/know/clv` on the real server over the demo's log: the
same figures as the Python API, CSV and PNG, 400s naming the parameter, and roles."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import empreinte
from conftest import Keys, ServerProcess, make_workspace
from empreinte.demo import generate


@dataclass(frozen=True)
class World:
    server: ServerProcess
    keys: Keys
    rfm_rows: list[dict[str, Any]]
    clv_top: list[dict[str, Any]]

    def get(self, path: str, role: str = "analyst", **params: Any) -> httpx.Response:
        token = {
            "admin": self.keys.admin_token,
            "analyst": self.keys.analyst_token,
            "viewer": self.keys.viewer_token,
        }[role]
        return httpx.get(
            self.server.url + path,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("know-value-api")
    keys = make_workspace(root / "ws")
    with empreinte.open(keys.path) as ws:
        report = ws.ingest(generate(300))
        assert not report.rejected
        ws.flush()
        rfm_rows = ws.know.rfm(by="country").to_rows()
        clv_top = ws.know.clv().to_rows()[:5]
    server = ServerProcess(keys.path, root).start()
    try:
        yield World(server, keys, rfm_rows, clv_top)
    finally:
        server.stop()


def test_rfm_over_http_is_the_python_report(world: World) -> None:
    response = world.get("/api/know/rfm", by="country")
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["rows"] == world.rfm_rows  # JSON carries floats exactly
    assert doc["currency"] and doc["customers"] > 0
    csv = world.get("/api/know/rfm", format="csv")
    assert csv.status_code == 200 and csv.text.startswith("segment,customers,share")
    png = world.get("/api/know/rfm", format="png", lang="fr")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


def test_clv_over_http_is_the_python_report(world: World) -> None:
    response = world.get("/api/know/clv", top=5)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert [row["profile_id"] for row in doc["top"]] == [r["profile_id"] for r in world.clv_top]
    assert [row["clv"] for row in doc["top"]] == pytest.approx([r["clv"] for r in world.clv_top])
    assert set(doc["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood"}
    csv = world.get("/api/know/clv", format="csv")
    assert csv.status_code == 200 and csv.text.startswith("profile_id,frequency")


def test_bad_parameters_are_named(world: World) -> None:
    answer = world.get("/api/know/rfm", by="properties.currency")
    assert answer.status_code == 400 and "by" in answer.text
    answer = world.get("/api/know/clv", unit="fortnight")
    assert answer.status_code == 400 and "unit" in answer.text
    answer = world.get("/api/know/clv", format="png")
    assert answer.status_code == 400 and "holdout_end" in answer.text


def test_viewers_may_not_read_scores(world: World) -> None:
    assert world.get("/api/know/rfm", role="viewer").status_code == 403
    assert world.get("/api/know/clv", role="viewer").status_code == 403
    assert world.get("/api/know/rfm", role="admin").status_code == 200
