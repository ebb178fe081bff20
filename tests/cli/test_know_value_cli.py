"""`empreinte rfm` and `empreinte clv` on the demo's log: tables, CSV, JSON, charts, errors."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from empreinte.demo import generate

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("know-value-cli") / "ws"
    with empreinte.open(path) as ws:
        report = ws.ingest(generate(300))
        assert not report.rejected
        ws.flush()
    yield str(path)


def test_rfm_table_csv_and_chart(workspace: str, tmp_path: Path) -> None:
    out_csv, out_png = tmp_path / "rfm.csv", tmp_path / "rfm.png"
    code, output = run("rfm", "-w", workspace, "--csv", str(out_csv), "--chart", str(out_png))
    assert code == 0, output
    assert "champions" in output and "lost" in output and "orders in other currencies" in output
    rows = list(csv.DictReader(out_csv.open()))
    assert [row["segment"] for row in rows][:2] == ["champions", "loyal customers"]
    assert sum(int(row["customers"]) for row in rows) > 0
    assert out_png.read_bytes().startswith(b"\x89PNG")


def test_rfm_by_generation_as_json(workspace: str) -> None:
    code, output = run("rfm", "-w", workspace, "--by", "generation", "--json")
    assert code == 0, output
    doc = json.loads(output)
    assert doc["currency"] and {row["segment"] for row in doc["rows"]} <= {
        "champions",
        "loyal customers",
        "potential loyalists",
        "new customers",
        "promising",
        "need attention",
        "about to sleep",
        "cannot lose them",
        "at risk",
        "hibernating",
        "lost",
    }
    groups = {row["group"] for row in doc["rows"]}
    assert len(groups) > 1


def test_clv_fit_top_customers_and_csv(workspace: str, tmp_path: Path) -> None:
    out_csv = tmp_path / "clv.csv"
    code, output = run("clv", "-w", workspace, "--top", "3", "--csv", str(out_csv))
    assert code == 0, output
    assert "BG/NBD" in output and "Gamma-Gamma" in output and "Top 3 customers" in output
    rows = list(csv.DictReader(out_csv.open()))
    values = [float(row["clv"]) for row in rows]
    assert values == sorted(values, reverse=True) and len(rows) > 3


def test_clv_holdout_check_and_chart(workspace: str, tmp_path: Path) -> None:
    out_svg = tmp_path / "holdout.svg"
    code, output = run(
        "clv",
        "-w",
        workspace,
        "--calibration-end",
        "2025-06-30",
        "--holdout-end",
        "2025-12-31",
        "--chart",
        str(out_svg),
        "--lang",
        "fr",
    )
    assert code == 0, output
    assert "Holdout check" in output
    assert "<svg" in out_svg.read_text()


def test_errors_are_one_line(workspace: str, tmp_path: Path) -> None:
    code, output = run("clv", "-w", workspace, "--chart", str(tmp_path / "x.png"))
    assert code == 1 and "--holdout-end" in output
    code, output = run("rfm", "-w", workspace, "--at", "yesterday")
    assert code == 1 and "--at" in output
    code, output = run("clv", "-w", workspace, "--unit", "fortnight")
    assert code == 1 and "time unit" in output
    code, output = run("rfm", "-w", workspace, "--lang", "de")
    assert code == 1 and "--lang" in output
