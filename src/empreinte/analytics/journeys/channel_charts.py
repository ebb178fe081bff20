"""Charts of the omnichannel reports (classes, mix, ROPO, calls after the web): horizontal bars,
PNG or SVG, titled in English or French.

Drawn the way analytics/cx/charts.py draws (its private Agg figure under its lock, matplotlib's
default style, fixed SVG salt): the same input gives the same bytes, and charts are safe in the
threaded web server.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from empreinte.analytics.cx import charts
from empreinte.errors import AnalyticsError, ChartError

if TYPE_CHECKING:
    from empreinte.analytics.journeys.channels import ClassReport, MixReport
    from empreinte.analytics.journeys.friction import CalledAfterWebReport
    from empreinte.analytics.journeys.ropo import CrossReport

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "classes": "Omnichannel classes: share of people",
        "mix": "Channel mix: share of people using each channel",
        "ropo": "ROPO: share of offline purchases researched online within {days:g} days",
        "showrooming": "Showrooming: share of online purchases seen in store within {days:g} days",
        "calls": "Pages before a call: lift against all sessions",
        "people": "share of people",
        "purchases": "share of purchases",
        "lift": "lift (1 = as often as in all sessions)",
        "mono": "mono-channel",
        "multi": "multi-channel",
        "cross": "cross-channel",
        "omni": "omnichannel",
    },
    "fr": {
        "classes": "Classes omnicanal : part des personnes",
        "mix": "Mix canal : part des personnes utilisant chaque canal",
        "ropo": "ROPO : part des achats en magasin préparés en ligne sous {days:g} jours",
        "showrooming": "Showrooming : part des achats en ligne vus en magasin sous {days:g} jours",
        "calls": "Pages avant un appel : lift par rapport à toutes les sessions",
        "people": "part des personnes",
        "purchases": "part des achats",
        "lift": "lift (1 = aussi souvent que dans toutes les sessions)",
        "mono": "monocanal",
        "multi": "multicanal",
        "cross": "cross-canal",
        "omni": "omnicanal",
    },
}


def texts(language: str) -> dict[str, str]:
    if language not in _TEXTS:
        raise AnalyticsError(f"unknown language {language!r}: use en or fr")
    return _TEXTS[language]


def bars(
    path: str | Path,
    *,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    x_label: str,
    lows: Sequence[float] | None = None,
    highs: Sequence[float] | None = None,
    percent: bool = True,
    reference: float | None = None,
) -> Path:
    """Horizontal bars, first label on top, with optional interval whiskers and a reference
    line (a lift of 1)."""
    fmt = charts.format_of(path)
    if not labels:
        raise ChartError("nothing to draw: the report is empty")
    v = np.array([math.nan if x is None else float(x) for x in values], dtype=float)
    count = len(labels)
    height = max(4.5, 0.32 * count + 1.5)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        y = np.arange(count, dtype=float)
        ax.barh(y, np.nan_to_num(v), height=0.6, color="#1f77b4", zorder=2)
        if lows is not None and highs is not None:
            lo = np.array(lows, dtype=float)
            hi = np.array(highs, dtype=float)
            ax.errorbar(
                v,
                y,
                xerr=[np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)],
                fmt="none",
                ecolor="black",
                capsize=3,
                zorder=3,
            )
        if reference is not None:
            ax.axvline(reference, color="#8c8c8c", linestyle="--", zorder=1)
        ax.set_yticks(y, list(labels))
        ax.set_ylim(count - 0.5, -0.5)
        ax.set_xlim(left=0)
        if percent:
            ax.xaxis.set_major_formatter(lambda value, _pos: f"{value * 100:.0f} %")
        ax.set_xlabel(x_label)
        ax.set_title(title)
        ax.grid(axis="x", color="#e6e6e6", zorder=0)

    return charts.render(path, fmt, (8.0, height), draw)


def draw_classes(report: ClassReport, path: str | Path, language: str = "en") -> Path:
    t = texts(language)
    rows = report.rows
    labels = [f"{r.group}: {t[r.channel_class]}" if report.by else t[r.channel_class] for r in rows]
    return bars(
        path, title=t["classes"], labels=labels, values=[r.share for r in rows], x_label=t["people"]
    )


def draw_mix(report: MixReport, path: str | Path, language: str = "en") -> Path:
    t = texts(language)
    rows = report.channels
    labels = [f"{r.group}: {r.channel}" if report.by else r.channel for r in rows]
    return bars(
        path,
        title=t["mix"],
        labels=labels,
        values=[r.people_share for r in rows],
        x_label=t["people"],
    )


def draw_cross(report: CrossReport, path: str | Path, language: str = "en") -> Path:
    t = texts(language)
    rows = report.rows
    days = report.rule.window.total_seconds() / 86_400
    return bars(
        path,
        title=t[report.direction].format(days=days),
        labels=[f"{r.group} (n={r.purchases})" for r in rows],
        values=[r.purchase_rate for r in rows],
        lows=[r.purchase_low for r in rows],
        highs=[r.purchase_high for r in rows],
        x_label=t["purchases"],
    )


def draw_calls(report: CalledAfterWebReport, path: str | Path, language: str = "en") -> Path:
    t = texts(language)
    rows = report.pages()
    return bars(
        path,
        title=t["calls"],
        labels=[f"{r.value} ({r.calls})" for r in rows],
        values=[r.lift for r in rows],
        x_label=t["lift"],
        percent=False,
        reference=1.0,
    )
