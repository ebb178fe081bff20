"""The CX report charts: real PNG/SVG files, deterministic, with the texts a reader needs."""

from __future__ import annotations

import math
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from empreinte.analytics.cx.charts import (
    DPI,
    ChartError,
    better_worse_chart,
    drivers_chart,
    experiment_chart,
    grouped_score_chart,
    score_chart,
)
from empreinte.errors import EmpreinteError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HOLLOW = 'style="fill: #ffffff; stroke: #8c8c8c"'  # an unreliable point's marker in the SVG


def _score_kwargs(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "title": "NPS Zephyr trimestriel",
        "labels": ["Trim-Alpha", "Trim-Bravo", "Trim-Charlie", "Trim-Delta"],
        "values": [12.5, None, -8.0, 30.0],
        "lows": [0.0, None, -40.0, 10.0],
        "highs": [25.0, None, 25.0, 50.0],
        "ns": [4321, 0, 17, 987],
        "reliable": [True, False, False, True],
        "y_label": "Score NPS",
        "y_range": (-100.0, 100.0),
    }
    kwargs.update(overrides)
    return kwargs


def _texts(path: Path) -> list[str]:
    """Every text of an SVG chart, in document order (also proves it parses as XML)."""
    root = ET.parse(path).getroot()
    return [el.text for el in root.iter("{http://www.w3.org/2000/svg}text") if el.text]


# --------------------------------------------------------------------------------------------
# Formats, files, errors


def test_png_has_signature_and_fixed_pixel_size(tmp_path: Path) -> None:
    out = score_chart(tmp_path / "nps.png", **_score_kwargs())
    assert out == tmp_path / "nps.png"
    assert out.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(out) as image:
        assert image.size == (8 * DPI, int(4.5 * DPI))


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    out = score_chart(tmp_path / "NPS.PNG", **_score_kwargs())
    assert out.read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize("name", ["nps.pdf", "nps.jpeg", "nps"])
def test_other_suffix_is_refused_naming_it_and_the_allowed_two(tmp_path: Path, name: str) -> None:
    with pytest.raises(ChartError) as err:
        score_chart(tmp_path / name, **_score_kwargs())
    message = str(err.value)
    assert ".png" in message and ".svg" in message
    assert (Path(name).suffix or "no suffix") in message
    assert not (tmp_path / name).exists()


def test_chart_error_is_an_empreinte_error() -> None:
    assert issubclass(ChartError, EmpreinteError)


def test_unwritable_path_is_a_chart_error(tmp_path: Path) -> None:
    with pytest.raises(ChartError, match="cannot write chart"):
        score_chart(tmp_path / "missing-dir" / "nps.svg", **_score_kwargs())


def test_same_input_gives_identical_bytes(tmp_path: Path) -> None:
    for suffix in ("svg", "png"):
        first = score_chart(tmp_path / f"a.{suffix}", **_score_kwargs()).read_bytes()
        second = score_chart(tmp_path / f"b.{suffix}", **_score_kwargs()).read_bytes()
        assert first == second


def test_concurrent_charts_are_identical_to_a_lone_one(tmp_path: Path) -> None:
    alone = score_chart(tmp_path / "alone.svg", **_score_kwargs()).read_bytes()
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            if i % 2:
                better_worse_chart(
                    tmp_path / f"kano{i}.svg", title="K", features=["f"], better=[0.5], worse=[0.5]
                )
            else:
                score_chart(tmp_path / f"t{i}.svg", **_score_kwargs())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in (0, 2, 4):
        assert (tmp_path / f"t{i}.svg").read_bytes() == alone


# --------------------------------------------------------------------------------------------
# score_chart


def test_score_svg_holds_title_labels_n_and_axis_label(tmp_path: Path) -> None:
    texts = _texts(score_chart(tmp_path / "nps.svg", **_score_kwargs()))
    for expected in ("NPS Zephyr trimestriel", "Score NPS", "n=4321", "n=987", "n=17"):
        assert expected in texts
    # The missing period keeps its label and its n.
    assert "Trim-Bravo" in texts and "n=0" in texts
    assert texts.index("Trim-Alpha") < texts.index("Trim-Delta")


def test_unreliable_point_is_hollow_with_a_legend_entry(tmp_path: Path) -> None:
    svg = score_chart(tmp_path / "nps.svg", **_score_kwargs())
    assert "n below minimum: not reliable" in _texts(svg)
    # One hollow marker for Trim-Charlie (Trim-Bravo has no value) and one in the legend.
    assert svg.read_text().count(HOLLOW) == 2


def test_no_unreliable_legend_when_all_reliable(tmp_path: Path) -> None:
    svg = score_chart(tmp_path / "nps.svg", **_score_kwargs(reliable=[True] * 4))
    assert "n below minimum: not reliable" not in _texts(svg)
    assert HOLLOW not in svg.read_text()


def test_unreliable_legend_text_can_be_french(tmp_path: Path) -> None:
    label = "effectif insuffisant : peu fiable"
    svg = score_chart(tmp_path / "nps.svg", **_score_kwargs(unreliable_label=label))
    assert label in _texts(svg)


def test_dollar_signs_are_plain_text_not_math(tmp_path: Path) -> None:
    svg = score_chart(tmp_path / "nps.svg", **_score_kwargs(title="Prix $5 à $10"))
    assert "Prix $5 à $10" in _texts(svg)


def test_zero_line_only_when_range_spans_zero(tmp_path: Path) -> None:
    def hlines_at_zero(path: Path) -> int:
        return sum(1 for el in ET.parse(path).getroot().iter() if el.get("id", "") == "zero")

    spanning = score_chart(tmp_path / "a.svg", **_score_kwargs())
    positive = score_chart(
        tmp_path / "b.svg",
        **_score_kwargs(values=[3.0, 4.0, 4.5, 4.2], lows=[2.5] * 4, highs=[5.0] * 4, y_range=None),
    )
    assert hlines_at_zero(spanning) == 1
    assert hlines_at_zero(positive) == 0


@pytest.mark.parametrize("connect", [True, False])
def test_connect_is_accepted(tmp_path: Path, connect: bool) -> None:
    svg = score_chart(tmp_path / "nps.svg", **_score_kwargs(connect=connect))
    assert "Trim-Alpha" in _texts(svg)


def test_nan_is_skipped_like_none(tmp_path: Path) -> None:
    with_none = score_chart(tmp_path / "a.svg", **_score_kwargs()).read_bytes()
    with_nan = score_chart(
        tmp_path / "b.svg",
        **_score_kwargs(values=[12.5, math.nan, -8.0, 30.0], lows=[0.0, math.nan, -40.0, 10.0]),
    ).read_bytes()
    assert with_none == with_nan


def test_empty_input_is_nothing_to_draw(tmp_path: Path) -> None:
    empty = _score_kwargs(labels=[], values=[], lows=[], highs=[], ns=[], reliable=[])
    with pytest.raises(ChartError, match="nothing to draw: no labels"):
        score_chart(tmp_path / "nps.svg", **empty)
    assert not (tmp_path / "nps.svg").exists()


def test_all_values_missing_is_nothing_to_draw(tmp_path: Path) -> None:
    with pytest.raises(ChartError, match="nothing to draw"):
        score_chart(tmp_path / "nps.svg", **_score_kwargs(values=[None] * 4))


def test_mismatched_lengths_name_the_sequence(tmp_path: Path) -> None:
    with pytest.raises(ChartError, match="ns has 3 entries but labels has 4"):
        score_chart(tmp_path / "nps.svg", **_score_kwargs(ns=[1, 2, 3]))


# --------------------------------------------------------------------------------------------
# grouped_score_chart


def _groups() -> dict[str, Any]:
    web = ([7.1, 7.4, None], [6.9, 7.2, None], [7.3, 7.6, None], [812, 790, 0], [True] * 3)
    app = ([6.0, 6.5, 6.8], [5.0, 5.9, 6.1], [7.0, 7.1, 7.5], [25, 40, 63], [False, True, True])
    return {"Canal-Web": web, "Canal-App": app}


def test_grouped_svg_holds_groups_periods_n_and_unreliable(tmp_path: Path) -> None:
    svg = grouped_score_chart(
        tmp_path / "g.svg",
        title="CSAT par canal",
        periods=["Mois-Janv", "Mois-Fevr", "Mois-Mars"],
        groups=_groups(),
        y_label="CSAT moyen",
    )
    texts = _texts(svg)
    for expected in ("CSAT par canal", "CSAT moyen", "Canal-Web", "Canal-App", "Mois-Mars"):
        assert expected in texts
    assert {"n=812", "n=790", "n=25", "n=63"} <= set(texts)
    assert "n=0" not in texts  # a missing point gets no n label
    assert "n below minimum: not reliable" in texts


def test_grouped_png_size(tmp_path: Path) -> None:
    out = grouped_score_chart(
        tmp_path / "g.png", title="t", periods=["a", "b", "c"], groups=_groups(), y_label="y"
    )
    with Image.open(out) as image:
        assert image.size == (8 * DPI, int(4.5 * DPI))


def test_grouped_show_n_off(tmp_path: Path) -> None:
    svg = grouped_score_chart(
        tmp_path / "g.svg",
        title="t",
        periods=["a", "b", "c"],
        groups=_groups(),
        y_label="y",
        show_n=False,
    )
    assert not any(t.startswith("n=") for t in _texts(svg))


def test_grouped_errors(tmp_path: Path) -> None:
    with pytest.raises(ChartError, match="nothing to draw: no groups"):
        grouped_score_chart(tmp_path / "g.svg", title="t", periods=["a"], groups={}, y_label="y")
    with pytest.raises(ChartError, match="nothing to draw: no periods"):
        grouped_score_chart(
            tmp_path / "g.svg", title="t", periods=[], groups=_groups(), y_label="y"
        )
    with pytest.raises(ChartError, match="'Canal-Web' values has 3 entries but periods has 2"):
        grouped_score_chart(
            tmp_path / "g.svg", title="t", periods=["a", "b"], groups=_groups(), y_label="y"
        )


# --------------------------------------------------------------------------------------------
# experiment_chart


def _experiment_kwargs(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "title": "Test bouton Quetzal",
        "variants": ["Var-Ctrl", "Var-Vert", "Var-Vide"],
        "rates": [0.1, 0.123, None],
        "lows": [0.082, 0.104, None],
        "highs": [0.12, 0.144, None],
        "ns": [1000, 1010, 0],
        "control": "Var-Ctrl",
    }
    kwargs.update(overrides)
    return kwargs


def test_experiment_svg_marks_control_and_shows_rates_and_n(tmp_path: Path) -> None:
    texts = _texts(experiment_chart(tmp_path / "e.svg", **_experiment_kwargs()))
    assert "Test bouton Quetzal" in texts
    assert "Var-Ctrl (control)" in texts and "Var-Vert" in texts
    assert {"10.0 %", "12.3 %", "n=1000", "n=1010"} <= set(texts)
    assert "Var-Vide" in texts and "n=0" in texts  # no rate, label kept


def test_experiment_french_decimal_comma_and_control_label(tmp_path: Path) -> None:
    out = experiment_chart(
        tmp_path / "e.svg",
        **_experiment_kwargs(),
        control_label="témoin",
        decimal_separator=",",
        y_label="taux de conversion",
    )
    texts = _texts(out)
    assert {"Var-Ctrl (témoin)", "12,3 %", "taux de conversion"} <= set(texts)


def test_experiment_png(tmp_path: Path) -> None:
    out = experiment_chart(tmp_path / "e.png", **_experiment_kwargs())
    assert out.read_bytes()[:8] == PNG_SIGNATURE


def test_experiment_unknown_control(tmp_path: Path) -> None:
    with pytest.raises(ChartError, match="control 'Nope' is not one of the variants"):
        experiment_chart(tmp_path / "e.svg", **_experiment_kwargs(control="Nope"))


def test_experiment_empty(tmp_path: Path) -> None:
    empty = _experiment_kwargs(variants=[], rates=[], lows=[], highs=[], ns=[])
    with pytest.raises(ChartError, match="nothing to draw: no variants"):
        experiment_chart(tmp_path / "e.svg", **empty)


# --------------------------------------------------------------------------------------------
# drivers_chart


def _drivers_kwargs(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "title": "Leviers du NPS",
        "names": ["Drv-Prix", "Drv-Livraison", "Drv-Support", "Drv-Inconnu", "Drv-Appli"],
        "importances": [0.1, 0.4, 0.2, None, 0.05],
        "lows": [0.05, 0.3, 0.1, None, None],
        "highs": [0.15, 0.5, 0.3, None, None],
        "directions": [-1, 1, 0, 1, -1],
    }
    kwargs.update(overrides)
    return kwargs


def test_drivers_sorted_by_importance_missing_last(tmp_path: Path) -> None:
    texts = _texts(drivers_chart(tmp_path / "d.svg", **_drivers_kwargs()))
    names = [t for t in texts if t.startswith("Drv-")]
    assert names == ["Drv-Livraison", "Drv-Support", "Drv-Prix", "Drv-Appli", "Drv-Inconnu"]
    assert "share of R²" in texts
    assert {"lowers the score", "no clear direction", "raises the score"} <= set(texts)


def test_drivers_colour_follows_direction(tmp_path: Path) -> None:
    only_negative = _drivers_kwargs(directions=[-1] * 5)
    svg = drivers_chart(tmp_path / "d.svg", **only_negative).read_text()
    assert "#d62728" in svg and "#2ca02c" not in svg
    assert "raises the score" not in svg


def test_drivers_png_grows_with_many_drivers(tmp_path: Path) -> None:
    count = 30
    out = drivers_chart(
        tmp_path / "d.png",
        title="t",
        names=[f"d{i}" for i in range(count)],
        importances=[1 / (i + 1) for i in range(count)],
        lows=[None] * count,
        highs=[None] * count,
        directions=[1] * count,
    )
    with Image.open(out) as image:
        width, height = image.size
    assert width == 8 * DPI and height > 4.5 * DPI


def test_drivers_empty(tmp_path: Path) -> None:
    empty = _drivers_kwargs(names=[], importances=[], lows=[], highs=[], directions=[])
    with pytest.raises(ChartError, match="nothing to draw: no names"):
        drivers_chart(tmp_path / "d.svg", **empty)


# --------------------------------------------------------------------------------------------
# better_worse_chart


def test_better_worse_svg_has_quadrants_features_and_unplotted(tmp_path: Path) -> None:
    out = better_worse_chart(
        tmp_path / "k.svg",
        title="Kano Orion",
        features=["Feat-Mode-Sombre", "Feat-Paiement", "Feat-Recu", "Feat-Sans-Reponse"],
        better=[0.8, 0.7, 0.2, None],
        worse=[-0.1, -0.8, -0.9, None],
    )
    texts = _texts(out)
    for expected in ("Attractive", "One-dimensional", "Must-be", "Indifferent", "Kano Orion"):
        assert expected in texts
    assert {"Feat-Mode-Sombre", "Feat-Paiement", "Feat-Recu", "|Worse|", "Better"} <= set(texts)
    assert "not plotted (no answers): Feat-Sans-Reponse" in texts


def test_better_worse_accepts_worse_signed_or_as_magnitude(tmp_path: Path) -> None:
    common: dict[str, Any] = {"title": "K", "features": ["a", "b"], "better": [0.3, 0.9]}
    signed = better_worse_chart(tmp_path / "a.svg", **common, worse=[-0.2, -0.6])
    magnitude = better_worse_chart(tmp_path / "b.svg", **common, worse=[0.2, 0.6])
    assert signed.read_bytes() == magnitude.read_bytes()


def test_better_worse_png_is_square(tmp_path: Path) -> None:
    out = better_worse_chart(tmp_path / "k.png", title="K", features=["a"], better=[1], worse=[0])
    with Image.open(out) as image:
        assert image.size == (7 * DPI, 7 * DPI)


def test_better_worse_nothing_to_draw(tmp_path: Path) -> None:
    with pytest.raises(ChartError, match="nothing to draw: no features"):
        better_worse_chart(tmp_path / "k.svg", title="K", features=[], better=[], worse=[])
    with pytest.raises(ChartError, match="nothing to draw"):
        better_worse_chart(tmp_path / "k.svg", title="K", features=["a"], better=[None], worse=[0])
