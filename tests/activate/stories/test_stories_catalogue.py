"""The product catalogue: CSV and JSONL imports, bad rows reported by line and field, twins
resolved, the demo's catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

import empreinte
from empreinte.activate.stories.demo import demo_products
from empreinte.errors import InvalidInput

HEADER = "product_id,sku,name,category,condition,price,currency,co2_kg,replaces_sku,new_co2_kg\n"


def test_csv_import_reports_bad_rows_by_line_and_field(tmp_path: Path) -> None:
    source = tmp_path / "catalogue.csv"
    source.write_text(
        HEADER
        + "N1,PH-N,Phone,phones,new,500,eur,60,,\n"  # line 2
        + "R1,PH-R,Phone (refurbished),phones,refurbished,300,EUR,9,PH-N,\n"  # line 3
        + "R2,XX-R,Orphan,phones,refurbished,300,EUR,9,NOPE,\n"  # line 4: no twin, no kg
        + "B1,BK,Book,books,new,ten,EUR,1,,\n"  # line 5: price
        + ",BK2,Book,books,new,10,EUR,1,,\n"  # line 6: product_id
        + "B3,BK3,Book,books,used,10,EUR,1,,\n"  # line 7: condition
        + "N1,PH-N,Phone again,phones,new,500,EUR,60,,\n"  # line 8: repeated id
        + "R3,LT-R,Laptop,laptops,refurbished,600,EUR,50,,250\n"  # line 9: kg given
        + "B4,BK4,Book,books,new,10,EUR,-1,,\n"  # line 10: negative CO2
    )
    with empreinte.open(tmp_path / "ws") as ws:
        report = ws.stories.catalogue.import_file(source)
        problems = [(p.line, p.field) for p in report.problems]
        assert problems == [
            (4, "replaces_sku"),
            (5, "price"),
            (6, "product_id"),
            (7, "condition"),
            (8, "product_id"),
            (10, "co2_kg"),
        ]
        assert (report.imported, report.total) == (3, 3)
        catalogue = ws.stories.catalogue
        refurbished = catalogue.get("R1")
        assert refurbished is not None
        assert (refurbished.new_price, refurbished.new_co2_kg) == (500.0, 60.0)
        assert refurbished.co2_avoided_kg == 51.0
        laptop = catalogue.get("R3")
        assert laptop is not None and laptop.co2_avoided_kg == 200.0
        phone = catalogue.by_sku("PH-N")
        assert phone is not None and phone.currency == "EUR" and phone.co2_avoided_kg is None


def test_jsonl_import_adds_to_the_catalogue_and_replace_starts_afresh(tmp_path: Path) -> None:
    first = tmp_path / "a.jsonl"
    first.write_text('{"product_id": "N1", "name": "Phone", "sku": "PH-N", "co2_kg": 60}\n')
    second = tmp_path / "b.jsonl"
    second.write_text(
        '{"product_id": "R1", "name": "Phone (refurbished)", "condition": "refurbished",'
        ' "co2_kg": 9, "replaces_sku": "PH-N"}\n'
        "not json\n"
        '["a list"]\n'
        '{"product_id": "X", "name": "X", "colour": "red"}\n'
    )
    with empreinte.open(tmp_path / "ws") as ws:
        catalogue = ws.stories.catalogue
        catalogue.import_file(first)
        report = catalogue.import_file(second)  # the twin is the first file's product
        assert [(p.line, p.field) for p in report.problems] == [
            (2, "line"),
            (3, "line"),
            (4, "colour"),
        ]
        assert catalogue.size() == 2
        twin = catalogue.get("R1")
        assert twin is not None and twin.co2_avoided_kg == 51.0
        catalogue.import_file(first, replace_all=True)
        assert [p.product_id for p in catalogue.all()] == ["N1"]


def test_a_file_that_is_no_catalogue_is_refused_whole(tmp_path: Path) -> None:
    wrong = tmp_path / "orders.csv"
    wrong.write_text("order_id,total\n1,2\n")
    with empreinte.open(tmp_path / "ws") as ws, pytest.raises(InvalidInput, match="order_id"):
        ws.stories.catalogue.import_file(wrong)
    with empreinte.open(tmp_path / "ws") as ws, pytest.raises(InvalidInput, match=r"\.csv"):
        ws.stories.catalogue.import_file(tmp_path / "catalogue.xlsx")


def test_every_refurbished_demo_product_has_its_new_twin() -> None:
    products = demo_products()
    skus = {p.sku: p for p in products if p.condition == "new"}
    refurbished = [p for p in products if p.condition == "refurbished"]
    assert refurbished
    for product in refurbished:
        twin = skus[product.replaces_sku or ""]
        assert twin.co2_kg is not None and product.co2_kg is not None
        assert twin.co2_kg > product.co2_kg
