"""`empreinte report …`: hand-checked figures from a small log, and the demo's planted truths
found again from its full log (friction drives the score, click & collect is a must-be)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from empreinte.demo import generate

runner = CliRunner()

# Ten NPS answers in 2026-Q1 (5 promoters, 2 passives, 3 detractors: NPS +20) and four in
# 2026-Q2 (all promoters: NPS +100, n below any sensible minimum).
Q1 = [9, 9, 10, 8, 7, 6, 3, 9, 10, 5]
Q2 = [9, 10, 10, 9]


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("report") / "ws"
    messages: list[dict[str, Any]] = []
    for i, score in enumerate(Q1):
        messages.append(
            {
                "type": "track",
                "userId": f"q1-{i}",
                "event": "NPS Answered",
                "timestamp": f"2026-02-{i + 1:02d}T10:00:00Z",
                "properties": {
                    "score": score,
                    "touchpoint": "delivery" if i % 2 else None,
                    "comment": "Rappelez-moi au 06 12 34 56 78" if score == 3 else None,
                },
                "context": {"channel": "web" if i < 5 else "store"},
            }
        )
    for i, score in enumerate(Q2):
        messages.append(
            {
                "type": "track",
                "userId": f"q2-{i}",
                "event": "NPS Answered",
                "timestamp": f"2026-05-{i + 1:02d}T10:00:00Z",
                "properties": {"score": score},
            }
        )
    with empreinte.open(path) as ws:
        report = ws.ingest(messages, source="survey-tool")
        assert report.stored == len(messages), report
    yield str(path)


def test_nps_by_quarter_prints_n_score_interval_and_change(small: str) -> None:
    code, out = run("report", "nps", "--period", "quarter", "--min-n", "5", "-w", small)
    assert code == 0, out
    q1 = next(line for line in out.splitlines() if "2026-Q1" in line)
    q2 = next(line for line in out.splitlines() if "2026-Q2" in line)
    assert "10" in q1 and "+20.0" in q1
    assert "+100.0" in q2 and "4*" in q2  # 4 < 5: shown, and flagged
    assert "* n below 5: not reliable" in out


def test_json_rows_carry_hand_checked_figures(small: str) -> None:
    code, out = run("report", "nps", "--period", "quarter", "--json", "-w", small)
    assert code == 0, out
    rows = {row["period"]: row for row in orjson.loads(out)}
    q1 = rows["2026-Q1"]
    assert (q1["n"], q1["score"]) == (10, pytest.approx(20.0))
    assert q1["promoters"] == pytest.approx(50.0) and q1["detractors"] == pytest.approx(30.0)
    # Adjusted Wald (3/4 of a promoter and of a detractor added, n + 3 = 13):
    # 15.3846 ± 1.959964 * 100 * sqrt(0.0543924) = 15.3846 ± 45.7106
    assert q1["score_low"] == pytest.approx(-30.3260, abs=1e-3)
    assert q1["score_high"] == pytest.approx(61.0952, abs=1e-3)
    assert q1["reliable"] is False  # default minimum n is 30
    assert rows["2026-Q2"]["change"] == pytest.approx(80.0)


def test_compare_two_quarters_says_whether_it_is_noise(small: str) -> None:
    code, out = run(
        "report", "nps", "--period", "quarter", "--compare", "2026-Q1", "2026-Q2", "-w", small
    )
    assert code == 0, out
    assert "2026-Q2 vs 2026-Q1: +80.00" in out and "p=" in out


def test_by_touchpoint_and_channel(small: str) -> None:
    code, out = run("report", "nps", "--by", "touchpoint", "--json", "-w", small)
    assert code == 0, out
    rows = {row["group"]: row["n"] for row in orjson.loads(out)}
    assert rows == {"delivery": 5, "(relational)": 9}
    code, out = run(
        "report", "nps", "--by", "channel", "--since", "2026-01-01", "--until", "2026-04-01",
        "--json", "-w", small,
    )  # fmt: skip
    rows = {row["group"]: (row["n"], row["score"]) for row in orjson.loads(out)}
    # web: 9 9 10 8 7 -> 3 promoters, 0 detractors: +60; store: 6 3 9 10 5 -> 2 P, 3 D: -20
    assert rows == {"web": (5, pytest.approx(60.0)), "store": (5, pytest.approx(-20.0))}


def test_csv_and_chart_files(small: str, tmp_path: Path) -> None:
    table, chart = tmp_path / "nps.csv", tmp_path / "nps.png"
    code, out = run(
        "report", "nps", "--period", "quarter", "--csv", str(table), "--chart", str(chart),
        "-w", small,
    )  # fmt: skip
    assert code == 0, out
    with table.open() as f:
        rows = list(csv.DictReader(f))
    assert [r["period"] for r in rows] == ["2026-Q1", "2026-Q2"]
    assert {"n", "score", "score_low", "score_high", "promoters", "change_p_value"} <= set(rows[0])
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_detractors_list_masks_phone_numbers(small: str) -> None:
    code, out = run(
        "report", "detractors", "--days", "90", "--until", "2026-04-01", "--json", "-w", small
    )
    assert code == 0, out
    people = orjson.loads(out)
    assert sorted(p["score"] for p in people) == [3, 5, 6]
    comment = next(p["comment"] for p in people if p["score"] == 3)
    assert comment == "Rappelez-moi au <PHONE>"  # redacted at the door
    assert all(p["profile_url"].startswith("/api/profiles/p_") for p in people)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nps", "--period", "daily"], "unknown period 'daily'"),
        (["nps", "--by", "traits.email"], "personal data"),
        (["nps", "--by", "favourite_colour"], "unknown attribute"),
        (["csat", "--scale", "6"], "scale must be 5 or 7"),
        (["nps", "--kind", "both"], "unknown survey kind"),
        (["nps", "--since", "yesterday"], "--since: 'yesterday' is not a date"),
        (["nps", "--chart", "nps.pdf"], ".pdf"),
        (["nps", "--compare", "2026-Q1", "2027-Q9", "--period", "quarter"], "2027-Q9"),
        (["experiment", "nothing-here"], "no 'Experiment Viewed' events"),
    ],
)
def test_bad_requests_get_one_clear_line(small: str, args: list[str], message: str) -> None:
    code, out = run("report", *args, "-w", small)
    assert code == 1
    assert message in out and "Traceback" not in out


# -- the demo's planted truths -------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("demo") / "ws"
    with empreinte.open(path) as ws:
        batch: list[dict[str, Any]] = []
        for message in generate(people=600, months=12, seed=11):
            batch.append(message)
            if len(batch) == 5000:
                ws.ingest(batch, source="demo")
                batch = []
        ws.ingest(batch, source="demo")
    yield str(path)


def test_demo_key_drivers_find_the_friction(demo: str) -> None:
    code, out = run("report", "drivers", "nps", "--bootstrap", "50", "--json", "-w", demo)
    assert code == 0, out
    drivers = {row["driver"]: row for row in orjson.loads(out)}
    # The generator lowers scores after unresolved contacts, payment failures, delays and
    # returns: each must come out with a negative effect, and one of them on top.
    for name in ("unresolved_contacts", "payment_failures", "delivery_delay_days", "returns"):
        assert drivers[name]["direction"] == -1, name
    top = min(drivers.values(), key=lambda row: row["rank"])["driver"]
    assert top in {"unresolved_contacts", "payment_failures", "delivery_delay_days", "returns"}


def test_demo_kano_finds_the_planted_categories(demo: str) -> None:
    code, out = run("report", "kano", "--json", "-w", demo)
    assert code == 0, out
    dominant = {row["feature"]: row["dominant"] for row in orjson.loads(out)}
    assert dominant["click_and_collect"] == "Must-be"
    assert dominant["live_chat"] == "One-dimensional"


def test_demo_experiment_report_reads_both_variants(demo: str) -> None:
    code, out = run("report", "experiment", "checkout-countdown", "--json", "-w", demo)
    assert code == 0, out
    doc = orjson.loads(out)
    assert doc["control"] == "control"
    variants = {row["variant"]: row for row in doc["variants"]}
    assert set(variants) == {"control", "no_countdown"}
    assert not doc["srm"]["mismatch"]  # the generator splits 50/50
    assert "no_countdown" in doc["verdict"]["en"] and "no_countdown" in doc["verdict"]["fr"]


# Five weeks of 40 NPS answers each, as (promoters, detractors): four changes whose adjusted
# Wald p-values are 0.0019, 0.047, 0.044 and 0.37. The first by hand: n + 3 = 43 answers,
# c1 = 0 with V1 = 0.5 / 43; p~ = 0.75 / 43, d~ = 18.75 / 43, c2 = -0.418605 with
# V2 = (0.453488 - 0.175230) / 43; z = 0.418605 / sqrt(0.018099) = 3.1115, p = 0.0019.
# Benjamini-Hochberg over the four: q = 0.0074, 0.063, 0.063, 0.37.
WEEKS = [(10, 10), (0, 18), (0, 9), (0, 2), (0, 0)]


def test_many_changes_are_also_read_with_a_false_discovery_correction(tmp_path: Path) -> None:
    messages = []
    for week, (promoters, detractors) in enumerate(WEEKS):
        scores = [10] * promoters + [3] * detractors + [8] * (40 - promoters - detractors)
        messages += [
            {
                "type": "track",
                "userId": f"w{week}-{i}",
                "event": "NPS Answered",
                "timestamp": f"2026-03-{2 + 7 * week:02d}T10:00:00Z",  # Mondays
                "properties": {"score": score},
            }
            for i, score in enumerate(scores)
        ]
    with empreinte.open(tmp_path / "ws") as ws:
        assert ws.ingest(messages).stored == 200
    code, out = run("report", "nps", "--period", "week", "-w", str(tmp_path / "ws"))
    assert code == 0, out
    assert "3 of 4 changes beyond noise, 1 after correcting" in out


def test_week_by_touchpoint_stays_within_80_columns(small: str) -> None:
    code, out = run("report", "nps", "--period", "week", "--by", "touchpoint", "-w", small)
    assert code == 0, out
    # the groups stay readable beside every other column, within 80 columns
    assert "(relational)" in out and "delivery" in out and "…" not in out
    caption = out.index("* n below")
    assert max(len(line) for line in out[:caption].splitlines()) <= 80
    # changes between groups of one or two answers are not beyond noise
    assert "0 of 5 changes beyond noise" in out


@pytest.mark.parametrize(
    ("command", "names"),
    [
        (["kano"], ["refurbished_grade_photos", "carbon_footprint_label", "One-dimensional"]),
        (["kano", "--by", "generation"], ["Kano: generation = Gen Y (Millennials)"]),
        (["drivers", "--bootstrap", "20"], ["unresolved_contacts", "delivery_delay_days"]),
        (["experiment", "checkout-countdown"], ["no_countdown", "P(>ctrl)"]),
        (["nps", "--period", "quarter", "--by", "generation"], ["Gen Y (Millennials)"]),
    ],
)
def test_report_tables_show_whole_names_within_80_columns(
    demo: str, command: list[str], names: list[str]
) -> None:
    code, out = run("report", *command, "-w", demo)
    assert code == 0, out
    for name in names:
        assert name in out
    assert "…" not in out
    # every table fits (rich pads its rows to the width of the rule under the header);
    # captions and verdicts are sentences, left to the terminal to wrap
    rules = [line for line in out.splitlines() if line.startswith("───")]
    assert rules and max(len(line) for line in rules) <= 80, out
