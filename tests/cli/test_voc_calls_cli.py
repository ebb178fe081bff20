"""`empreinte voc calls` through Typer's runner on the people of tests/voc_journey_calls.py:
tables checked by hand, --json, --csv, --hours, --reason, --since, and one-line errors."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from voc_journey_calls import build

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("voc-calls-cli") / "ws"
    path.mkdir()
    (path / "empreinte.toml").write_text(
        '[voc.calls]\nhours = 24\n[voc.answers]\ndelivery = ["/help/delivery", "/suivi"]\n'
    )
    build(path).close()
    yield str(path)


def test_reasons_table(ws: str) -> None:
    code, out = run("voc", "calls", "-w", ws)
    assert code == 0, out
    assert "6 calls, 4 linked" in out
    payment = next(line for line in out.splitlines() if line.startswith("payment"))
    assert payment.split() == ["payment", "1", "1", "100.0%", "1", "1"]


def test_hours_and_reason(ws: str) -> None:
    code, out = run("voc", "calls", "--hours", "1", "--reason", "payment", "--json", "-w", ws)
    assert code == 0, out
    # Marie called two hours after her checkout: not linked within one hour.
    assert orjson.loads(out) == [
        {
            "reason": "payment",
            "calls": 1,
            "linked": 0,
            "linked_share": 0.0,
            "with_errors": 0,
            "checkout_abandoned": 0,
        }
    ]


def test_since_leaves_earlier_calls_out(ws: str) -> None:
    code, out = run("voc", "calls", "--since", "2026-03-04", "--json", "-w", ws)
    assert code == 0, out
    assert [(r["reason"], r["calls"]) for r in orjson.loads(out)] == [("delivery", 1)]


def test_avoidable_with_the_configured_answers(ws: str) -> None:
    code, out = run("voc", "calls", "--show", "avoidable", "-w", ws)
    assert code == 0, out
    assert "1 of 2 linked calls (50.0%)" in out and "[voc.answers]" in out
    assert "/help/delivery, /suivi" in out


def test_pages_as_csv(ws: str, tmp_path: Path) -> None:
    target = tmp_path / "pages.csv"
    code, out = run("voc", "calls", "--show", "pages", "--csv", str(target), "-w", ws)
    assert code == 0, out
    rows = {r["page"]: (r["sessions"], r["called"]) for r in csv.DictReader(target.open())}
    assert rows["Checkout"] == ("2", "1") and rows["Home"] == ("3", "2")


def test_seen_and_repeats(ws: str) -> None:
    code, out = run("voc", "calls", "--show", "seen", "--reason", "payment", "-w", ws)
    assert code == 0, out
    assert "Payment Failed" in out and "Checkout" in out and "delivery" not in out
    code, out = run("voc", "calls", "--show", "repeats", "--json", "-w", ws)
    assert code == 0, out
    delivery = next(r for r in orjson.loads(out) if r["reason"] == "delivery")
    assert (delivery["calls"], delivery["repeated"], delivery["same_reason"]) == (3, 1, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--show", "people"), "--show: 'people' is not one of"),
        (("--hours", "0"), "hours must be a whole number from 1 to 720"),
        (("--since", "yesterday"), "--since: 'yesterday' is not a date"),
        (("--top", "0", "--show", "seen"), "top must be from 1 to 100"),
        (("--show", "repeats", "--days", "400"), "days must be from 1 to 90"),
    ],
)
def test_bad_options_are_one_line_errors(ws: str, args: tuple[str, ...], message: str) -> None:
    code, out = run("voc", "calls", *args, "-w", ws)
    assert code == 1 and message in out and "Traceback" not in out


def test_a_bad_answers_setting_names_itself(tmp_path: Path) -> None:
    empreinte.open(tmp_path).close()
    (tmp_path / "empreinte.toml").write_text("[voc.answers]\ndelivery = 3\n")
    code, out = run("voc", "calls", "-w", str(tmp_path))
    assert code == 1 and "[voc.answers] delivery must be a list" in out
