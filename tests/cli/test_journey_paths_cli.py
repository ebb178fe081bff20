"""`empreinte paths` and `empreinte retention` on a small hand-built workspace: the tables, the
CSV and the charts, and clear errors."""

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
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # Monday of 2026-W10
CONSENTING = "[consent]\ndefaults = { analytics = true }\n"


def at(minutes: float = 0, *, days: float = 0) -> datetime:
    return T0 + timedelta(days=days, minutes=minutes)


def track(person: str, event: str, when: datetime, channel: str = "web") -> dict[str, Any]:
    return {
        "type": "track",
        "event": event,
        "userId": person,
        "timestamp": when.isoformat(),
        "context": {"channel": channel},
    }


def page(person: str, name: str, when: datetime) -> dict[str, Any]:
    return {"type": "page", "name": name, "userId": person, "timestamp": when.isoformat()}


def steps(person: str, names: list[str], start: datetime) -> list[dict[str, Any]]:
    return [track(person, name, start + timedelta(minutes=i)) for i, name in enumerate(names)]


PNG = b"\x89PNG\r\n\x1a\n"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("journey-cli") / "ws"
    path.mkdir()
    (path / "empreinte.toml").write_text(f'timezone = "Europe/Paris"\n{CONSENTING}')
    messages = steps("a", ["Signed Up", "Product Viewed", "Cart", "Order Completed"], at(0))
    messages += steps("b", ["Signed Up", "Product Viewed", "Product Viewed", "Cart"], at(0))
    messages += [track("c", "Signed Up", at(0)), track("c", "Product Viewed", at(1))]
    messages += [track("a", "Order Completed", at(0, days=7), channel="store")]
    messages += [page("b", "Checkout", at(0, days=14))]
    with empreinte.open(path) as opened:
        assert not opened.ingest(messages).rejected
    yield str(path)


def test_paths_table(ws: str) -> None:
    code, out = run("paths", "--from", "Product Viewed", "--depth", "2", "-w", ws)
    assert code == 0, out
    assert "4 paths, 3 people" in out  # b viewed twice
    cart = next(line for line in out.splitlines() if "Cart" in line and "+1" in line)
    assert cart.split()[-3:] == ["50.0%", "2", "2"]  # a, and b's second view


def test_paths_csv_json_and_chart(ws: str, tmp_path: Path) -> None:
    table, chart = tmp_path / "paths.csv", tmp_path / "paths.png"
    code, out = run(
        "paths",
        "--to",
        "Cart",
        "--depth",
        "1",
        "--csv",
        str(table),
        "--chart",
        str(chart),
        "--json",
        "-w",
        ws,
    )
    assert code == 0, out
    rows = list(csv.DictReader(table.open()))
    assert rows == [
        {
            "level": "-1",
            "source": "Product Viewed",
            "target": "Cart",
            "people": "2",
            "transitions": "2",
            "share": "1.0",
        }
    ]
    assert chart.read_bytes().startswith(PNG)
    doc = orjson.loads(out[out.index("{") :])
    assert doc["sankey"][0]["target"] == "Cart"


def test_paths_labels_and_limits(ws: str) -> None:
    code, out = run(
        "paths",
        "--from",
        "Signed Up",
        "--depth",
        "3",
        "--label",
        "channel",
        "--collapse",
        "--within",
        "session",
        "--json",
        "-w",
        ws,
    )
    assert code == 0, out
    doc = orjson.loads(out)
    # every path stays on the web, then ends with the session
    assert {(r["source"], r["target"]) for r in doc["sankey"]} == {("web", "(end)")}


def test_retention_table_csv_and_heat_map(ws: str, tmp_path: Path) -> None:
    table, chart = tmp_path / "retention.csv", tmp_path / "retention.png"
    code, out = run(
        "retention",
        "--period",
        "week",
        "--start",
        "Signed Up",
        "--return",
        "Order Completed",
        "--periods",
        "2",
        "--csv",
        str(table),
        "--chart",
        str(chart),
        "-w",
        ws,
    )
    assert code == 0, out
    line = next(line for line in out.splitlines() if line.startswith("2026-W10"))
    # three signed up; a ordered that day and a week later; nobody in week 2
    assert line.split() == ["2026-W10", "3", "33", "33", "0"]
    rows = list(csv.DictReader(table.open()))
    assert [(r["bucket"], r["returned"], r["unbounded"]) for r in rows[:3]] == [
        ("0", "1", "1"),
        ("1", "1", "1"),
        ("2", "0", "0"),
    ]
    assert chart.read_bytes().startswith(PNG)
    code, out = run("retention", "--start", "Signed Up", "--unbounded", "-w", ws)
    assert code == 0 and "unbounded" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["paths", "--depth", "2"], "--from"),
        (["paths", "--from", "A", "--to", "B"], "--from"),
        (["paths", "--from", "Nope"], "unknown step 'Nope'"),
        (["paths", "--from", "Cart", "--within", "soon"], "within 'soon'"),
        (["retention", "--period", "day"], "cohort period"),
        (["retention", "--by", "country", "--chart", "x.png"], "drop --by"),
        (["retention", "--since", "yesterday"], "--since"),
    ],
)
def test_errors_are_one_line(ws: str, args: list[str], message: str) -> None:
    code, out = run(*args, "-w", ws)
    assert code == 1
    assert message in out
    assert "Traceback" not in out
