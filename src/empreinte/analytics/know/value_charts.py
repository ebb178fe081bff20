"""Charts of the value reports: the RFM grid as a heat map, and the CLV holdout check (actual
against predicted purchases by calibration frequency). Deterministic PNG/SVG through the CX
charts' `render` (thread-safe, no half-written file)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from empreinte.analytics.cx.charts import PALETTE, format_of, render
from empreinte.analytics.know.clv import ClvReport
from empreinte.analytics.know.rfm import RfmReport
from empreinte.errors import AnalyticsError

_TEXT = {
    "en": {
        "grid": "RFM: customers by recency and mean of frequency and monetary",
        "r": "R (recency score: 5 = most recent)",
        "fm": "(F + M) / 2",
        "holdout": "Holdout purchases per customer: actual and predicted (BG/NBD)",
        "x": "Repeat purchases in the calibration period",
        "y": "Mean purchases in the holdout period",
        "actual": "actual",
        "predicted": "predicted",
    },
    "fr": {
        "grid": "RFM : clients par récence et moyenne de fréquence et montant",
        "r": "R (score de récence : 5 = le plus récent)",
        "fm": "(F + M) / 2",
        "holdout": "Achats par client sur la période de contrôle : réels et prédits (BG/NBD)",
        "x": "Achats répétés pendant la période de calibration",
        "y": "Achats moyens pendant la période de contrôle",
        "actual": "réels",
        "predicted": "prédits",
    },
}


def rfm_grid_chart(report: RfmReport, path: str | os.PathLike[str], language: str = "en") -> Path:
    """The customers of each (R, FM) cell, darker for more, the count written in the cell."""
    text = _TEXT[language]
    grid = report.grid()
    counts = grid.to_numpy(dtype=float)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.imshow(counts, cmap="Blues", aspect="auto")
        ax.set_xticks(range(len(grid.columns)), [f"{v:g}" for v in grid.columns])
        ax.set_yticks(range(len(grid.index)), [str(v) for v in grid.index])
        top = counts.max() if counts.size else 0
        for (i, j), n in np.ndenumerate(counts):
            colour = "white" if top and n > top / 2 else "black"
            ax.text(j, i, f"{int(n):,}", ha="center", va="center", color=colour, fontsize=8)
        ax.set_xlabel(text["fm"])
        ax.set_ylabel(text["r"])
        ax.set_title(text["grid"])
        ax.spines[:].set_visible(False)

    return render(path, format_of(path), (8.0, 4.5), draw)


def holdout_chart(report: ClvReport, path: str | os.PathLike[str], language: str = "en") -> Path:
    """Bars of actual and predicted mean holdout purchases by calibration frequency."""
    if not report.holdout:
        raise AnalyticsError("the holdout chart needs a holdout period (holdout_end)")
    text = _TEXT[language]
    labels = [row.label for row in report.holdout]
    actual = [row.actual for row in report.holdout]
    predicted = [row.predicted for row in report.holdout]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        where = np.arange(len(labels))
        ax.bar(where - 0.2, actual, 0.4, label=text["actual"], color=PALETTE[0])
        ax.bar(where + 0.2, predicted, 0.4, label=text["predicted"], color=PALETTE[1])
        ax.set_xticks(where, labels)
        ax.set_xlabel(text["x"])
        ax.set_ylabel(text["y"])
        ax.set_title(text["holdout"])
        ax.legend(frameon=False)

    return render(path, format_of(path), (8.0, 4.5), draw)
