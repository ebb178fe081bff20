"""The catalogue from files and the command line: each bad row reported by its line and field
while the good rows are kept, CSV and JSONL alike; `offers train`, `next` (a preview: no
impression), `list`, `show` and `performance` on a small workspace of hand-built shoppers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import empreinte
from activate.offers.people import shoppers
from empreinte.activate.offers.catalogue import read_offers
from empreinte.cli.activate_offers import offers_app

CSV = """offer_id,title_en,title_fr,categories,products,brand,channels,cap_per_week,valid_until
car-seat,Car seats -15%,Sièges auto -15 %,baby,,,app|web,2,2030-01-01
no-title,,,,B1,,,,
bad-cap,Kettles,,home,,,,zero,
bad-date,Books,,books,,,,,31/12/2030
just-brand,Brio week,,,,Brio,,,
"""


def test_bad_csv_rows_are_reported_by_line_and_field_and_good_ones_kept(tmp_path: Path) -> None:
    path = tmp_path / "offers.csv"
    path.write_text(CSV, encoding="utf-8")
    report = read_offers(path)
    assert [o.offer_id for o in report.offers] == ["car-seat", "just-brand"]
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "title_en"),
        (4, "cap_per_week"),
        (5, "valid_until"),
    ]
    seat = report.offers[0]
    assert seat.channels == ("app", "web") and seat.cap_per_week == 2
    assert seat.title_fr == "Sièges auto -15 %" and seat.valid_until is not None
    assert report.offers[1].title_fr == "Brio week"  # French falls back to English


def test_jsonl_rows_and_their_mistakes(tmp_path: Path) -> None:
    path = tmp_path / "offers.jsonl"
    rows = [
        {"offer_id": "a", "title": {"en": "A", "fr": "À"}, "categories": ["toys"]},
        "not json",
        {"offer_id": "b", "title_en": "B"},  # nothing promoted
        {"offer_id": "c", "title_en": "C", "brand": "X", "budget_eur": 100},  # no value_eur
        {"offer_id": "d", "title_en": "D", "brand": "X", "colour": "red"},
        {"offer_id": "bad id!", "title_en": "E", "brand": "X"},
    ]
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows), encoding="utf-8"
    )
    report = read_offers(path)
    assert [o.offer_id for o in report.offers] == ["a"]
    assert report.offers[0].title_fr == "À"
    assert [(e.line, e.field) for e in report.errors] == [
        (2, "line"),
        (3, "products"),
        (4, "value_eur"),
        (5, "colour"),
        (6, "offer_id"),
    ]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("offers-cli") / "ws"
    with empreinte.open(path) as ws:
        ws.ingest(shoppers(), source="python")
        ws.flush()
    return path


def test_the_command_line(shop: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ws = ["--workspace", str(shop)]
    csv = tmp_path / "offers.csv"
    csv.write_text(CSV, encoding="utf-8")
    imported = runner.invoke(offers_app, ["import", str(csv), *ws])
    assert imported.exit_code == 0, imported.output
    assert "imported 2 offer(s)" in imported.stdout
    assert "offers.csv: line 4, cap_per_week: must be a whole number" in imported.stderr

    trained = runner.invoke(offers_app, ["train", "--json", *ws])
    assert trained.exit_code == 0, trained.output
    assert json.loads(trained.stdout)["products"] == 5  # B1 B2 T1 K1 H1
    assert (shop / "models" / "offers.npz").exists()

    with empreinte.open(shop) as opened:
        ann = opened.profiles.find("userId", "ann")
    for _ in range(2):  # a preview records nothing: the weekly cap (2) is never reached
        shown = runner.invoke(
            offers_app,
            ["next", "--user-id", "ann", "--channel", "app", "--seed", "1", "--json", *ws],
        )
        assert shown.exit_code == 0, shown.output
        answer = json.loads(shown.stdout)
        assert answer["profile_id"] == ann
        # The car seat goes with the pushchair ann bought; Brio's products are unrelated.
        assert [o["offer_id"] for o in answer["offers"]] == ["car-seat", "just-brand"]
    french = runner.invoke(offers_app, ["next", "--profile", ann or "", "--lang", "fr", *ws])
    assert "a acheté Pushchair Zen il y a 2 semaines" in french.stdout

    listed = runner.invoke(offers_app, ["list", "--json", *ws])
    assert [o["offer_id"] for o in json.loads(listed.stdout)["offers"]] == [
        "car-seat",
        "just-brand",
    ]
    performance = runner.invoke(offers_app, ["performance", "--json", *ws])
    assert {r["shown"] for r in json.loads(performance.stdout)["offers"]} == {0}
    missing = runner.invoke(offers_app, ["show", "nope", *ws])
    assert missing.exit_code == 1 and "no offer 'nope'" in missing.stderr
    bad = runner.invoke(offers_app, ["next", "--profile", ann or "", "-n", "0", *ws])
    assert bad.exit_code == 1 and "n: must be a whole number from 1 to 20" in bad.stderr


def test_a_server_loads_a_newer_model_and_never_trains(tmp_path: Path) -> None:
    from empreinte.activate.offers.service import OfferService

    path = tmp_path / "ws"
    path.mkdir()
    (path / "empreinte.toml").write_text("[offers]\nrefresh_seconds = 3600\n")
    with empreinte.open(path) as ws:
        first_two = [m for m in shoppers() if m["userId"] in ("ann", "bob")]
        ws.ingest(first_two, source="python")
        ws.flush()
        ws.offers.train()
        serving = OfferService(ws)  # another process's view of the same workspace
        first = serving.model()
        assert first is not None and len(first.people) == 2
        ws.ingest([m for m in shoppers() if m not in first_two], source="python")
        ws.flush()
        ws.offers.train()
        assert serving.model() is first  # looked at most every refresh_seconds
        serving._model_checked -= 3601  # an hour later (no sleep: a loaded machine is slow)
        newer = serving.model()
        assert newer is not first and newer is not None and len(newer.people) == 5
