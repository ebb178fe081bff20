"""`empreinte channels …` through Typer's runner on a small hand-built workspace: tables with
figures checked by hand, --json, --csv, --chart, and one-line errors."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app

runner = CliRunner()
T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
DAY = timedelta(days=1)


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def track(user: str, event: str, at: datetime, channel: str, **props: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": event,
        "userId": user,
        "properties": props,
        "timestamp": at.isoformat(),
        "context": {"channel": channel},
    }


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("channels-cli") / "ws"
    m = []
    for user in ("ann", "bob", "dan", "carl"):
        consent = {"purpose": "analytics", "granted": True, "wording_version": "v1"}
        m.append(track(user, "Consent Updated", T0 - 30 * DAY, "web", **consent))
    m += [track("ann", "Product Viewed", T0, "web")]
    m += [track("ann", "Order Completed", T0 + 7 * DAY, "store", order_id="O1")]
    m += [track("bob", "Product Viewed", T0, "web")]
    m += [track("bob", "Order Completed", T0 + 7 * DAY + timedelta(seconds=1), "store")]
    m += [track("dan", "Screen Viewed", T0, "app")]
    m += [track("carl", "Payment Failed", T0, "web"), track("carl", "Call Started", T0, "phone")]
    with empreinte.open(path) as opened:
        assert not opened.ingest(m).rejected
    yield str(path)


def test_classes_table_and_json(ws: str) -> None:
    code, out = run("channels", "classes", "-w", ws)
    assert code == 0, out
    assert "Omnichannel classes: 4 people" in out
    code, out = run("channels", "classes", "-w", ws, "--json")
    rows = {r["channel_class"]: r["people"] for r in orjson.loads(out)}
    # ann and bob: web then store 7 days later or more: a gap of the journey gap (7 days) or
    # more starts a new journey → multi; carl: web and phone at once → cross; dan → mono.
    assert rows == {"mono": 1, "multi": 2, "cross": 1, "omni": 0}
    code, out = run("channels", "classes", "-w", ws, "--json", "--journey-gap-days", "8")
    rows = {r["channel_class"]: r["people"] for r in orjson.loads(out)}
    assert rows == {"mono": 1, "multi": 0, "cross": 3, "omni": 0}


def test_mix_csv_and_chart(ws: str, tmp_path: Path) -> None:
    table, chart = tmp_path / "mix.csv", tmp_path / "mix.png"
    code, out = run("channels", "mix", "-w", ws, "--csv", str(table), "--chart", str(chart))
    assert code == 0, out
    rows = {r["channel"]: r["people"] for r in csv.DictReader(table.open())}
    assert rows == {"web": "3", "store": "2", "app": "1", "phone": "1"}
    assert chart.read_bytes().startswith(b"\x89PNG")
    code, out = run("channels", "mix", "-w", ws, "--combinations")
    assert "store + web" in out


def test_ropo_at_exactly_seven_days(ws: str) -> None:
    code, out = run("channels", "ropo", "-w", ws, "--json")
    assert code == 0, out
    (row,) = orjson.loads(out)
    assert (row["purchases"], row["crossed_purchases"]) == (2, 1)  # ann's, not bob's


def test_friction_calls_and_errors(ws: str) -> None:
    code, out = run("channels", "friction", "calls", "-w", ws)
    assert code == 0, out
    assert "1 of 1 contacts (100.0%)" in out
    code, out = run("channels", "friction", "errors", "-w", ws, "--min-errors", "1", "--json")
    assert orjson.loads(out)[0]["step"] == "Payment Failed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["classes", "--by", "channel"], "profile attribute"),
        (["ropo", "--window-days", "-1"], "--window-days"),
        (["friction", "sideways"], "unknown friction report"),
        (["mix", "--lang", "de"], "--lang"),
    ],
)
def test_errors_are_one_line(ws: str, args: list[str], message: str) -> None:
    code, out = run("channels", *args, "-w", ws)
    assert code != 0 and message in out
