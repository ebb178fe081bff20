"""The funnel as a chart: one bar per step (grouped by breakdown group), its conversion from
step 1 written on it. PNG or SVG by the path's suffix; the same way as analytics/cx/charts.py
(`charts.render`: identical bytes for identical input), titles in English or French."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from matplotlib.figure import Figure

from empreinte.analytics.cx import charts
from empreinte.analytics.journeys.funnels import FunnelReport
from empreinte.errors import AnalyticsError

_TEXTS = {
    "en": {"title": "Funnel ({mode}, {count}, window {window})", "axis": "reached"},
    "fr": {"title": "Entonnoir ({mode}, {count}, fenêtre {window})", "axis": "atteint"},
}


def window_text(window: timedelta, language: str = "en") -> str:
    """`7 days` / `7 jours`, `36 h`, `90 min`, `45 s`: the window as a reader says it."""
    seconds = int(window.total_seconds())
    if seconds % 86400 == 0:
        days = seconds // 86400
        word = ("day" if days == 1 else "days") if language == "en" else "jour" + "s" * (days > 1)
        return f"{days} {word}"
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def funnel_chart(report: FunnelReport, path: str | Path, *, language: str = "en") -> Path:
    if language not in _TEXTS:
        raise AnalyticsError(f"unknown language {language!r}: use en or fr")
    fmt = charts.format_of(path)
    texts = _TEXTS[language]
    spec = report.spec
    labels = spec.labels
    groups = report.groups
    width = 0.8 / max(1, len(groups))

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        for g, group in enumerate(groups):
            rows = [row for row in report.rows if row.group == group]
            xs = [i + (g - (len(groups) - 1) / 2) * width for i in range(len(rows))]
            bars = axes.bar(
                xs,
                [row.count for row in rows],
                width=width,
                color=charts.PALETTE[g % len(charts.PALETTE)],
                label=str(group) if group is not None else None,
            )
            texts_on = [
                "" if row.conversion is None else f"{100 * row.conversion:.0f}%" for row in rows
            ]
            axes.bar_label(bars, labels=texts_on, fontsize=8)
        axes.set_xticks(range(len(labels)), labels=labels, rotation=15, ha="right")
        axes.set_ylabel(texts["axis"])
        axes.set_title(
            texts["title"].format(
                mode=spec.mode, count=spec.count, window=window_text(spec.window, language)
            )
        )
        if any(group is not None for group in groups):
            axes.legend(frameon=False)

    return charts.render(path, fmt, (8.0, 4.5), draw)
