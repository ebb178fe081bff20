"""The churn model's calibration as a chart: predicted risk against the share that churned, by
decile of the test period, beside the diagonal of perfect calibration. PNG or SVG by the
path's suffix, drawn as analytics/cx/charts.py draws (identical bytes for identical input),
titles in English or French."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from empreinte.analytics.cx import charts
from empreinte.analytics.know.churn import ChurnReport
from empreinte.errors import AnalyticsError

_TEXTS = {
    "en": {
        "title": "Churn risk calibration (test period, {n} customers, AUC {auc:.2f})",
        "x": "predicted risk (mean of the decile)",
        "y": "share who placed no order",
        "perfect": "perfect calibration",
        "model": "model",
    },
    "fr": {
        "title": "Calibration du risque d'attrition (période de test, {n} clients, AUC {auc:.2f})",
        "x": "risque prédit (moyenne du décile)",
        "y": "part sans commande",
        "perfect": "calibration parfaite",
        "model": "modèle",
    },
}


def calibration_chart(report: ChurnReport, path: str | Path, *, language: str = "en") -> Path:
    if language not in _TEXTS:
        raise AnalyticsError(f"unknown language {language!r}: use en or fr")
    fmt = charts.format_of(path)
    texts = _TEXTS[language]

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        axes.plot([0, 1], [0, 1], linestyle="--", color="#999999", label=texts["perfect"])
        axes.plot(
            [b.predicted for b in report.calibration],
            [b.observed for b in report.calibration],
            marker="o",
            color=charts.PALETTE[0],
            label=texts["model"],
        )
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_xlabel(texts["x"])
        axes.set_ylabel(texts["y"])
        axes.set_title(texts["title"].format(n=report.n_test, auc=report.auc), fontsize=10)
        axes.legend(frameon=False, loc="upper left")

    return charts.render(path, fmt, (6.0, 5.0), draw)
