"""The charts of paths and retention: a Sankey of the paths, a heat-map of retention (PNG or SVG).

Drawn the way every chart of the project is (analytics/cx/charts.py): a private Agg figure,
under the charts' lock and fixed settings, so they are thread-safe and the same report gives
the same bytes; titles in English or French.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as CurvePath

from empreinte.analytics.cx import charts
from empreinte.analytics.cx.rendering import texts
from empreinte.analytics.journeys.paths import END, OTHER, START, PathReport
from empreinte.analytics.journeys.retention import RetentionReport
from empreinte.errors import ChartError

_TEXTS = {
    "en": {
        "next": "After {anchor}: the next {depth} steps ({n} paths, {people} people)",
        "previous": "Before {anchor}: the {depth} previous steps ({n} paths, {people} people)",
        "retention": "Retention: {start} → {returning}, by {period} ({bucket} buckets)",
        "unbounded": "Unbounded retention: {start} → {returning}, by {period} ({bucket} buckets)",
        "cohort": "cohort (size)",
        "bucket": "{bucket} after the start",
    },
    "fr": {
        "next": "Après {anchor} : les {depth} étapes suivantes ({n} parcours, {people} personnes)",
        "previous": "Avant {anchor} : les {depth} étapes précédentes ({n} parcours, "
        "{people} personnes)",
        "retention": "Rétention : {start} → {returning}, par {period} (en {bucket})",
        "unbounded": "Rétention non bornée : {start} → {returning}, par {period} (en {bucket})",
        "cohort": "cohorte (taille)",
        "bucket": "{bucket} après le début",
    },
}
_UNITS = {
    "en": {"day": "day", "week": "week", "month": "month"},
    "fr": {"day": "jour", "week": "semaine", "month": "mois"},
}
_GAP = 0.04  # of the height, between two nodes of a column
_NODE_WIDTH = 0.12  # of a column's width


def _words(language: str) -> dict[str, str]:
    texts(language)  # the project's check: en or fr
    return _TEXTS[language]


def sankey_chart(report: PathReport, path: str | os.PathLike[str], *, language: str = "en") -> Path:
    """The paths of `report` as a Sankey: one column per level, time running left to right,
    node heights and bands in proportion to path occurrences."""
    words = _words(language)
    fmt = charts.format_of(path)
    if not report.transitions:
        raise ChartError("nothing to draw: no path in this scope")
    forward = report.direction == "next"
    levels = sorted({s.level for s in report.steps})
    column = {level: i for i, level in enumerate(levels)}
    total = max(sum(s.transitions for s in report.steps if s.level == lv) for lv in levels)
    # Each node: (column, label) → [bottom, height]; terminals and (other) at the bottom.
    # One scale for every column, so that a band is as high at both ends.
    widest = max(sum(1 for s in report.steps if s.level == lv) for lv in levels)
    scale = (1.0 - _GAP * (widest - 1)) / total
    nodes: dict[tuple[int, str], list[float]] = {}
    for level in levels:
        here = [s for s in report.steps if s.level == level]
        here.sort(key=lambda s: (s.step in (END, START, OTHER), s.rank))
        top = 1.0
        for s in here:
            height = scale * s.transitions
            nodes[(column[level], s.step)] = [top - height, height]
            top -= height + _GAP
    title = words["next" if forward else "previous"].format(
        anchor=report.anchor.label,
        depth=report.depth,
        n=report.occurrences,
        people=report.people,
    )

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_xlim(-0.1, len(levels) - 1 + 0.9)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(title, fontsize=10)
        out_cursor = {key: box[0] + box[1] for key, box in nodes.items()}
        in_cursor = dict(out_cursor)
        colours: dict[str, str] = {}
        for i, key in enumerate(sorted(nodes, key=lambda k: (k[0], -nodes[k][0]))):
            colours[key[1]] = colours.get(key[1], charts.PALETTE[i % len(charts.PALETTE)])
        bands = []
        for t in report.transitions:
            src_col = column[t.level - 1] if forward else column[t.level]
            source, target = (src_col, t.source), (src_col + 1, t.target)
            if source in nodes and target in nodes:
                bands.append((source, target, scale * t.transitions))
        # Bands leave a node in the order of their targets, top first, and arrive in the
        # order of their sources: no band crosses another at a node.
        starts: dict[int, float] = {}
        for i, (source, _, height) in sorted(
            enumerate(bands), key=lambda b: (b[1][0], -nodes[b[1][1]][0])
        ):
            starts[i] = out_cursor[source]
            out_cursor[source] -= height
        ends: dict[int, float] = {}
        for i, (_, target, height) in sorted(
            enumerate(bands), key=lambda b: (b[1][1], -nodes[b[1][0]][0])
        ):
            ends[i] = in_cursor[target]
            in_cursor[target] -= height
        for i, (source, target, height) in enumerate(bands):
            y0, y1 = starts[i], ends[i]
            x0, x1 = source[0] + _NODE_WIDTH, target[0]
            mid = (x0 + x1) / 2
            verts = [
                (x0, y0),
                (mid, y0),
                (mid, y1),
                (x1, y1),
                (x1, y1 - height),
                (mid, y1 - height),
                (mid, y0 - height),
                (x0, y0 - height),
                (x0, y0),
            ]
            codes = [CurvePath.MOVETO, *[CurvePath.CURVE4] * 3, CurvePath.LINETO]
            codes += [*[CurvePath.CURVE4] * 3, CurvePath.CLOSEPOLY]
            band = PathPatch(
                CurvePath(verts, codes), facecolor=colours[source[1]], alpha=0.35, lw=0
            )
            ax.add_patch(band)
        for (col, label), (bottom, height) in nodes.items():
            ax.add_patch(
                Rectangle((col, bottom), _NODE_WIDTH, height, facecolor=colours[label], lw=0)
            )
            count = next(
                s.transitions for s in report.steps if column[s.level] == col and s.step == label
            )
            ax.text(
                col + _NODE_WIDTH + 0.02,
                bottom + height / 2,
                f"{label} ({count})",
                va="center",
                fontsize=7,
            )

    return charts.render(path, fmt, (11.0, 6.0), draw)


def retention_chart(
    report: RetentionReport,
    path: str | os.PathLike[str],
    *,
    language: str = "en",
    unbounded: bool = False,
    group: str | None = None,
) -> Path:
    """The retention of `report` as a heat-map: a row per cohort, a column per bucket, the rate
    in each cell (blank where a bucket has not begun)."""
    words = _words(language)
    fmt = charts.format_of(path)
    matrix = report.matrix(unbounded=unbounded, group=group)
    if matrix.empty:
        raise ChartError("nothing to draw: no cohort in this scope")
    sizes = {c.cohort: c.size for c in report.cells if c.group == group and c.bucket == 0}
    unit = _UNITS[language][report.bucket]
    title = words["unbounded" if unbounded else "retention"].format(
        start=report.start,
        returning=report.returning,
        period=_UNITS[language][report.period],
        bucket=unit,
    )
    values = matrix.to_numpy(dtype=float)
    rows, columns = values.shape

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        shown = np.ma.masked_invalid(values)
        ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(columns), [str(b) for b in matrix.columns])
        ax.set_yticks(range(rows), [f"{c} ({sizes.get(c, '')})" for c in matrix.index])
        ax.set_xlabel(words["bucket"].format(bucket=unit))
        ax.set_ylabel(words["cohort"])
        ax.set_title(title, fontsize=10)
        for i in range(rows):
            for j in range(columns):
                value = values[i, j]
                if math.isnan(value):
                    continue
                colour = "white" if value > 0.6 else "black"
                ax.text(
                    j, i, f"{100 * value:.0f}", ha="center", va="center", fontsize=7, color=colour
                )

    height = min(2.0 + 0.3 * rows, 12.0)
    width = min(4.0 + 0.5 * columns, 16.0)
    return charts.render(path, fmt, (width, height), draw)
