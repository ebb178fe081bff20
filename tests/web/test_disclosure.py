"""Breakdowns that cannot single a person out: free text is never a breakdown, and a viewer
sees no figure made of fewer than 10 answers (pooled into "(other)" or hidden), while an
analyst sees every group. Over HTTP, with the tokens of each role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import empreinte
from conftest import Keys, ServerProcess

# One quarter of NPS answers by touchpoint: store 12, web 5, app 4, kiosk 2; and one answer
# in the next quarter.
TOUCHPOINTS = {"store": 12, "web": 5, "app": 4, "kiosk": 2}


def _answers() -> list[dict[str, Any]]:
    messages = []
    n = 0
    for touchpoint, count in TOUCHPOINTS.items():
        for _ in range(count):
            n += 1
            messages.append(
                {
                    "type": "track",
                    "userId": f"u-{n}",
                    "event": "NPS Answered",
                    "timestamp": f"2026-02-{n % 28 + 1:02d}T10:00:00Z",
                    "properties": {
                        "score": n % 11,
                        "touchpoint": touchpoint,
                        "order_id": f"o-{n}",
                        "comment": f"my own words {n}",
                    },
                }
            )
    messages.append(
        {
            "type": "track",
            "userId": "late",
            "event": "NPS Answered",
            "timestamp": "2026-05-02T10:00:00Z",
            "properties": {"score": 10, "touchpoint": "store"},
        }
    )
    messages += [
        {
            "type": "track",
            "userId": f"k-{i}",
            "event": "Kano Answered",
            "timestamp": "2026-02-10T10:00:00Z",
            "properties": {"feature": feature, "functional": 1, "dysfunctional": 5},
        }
        for feature, count in (("popular", 12), ("rare", 3))
        for i in range(count)
    ]
    return messages


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Keys, httpx.Client]]:
    from conftest import make_workspace

    root = tmp_path_factory.mktemp("disclosure")
    keys = make_workspace(root / "ws")
    with empreinte.open(keys.path) as ws:
        assert not ws.ingest(_answers()).rejected
    server = ServerProcess(keys.path, root).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            yield keys, http
    finally:
        server.stop()


def _get(served: tuple[Keys, httpx.Client], role: str, path: str, **params: str) -> Any:
    keys, http = served
    token = {"viewer": keys.viewer_token, "analyst": keys.analyst_token}[role]
    answer = http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    return answer


def test_a_viewer_sees_small_groups_pooled_and_an_analyst_sees_them_all(
    served: tuple[Keys, httpx.Client],
) -> None:
    params = {"by": "properties.touchpoint", "period": "quarter"}
    analyst = _get(served, "analyst", "/api/cx/nps", **params).json()["rows"]
    assert {(r["period"], r["group"], r["n"]) for r in analyst} == {
        ("2026-Q1", "store", 12),
        ("2026-Q1", "web", 5),
        ("2026-Q1", "app", 4),
        ("2026-Q1", "kiosk", 2),
        ("2026-Q2", "store", 1),
    }
    viewer = _get(served, "viewer", "/api/cx/nps", **params).json()["rows"]
    # web + app + kiosk = 11 answers pooled; the lone Q2 answer is hidden.
    assert [(r["period"], r["group"], r["n"]) for r in viewer] == [
        ("2026-Q1", "store", 12),
        ("2026-Q1", "(other)", 11),
    ]
    store = next(r for r in analyst if r["group"] == "store")
    assert next(r for r in viewer if r["group"] == "store")["score"] == store["score"]


def test_a_near_unique_breakdown_shows_a_viewer_nothing_individual(
    served: tuple[Keys, httpx.Client],
) -> None:
    rows = _get(served, "viewer", "/api/cx/nps", by="properties.order_id").json()["rows"]
    assert [(r["group"], r["n"]) for r in rows] == [("(other)", 24)]
    periods = _get(served, "viewer", "/api/cx/nps", period="quarter").json()["rows"]
    assert [(r["period"], r["n"]) for r in periods] == [("2026-Q1", 23)]


@pytest.mark.parametrize("role", ["viewer", "analyst"])
@pytest.mark.parametrize("by", ["properties.comment", "properties.Comment", "traits.notes"])
def test_free_text_is_never_a_breakdown(
    served: tuple[Keys, httpx.Client], role: str, by: str
) -> None:
    answer = _get(served, role, "/api/cx/nps", by=by)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == "by" and "free text" in answer.json()["message"]


def test_a_viewer_sees_no_kano_feature_of_few_answers(
    served: tuple[Keys, httpx.Client],
) -> None:
    analyst = _get(served, "analyst", "/api/cx/kano").json()["features"]
    viewer = _get(served, "viewer", "/api/cx/kano").json()["features"]
    assert {r["feature"] for r in analyst} == {"popular", "rare"}
    assert {r["feature"] for r in viewer} == {"popular"}


def test_the_minimum_is_a_setting(
    tmp_path: Any, start_server: Callable[[Keys], ServerProcess]
) -> None:
    from conftest import make_workspace

    keys = make_workspace(tmp_path / "ws")
    (keys.path / "empreinte.toml").write_text("[cx]\nviewer_min_group = 2\n")
    with empreinte.open(keys.path) as ws:
        ws.ingest(_answers())
    server = start_server(keys)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        rows = _get((keys, http), "viewer", "/api/cx/nps", by="properties.touchpoint").json()
    assert {r["group"] for r in rows["rows"]} == set(TOUCHPOINTS)
