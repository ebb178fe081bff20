"""`empreinte products …` and `empreinte stories …` on the hand-built workspace
(stories_planted.py), the errors a user sees, and `[stories]` checked at open."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from stories_planted import build
from typer.testing import CliRunner

import empreinte
from empreinte.activate.catalog import product_of
from empreinte.cli import app
from empreinte.errors import ConfigError
from empreinte.store.product_store import PRODUCT_COLUMNS

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    path = tmp_path_factory.mktemp("stories-cli") / "ws"
    ids = build(path)
    yield str(path), ids


def test_products_import_says_what_it_left_out_and_fails(
    workspace: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    path, _ = workspace
    bad = tmp_path / "more.csv"
    bad.write_text("product_id,name,price\nX1,Extra,12\nX2,Broken,-3\n")
    code, output = run("products", "import", str(bad), "-w", path)
    assert code == 1
    assert "1 products imported; the catalogue has 5 products" in output
    assert "line 3, price: must be a number >= 0" in output
    code, output = run("products", "list", "--json", "-w", path)
    assert code == 0 and len(json.loads(output)["products"]) == 5


def test_stories_show_and_png(workspace: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    path, ids = workspace
    image = tmp_path / "alice.png"
    code, output = run(
        "stories", "show", ids["alice"], "--year", "2025", "--png", str(image), "-w", path
    )
    assert code == 0, output
    assert "Votre bilan de l'année" in output and "CO₂ évité" in output
    assert Image.open(image).size == (1080, 1920)
    code, output = run(
        "stories", "show", ids["alice"], "--year", "2025", "--json", "--lang", "en", "-w", path
    )
    assert json.loads(output)["lang"] == "en"


def test_no_story_is_one_line_not_a_trace(workspace: tuple[str, dict[str, str]]) -> None:
    path, ids = workspace
    code, output = run("stories", "show", ids["carol"], "--year", "2025", "-w", path)
    assert code == 1
    assert "does not allow personalisation" in output and "Traceback" not in output
    code, output = run(
        "stories", "show", ids["alice"], "--year", "2025", "--lang", "de", "-w", path
    )
    assert code != 0 and "lang" in output


def test_render_counts_the_refusals(workspace: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    path, ids = workspace
    code, output = run("stories", "render", "--year", "2025", "--out", str(tmp_path), "-w", path)
    assert code == 0, output
    assert "3 stories written" in output
    assert "skipped: 1 without personalisation consent" in output
    assert ids["carol"] not in output


def test_the_stories_section_is_checked_at_open(tmp_path: Path) -> None:
    (tmp_path / "empreinte.toml").write_text('[stories]\nemphasis = { FR = ["co2"] }\n')
    with pytest.raises(ConfigError, match=r"emphasis\.FR: unknown section 'co2'"):
        empreinte.open(tmp_path)
    (tmp_path / "empreinte.toml").write_text('[stories]\nlanguage = "de"\n')
    with pytest.raises(ConfigError, match=r"\[stories\] language"):
        empreinte.open(tmp_path)


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=300),
    st.lists(st.integers(), max_size=2),
)


@given(st.dictionaries(st.sampled_from([*PRODUCT_COLUMNS, "other"]), _VALUES, max_size=8))
def test_a_row_is_a_product_or_a_problem_naming_its_field(record: dict[str, object]) -> None:
    try:
        product = product_of(record)
    except ValueError as exc:
        field, message = exc.args
        assert field in record or field in ("product_id", "name")
        assert isinstance(message, str) and message
        return
    assert product.product_id and product.name
    assert product.condition in ("new", "refurbished")
    for number in (product.price, product.co2_kg, product.new_price, product.new_co2_kg):
        assert number is None or number >= 0
