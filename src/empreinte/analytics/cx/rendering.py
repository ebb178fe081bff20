"""CX reports as files: CSV tables and PNG/SVG charts, titled in English or French.

The CLI (`--csv`, `--chart`) and the HTTP API (`format=csv|png|svg`) both go through here, so
a chart or a table is the same wherever it is asked for.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from empreinte.analytics.cx import charts
from empreinte.analytics.cx.drivers import KeyDriverReport
from empreinte.analytics.cx.exposures import ExperimentReport
from empreinte.analytics.cx.kano_answers import KanoReport
from empreinte.analytics.cx.scores import ScoreReport
from empreinte.errors import AnalyticsError

Language = Literal["en", "fr"]
Report = ScoreReport | KanoReport | ExperimentReport | KeyDriverReport

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "nps": "NPS",
        "csat": "CSAT: % satisfied (top-2-box)",
        "ces": "CES: mean effort score (1-7, higher is easier)",
        "by": "by",
        "unreliable": "n below minimum: not reliable",
        "kano": "Kano: Better-Worse",
        "experiment": "Experiment {name}: {goal} within {days:g} days",
        "rate": "conversion rate",
        "control": "control",
        "drivers": "What drives {survey}: share of R² (R² = {r2:.2f}, n = {n})",
        "share": "share of R²",
        "directions": "lowers the score|no clear direction|raises the score",
        "quadrants": "Attractive|One-dimensional|Must-be|Indifferent",
        "unplotted": "not plotted (no answers)",
    },
    "fr": {
        "nps": "NPS",
        "csat": "CSAT : % satisfaits (top-2-box)",
        "ces": "CES : effort moyen (1-7, plus haut = plus facile)",
        "by": "par",
        "unreliable": "n sous le minimum : non fiable",
        "kano": "Kano : Better-Worse",
        "experiment": "Expérience {name} : {goal} sous {days:g} jours",
        "rate": "taux de conversion",
        "control": "témoin",
        "drivers": "Ce qui fait le {survey} : part du R² (R² = {r2:.2f}, n = {n})",
        "share": "part du R²",
        "directions": "fait baisser la note|sans direction nette|fait monter la note",
        "quadrants": "Attractif|Proportionnel|Obligatoire|Indifférent",
        "unplotted": "non placé (aucune réponse)",
    },
}


def texts(language: str) -> dict[str, str]:
    if language not in _TEXTS:
        raise AnalyticsError(f"unknown language {language!r}: use en or fr")
    return _TEXTS[language]


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as CSV text (header from the first row; empty values for None and NaN; no
    cell that a spreadsheet would run as a formula)."""
    out = io.StringIO()
    if not rows:
        return ""
    # RFC 4180 line ends: a field holding a lone \r is then quoted, not a new row.
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


#: What a spreadsheet reads as the start of a formula (OWASP, CSV injection): a comment
#: "=HYPERLINK(…)" or "@SUM(…)" would run when the file is opened.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell: empty for None and NaN; text that a spreadsheet would read as a formula
    behind a quote, shown as text (numbers stay numbers: -3 is not text)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def draw(report: Report, path: str | Path, *, language: str = "en") -> Path:
    """The chart of `report` at `path` (.png or .svg)."""
    t = texts(language)
    if isinstance(report, ScoreReport):
        return _score(report, Path(path), t)
    if isinstance(report, KanoReport):
        results = report.features
        quadrants = tuple(t["quadrants"].split("|"))
        return charts.better_worse_chart(
            path,
            title=t["kano"],
            features=[r.feature for r in results],
            better=[r.better for r in results],
            worse=[r.worse for r in results],
            quadrant_labels=(quadrants[0], quadrants[1], quadrants[2], quadrants[3]),
            unplotted_label=t["unplotted"],
        )
    if isinstance(report, ExperimentReport):
        variants = report.result.variants
        return charts.experiment_chart(
            path,
            title=t["experiment"].format(
                name=report.experiment, goal=report.goal, days=report.window / timedelta(days=1)
            ),
            variants=[v.name for v in variants],
            rates=[v.rate for v in variants],
            lows=[v.ci.low for v in variants],
            highs=[v.ci.high for v in variants],
            ns=[v.exposed for v in variants],
            control=report.result.control,
            y_label=t["rate"],
            control_label=t["control"],
            decimal_separator="," if language == "fr" else ".",
        )
    drivers = report.drivers
    labels = tuple(t["directions"].split("|"))
    return charts.drivers_chart(
        path,
        title=t["drivers"].format(survey=report.survey.upper(), r2=drivers.r_squared, n=drivers.n),
        names=[d.name for d in drivers.drivers],
        importances=[d.importance for d in drivers.drivers],
        lows=[d.ci_low for d in drivers.drivers],
        highs=[d.ci_high for d in drivers.drivers],
        directions=[d.direction for d in drivers.drivers],
        x_label=t["share"],
        direction_labels=(labels[0], labels[1], labels[2]),
    )


def _score(report: ScoreReport, path: Path, t: dict[str, str]) -> Path:
    title = t[report.survey] + (f" {t['by']} {report.by}" if report.by else "")
    y_range = (-100.0, 100.0) if report.survey == "nps" else None
    rows = report.rows
    if report.by is not None and report.period is not None:
        periods = sorted({str(r.period) for r in rows})
        groups: dict[str, charts.GroupSeries] = {}
        for group in sorted({str(r.group) for r in rows}):
            mine = {str(r.period): r for r in rows if str(r.group) == group}
            found = [mine.get(p) for p in periods]
            groups[group] = (
                [r.score.value if r else None for r in found],
                [r.score.low if r else None for r in found],
                [r.score.high if r else None for r in found],
                [r.n if r else 0 for r in found],
                [r.reliable if r else True for r in found],
            )
        return charts.grouped_score_chart(
            path,
            title=title,
            periods=periods,
            groups=groups,
            y_label=t[report.survey],
            y_range=y_range,
            unreliable_label=t["unreliable"],
        )
    labels = [str(r.group if report.by else r.period or report.survey.upper()) for r in rows]
    return charts.score_chart(
        path,
        title=title,
        labels=labels,
        values=[r.score.value for r in rows],
        lows=[r.score.low for r in rows],
        highs=[r.score.high for r in rows],
        ns=[r.n for r in rows],
        reliable=[r.reliable for r in rows],
        y_label=t[report.survey],
        y_range=y_range,
        connect=report.period is not None and report.by is None,
        unreliable_label=t["unreliable"],
    )
