"""The attribution chart: one group of bars per channel (or campaign), one bar per model, the
conversions each model attributes. PNG or SVG by the path's suffix, drawn the way the CX charts
are (analytics/cx/charts.py: a private figure, deterministic bytes, safe in threads)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from empreinte.analytics.cx import charts
from empreinte.analytics.journeys.attribution import AttributionReport
from empreinte.errors import AnalyticsError, ChartError

_TEXTS = {
    "en": {
        "title": "Attributed {goal} by {by}: {n} conversions",
        "y": "attributed conversions",
        "channel": "channel",
        "campaign": "campaign",
        "channel_campaign": "channel / campaign",
    },
    "fr": {
        "title": "{goal} attribués par {by} : {n} conversions",
        "y": "conversions attribuées",
        "channel": "canal",
        "campaign": "campagne",
        "channel_campaign": "canal / campagne",
    },
}
_MODELS = {
    "en": {
        "first_touch": "first touch",
        "last_touch": "last touch",
        "linear": "linear",
        "time_decay": "time decay",
        "position_based": "position (40/20/40)",
    },
    "fr": {
        "first_touch": "premier contact",
        "last_touch": "dernier contact",
        "linear": "linéaire",
        "time_decay": "décroissance temporelle",
        "position_based": "en U (40/20/40)",
    },
}


def model_label(model: str, language: str) -> str:
    if model.startswith("markov_"):
        order = model.removeprefix("markov_")
        return f"Markov {'ordre' if language == 'fr' else 'order'} {order}"
    return _MODELS[language].get(model, model)


def attribution_chart(
    report: AttributionReport, path: str | os.PathLike[str], *, language: str = "en"
) -> Path:
    """The grouped bar chart of `report` at `path` (.png or .svg)."""
    if language not in _TEXTS:
        raise AnalyticsError(f"unknown language {language!r}: use en or fr")
    fmt = charts.format_of(path)
    touches = report.touches
    if not touches or report.conversions == 0:
        raise ChartError("nothing to draw: no conversion in this scope")
    t = _TEXTS[language]
    models = report.models
    heights = np.array(
        [[report.credit(model, touch).conversions for touch in touches] for model in models]
    )
    width = 0.8 / len(models)
    size = (min(14.0, max(8.0, 0.12 * len(touches) * len(models) + 2.0)), 5.0)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        x = np.arange(len(touches), dtype=float)
        for i, model in enumerate(models):
            offset = (i - (len(models) - 1) / 2) * width
            ax.bar(
                x + offset,
                heights[i],
                width=width,
                label=model_label(model, language),
                color=charts.PALETTE[i % len(charts.PALETTE)],
                zorder=2,
            )
        ax.set_xticks(x, touches)
        charts._rotate_if_crowded(ax, len(touches))
        ax.set_ylabel(t["y"])
        ax.set_title(t["title"].format(goal=report.goal, by=t[report.by], n=report.conversions))
        ax.grid(axis="y", color="#e6e6e6", zorder=0)
        ax.legend(frameon=False, fontsize=8, ncols=min(4, len(models)))

    return charts.render(path, fmt, size, draw)
