"""The funnel as a chart: one bar per step (grouped by breakdown group), its conversion from
step 1 written on it. PNG or SVG by the path's suffix; the same way as analytics/cx/charts.py
(no pyplot: a Figure on an Agg canvas, settings under a lock, identical bytes for identical
input), titles in English or French."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.style
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

from empreinte.analytics.journeys.funnels import FunnelReport
from empreinte.errors import AnalyticsError, ChartError

_TEXTS = {
    "en": {"title": "Funnel ({mode}, {count}, window {window})", "axis": "reached"},
    "fr": {"title": "Entonnoir ({mode}, {count}, fenêtre {window})", "axis": "atteint"},
}
_RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": "empreinte",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
_LOCK = threading.Lock()


def funnel_chart(report: FunnelReport, path: str | Path, *, language: str = "en") -> Path:
    if language not in _TEXTS:
        raise AnalyticsError(f"unknown language {language!r}: use en or fr")
    target = Path(path)
    kind = target.suffix.lower().lstrip(".")
    if kind not in ("png", "svg"):
        raise ChartError(f"chart {target}: use a .png or .svg file")
    texts = _TEXTS[language]
    spec = report.spec
    labels = spec.labels
    groups = report.groups
    width = 0.8 / max(1, len(groups))
    with _LOCK, matplotlib.style.context("default"), mpl.rc_context(_RC):
        figure = Figure(figsize=(8.0, 4.5))
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        for g, group in enumerate(groups):
            rows = [row for row in report.rows if row.group == group]
            xs = [i + (g - (len(groups) - 1) / 2) * width for i in range(len(rows))]
            bars = axes.bar(
                xs,
                [row.count for row in rows],
                width=width,
                color=_PALETTE[g % len(_PALETTE)],
                label=str(group) if group is not None else None,
            )
            texts_on = [
                "" if row.conversion is None else f"{100 * row.conversion:.0f}%" for row in rows
            ]
            axes.bar_label(bars, labels=texts_on, fontsize=8)
        axes.set_xticks(range(len(labels)), labels=labels, rotation=15, ha="right")
        axes.set_ylabel(texts["axis"])
        axes.set_title(texts["title"].format(mode=spec.mode, count=spec.count, window=spec.window))
        if any(group is not None for group in groups):
            axes.legend(frameon=False)
        figure.tight_layout()
        buffer = io.BytesIO()
        metadata = {"Software": None} if kind == "png" else {"Date": None, "Creator": None}
        figure.savefig(buffer, format=kind, dpi=150, metadata=metadata)
    target.write_bytes(buffer.getvalue())
    return target
