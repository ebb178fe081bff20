"""What a breakdown may show: no free text, and for viewers no group small enough to single
a person out.

A breakdown by a near-unique attribute (a comment, an order id) turns an aggregate into a list
of individual answers. Free-text fields are never a breakdown, for anyone
(`attributes.check_breakdown`). Viewers (dashboards
shared widely, and later partner-facing outputs) see no figure made of fewer than `k` answers:
per period, the groups below `k` are pooled into one "(other)" row, itself hidden when still
below `k`; without a breakdown, a period below `k` is hidden. Admins and analysts, who may read
individual answers anyway, see every group, flagged below `min_n`.
"""

from __future__ import annotations

from dataclasses import replace

from empreinte.analytics.cx.kano_answers import KanoGroup, KanoReport
from empreinte.analytics.cx.scores import ScoreReport, ScoreRow, figures

OTHER = "(other)"


def score_for_viewers(report: ScoreReport, k: int) -> ScoreReport:
    """`report` with no row of fewer than `k` answers (see the module docstring)."""
    kept: list[ScoreRow] = []
    small: dict[str | None, list[ScoreRow]] = {}
    for row in report.rows:
        if row.n >= k:
            kept.append(row)
        elif report.by is not None:
            small.setdefault(row.period, []).append(row)
    for period, rows in small.items():
        total = rows[0].tally
        for row in rows[1:]:
            total += row.tally
        if total.n >= k:
            score, details = figures(report.survey, total)
            kept.append(ScoreRow(period, OTHER, total, total.n >= report.min_n, score, details))
    order = {row.period: i for i, row in enumerate(report.rows)}
    kept.sort(key=lambda row: order[row.period])  # periods in the report's order, other last
    return replace(report, rows=tuple(kept))


def kano_for_viewers(report: KanoReport, k: int) -> KanoReport:
    """`report` without the features answered by fewer than `k` people in a group (a Kano
    table cannot be pooled across groups without the answers), and without empty groups."""
    groups = []
    for group in report.groups:
        features = tuple(f for f in group.features if f.n >= k)
        if features:
            groups.append(KanoGroup(group.group, features))
    return replace(report, groups=tuple(groups))
