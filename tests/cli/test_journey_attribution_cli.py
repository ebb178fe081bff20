"""`empreinte attribution`: the side-by-side table, CSV, JSON and the chart from a small log
whose figures are worked out by hand (tests/journey_attribution_log.py)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from journey_attribution_log import messages

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["attribution", *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("attribution-cli") / "ws"
    with empreinte.open(path) as ws:
        report = ws.ingest(messages())
        assert not report.rejected, report
    yield str(path)


def test_the_table_puts_the_models_side_by_side(small: str) -> None:
    code, out = run("--models", "first_touch,last_touch,linear", "-w", small)
    assert code == 0, out
    assert "Order Completed: 2 conversions, value 150.00 (revenue)" in out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert lines["email"] == ["1.0", "0.0", "0.3"]
    assert lines["web"] == ["1.0", "1.0", "0.8"]
    assert lines["store"] == ["0.0", "1.0", "0.5"]
    assert lines["total"] == ["2.0", "2.0", "2.0"]
    assert "sms" not in lines  # never on a converting path, and no Markov model asked
    assert "1 paths without a conversion" in out


def test_csv_json_and_chart(small: str, tmp_path: Path) -> None:
    table, chart = tmp_path / "a.csv", tmp_path / "a.png"
    code, out = run("--value", "revenue", "--csv", str(table), "--chart", str(chart), "-w", small)
    assert code == 0, out
    rows = {row["channel"]: row for row in csv.DictReader(table.open())}
    assert float(rows["email"]["first_touch_value"]) == 100.0
    assert float(rows["store"]["last_touch_value"]) == 50.0
    assert float(rows["sms"]["markov_1_conversions"]) == 0.0
    assert "markov_2_removal_effect" in rows["web"]
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    code, out = run("--json", "--models", "linear", "--by", "campaign", "-w", small)
    assert code == 0, out
    assert orjson.loads(out) == [
        {"campaign": "(none)", "linear_conversions": 2.0, "linear_value": 150.0}
    ]


def test_a_shorter_lookback_and_the_goal_not_a_touch(small: str) -> None:
    code, out = run("--json", "--models", "first_touch", "--lookback", "10d", "-w", small)
    assert code == 0, out
    rows = orjson.loads(out)
    first = {
        row["channel"]: row["first_touch_conversions"]
        for row in rows
        if row["first_touch_conversions"]
    }
    assert first == {"social": 1.0, "web": 1.0}  # the email was 14 days before
    code, out = run("--json", "--models", "last_touch", "--no-goal-touch", "-w", small)
    rows = orjson.loads(out)
    last = {
        row["channel"]: row["last_touch_conversions"]
        for row in rows
        if row["last_touch_conversions"]
    }
    assert last == {"social": 1.0, "web": 1.0}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lookback", "soon"], "--lookback 'soon': write a positive whole number"),
        (["--models", "shapley"], "unknown model 'shapley'"),
        (["--by", "country"], "unknown touch 'country'"),
        (["--markov-orders", "1,x"], "--markov-orders"),
        (["--since", "yesterday"], "--since"),
        (["--show", "nothing"], "--show"),
    ],
)
def test_bad_options_are_one_line_errors(small: str, args: list[str], message: str) -> None:
    code, out = run(*args, "-w", small)
    assert code == 1
    assert message in out
