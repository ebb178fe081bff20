"""Partner reports on a shop whose figures are computed by hand (planted.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime

import pyarrow.parquet as pq
import pytest

import empreinte
from empreinte.analytics.partners.cells import Mark
from empreinte.errors import ConfigError, InvalidInput
from empreinte.privacy.erasure import erase_by
from empreinte.workspace import Workspace

from .planted import trusted_messages, untrusted_messages

CONFIG = """
[consent]
defaults = { analytics = true }

[partners]
k = 5
"""


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("partners")
    (root / "empreinte.toml").write_text(CONFIG)
    with empreinte.open(root) as ws:
        assert not ws.ingest(trusted_messages()).rejected
        assert not ws.ingest(untrusted_messages(), source="web").rejected
        ws.flush()
        erase_by(ws, "userId", "erased", actor="test")
        yield ws


def _row(report: object, category: str, group: str) -> dict[str, object]:
    rows = [r for r in report.to_rows() if r["category"] == category and r["group"] == group]  # type: ignore[attr-defined]
    assert len(rows) == 1, (category, group)
    return rows[0]


def test_the_figures_by_hand(ws: Workspace) -> None:
    report = ws.partners.report("acme")  # the brand as compared: any case
    assert report.brand == "Acme" and report.k == 5
    phones = _row(report, "phones", "(all)")
    expected = {
        "category_buyers": 31,
        "brand_buyers": 18,
        "repeat_buyers": 6,
        "one_time_buyers": 12,
        "other_buyers": 13,
        "switch_base": 23,
        "from_brand": 13,
        "from_other": 10,
        "kept": 6,
        "lost": 7,
        "won": 5,
        "never": 5,
    }
    assert {name: phones[name] for name in expected} == expected
    assert phones["penetration"] == pytest.approx(18 / 31)
    assert phones["repeat_rate"] == pytest.approx(6 / 18)
    # Each brand buyer's share of their phone spending: 200/200 (repeat), 100/150 (the rest).
    assert phones["share_of_wallet"] == pytest.approx((6 * 1 + 12 * 100 / 150) / 18)
    assert phones["retention"] == pytest.approx(6 / 13)
    assert phones["conquest"] == pytest.approx(5 / 10)
    # "(all)": every category; the 4 case buyers are repeat-* people, already counted.
    everything = _row(report, "(all)", "(all)")
    assert everything["category_buyers"] == 31 and everything["brand_buyers"] == 18
    # Cases: 4 Acme buyers, below k: not reported, only counted.
    assert {r["category"] for r in report.to_rows()} == {"(all)", "phones"}
    assert report.categories_below_k == 1


def test_forged_refused_and_erased_buyers_are_not_counted(ws: Workspace) -> None:
    brands = {b.name: b.buyers for b in ws.partners.brands().brands}
    # 18 Acme phone buyers: not the 3 forged, the refuser nor the erased person.
    assert brands == {"Acme": 18, "Other": 25}


def test_by_country_with_a_group_below_k_folded_and_protected(ws: Workspace) -> None:
    report = ws.partners.report("Acme", by="country", k=6)
    phones = {r["group"]: r for r in report.to_rows() if r["category"] == "phones"}
    # BE has 5 category buyers (< 6): folded into "(other)", alone there, so suppressed.
    assert set(phones) == {"(all)", "FR", "US", "(other)"}
    assert phones["(other)"]["category_buyers"] is None
    assert phones["(other)"]["category_buyers_mark"] == Mark.SUPPRESSED
    # …and not recoverable: the total, FR and US cannot all be shown.
    total, fr, us = phones["(all)"], phones["FR"], phones["US"]
    shown = [r["category_buyers"] for r in (total, fr, us)]
    assert None in shown
    # US people (8) never bought the brand: 0 brand buyers, suppressed (not "0").
    assert us["brand_buyers"] is None and us["brand_buyers_mark"] == Mark.SUPPRESSED
    for row in report.to_rows():
        for name, value in row.items():
            if name.endswith("_buyers") and isinstance(value, int):
                assert value >= 6, (row["category"], row["group"], name, value)


def test_a_period_reads_only_its_orders(ws: Workspace) -> None:
    # Second orders are 10 days after the first (day 10 + i): until day 10, one order each.
    report = ws.partners.report("Acme", until=datetime(2025, 3, 11, 12))
    phones = _row(report, "phones", "(all)")
    assert phones["repeat_buyers_mark"] == Mark.SUPPRESSED  # nobody bought twice yet (0)
    assert phones["category_buyers"] == 31


def test_exports_say_what_is_withheld(ws: Workspace) -> None:
    report = ws.partners.report("Acme", by="country", k=6)
    text = report.to_csv()
    assert "suppressed" in text and ",0," not in text
    parquet = io.BytesIO()
    pq.write_table(report.to_arrow(), parquet)
    table = pq.read_table(io.BytesIO(parquet.getvalue()))
    assert table.schema.metadata[b"k"] == b"6"
    assert table.num_rows == len(report.rows)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda ws: ws.partners.report("Nobody"), "brand"),
        (lambda ws: ws.partners.report("   "), "brand"),
        (lambda ws: ws.partners.report("Acme", k=4), "k"),  # below the workspace's k
        (lambda ws: ws.partners.report("Acme", by="email"), "by"),
        (lambda ws: ws.partners.brands(k=0), "k"),
    ],
)
def test_bad_input_names_the_parameter(ws: Workspace, call: object, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        call(ws)  # type: ignore[operator]
    assert raised.value.field == field


def test_a_brand_with_fewer_than_k_buyers_is_refused(ws: Workspace) -> None:
    # Acme has 18 buyers: at k = 19 it is not a brand the report can describe.
    with pytest.raises(InvalidInput, match="brand"):
        ws.partners.report("Acme", k=19)


@pytest.mark.parametrize("section", ["k = 4", "k = 3.5", 'sources = "some"', "kk = 10"])
def test_the_settings_are_checked_at_open(tmp_path: object, section: str) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    (root / "empreinte.toml").write_text(f"[partners]\n{section}\n")
    with pytest.raises(ConfigError, match=r"\[partners\]"):
        empreinte.open(root)


def test_which_sources_count() -> None:
    from empreinte.analytics.partners.settings import PartnerSettings

    trusted = frozenset({"api", "python", "crm"})
    assert PartnerSettings.from_mapping({}).source_names(trusted) == trusted
    assert PartnerSettings.from_mapping({"sources": "any"}).source_names(trusted) is None
    chosen = PartnerSettings.from_mapping({"sources": ["shop", " pos "]})
    assert chosen.source_names(trusted) == {"shop", "pos"}
