"""`empreinte funnel …` on a small log: the table, CSV, chart, the dropped list, errors."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from funnel_journeys import funnel_messages

runner = CliRunner()
STEPS = ["Product Viewed", "Product Added", "Order Completed[channel=store]"]


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    path = tmp_path_factory.mktemp("funnel-cli") / "ws"
    with empreinte.open(path) as ws:
        report = ws.ingest(funnel_messages())
        assert not report.rejected, report.rejected
        ws.flush()
        ids = {u: ws.profiles.find("userId", u) or "" for u in ("f1", "f2", "f3", "f4", "f5")}
    yield str(path), ids


def test_table_csv_and_chart(workspace: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    path, _ = workspace
    out_csv, out_png = tmp_path / "f.csv", tmp_path / "f.png"
    code, output = run(
        "funnel",
        *STEPS,
        "--window",
        "7d",
        "-w",
        path,
        "--csv",
        str(out_csv),
        "--chart",
        str(out_png),
    )
    assert code == 0, output
    assert "Product Viewed" in output and "40.0%" in output  # 2 of 5 ordered
    rows = list(csv.DictReader(out_csv.open()))
    # nc does not allow analytics: five people, three add, two order (f2's order is 48 h
    # after her view, inside 7 days)
    assert [int(r["count"]) for r in rows] == [5, 3, 2]
    assert out_png.read_bytes().startswith(b"\x89PNG")


def test_window_and_mode_options(workspace: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    path, _ = workspace
    out = tmp_path / "w.csv"
    code, output = run("funnel", *STEPS, "--window", "30h", "-w", path, "--csv", str(out))
    assert code == 0, output
    # f1 orders 24 h after viewing; f2 48 h: only f1 within 30 h
    assert [int(r["count"]) for r in csv.DictReader(out.open())] == [5, 3, 1]
    code, output = run("funnel", *STEPS, "--mode", "unordered", "-w", path, "--csv", str(out))
    assert code == 0, output
    assert [int(r["count"]) for r in csv.DictReader(out.open())] == [5, 3, 2]


def test_breakdown_by_country(workspace: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    path, _ = workspace
    out = tmp_path / "by.csv"
    code, output = run("funnel", *STEPS, "--by", "country", "-w", path, "--csv", str(out))
    assert code == 0, output
    counts = {(r["group"], r["step"]): int(r["count"]) for r in csv.DictReader(out.open())}
    assert counts[("FR", "1")] == 2 and counts[("FR", "3")] == 1
    assert counts[("DE", "1")] == 3 and counts[("DE", "3")] == 1


def test_dropped_list(workspace: tuple[str, dict[str, str]]) -> None:
    path, ids = workspace
    code, output = run("funnel", *STEPS, "--dropped", "1", "-w", path)
    assert code == 0, output
    listed = [line for line in output.splitlines() if line.strip() in ids.values()]
    assert sorted(listed) == sorted([ids["f4"], ids["f5"]])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Viewed[colour]", "B"], "colour"),
        (["A", "B", "--window", "soon"], "soon"),
        (["A", "B", "--mode", "sideways"], "sideways"),
        (["A", "B", "--by", "comment"], "free text"),
    ],
)
def test_errors_name_what_is_wrong(
    workspace: tuple[str, dict[str, str]], args: list[str], message: str
) -> None:
    code, output = run("funnel", *args, "-w", workspace[0])
    assert code == 1 and message in output
