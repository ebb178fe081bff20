"""`empreinte personas` on a small demo: the table and k scores, the cards written with --out,
CSV and JSON, and clear errors."""

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
    path = tmp_path_factory.mktemp("personas-cli") / "ws"
    path.mkdir()
    (path / "empreinte.toml").write_text(
        "[consent]\ndefaults = { analytics = true, profiling = true }\n"
    )
    with empreinte.open(path) as ws:
        assert not ws.ingest(generate(200)).rejected
    yield str(path)


def test_table_cards_and_csv(workspace: str, tmp_path: Path) -> None:
    out, table = tmp_path / "cards", tmp_path / "personas.csv"
    code, output = run(
        "personas", "--k", "3", "--lang", "fr", "--out", str(out), "--csv", str(table),
        "-w", workspace,
    )  # fmt: skip
    assert code == 0, output
    assert "Personas (k = 3, asked; seed 0)" in output
    assert "stability" not in output  # an asked k is not chosen: no stability measured
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "persona-1.png",
        "persona-2.png",
        "persona-3.png",
        "personas.html",
        "personas.md",
    ]
    markdown = (out / "personas.md").read_text()
    assert markdown.count("## Persona ") == 3 and "Parcours type" in markdown
    assert (out / "persona-1.png").read_bytes()[:4] == b"\x89PNG"
    rows = list(csv.DictReader(table.open()))
    assert [r["cluster"] for r in rows] == ["1", "2", "3"]
    assert sum(int(r["people"]) for r in rows) > 50
    for row in rows:  # the table prints each persona's name
        assert row["name"][:20] in output


def test_json_and_table_with_every_k_s_stability(workspace: str) -> None:
    code, output = run("personas", "--json", "--seed", "2", "-w", workspace)
    assert code == 0, output
    doc = json.loads(output)
    assert doc["chosen_by"] == "stability" and doc["seed"] == 2
    ks = [s["k"] for s in doc["scores"]]
    assert ks == list(range(2, 2 + len(ks))) and 2 <= doc["k"] <= ks[-1]
    assert all(0 <= s["stability"] <= 1 for s in doc["scores"] if s["chosen"])
    assert len(doc["cards"]) == doc["k"]
    code, output = run("personas", "--seed", "2", "-w", workspace)
    assert code == 0 and f"k = {doc['k']}, stability; seed 2" in output
    assert "Choice of k: stability" in output


def test_errors_are_one_line(workspace: str) -> None:
    code, output = run("personas", "--lang", "de", "-w", workspace)
    assert code == 1 and "unknown language" in output
    code, output = run("personas", "--k", "1", "-w", workspace)
    assert code == 1 and "k must be between 2" in output
