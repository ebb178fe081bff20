"""The omnichannel journey routes (`/api/journeys/channels|ropo|friction`) on the real server,
over a few hand-built people: figures checked by hand, CSV and PNG answers, 400s naming the
parameter, and the viewer refused."""

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

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
DAY = timedelta(days=1)
PNG = b"\x89PNG\r\n\x1a\n"


def track(user: str, event: str, at: datetime, channel: str, **props: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": event,
        "userId": user,
        "properties": props,
        "timestamp": at.isoformat(),
        "context": {"channel": channel},
    }


def messages() -> list[dict[str, Any]]:
    out = []
    for user in ("ann", "bob", "dan", "carl"):
        consent = {"purpose": "analytics", "granted": True, "wording_version": "v1"}
        out.append(track(user, "Consent Updated", T0 - 30 * DAY, "web", **consent))
    # ann: web then a shop two days later → cross-channel and a ROPO purchase.
    out += [track("ann", "Product Viewed", T0, "web", product_id="P1")]
    out += [track("ann", "Order Completed", T0 + 2 * DAY, "store", order_id="O1")]
    # bob: a cart in the app, checked out on the web → omnichannel; bought online.
    out += [track("bob", "Product Added", T0, "app", cart_id="c1")]
    out += [track("bob", "Order Completed", T0 + DAY, "web", cart_id="c1")]
    # dan: a shop purchase without research → mono-channel, not ROPO.
    out += [track("dan", "Order Completed", T0, "store", order_id="O2")]
    # carl: the checkout page, two failed payments, then a call an hour later.
    page = {"type": "page", "name": "Checkout", "userId": "carl", "properties": {}}
    out += [{**page, "timestamp": T0.isoformat(), "context": {"channel": "web"}}]
    out += [track("carl", "Payment Failed", T0 + timedelta(minutes=1), "web")]
    out += [track("carl", "Payment Failed", T0 + timedelta(minutes=2), "web")]
    out += [track("carl", "Call Started", T0 + timedelta(hours=1), "phone")]
    return out


@dataclass(frozen=True)
class World:
    server: ServerProcess
    keys: Keys

    def get(self, path: str, role: str = "analyst", **params: Any) -> httpx.Response:
        token = {
            "admin": self.keys.admin_token,
            "analyst": self.keys.analyst_token,
            "viewer": self.keys.viewer_token,
        }[role]
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(self.server.url + path, params=params, headers=headers, timeout=120)

    def json(self, path: str, **params: Any) -> Any:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("journeys-api")
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


def test_classes_and_mix(world: World) -> None:
    body = world.json("/api/journeys/channels")
    classes = {r["channel_class"]: r["people"] for r in body["rows"]}
    assert classes == {"mono": 1, "multi": 0, "cross": 2, "omni": 1}  # dan; ann, carl; bob
    mix = world.json("/api/journeys/channels", view="mix")
    assert {c["channel"]: c["people"] for c in mix["channels"]} == {
        "web": 3,
        "store": 2,
        "app": 1,
        "phone": 1,
    }
    combos = {c["combination"]: c["people"] for c in mix["combinations"]}
    assert combos == {"store + web": 1, "app + web": 1, "phone + web": 1, "store": 1}


def test_ropo_and_showrooming(world: World) -> None:
    rows = world.json("/api/journeys/ropo")["rows"]
    assert (rows[0]["purchases"], rows[0]["crossed_purchases"]) == (2, 1)  # ann's, not dan's
    reverse = world.json("/api/journeys/ropo", direction="showrooming")["rows"]
    assert (reverse[0]["purchases"], reverse[0]["crossed_purchases"]) == (1, 0)


def test_friction_reports(world: World) -> None:
    calls = world.json("/api/journeys/friction")
    assert (calls["contacts"], calls["after_web"]) == (1, 1)
    assert [(r["kind"], r["value"]) for r in calls["ranking"]] == [
        ("page", "Checkout"),
        ("step", "Payment Failed"),
    ]
    errors = world.json("/api/journeys/friction", kind="errors")
    assert (errors["people_repeated"], errors["sessions_repeated"]) == (1, 1)
    drops = world.json("/api/journeys/friction", kind="drop_off")
    assert drops["abnormal"] == []  # one week: nothing to compare with


def test_csv_and_png(world: World) -> None:
    response = world.get("/api/journeys/ropo", format="csv", by="channel")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["group"], r["purchases"]) for r in rows] == [("store", "2")]
    chart = world.get("/api/journeys/channels", format="png", lang="fr")
    assert chart.status_code == 200 and chart.content.startswith(PNG)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/journeys/channels", {"by": "channel"}, "by"),
        ("/api/journeys/channels", {"view": "pie"}, "view"),
        ("/api/journeys/ropo", {"window_days": "-1"}, "window_days"),
        ("/api/journeys/ropo", {"by": "traits.email"}, "by"),
        ("/api/journeys/ropo", {"by": "country", "match": "a..b"}, "match"),
        ("/api/journeys/friction", {"kind": "drop_off", "funnel": "Nope"}, "funnel"),
        ("/api/journeys/friction", {"kind": "errors", "format": "png"}, "format"),
        ("/api/journeys/friction", {"limt": "3"}, "limt"),
    ],
)
def test_bad_parameters_are_400s_naming_them(
    world: World, path: str, params: dict[str, str], field: str
) -> None:
    response = world.get(path, **params)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


def test_viewers_are_refused(world: World) -> None:
    assert world.get("/api/journeys/channels", role="viewer").status_code == 403
