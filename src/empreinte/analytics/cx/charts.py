"""The charts the CX reports write: PNG or SVG, chosen by the path's suffix.

Inputs are plain sequences, not report objects, so any report (NPS, CSAT, CES, experiments,
drivers, Kano) can draw without this module knowing its types. Every text a reader sees (title,
axis labels, legend entries) is an argument with an English default, so French reports pass
French texts; only "n=" is fixed.

Rendering is safe in a threaded web server: no pyplot (no global figure manager), each chart is
its own :class:`~matplotlib.figure.Figure` on an Agg canvas. The few settings matplotlib only
reads from the global ``rcParams`` (SVG hash salt, text kept as text, no mathtext) are applied
with ``rc_context`` on top of matplotlib's default style, under a module lock, so concurrent
charts cannot see each other's settings and a user's matplotlibrc cannot change the output.
The same input gives the same bytes (SVG: fixed hash salt, no date).

Missing values (``None`` or NaN) are skipped but their label stays on the axis; a chart where
nothing at all can be drawn is a :class:`ChartError`, as are mismatched lengths and a suffix
other than ``.png``/``.svg``.
"""

from __future__ import annotations

import io
import math
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import matplotlib as mpl
import matplotlib.style
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from matplotlib.typing import RcKeyType

from empreinte.errors import ChartError

__all__ = [
    "DPI",
    "UNRELIABLE_LABEL",
    "ChartError",
    "GroupSeries",
    "better_worse_chart",
    "drivers_chart",
    "experiment_chart",
    "grouped_score_chart",
    "score_chart",
]

DPI = 150
"""Pixels per inch of PNG output; a chart of W x H inches is ``W*DPI`` x ``H*DPI`` pixels."""

UNRELIABLE_LABEL = "n below minimum: not reliable"

Format = Literal["png", "svg"]
OptFloat = float | None
GroupSeries = tuple[
    Sequence[OptFloat], Sequence[OptFloat], Sequence[OptFloat], Sequence[int], Sequence[bool]
]
"""One group of :func:`grouped_score_chart`: (values, lows, highs, ns, reliable) per period."""

_WIDE = (8.0, 4.5)  # inches: 1200 x 675 px
_SQUARE = (7.0, 7.0)  # inches: 1050 x 1050 px

_BLUE = "#1f77b4"
_GREY = "#8c8c8c"
_RED = "#d62728"
_GREEN = "#2ca02c"
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
_LINESTYLES = ("-", "--", ":", "-.")

_RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": "empreinte",  # stable ids, hence identical bytes for identical input
    "svg.fonttype": "none",  # text stays <text>: searchable, accessible, smaller
    "text.parse_math": False,  # a "$" in a feature or variant name is just a dollar
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------------
# Public charts


def score_chart(
    path: str | os.PathLike[str],
    *,
    title: str,
    labels: Sequence[str],
    values: Sequence[OptFloat],
    lows: Sequence[OptFloat],
    highs: Sequence[OptFloat],
    ns: Sequence[int],
    reliable: Sequence[bool],
    y_label: str,
    y_range: tuple[float, float] | None = None,
    connect: bool = True,
    unreliable_label: str = UNRELIABLE_LABEL,
) -> Path:
    """One point per period or group with its 95 % CI; n under each tick label.

    ``connect`` draws a line through consecutive points (for periods; pass False for groups);
    the line breaks at a missing value rather than bridging it. Unreliable points are hollow
    and grey. A zero line is drawn when the y range spans 0 (NPS: pass ``(-100, 100)``).
    """
    fmt = format_of(path)
    count = _check_lengths(
        "labels", labels, values=values, lows=lows, highs=highs, ns=ns, reliable=reliable
    )
    v, lo, hi = _floats(values), _floats(lows), _floats(highs)
    if np.isnan(v).all():
        raise ChartError("nothing to draw: every value is missing")
    ok = np.array([bool(r) for r in reliable])

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        x = np.arange(count, dtype=float)
        if connect:
            ax.plot(x, v, color=_BLUE, linewidth=1.2, zorder=2)
        _points(ax, x, v, lo, hi, ok, color=_BLUE)
        _points(ax, x, v, lo, hi, ~ok, color=_GREY, hollow=True)
        ax.set_xticks(x, [f"{label}\nn={n}" for label, n in zip(labels, ns, strict=True)])
        _rotate_if_crowded(ax, count)
        ax.set_xlim(-0.5, count - 0.5)
        _finish_y(ax, y_label, y_range, [v, lo, hi])
        ax.set_title(title)
        if not ok.all():
            ax.legend(handles=[_hollow_handle(unreliable_label)], loc="best", frameon=False)

    return render(path, fmt, _WIDE, draw)


def grouped_score_chart(
    path: str | os.PathLike[str],
    *,
    title: str,
    periods: Sequence[str],
    groups: Mapping[str, GroupSeries],
    y_label: str,
    y_range: tuple[float, float] | None = None,
    show_n: bool = True,
    unreliable_label: str = UNRELIABLE_LABEL,
) -> Path:
    """One line per group over the periods, its 95 % CI as a shaded band.

    Each group is ``(values, lows, highs, ns, reliable)``, one entry per period. Unreliable
    points are hollow (in the group's colour). ``show_n`` writes each point's n beside it in
    small type; turn it off when many groups make it unreadable.
    """
    fmt = format_of(path)
    if not periods:
        raise ChartError("nothing to draw: no periods")
    if not groups:
        raise ChartError("nothing to draw: no groups")
    series: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, Sequence[int], np.ndarray]] = []
    for name, group in groups.items():
        if len(group) != 5:
            raise ChartError(
                f"group {name!r} must be (values, lows, highs, ns, reliable), "
                f"not {len(group)} items"
            )
        values, lows, highs, ns, reliable = group
        _check_lengths(
            "periods",
            periods,
            **{
                f"{name!r} values": values,
                f"{name!r} lows": lows,
                f"{name!r} highs": highs,
                f"{name!r} ns": ns,
                f"{name!r} reliable": reliable,
            },
        )
        ok = np.array([bool(r) for r in reliable])
        series.append((name, _floats(values), _floats(lows), _floats(highs), ns, ok))
    if all(np.isnan(s[1]).all() for s in series):
        raise ChartError("nothing to draw: every value is missing")

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        x = np.arange(len(periods), dtype=float)
        handles: list[Any] = []
        any_unreliable = False
        for i, (name, v, lo, hi, ns, ok) in enumerate(series):
            color = PALETTE[i % len(PALETTE)]
            style = _LINESTYLES[(i // len(PALETTE)) % len(_LINESTYLES)]
            band = ~(np.isnan(lo) | np.isnan(hi))
            ax.fill_between(x, lo, hi, where=band, color=color, alpha=0.15, linewidth=0)
            (line,) = ax.plot(x, v, color=color, linestyle=style, linewidth=1.5, label=name)
            handles.append(line)
            shown = ~np.isnan(v)
            ax.plot(x[shown & ok], v[shown & ok], "o", color=color, markersize=5)
            weak = shown & ~ok
            any_unreliable = any_unreliable or bool(weak.any())
            ax.plot(x[weak], v[weak], "o", mfc="white", mec=color, markersize=5)
            if show_n:
                for xi, vi, n in zip(x[shown], v[shown], np.asarray(ns)[shown], strict=True):
                    ax.annotate(
                        f"n={n}",
                        (xi, vi),
                        xytext=(4, 4),
                        textcoords="offset points",
                        fontsize=7,
                        color=color,
                    )
        ax.set_xticks(x, list(periods))
        _rotate_if_crowded(ax, len(periods))
        ax.set_xlim(-0.5, len(periods) - 0.5)
        _finish_y(ax, y_label, y_range, [a for s in series for a in s[1:4]])
        ax.set_title(title)
        if any_unreliable:
            handles.append(_hollow_handle(unreliable_label))
        ax.legend(handles=handles, loc="best", frameon=False, fontsize=8)

    return render(path, fmt, _WIDE, draw)


def experiment_chart(
    path: str | os.PathLike[str],
    *,
    title: str,
    variants: Sequence[str],
    rates: Sequence[OptFloat],
    lows: Sequence[OptFloat],
    highs: Sequence[OptFloat],
    ns: Sequence[int],
    control: str,
    y_label: str = "conversion rate",
    control_label: str = "control",
    decimal_separator: str = ".",
) -> Path:
    """Conversion rate per variant as bars with CI whiskers; the control bar grey and hatched.

    Rates and bounds are proportions (0.123 = 12.3 %); each bar is labelled with its rate in
    percent, each tick with the variant's n. French reports pass ``decimal_separator=","``.
    """
    fmt = format_of(path)
    count = _check_lengths("variants", variants, rates=rates, lows=lows, highs=highs, ns=ns)
    if control not in variants:
        raise ChartError(f"control {control!r} is not one of the variants {list(variants)!r}")
    r, lo, hi = _floats(rates), _floats(lows), _floats(highs)
    if np.isnan(r).all():
        raise ChartError("nothing to draw: every rate is missing")

    def pct(value: float, decimals: int) -> str:
        return f"{value * 100:.{decimals}f}".replace(".", decimal_separator) + " %"

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        x = np.arange(count, dtype=float)
        is_control = np.array([name == control for name in variants])
        shown = ~np.isnan(r)
        treatment, base = shown & ~is_control, shown & is_control
        if treatment.any():
            ax.bar(x[treatment], r[treatment], width=0.6, color=_BLUE, zorder=2)
        if base.any():
            ax.bar(
                x[base], r[base], width=0.6, color="#d9d9d9", edgecolor=_GREY, hatch="//", zorder=2
            )
        below, above = _yerr(r, lo, hi)
        ax.errorbar(x, r, yerr=[below, above], fmt="none", ecolor="black", capsize=5, zorder=3)
        top = np.nanmax(np.concatenate([r, hi]))
        for xi, ri, hii in zip(x[shown], r[shown], hi[shown], strict=True):
            y = ri if math.isnan(hii) else hii
            ax.annotate(
                pct(ri, 1),
                (xi, y),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=9,
            )
        ticks = [
            f"{name} ({control_label})\nn={n}" if name == control else f"{name}\nn={n}"
            for name, n in zip(variants, ns, strict=True)
        ]
        ax.set_xticks(x, ticks)
        _rotate_if_crowded(ax, count)
        ax.set_xlim(-0.6, count - 0.4)
        ax.set_ylim(0, max(top * 1.18, 1e-3))
        decimals = 0 if top >= 0.05 else 1
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: pct(value, decimals)))
        ax.set_ylabel(y_label)
        ax.set_title(title)
        ax.grid(axis="y", color="#e6e6e6", zorder=0)

    return render(path, fmt, _WIDE, draw)


def drivers_chart(
    path: str | os.PathLike[str],
    *,
    title: str,
    names: Sequence[str],
    importances: Sequence[OptFloat],
    lows: Sequence[OptFloat],
    highs: Sequence[OptFloat],
    directions: Sequence[int],
    x_label: str = "share of R²",
    direction_labels: tuple[str, str, str] = (
        "lowers the score",
        "no clear direction",
        "raises the score",
    ),
) -> Path:
    """Horizontal bars, most important driver on top, coloured by the sign of its effect.

    ``directions`` are signs (<0 red, 0 grey, >0 green); ``direction_labels`` name them in that
    order for the legend. Drivers with a missing importance are listed at the bottom, barless.
    The figure grows taller with the number of drivers (at least 1200 x 675 px).
    """
    fmt = format_of(path)
    count = _check_lengths(
        "names", names, importances=importances, lows=lows, highs=highs, directions=directions
    )
    imp, lo, hi = _floats(importances), _floats(lows), _floats(highs)
    if np.isnan(imp).all():
        raise ChartError("nothing to draw: every importance is missing")
    # Largest first, missing last; stable so ties keep the caller's order.
    order = sorted(range(count), key=lambda i: (math.isnan(imp[i]), -np.nan_to_num(imp[i])))
    imp, lo, hi = imp[order], lo[order], hi[order]
    sign = [int(np.sign(directions[i])) for i in order]
    colors = [{-1: _RED, 0: _GREY, 1: _GREEN}[s] for s in sign]
    height = max(_WIDE[1], 0.32 * count + 1.5)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        y = np.arange(count, dtype=float)
        shown = ~np.isnan(imp)
        ax.barh(y[shown], imp[shown], height=0.6, color=np.array(colors)[shown].tolist(), zorder=2)
        left, right = _yerr(imp, lo, hi)
        ax.errorbar(imp, y, xerr=[left, right], fmt="none", ecolor="black", capsize=3, zorder=3)
        ax.set_yticks(y, [names[i] for i in order])
        ax.set_ylim(count - 0.5, -0.5)  # first (largest) on top
        ax.set_xlim(left=0)
        ax.set_xlabel(x_label)
        ax.set_title(title)
        ax.grid(axis="x", color="#e6e6e6", zorder=0)
        present = sorted(set(s for s, ok in zip(sign, shown, strict=True) if ok))
        handles = [
            Patch(color={-1: _RED, 0: _GREY, 1: _GREEN}[s], label=direction_labels[s + 1])
            for s in present
        ]
        ax.legend(handles=handles, loc="lower right", frameon=False, fontsize=8)

    return render(path, fmt, (_WIDE[0], height), draw)


def better_worse_chart(
    path: str | os.PathLike[str],
    *,
    title: str,
    features: Sequence[str],
    better: Sequence[OptFloat],
    worse: Sequence[OptFloat],
    x_label: str = "|Worse|",
    y_label: str = "Better",
    quadrant_labels: tuple[str, str, str, str] = (
        "Attractive",
        "One-dimensional",
        "Must-be",
        "Indifferent",
    ),
    unplotted_label: str = "not plotted (no answers)",
) -> Path:
    """The Kano Better-Worse scatter: x = |Worse|, y = Better, quadrants split at 0.5.

    ``worse`` may be given with Berger's negative sign or as magnitudes. ``quadrant_labels`` are
    top-left, top-right, bottom-right, bottom-left. Features with a missing coefficient are
    listed under the plot after ``unplotted_label``.
    """
    fmt = format_of(path)
    _check_lengths("features", features, better=better, worse=worse)
    b, w = _floats(better), np.abs(_floats(worse))
    shown = ~(np.isnan(b) | np.isnan(w))
    if not shown.any():
        raise ChartError("nothing to draw: every feature lacks Better or Worse")
    missing = [name for name, ok in zip(features, shown, strict=True) if not ok]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.axvline(0.5, color=_GREY, linestyle="--", linewidth=0.8)
        ax.axhline(0.5, color=_GREY, linestyle="--", linewidth=0.8)
        corners = (
            (0.02, 0.98, "left", "top"),
            (0.98, 0.98, "right", "top"),
            (0.98, 0.02, "right", "bottom"),
            (0.02, 0.02, "left", "bottom"),
        )
        for text, (cx, cy, ha, va) in zip(quadrant_labels, corners, strict=True):
            ax.text(cx, cy, text, ha=ha, va=va, color=_GREY, fontsize=11, style="italic")
        ax.scatter(w[shown], b[shown], s=30, color=_BLUE, zorder=3)
        for name, xi, yi in zip(np.asarray(features)[shown], w[shown], b[shown], strict=True):
            right = xi > 0.8  # keep labels near the right edge inside the plot
            ax.annotate(
                str(name),
                (xi, yi),
                xytext=(-5 if right else 5, 3),
                textcoords="offset points",
                ha="right" if right else "left",
                fontsize=8,
            )
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.set_title(title)
        if missing:
            fig.text(
                0.01, 0.005, f"{unplotted_label}: {', '.join(missing)}", fontsize=8, color=_GREY
            )

    return render(path, fmt, _SQUARE, draw)


# --------------------------------------------------------------------------------------------
# Helpers


def format_of(path: str | os.PathLike[str]) -> Format:
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        return "png"
    if suffix == ".svg":
        return "svg"
    shown = repr(Path(path).suffix) if suffix else "no suffix"
    raise ChartError(f"cannot write a chart as {shown}: use a .png or .svg file name")


def _check_lengths(key: str, keys: Sequence[object], **others: Sequence[object]) -> int:
    """The common length; an empty key sequence means nothing to draw."""
    count = len(keys)
    if count == 0:
        raise ChartError(f"nothing to draw: no {key}")
    for name, seq in others.items():
        if len(seq) != count:
            raise ChartError(f"{name} has {len(seq)} entries but {key} has {count}")
    return count


def _floats(values: Sequence[OptFloat]) -> np.ndarray:
    """Values as floats, ``None`` as NaN (so lines break and points are skipped)."""
    return np.array([math.nan if v is None else float(v) for v in values], dtype=float)


def _yerr(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whisker lengths below and above; NaN (no whisker) where the value or a bound is missing.

    Clipped at 0 so a bound rounded past its value cannot make matplotlib refuse the chart.
    """
    return np.maximum(v - lo, 0.0), np.maximum(hi - v, 0.0)


def _points(
    ax: Axes,
    x: np.ndarray,
    v: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    mask: np.ndarray,
    *,
    color: str,
    hollow: bool = False,
) -> None:
    mask = mask & ~np.isnan(v)
    if not mask.any():
        return
    below, above = _yerr(v[mask], lo[mask], hi[mask])
    ax.errorbar(
        x[mask],
        v[mask],
        yerr=[below, above],
        fmt="o",
        color=color,
        mfc="white" if hollow else color,
        mec=color,
        markersize=6,
        capsize=4,
        zorder=3,
    )


def _hollow_handle(label: str) -> Line2D:
    return Line2D([], [], marker="o", linestyle="none", mfc="white", mec=_GREY, label=label)


def _rotate_if_crowded(ax: Axes, count: int) -> None:
    if count > 8:
        for tick in ax.get_xticklabels():
            tick.set_rotation(45)
            tick.set_horizontalalignment("right")
            tick.set_rotation_mode("anchor")


def _finish_y(
    ax: Axes, y_label: str, y_range: tuple[float, float] | None, data: list[np.ndarray]
) -> None:
    """Y limits and label; a zero line when the range (given, else the data's) spans 0."""
    if y_range is not None:
        ax.set_ylim(*y_range)
        low, high = y_range
    else:
        values = np.concatenate(data)
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if low < 0 < high:
        ax.axhline(0, color="black", linewidth=0.8, zorder=1, gid="zero")
    ax.set_ylabel(y_label)
    ax.grid(axis="y", color="#e6e6e6", zorder=0)


def render(
    path: str | os.PathLike[str],
    fmt: Format,
    size: tuple[float, float],
    draw: Callable[[Figure], None],
) -> Path:
    """Draw on a private Agg figure, render to memory, then write: no half-drawn file on error."""
    target = Path(path)
    buffer = io.BytesIO()
    with _LOCK, matplotlib.style.context("default"), mpl.rc_context(_RC):
        fig = Figure(figsize=size, dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        draw(fig)
        metadata = {"Date": None} if fmt == "svg" else None
        fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    try:
        target.write_bytes(buffer.getvalue())
    except OSError as exc:
        raise ChartError(f"cannot write chart {str(target)!r}: {exc.strerror or exc}") from exc
    return target
