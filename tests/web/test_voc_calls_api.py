"""The journeys before calls (`/api/voc/calls/...`) on the real server, over the people of
tests/voc_journey_calls.py: figures checked by hand, CSV, 400s naming the parameter, the
viewer refused and no call or person in any answer."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import empreinte
from conftest import Keys, ServerProcess, make_workspace
from voc_journey_calls import MARIE_PHONE, set_reasons
from voc_journey_calls import messages as people

ROUTES = ("reasons", "avoidable", "pages", "repeats")


@dataclass(frozen=True)
class World:
    server: ServerProcess
    keys: Keys
    marie: str

    def get(self, route: str, role: str = "analyst", **params: Any) -> httpx.Response:
        token = {
            "admin": self.keys.admin_token,
            "analyst": self.keys.analyst_token,
            "viewer": self.keys.viewer_token,
        }[role]
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{self.server.url}/api/voc/calls/{route}"
        return httpx.get(url, params=params, headers=headers, timeout=120)

    def json(self, route: str, **params: Any) -> Any:
        response = self.get(route, **params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("voc-calls-api")
    keys = make_workspace(root / "ws")
    (keys.path / "empreinte.toml").write_text('[voc.answers]\ndelivery = ["/help/delivery"]\n')
    with empreinte.open(keys.path) as ws:
        report = ws.ingest(people())
        assert not report.rejected, report.rejected
        ws.flush()
        set_reasons(ws)
        marie = ws.profiles.find("phone", MARIE_PHONE)
    server = ServerProcess(keys.path, root).start()
    try:
        yield World(server, keys, str(marie))
    finally:
        server.stop()


def test_reasons_and_what_was_seen_before_the_calls(world: World) -> None:
    body = world.json("reasons", top=2)
    assert (body["window_hours"], body["calls"], body["linked"]) == (24, 6, 4)
    assert (body["with_errors"], body["checkout_abandoned"]) == (1, 1)
    payment = next(r for r in body["reasons"] if r["reason"] == "payment")
    assert (payment["calls"], payment["linked"], payment["checkout_abandoned"]) == (1, 1, 1)
    seen = {(r["reason"], r["kind"], r["value"]) for r in body["seen"]}
    assert ("payment", "last_page", "Checkout") in seen
    assert ("payment", "step", "Payment Failed") in seen


def test_hours_reason_and_window(world: World) -> None:
    body = world.json("reasons", hours=1, reason="payment")
    assert body["window_hours"] == 1 and body["linked"] == 0 and body["calls"] == 1
    later = world.json("reasons", since="2026-03-04T00:00:00Z")
    assert [(r["reason"], r["calls"]) for r in later["reasons"]] == [("delivery", 1)]


def test_avoidable_pages_and_repeats(world: World) -> None:
    avoidable = world.json("avoidable")
    assert (avoidable["linked"], avoidable["avoidable"], avoidable["share"]) == (2, 1, 0.5)
    assert avoidable["rows"][0]["answers"] == ["/help/delivery"]
    pages = world.json("pages")
    checkout = next(r for r in pages["rows"] if r["page"] == "Checkout")
    assert (pages["sessions"], pages["called"], checkout["sessions"], checkout["called"]) == (
        7,
        4,
        2,
        1,
    )
    repeats = world.json("repeats", days=7)
    delivery = next(r for r in repeats["rows"] if r["reason"] == "delivery")
    assert (delivery["calls"], delivery["repeated"]) == (3, 1)
    assert world.json("repeats", days=2)["repeated"] == 0


def test_csv(world: World) -> None:
    response = world.get("pages", format="csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = {r["page"]: r["called"] for r in csv.DictReader(io.StringIO(response.text))}
    assert rows["Home"] == "2"


def test_no_call_nor_person_in_the_answers(world: World) -> None:
    for route in ROUTES:
        text = world.get(route, role="admin").text
        assert world.marie not in text and "call-marie" not in text and '"seq"' not in text


@pytest.mark.parametrize(
    ("route", "params", "field"),
    [
        ("reasons", {"hours": "0"}, "hours"),
        ("reasons", {"hours": "721"}, "hours"),
        ("reasons", {"top": "101"}, "top"),
        ("reasons", {"reason": "x" * 201}, "reason"),
        ("repeats", {"days": "91"}, "days"),
        ("pages", {"since": "not a date"}, "since"),
        ("pages", {"top": "3"}, "top"),  # not a parameter of this route
        ("avoidable", {"format": "png"}, "format"),
    ],
)
def test_bad_parameters_are_400s_naming_them(
    world: World, route: str, params: dict[str, str], field: str
) -> None:
    response = world.get(route, **params)
    assert response.status_code == 400, response.text
    assert field in response.text


def test_viewers_are_refused(world: World) -> None:
    for route in ROUTES:
        assert world.get(route, role="viewer").status_code == 403
    assert httpx.get(f"{world.server.url}/api/voc/calls/reasons", timeout=30).status_code == 401
