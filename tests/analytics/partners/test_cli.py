"""`empreinte partners` on the planted shop: the report to files, errors in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app

from .planted import trusted_messages

CONFIG = "[consent]\ndefaults = { analytics = true }\n\n[partners]\nk = 5\n"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("partners-cli")
    (root / "empreinte.toml").write_text(CONFIG)
    with empreinte.open(root) as ws:
        assert not ws.ingest(trusted_messages()).rejected
    return root


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_the_report_in_every_format(shop: Path, tmp_path: Path) -> None:
    csv, parquet = tmp_path / "acme.csv", tmp_path / "acme.parquet"
    code, out = run(
        "partners", "report", "--brand", "acme", "--by", "country", "-w", str(shop),
        "--csv", str(csv), "--parquet", str(parquet), "--lang", "fr",
    )  # fmt: skip
    assert code == 0, out
    assert "Acme — k = 5" in out and "pénétration" in out
    assert csv.read_text().startswith("marque,catégorie,groupe")
    assert pq.read_table(parquet).num_rows >= 3
    code, out = run("partners", "report", "--brand", "Acme", "--json", "-w", str(shop))
    body = json.loads(out)
    phones = next(r for r in body["rows"] if r["category"] == "phones")
    # 19: the "erased" person is not erased in this shop (test_report.py erases them).
    assert (phones["category_buyers"], phones["brand_buyers"]) == (32, 19)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--brand", "Nope"), "error: brand: no brand 'Nope'"),
        (("--brand", "Acme", "--k", "2"), "error: k: give a whole number from 5"),
        (("--brand", "Acme", "--by", "email"), "error: by: 'email' is not one of"),
        (("--brand", "Acme", "--lang", "de"), "error: --lang: unknown language"),
        (("--brand", "Acme", "--since", "soon"), "error: --since"),
    ],
)
def test_errors_are_one_line(shop: Path, args: tuple[str, ...], message: str) -> None:
    code, out = run("partners", "report", *args, "-w", str(shop))
    assert code == 1 and out.startswith(message) and "Traceback" not in out, out


def test_the_brands(shop: Path) -> None:
    code, out = run("partners", "brands", "--json", "-w", str(shop))
    assert code == 0, out
    assert json.loads(out) == {
        "k": 5,
        "brands": [
            {"name": "Other", "buyers": 25, "categories": 1},
            {"name": "Acme", "buyers": 19, "categories": 2},
        ],
    }
