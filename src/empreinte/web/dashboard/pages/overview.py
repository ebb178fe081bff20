"""Overview: activity by channel over time, NPS, CSAT and CES trends with their intervals and
n, and the current quarter against the previous one, with the test that says whether the
change is more than noise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from empreinte.credentials import Role
from empreinte.web.dashboard.components import Chart, Column, EmptyState, Table, bars, lines
from empreinte.web.dashboard.page import EVERYONE, N_, Action, Page, View
from empreinte.web.dashboard.snippets import survey_snippets, track_snippets

if TYPE_CHECKING:
    from empreinte.analytics.activity import ActivityRow
    from empreinte.analytics.cx.scores import ScoreReport

# Report modules load Ibis and pandas: imported when a page is built, not with the app.
ALL_CHANNELS = "all"  # = empreinte.analytics.activity.ALL_CHANNELS
PERIODS = ("week", "month", "quarter")
SURVEYS = ("nps", "csat", "ces")


def _activity_charts(view: View, rows: list[ActivityRow]) -> list[Chart]:
    _ = view.gettext
    periods = sorted({r.period for r in rows})
    channels = sorted({r.channel for r in rows if r.channel != ALL_CHANNELS})
    cell = {(r.period, r.channel): r for r in rows}
    empty = EmptyState(
        _("No events yet. Send events from your site or app with your write key:"),
        track_snippets(),
    )
    # The second chart fills from the same events: one snippet on the page is enough.
    empty_again = EmptyState(_("No events yet (see how to send them beside)."))
    charts = []
    for metric, title in (
        ("events", _("Events by channel")),
        ("people", _("Active people by channel")),
    ):
        series = {
            channel: [getattr(cell.get((p, channel)), metric, 0) or 0 for p in periods]
            for channel in channels
        }
        figure = (
            bars(periods, series, stacked=True) if metric == "events" else lines(periods, series)
        )
        columns = [Column("period", _("Period"))]
        columns += [Column(c, c, "number") for c in channels]
        columns.append(Column(ALL_CHANNELS, _("All channels"), "number"))
        table_rows: list[dict[str, Any]] = []
        for p in periods:
            row: dict[str, Any] = {"period": p}
            for c in [*channels, ALL_CHANNELS]:
                found = cell.get((p, c))
                row[c] = getattr(found, metric) if found else 0
            table_rows.append(row)
        caption = (
            _("Events received, bots excluded.")
            if metric == "events"
            else _(
                "People with at least one event in the period; someone active on two channels "
                "counts once in each and once in all channels."
            )
        )
        charts.append(
            Chart(
                f"activity-{metric}",
                title,
                figure,
                Table(f"activity-{metric}-data", title, columns, table_rows),
                caption=caption,
                empty=empty if metric == "events" else empty_again,
            )
        )
    return charts


def _score_unit(view: View, survey: str) -> str:
    _ = view.gettext
    return {
        "nps": _("points, −100 to 100"),
        "csat": _("% satisfied (4–5 of 5)"),
        "ces": _("mean effort score, 1–7"),
    }[survey]


def _trend_chart(view: View, survey: str, report: ScoreReport) -> Chart:
    _ = view.gettext
    rows = [r for r in report.rows if r.period is not None]
    x = [r.period for r in rows]
    name = report.headline.split(" ")[0]
    figure = lines(
        x,
        {name: [r.score.value for r in rows]},
        bands={name: ([r.score.low for r in rows], [r.score.high for r in rows])},
    )
    table_rows = [
        {
            "period": r.period,
            "score": r.score.value,
            "low": r.score.low,
            "high": r.score.high,
            "n": r.n,
        }
        for r in rows
    ]
    columns = [
        Column("period", _("Period")),
        Column("score", name, "number", 1),
        Column("low", _("95% interval, low"), "number", 1),
        Column("high", _("95% interval, high"), "number", 1),
        Column("n", _("Answers (n)"), "number"),
    ]
    return Chart(
        f"trend-{survey}",
        f"{name} ({_score_unit(view, survey)})",
        figure,
        Table(f"trend-{survey}-data", name, columns, table_rows),
        caption=_("The band is the 95% confidence interval; n is the number of answers."),
        empty=EmptyState(
            _("No survey answers yet. Send them as events like this one:"),
            survey_snippets(survey),
        ),
        height=280,
    )


def _verdict(view: View, significant: bool, delta: float) -> str:
    _ = view.gettext
    if not significant:
        return _("no significant change")
    return _("significantly up") if delta > 0 else _("significantly down")


def _quarters(view: View, reports: Mapping[str, ScoreReport]) -> Table:
    _ = view.gettext
    rows = []
    for report in reports.values():
        if not report.rows:
            continue
        current = report.rows[-1]
        change = current.change
        before = {r.period: r for r in report.rows}.get(current.previous)
        rows.append(
            {
                "survey": report.headline.split(" ")[0],
                "current": current.score.value,
                "quarter": current.period,
                "n": current.n,
                "previous": before.score.value if before is not None and change else None,
                "previous_quarter": current.previous,
                "delta": change.delta if change else None,
                "p": change.p_value if change else None,
                "verdict": (
                    _verdict(view, change.significant, change.delta)
                    if change
                    else _("no previous quarter to compare with")
                ),
            }
        )
    return Table(
        "quarters",
        _("This quarter against the previous one"),
        [
            Column("survey", _("Score")),
            Column("quarter", _("Quarter")),
            Column("current", _("Value"), "number", 1),
            Column("n", _("Answers (n)"), "number"),
            Column("previous_quarter", _("Previous quarter")),
            Column("previous", _("Previous value"), "number", 1),
            Column("delta", _("Change"), "number", 1),
            Column("p", _("p-value"), "number", 3),
            Column("verdict", _("In plain words"), "badge"),
        ],
        rows,
        caption=_(
            "A change is significant when its p-value is under 0.05 (a two-sided test on the "
            "answers of both quarters); the quarter is the latest with answers."
        ),
    )


def build(view: View) -> Mapping[str, Any]:
    from empreinte.analytics.activity import activity

    period = view.choice("period", PERIODS, "month")

    def count_activity() -> list[ActivityRow]:
        with view.ws.analytics() as log:
            return activity(log, period)

    def scores(by: str) -> dict[str, ScoreReport]:
        return {survey: view.ws.cx.score(survey, period=by) for survey in SURVEYS}

    activity_rows = view.report(("activity", period), count_activity)
    trends = view.report(("scores", period), lambda: scores(period))
    quarterly = view.report(("scores", "quarter"), lambda: scores("quarter"))
    if view.viewer.role is Role.VIEWER:
        # As the API answers viewers: no figure of fewer than `viewer_min_group` answers.
        from empreinte.analytics.cx.disclosure import score_for_viewers
        from empreinte.analytics.cx.settings import CxSettings

        k = CxSettings.from_mapping(view.ws.config.cx).viewer_min_group
        trends = {s: score_for_viewers(r, k) for s, r in trends.items()}
        quarterly = {s: score_for_viewers(r, k) for s, r in quarterly.items()}
    totals = [r for r in activity_rows if r.channel == ALL_CHANNELS]
    return {
        "period": period,
        "periods": PERIODS,
        "activity": _activity_charts(view, activity_rows),
        "trends": [_trend_chart(view, s, trends[s]) for s in SURVEYS],
        "quarters": _quarters(view, quarterly),
        "events_total": sum(r.events for r in totals),
    }


OVERVIEW = Page("overview", "/overview", N_("Overview"), "overview.html", build, EVERYONE)
PAGES = [OVERVIEW]
ACTIONS: list[Action] = []
