"""The CX reports over HTTP (`/api/cx/…`) on the real server, over a small hand-built log whose
figures are checked by hand: NPS, CSAT, CES by period and channel, comparisons, key drivers,
the closed-loop list, Kano and an experiment; CSV, PNG and SVG answers; clear 400s; roles."""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import empreinte
from conftest import Api, Keys, ServerProcess, make_workspace

Q1 = datetime(2026, 2, 10, 12, tzinfo=UTC)  # 2026-Q1, noon UTC
Q2 = datetime(2026, 5, 12, 12, tzinfo=UTC)  # 2026-Q2
# Relational NPS of people u1..u10; u1-u5 answer on the web, u6-u10 in the app.
Q1_SCORES = [9, 9, 10, 8, 7, 6, 3, 9, 10, 5]  # promoters 5, detractors 3: NPS 20
Q2_SCORES = [10, 10, 10, 9, 9, 8, 7, 6, 2, 10]  # promoters 6, detractors 2: NPS 40
# Payment failures in the days before the Q1 answer (the only journey feature that varies).
FAILURES = {6: 1, 7: 3, 10: 2}
NO_CONSENT = "u1"  # does not allow analytics: not read by drivers
EXPOSED_AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n"
COMMENT = "Nobody called me back, write to jane.doe@example.com"


def _reject_constant(name: str) -> Any:
    raise AssertionError(f"invalid JSON constant {name} in an answer")


def strict_json(response: httpx.Response) -> Any:
    """The body, refusing NaN/Infinity (which `json` would otherwise accept)."""
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    return json.loads(response.text, parse_constant=_reject_constant)


def consent(user: str, at: datetime) -> dict[str, Any]:
    return track(
        user,
        "Consent Updated",
        at,
        {"purpose": "analytics", "granted": True, "wording_version": "v1"},
    )


def track(
    user: str, event: str, at: datetime, properties: dict[str, Any], channel: str = "web"
) -> dict[str, Any]:
    return {
        "type": "track",
        "event": event,
        "userId": user,
        "properties": properties,
        "timestamp": at.isoformat(),
        "context": {"channel": channel},
    }


def messages(now: datetime) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(1, 11):
        user, channel = f"u{i}", "web" if i <= 5 else "app"
        if user != NO_CONSENT:
            out.append(consent(user, datetime(2025, 12, 1, tzinfo=UTC)))
        # Everyone was on their channel the day before: channels_used does not vary.
        out.append(track(user, "Page Viewed", Q1 - timedelta(days=1), {}, channel))
        for k in range(FAILURES.get(i, 0)):
            out.append(track(user, "Payment Failed", Q1 - timedelta(days=3, hours=k), {}, channel))
        for at, scores in ((Q1, Q1_SCORES), (Q2, Q2_SCORES)):
            answer = {"score": scores[i - 1], "survey_id": "relational-2026"}
            out.append(track(user, "NPS Answered", at, answer, channel))
    # CSAT on 5 (60 % top-2-box, mean 3.8) and on 7 (2 of 3 in the top two boxes, mean 5).
    for i, score in enumerate([5, 4, 3, 5, 2], 1):
        out.append(track(f"u{i}", "CSAT Answered", Q1, {"score": score, "touchpoint": "delivery"}))
    for i, score in enumerate([7, 6, 2], 6):
        answer = {"score": score, "scale": 7, "touchpoint": "delivery"}
        out.append(track(f"u{i}", "CSAT Answered", Q1, answer, "app"))
    # CES: 7, 5, 3, 6 on the web and 4 in the app: mean 5, agree (5-7) 60 %.
    for i, score in enumerate([7, 5, 3, 6], 1):
        out.append(track(f"u{i}", "CES Answered", Q1, {"score": score, "touchpoint": "support"}))
    out.append(track("u6", "CES Answered", Q1, {"score": 4, "touchpoint": "support"}, "app"))
    # Kano: one answer pair per category for dark-mode (A, O, M, I), one O for one-click.
    pairs = [("like", "neutral"), ("like", "dislike"), ("neutral", "dislike"), (3, 3)]
    for i, (functional, dysfunctional) in enumerate(pairs, 1):
        answer = {
            "feature": "dark-mode",
            "functional": functional,
            "dysfunctional": dysfunctional,
            "survey_id": "kano-2026",
        }
        out.append(track(f"u{i}", "Kano Answered", Q1, answer))
    answer = {"feature": "one-click", "functional": 1, "dysfunctional": 5, "survey_id": "kano-2026"}
    out.append(track("u1", "Kano Answered", Q1, answer))
    # checkout-countdown: x1-x10 control (x1-x4 order), x11-x20 countdown (x11-x16 order);
    # x20 does not allow analytics; x21 saw both variants.
    for i in range(1, 21):
        user, variant = f"x{i}", "control" if i <= 10 else "countdown"
        if i != 20:
            out.append(consent(user, EXPOSED_AT - timedelta(days=1)))
        view = {"experiment": "checkout-countdown", "variant": variant}
        out.append(track(user, "Experiment Viewed", EXPOSED_AT, view))
        if i <= 4 or 11 <= i <= 16:
            order = {"revenue": 30, "currency": "EUR"}
            out.append(track(user, "Order Completed", EXPOSED_AT + timedelta(days=2), order))
    out.append(consent("x21", EXPOSED_AT - timedelta(days=1)))
    for hours, variant in ((0, "control"), (1, "countdown")):
        view = {"experiment": "checkout-countdown", "variant": variant}
        out.append(track("x21", "Experiment Viewed", EXPOSED_AT + timedelta(hours=hours), view))
    # Transactional NPS after calls, in the last days: two unhappy people, one happy.
    calls = [("u3", 2, 2, COMMENT), ("u4", 1, 6, None), ("u5", 1, 10, None)]
    for user, days_ago, score, comment in calls:
        answer = {"score": score, "touchpoint": "call"} | ({"comment": comment} if comment else {})
        out.append(track(user, "NPS Answered", now - timedelta(days=days_ago), answer, "phone"))
    return out


@dataclass(frozen=True)
class World:
    server: ServerProcess
    keys: Keys
    profiles: dict[str, str]  # userId → profile id

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
            timeout=60,
        )

    def json(self, path: str, role: str = "analyst", **params: Any) -> Any:
        response = self.get(path, role, **params)
        assert response.status_code == 200, response.text
        return strict_json(response)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("cx-api")
    keys = make_workspace(root / "ws")
    with empreinte.open(keys.path) as ws:
        report = ws.ingest(messages(datetime.now(UTC)))
        assert not report.rejected, report.rejected
        ws.flush()
        profiles = {f"u{i}": ws.profiles.find("userId", f"u{i}") for i in range(1, 11)}
    assert all(profiles.values())
    server = ServerProcess(keys.path, root).start()
    try:
        yield World(server, keys, {k: v for k, v in profiles.items() if v})
    finally:
        server.stop()


def nps_of(scores: list[int]) -> float:
    return 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)


# -- NPS, CSAT, CES ---------------------------------------------------------------------------


def test_nps_of_ten_answers_is_exactly_20(world: World) -> None:
    body = world.json("/api/cx/nps", since="2026-01-01", until="2026-04-01")
    assert {k: body[k] for k in ("survey", "headline", "period", "by", "min_n", "n")} == {
        "survey": "nps",
        "headline": "NPS",
        "period": None,
        "by": None,
        "min_n": 30,
        "n": 10,
    }
    assert "comparison" not in body
    [row] = body["rows"]
    assert row["n"] == 10 and row["reliable"] is False  # 10 < min_n 30: flagged, not hidden
    assert (row["promoters"], row["passives"], row["detractors"]) == (50.0, 20.0, 30.0)
    assert row["score"] == 20.0 == nps_of(Q1_SCORES)
    # Adjusted Wald: 3/4 of a promoter and of a detractor added, n + 3 = 13 answers.
    p, d = 5.75 / 13, 3.75 / 13
    half = 100 * 1.959963984540054 * math.sqrt((p + d - (p - d) ** 2) / 13)
    assert row["score_low"] == pytest.approx(100 * (p - d) - half)
    assert row["score_high"] == pytest.approx(100 * (p - d) + half)
    reliable = world.json("/api/cx/nps", since="2026-01-01", until="2026-04-01", min_n=10)
    assert reliable["min_n"] == 10 and reliable["rows"][0]["reliable"] is True


def test_nps_by_quarter_and_channel(world: World) -> None:
    body = world.json("/api/cx/nps", period="quarter", by="channel", kind="relational")
    assert body["period"] == "quarter" and body["by"] == "channel" and body["n"] == 20
    got = {(r["period"], r["group"]): r for r in body["rows"]}
    assert set(got) == {(q, c) for q in ("2026-Q1", "2026-Q2") for c in ("web", "app")}
    for quarter, scores in (("2026-Q1", Q1_SCORES), ("2026-Q2", Q2_SCORES)):
        for channel, mine in (("web", scores[:5]), ("app", scores[5:])):
            row = got[(quarter, channel)]
            assert row["n"] == 5
            assert row["score"] == pytest.approx(nps_of(mine), abs=1e-9)
    # Each quarter is tested against the group's previous one.
    web = got[("2026-Q2", "web")]
    assert web["previous"] == "2026-Q1" and web["change"] == pytest.approx(100 - 60)
    assert got[("2026-Q1", "web")]["change"] is None


def test_compare_two_quarters(world: World) -> None:
    body = world.json("/api/cx/nps", period="quarter", kind="relational", compare="2026-Q1,2026-Q2")
    assert [(r["period"], r["n"], r["score"]) for r in body["rows"]] == [
        ("2026-Q1", 10, 20.0),
        ("2026-Q2", 10, 40.0),
    ]
    comparison = body["comparison"]
    # z of the adjusted NPS (3/4 of a promoter and of a detractor added, n + 3 answers):
    # (c2 - c1) / sqrt(V1 + V2), c = p - d, V = (p + d - c^2) / (n + 3).
    p1, d1 = 5.75 / 13, 3.75 / 13
    p2, d2 = 6.75 / 13, 2.75 / 13
    v1 = (p1 + d1 - (p1 - d1) ** 2) / 13
    v2 = (p2 + d2 - (p2 - d2) ** 2) / 13
    z = ((p2 - d2) - (p1 - d1)) / math.sqrt(v1 + v2)
    assert comparison["a"] == "2026-Q1" and comparison["b"] == "2026-Q2"
    assert comparison["delta"] == pytest.approx(20.0)
    assert comparison["p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert comparison["significant"] is False
    assert "z" in comparison["test"]
    # Groups can be compared too; a label the report does not have is refused.
    groups = world.json("/api/cx/nps", by="channel", kind="relational", compare="web,app")
    assert groups["comparison"]["delta"] == pytest.approx(nps_of(Q2_SCORES[5:]) - 100.0)
    bad = world.get("/api/cx/nps", period="quarter", compare="2026-Q1,2025-Q4")
    assert bad.status_code == 400
    assert bad.json()["field"] == "compare" and "2025-Q4" in bad.json()["message"]


def test_a_date_means_midnight_in_the_workspace_zone_and_until_is_exclusive(world: World) -> None:
    def n(**window: str) -> int:
        body = world.json("/api/cx/nps", period="quarter", kind="relational", **window)
        return int(body["n"])

    # The Q1 answers were given at noon UTC on 2026-02-10; the workspace reads time in UTC.
    assert n(since="2026-02-10", until="2026-02-11") == 10
    assert n(since="2026-01-01", until="2026-02-10") == 0
    assert n(since="2026-01-01", until="2026-02-10T14:00:00+02:00") == 0  # noon UTC, excluded
    assert n(since="2026-02-10T14:00:00+02:00", until="2026-02-11") == 10  # included
    assert n(since="2026-02-10T12:00:01Z", until="2026-03-01") == 0
    assert n(since="2026-02-10T12:00:00", until="2026-02-10T12:00:01Z") == 10  # zone + offset
    response = world.get("/api/cx/nps", since="2026-02-10T14:00:00+02:00", until="2026-02-10")
    assert response.status_code == 400 and "until" in response.json()["message"]


def test_csat_on_both_scales_and_ces(world: World) -> None:
    csat = world.json("/api/cx/csat")
    assert csat["headline"].startswith("CSAT") and csat["n"] == 5
    [row] = csat["rows"]
    assert row["score"] == pytest.approx(60.0) and row["mean"] == pytest.approx(3.8)
    [row7] = world.json("/api/cx/csat", scale=7)["rows"]
    assert row7["n"] == 3
    assert row7["score"] == pytest.approx(200 / 3) and row7["mean"] == pytest.approx(5.0)
    ces = world.json("/api/cx/ces", touchpoint="support")
    [row] = ces["rows"]
    assert row["n"] == 5 and row["score"] == pytest.approx(5.0)
    assert row["agree"] == pytest.approx(60.0)


def test_relational_and_transactional_answers(world: World) -> None:
    calls = world.json("/api/cx/nps", kind="transactional")
    assert calls["n"] == 3 and calls["rows"][0]["score"] == pytest.approx(nps_of([2, 6, 10]))
    by_touchpoint = world.json("/api/cx/nps", by="touchpoint", touchpoint="call")
    assert [(r["group"], r["n"]) for r in by_touchpoint["rows"]] == [("call", 3)]
    # All answers, not only each person's latest per survey: 20 relational answers.
    everything = world.json("/api/cx/nps", kind="relational", answers="all")
    assert everything["n"] == 20
    assert everything["rows"][0]["score"] == pytest.approx(nps_of(Q1_SCORES + Q2_SCORES))


def test_json_is_strict_when_a_figure_is_missing(world: World) -> None:
    # One CES answer in the app: no interval, and Welch's test has no p-value (NaN → null).
    response = world.get("/api/cx/ces", by="channel", compare="web,app", touchpoint="support")
    assert response.status_code == 200, response.text
    assert "NaN" not in response.text
    body = strict_json(response)
    app = next(r for r in body["rows"] if r["group"] == "app")
    assert app["n"] == 1 and app["score_low"] is None and app["score_high"] is None
    assert body["comparison"]["p_value"] is None
    assert body["comparison"]["delta"] == pytest.approx(4.0 - 21 / 4)


def test_score_as_csv(world: World) -> None:
    response = world.get("/api/cx/nps", period="quarter", kind="relational", format="csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="nps.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows and {"period", "group", "n", "reliable", "score", "score_low", "score_high"} <= set(
        rows[0]
    )
    assert {"promoters", "passives", "detractors", "change", "change_p_value"} <= set(rows[0])
    assert [(r["period"], r["n"], float(r["score"])) for r in rows] == [
        ("2026-Q1", "10", 20.0),
        ("2026-Q2", "10", 40.0),
    ]
    assert rows[0]["change"] == ""  # None is an empty cell


def test_score_charts(world: World) -> None:
    png = world.get("/api/cx/nps", period="quarter", by="channel", format="png")
    assert png.status_code == 200, png.text
    assert png.headers["content-type"] == "image/png" and png.content.startswith(PNG)
    svg = world.get("/api/cx/csat", format="svg", lang="fr")
    assert svg.status_code == 200, svg.text
    assert svg.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(svg.content)
    assert root.tag.endswith("svg")
    assert "satisfaits" in svg.text  # titled in French
    empty = world.get("/api/cx/nps", period="quarter", until="2020-01-01", format="png")
    assert empty.status_code == 400 and empty.json()["field"] == "format"


def test_a_score_over_no_answers_is_an_empty_report(world: World) -> None:
    response = world.get("/api/cx/nps", until="2020-01-01")
    assert response.status_code == 200
    assert response.json()["n"] == 0 and response.json()["rows"] == []


# -- key drivers ------------------------------------------------------------------------------


def test_key_drivers(world: World) -> None:
    body = world.json("/api/cx/drivers", until="2026-04-01", window_days=30, bootstrap=0)
    # u1 does not allow analytics: 9 of the 10 Q1 answers are read.
    assert body["survey"] == "nps" and body["window_days"] == 30
    assert body["n"] == 9 and body["without_consent"] == 1
    assert body["reliable"] is False  # below min_n 30
    scores = Q1_SCORES[1:]
    failures = [FAILURES.get(i, 0) for i in range(2, 11)]
    r = statistics.correlation([float(f) for f in failures], [float(s) for s in scores])
    assert body["r_squared"] == pytest.approx(r * r)
    top, *others = body["drivers"]
    assert top["driver"] == "payment_failures" and top["rank"] == 1
    assert top["direction"] == -1 and top["importance"] == pytest.approx(r * r)
    assert top["ci_low"] is None  # no bootstrap asked
    assert len(others) == 7 and all(d["importance"] == 0 for d in others)
    assert {d["note"] for d in others} == {"no variation"}
    table = world.get("/api/cx/drivers", until="2026-04-01", bootstrap=0, format="csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert rows[0]["driver"] == "payment_failures"
    assert {"rank", "driver", "importance", "ci_low", "ci_high", "direction"} <= set(rows[0])
    chart = world.get("/api/cx/drivers", until="2026-04-01", bootstrap=20, format="png")
    assert chart.status_code == 200 and chart.content.startswith(PNG)


def test_key_drivers_need_answers(world: World) -> None:
    response = world.get("/api/cx/drivers", until="2020-01-01", bootstrap=0)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "insufficient_data" and "0 usable row" in body["message"]


# -- closed loop --------------------------------------------------------------------------------


def test_detractors_of_the_last_days(world: World) -> None:
    body = world.json("/api/cx/detractors", days=7)
    assert body["survey"] == "nps" and body["days"] == 7
    people = body["people"]
    assert [(p["profile_id"], p["score"]) for p in people] == [
        (world.profiles["u4"], 6),  # newest first
        (world.profiles["u3"], 2),
    ]
    u3 = people[1]
    assert u3["profile_url"] == f"/api/profiles/{world.profiles['u3']}"
    assert u3["touchpoint"] == "call" and u3["channel"] == "phone"
    assert u3["comment"].startswith("Nobody called me back") and "jane.doe" not in u3["comment"]
    commented = world.json("/api/cx/detractors", with_comment="true", limit=5)
    assert [p["profile_id"] for p in commented["people"]] == [world.profiles["u3"]]
    assert world.json("/api/cx/detractors", touchpoint="delivery")["people"] == []
    table = world.get("/api/cx/detractors", format="csv", role="admin")
    assert (
        table.status_code == 200
        and 'filename="detractors-nps.csv"' in table.headers["content-disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [r["score"] for r in rows] == ["6", "2"]
    assert set(rows[0]) == {
        "profile_id",
        "profile_url",
        "answered_at",
        "score",
        "survey_id",
        "touchpoint",
        "channel",
        "comment",
    }


def test_detractors_include_what_the_collector_just_stored(
    workspace: Keys,
    start_server: Callable[[Keys], ServerProcess],
    connect: Callable[[str, Keys], Api],
) -> None:
    server = start_server(workspace)
    api = connect(server.url, workspace)
    answer = {"score": 1, "touchpoint": "chat", "comment": "Still waiting"}
    sent = api.post(
        "/v1/track", {"userId": "live-1", "event": "NPS Answered", "properties": answer}
    )
    assert sent.status_code == 200, sent.text
    response = api.http.get(
        "/api/cx/detractors",
        params={"touchpoint": "chat"},
        headers={"Authorization": f"Bearer {workspace.analyst_token}"},
    )
    assert response.status_code == 200, response.text
    [person] = response.json()["people"]
    assert person["score"] == 1 and person["comment"] == "Still waiting"


# -- Kano ---------------------------------------------------------------------------------------


def test_kano(world: World) -> None:
    body = world.json("/api/cx/kano", survey_id="kano-2026")
    assert body["by"] is None and body["unreadable"] == 0
    features = {f["feature"]: f for f in body["features"]}
    dark = features["dark-mode"]
    assert dark["n"] == 4
    for category in ("Attractive", "One-dimensional", "Must-be", "Indifferent"):
        assert dark[category] == pytest.approx(0.25)
    # Better = (A + O) / (A + O + M + I), Worse = -(O + M) / (A + O + M + I).
    assert dark["better"] == pytest.approx(0.5) and dark["worse"] == pytest.approx(-0.5)
    one_click = features["one-click"]
    assert one_click["n"] == 1 and one_click["dominant"] == "One-dimensional"
    only = world.json("/api/cx/kano", feature="dark-mode")
    assert [f["feature"] for f in only["features"]] == ["dark-mode"]
    both = world.get("/api/cx/kano", feature=["dark-mode", "one-click"])
    assert sorted(f["feature"] for f in strict_json(both)["features"]) == [
        "dark-mode",
        "one-click",
    ]
    table = world.get("/api/cx/kano", format="csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert {"group", "feature", "n", "dominant", "better", "worse", "Must-be"} <= set(rows[0])
    svg = world.get("/api/cx/kano", format="svg")
    assert svg.status_code == 200 and ET.fromstring(svg.content).tag.endswith("svg")
    grouped = world.get("/api/cx/kano", by="channel", format="png")
    assert grouped.status_code == 400 and grouped.json()["field"] == "by"


# -- experiments --------------------------------------------------------------------------------


def test_experiment(world: World) -> None:
    body = world.json("/api/cx/experiments/checkout-countdown")
    assert body["experiment"] == "checkout-countdown" and body["goal"] == "Order Completed"
    assert body["window_days"] == 7 and body["control"] == "control"
    assert body["crossed_over"] == 1 and body["without_consent"] == 1 and body["window_open"] == 0
    control, countdown = body["variants"]
    assert (control["variant"], control["exposed"], control["converted"]) == ("control", 10, 4)
    assert (countdown["variant"], countdown["exposed"], countdown["converted"]) == (
        "countdown",
        9,
        6,
    )
    # The pooled two-proportion z-test, by hand.
    pooled = 10 / 19
    z = (6 / 9 - 4 / 10) / math.sqrt(pooled * (1 - pooled) * (1 / 10 + 1 / 9))
    assert countdown["p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert countdown["absolute_lift"] == pytest.approx(6 / 9 - 0.4)
    assert body["verdict"]["en"] and body["verdict"]["fr"]
    # Orders two days after exposure: none within one day.
    short = world.json("/api/cx/experiments/checkout-countdown", window_days=1)
    assert [v["converted"] for v in short["variants"]] == [0, 0]
    other = world.json("/api/cx/experiments/checkout-countdown", control="countdown")
    assert other["control"] == "countdown"


def test_experiment_as_files(world: World) -> None:
    table = world.get("/api/cx/experiments/checkout-countdown", format="csv")
    assert 'filename="experiment-checkout-countdown.csv"' in table.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [(r["variant"], r["exposed"], r["converted"]) for r in rows] == [
        ("control", "10", "4"),
        ("countdown", "9", "6"),
    ]
    png = world.get("/api/cx/experiments/checkout-countdown", format="png", lang="fr")
    assert png.status_code == 200 and png.content.startswith(PNG)
    svg = world.get("/api/cx/experiments/checkout-countdown", format="svg")
    assert svg.status_code == 200 and ET.fromstring(svg.content).tag.endswith("svg")


# -- bad requests ---------------------------------------------------------------------------------

BAD = [
    ("/api/cx/nps", {"period": "daily"}, "period", "daily"),
    ("/api/cx/nps", {"by": "traits.email"}, "by", "personal data"),
    ("/api/cx/nps", {"by": "shoe_size"}, "by", "unknown attribute"),
    ("/api/cx/csat", {"scale": "6"}, "scale", "'6'"),
    ("/api/cx/nps", {"scale": "7"}, "scale", "unknown parameter"),
    ("/api/cx/nps", {"format": "pdf"}, "format", "pdf"),
    ("/api/cx/nps", {"kind": "both"}, "kind", "both"),
    ("/api/cx/nps", {"answers": "first"}, "answers", "first"),
    ("/api/cx/nps", {"min_n": "0"}, "min_n", "'0'"),
    ("/api/cx/nps", {"since": "yesterday"}, "since", "yesterday"),
    ("/api/cx/nps", {"since": "0001-01-01T00:00:00+01:00"}, "since", "0001-01-01"),
    ("/api/cx/nps", {"min_n": "²"}, "min_n", "²"),
    ("/api/cx/nps", {"since": "2026-05-01", "until": "2026-04-01"}, "until", "since"),
    ("/api/cx/nps", {"compare": "2026-Q1"}, "compare", "two labels"),
    ("/api/cx/nps", {"lang": "de"}, "lang", "de"),
    ("/api/cx/nps", {"periode": "quarter"}, "periode", "unknown parameter"),
    ("/api/cx/nps", {"period": ["week", "month"]}, "period", "once"),
    ("/api/cx/drivers", {"window_days": "-1"}, "window_days", "-1"),
    ("/api/cx/drivers", {"survey": "eNPS"}, "survey", "eNPS"),
    ("/api/cx/drivers", {"bootstrap": "1e9"}, "bootstrap", "1e9"),
    ("/api/cx/detractors", {"format": "png"}, "format", "png"),
    ("/api/cx/detractors", {"with_comment": "maybe"}, "with_comment", "maybe"),
    ("/api/cx/detractors", {"days": "0"}, "days", "'0'"),
    ("/api/cx/detractors", {"limit": "100000"}, "limit", "100000"),
    ("/api/cx/kano", {"by": "traits.name"}, "by", "personal data"),
    ("/api/cx/experiments/checkout-countdown", {"window_days": "-1"}, "window_days", "-1"),
    ("/api/cx/experiments/checkout-countdown", {"window_days": "nan"}, "window_days", "nan"),
    ("/api/cx/experiments/checkout-countdown", {"mde": "2"}, "mde", "'2'"),
    ("/api/cx/experiments/checkout-countdown", {"mde": "1"}, "mde", "'1'"),
    ("/api/cx/experiments/checkout-countdown", {"control": "nope"}, "control", "nope"),
    ("/api/cx/experiments/no-such-test", {}, "name", "no-such-test"),
]


@pytest.mark.parametrize(
    ("path", "params", "field", "says"), BAD, ids=[f"{p} {q}" for p, q, _, _ in BAD]
)
def test_bad_requests_are_400_naming_the_parameter(
    world: World, path: str, params: dict[str, Any], field: str, says: str
) -> None:
    response = world.get(path, "admin", **params)
    assert response.status_code == 400, response.text
    body = strict_json(response)
    assert body["code"] == "invalid_request" and body["field"] == field
    assert body["message"].startswith(f"{field}: ") and says in body["message"]
    assert "Traceback" not in response.text


# -- roles ----------------------------------------------------------------------------------------


def test_viewers_read_aggregates_but_not_people(world: World) -> None:
    assert world.get("/api/cx/nps", "viewer", period="quarter").status_code == 200
    assert world.get("/api/cx/kano", "viewer").status_code == 200
    refused = world.get("/api/cx/detractors", "viewer")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    # The role comes first: a bad parameter is not even looked at.
    assert world.get("/api/cx/detractors", "viewer", days="-5").status_code == 403
    nobody = httpx.get(world.server.url + "/api/cx/nps")
    assert nobody.status_code == 401
