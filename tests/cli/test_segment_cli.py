"""`empreinte segment …` on the hand-built people of the segment tests: create, list, show,
members, export, refresh, history, overlap, delete, and the errors a user sees."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import empreinte
from analytics.know.segment_people import people
from empreinte.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    path = tmp_path_factory.mktemp("segment-cli") / "ws"
    with empreinte.open(path) as ws:
        report = ws.ingest(people(), source="python")
        assert not report.rejected, report.rejected
        ws.flush()
        ids = {u: ws.profiles.find("userId", u) or "" for u in ("ann", "bob", "cleo", "eve")}
    yield str(path), ids


def test_a_segment_from_creation_to_deletion(
    workspace: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    path, ids = workspace
    code, output = run(
        "segment", "create", "fr", 'country = "FR"', "--description", "French", "-w", path
    )
    assert code == 0, output
    assert "2 members" in output
    code, output = run("segment", "create", "buyers", "orders >= 1", "--schedule", "1d", "-w", path)
    assert code == 0, output

    code, output = run("segment", "list", "--json", "-w", path)
    listed = {s["name"]: s for s in json.loads(output)}
    assert listed["fr"]["size"] == 2 and listed["buyers"]["schedule"] == "1d"
    code, output = run("segment", "list", "--lang", "fr", "-w", path)
    assert code == 0 and "taille" in output and "orders >= 1" in output

    code, output = run("segment", "members", "fr", "-w", path)
    assert code == 0
    assert set(output.split()) >= {ids["ann"], ids["bob"]}
    assert "2 of 2 members" in output

    out_csv, out_jsonl = tmp_path / "fr.csv", tmp_path / "fr.jsonl"
    assert run("segment", "export", "fr", "--out", str(out_csv), "-w", path)[0] == 0
    assert sorted(r["profile_id"] for r in csv.DictReader(out_csv.open())) == sorted(
        [ids["ann"], ids["bob"]]
    )
    assert run("segment", "export", "fr", "--out", str(out_jsonl), "-w", path)[0] == 0
    lines = [json.loads(line) for line in out_jsonl.read_text().splitlines()]
    assert {line["profile_id"] for line in lines} == {ids["ann"], ids["bob"]}
    exported = out_csv.read_text() + out_jsonl.read_text()
    assert "ann" not in exported and "@" not in exported  # ids only

    code, output = run("segment", "update", "fr", "--expression", 'country = "DE"', "-w", path)
    assert code == 0 and "1 members" in output
    code, output = run("segment", "history", "fr", "--json", "-w", path)
    changes = {(c["profile_id"], c["change"]) for c in json.loads(output)}
    assert (ids["ann"], "left") in changes and (ids["cleo"], "entered") in changes
    code, output = run("segment", "show", "fr", "--json", "-w", path)
    shown = json.loads(output)
    assert shown["size"] == 1 and shown["history"][0] == {
        "changed_at": shown["history"][0]["changed_at"],
        "entered": 1,
        "left": 2,
    }
    code, output = run("segment", "show", "fr", "-w", path)
    assert code == 0 and 'country = "DE"' in output

    code, output = run("segment", "refresh", "--json", "-w", path)
    assert {r["name"]: r["size"] for r in json.loads(output)} == {"buyers": 3, "fr": 1}
    code, output = run("segment", "refresh", "--due", "-w", path)
    assert code == 0 and "no segment to refresh" in output

    code, output = run("segment", "overlap", "fr", "buyers", "--json", "-w", path)
    (pair,) = json.loads(output)
    assert (pair["both"], pair["either"], pair["jaccard"]) == (1, 3, pytest.approx(1 / 3))
    png = tmp_path / "overlap.png"
    code, output = run("segment", "overlap", "--lang", "fr", "--chart", str(png), "-w", path)
    assert code == 0 and "Recouvrement" in output
    assert png.read_bytes().startswith(b"\x89PNG")
    code, output = run("segment", "overlap", "fr", "--chart", str(png), "-w", path)
    assert code == 1 and "two segments or more" in output

    code, output = run("segment", "preview", 'traits.plan = "pro"', "-w", path)
    assert code == 0 and "2 people" in output

    for name in ("fr", "buyers"):
        assert run("segment", "delete", name, "-w", path)[0] == 0
    assert json.loads(run("segment", "list", "--json", "-w", path)[1]) == []


def test_errors_are_one_message_with_a_caret(workspace: tuple[str, dict[str, str]]) -> None:
    path, _ = workspace
    code, output = run("segment", "create", "x", 'contry = "FR"', "-w", path)
    assert code == 1
    assert "line 1, column 1: unknown field 'contry' (did you mean 'country'?)" in output
    assert "\n  ^" in output
    code, output = run("segment", "show", "nobody", "-w", path)
    assert code == 1 and "no segment named 'nobody'" in output
    code, output = run("segment", "export", "x", "--out", "x.txt", "-w", path)
    assert code == 1 and ".csv or .jsonl" in output
