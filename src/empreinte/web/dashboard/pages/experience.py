"""Experience: NPS, CSAT and CES by period and breakdown; key drivers; the detractors to call
back; the Kano chart; experiments with their verdict in plain words.

One sub-page per question (tabs), each computing only what it shows, so each renders in under
a second on the default demo: the reports of `workspace.cx` (analytics/cx/reports.py), called
exactly as the HTTP API calls them (web/cx_api.py), with the same role rules — viewers get the
scores and Kano figures without small groups (analytics/cx/disclosure.py) and no detractors
page at all (it names people and quotes them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from empreinte.credentials import Role
from empreinte.errors import DriverInputError, EmpreinteError, InvalidInput
from empreinte.web.dashboard.components import PALETTE, Chart, Column, EmptyState, Table
from empreinte.web.dashboard.page import EVERYONE, MAX_ARG, N_, STAFF, Action, Page, View
from empreinte.web.dashboard.snippets import survey_snippets, track_snippets

if TYPE_CHECKING:
    from empreinte.analytics.cx.drivers import KeyDriverReport
    from empreinte.analytics.cx.experiments import TreatmentComparison
    from empreinte.analytics.cx.exposures import ExperimentReport
    from empreinte.analytics.cx.kano_answers import KanoReport
    from empreinte.analytics.cx.scores import ScoreReport, ScoreRow

# Report modules load Ibis, pandas and scipy: imported when a page is built, not with the app.

SURVEYS = ("nps", "csat", "ces")
PERIODS = ("week", "month", "quarter", "year")
#: Suggested breakdowns (any attribute the reports know may be typed: properties.<path>…).
BREAKDOWNS = ("channel", "touchpoint", "country", "generation", "preferred_channel", "source")
DRIVER_WINDOWS = (7, 30, 90)
DRIVER_BOOTSTRAP = 200  # the API's default: the intervals of the shares
DETRACTOR_DAYS = (7, 30, 90, 365)
DETRACTOR_LIMIT = 500  # the API's default
MAX_WINDOW_DAYS = 3650
#: Experiments whose verdict the page computes without being asked (the most recent ones).
VERDICTS_SHOWN = 3
DEFAULT_GOAL = "Order Completed"
EXPERIMENT_EVENT = "Experiment Viewed"

SURVEY_NAMES = {"nps": N_("NPS"), "csat": N_("CSAT"), "ces": N_("CES")}
#: The answer scale each survey's drivers are measured on (their effects are in its units).
ANSWER_SCALES = {"nps": "0–10", "csat": "1–5", "ces": "1–7"}

#: Journey features of the key-driver analysis (analytics/cx/drivers.py DEFAULT_FEATURES).
DRIVER_NAMES = {
    "service_contacts": N_("Service contacts (calls and chats)"),
    "unresolved_contacts": N_("Unresolved contacts"),
    "longest_wait_min": N_("Longest wait on the phone (minutes)"),
    "payment_failures": N_("Payment failures"),
    "delivery_delay_days": N_("Delivery delay (days)"),
    "returns": N_("Returns (refunds)"),
    "orders": N_("Orders"),
    "channels_used": N_("Channels used"),
}
KANO_NAMES = {
    "Attractive": N_("Attractive"),
    "One-dimensional": N_("One-dimensional"),
    "Must-be": N_("Must-be"),
    "Indifferent": N_("Indifferent"),
    "Reverse": N_("Reverse"),
    "Questionable": N_("Questionable"),
}


# -- what every tab shares -------------------------------------------------------------------


def _raw(view: View, name: str, default: str = "") -> str:
    """A query value to show back in the form (bounded), whatever it is."""
    values = view.query.getlist(name)
    return (values[0].strip()[:MAX_ARG] if values else "") or default


def _moment(view: View, name: str) -> datetime | None:
    """An ISO date or date-time (read in the workspace's time zone when it has no offset)."""
    text = view.arg(name)
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day)
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(name, f"`{name}` must be a date such as 2025-10-01") from None


def _window(view: View) -> tuple[datetime | None, datetime | None]:
    since, until = _moment(view, "since"), _moment(view, "until")
    if since is not None and until is not None:
        if since.tzinfo is None and until.tzinfo is not None:
            since = since.replace(tzinfo=until.tzinfo)
        elif until.tzinfo is None and since.tzinfo is not None:
            until = until.replace(tzinfo=since.tzinfo)
        if since >= until:
            raise InvalidInput("until", "`until` must be after `since` (the window is empty)")
    return since, until


def _tabs(view: View, current: str) -> list[dict[str, Any]]:
    _ = view.gettext
    tabs = [
        ("scores", "/experience", _("Scores")),
        ("drivers", "/experience/drivers", _("Key drivers")),
        ("detractors", "/experience/detractors", _("Detractors to call back")),
        ("kano", "/experience/kano", _("Kano")),
        ("experiments", "/experience/experiments", _("Experiments")),
    ]
    return [
        {"key": key, "path": path, "label": label, "current": key == current}
        for key, path, label in tabs
        if key != "detractors" or view.viewer.role in STAFF
    ]


def _base(view: View, tab: str, fields: Mapping[str, str]) -> dict[str, Any]:
    return {
        "tabs": _tabs(view, tab),
        "form": {name: _raw(view, name, default) for name, default in fields.items()},
        "surveys": [(s, view.gettext(SURVEY_NAMES[s])) for s in SURVEYS],
        "error": None,
    }


def _viewer_min_group(view: View) -> int:
    from empreinte.analytics.cx.settings import CxSettings

    return CxSettings.from_mapping(view.ws.config.cx).viewer_min_group


def _signed(view: View, value: float | None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    text = view.fmt.number(abs(value), digits)
    if round(value, digits) > 0:
        return "+" + text
    if round(value, digits) < 0:
        return "−" + text
    return text


def _p_text(view: View, p: float) -> str:
    if p < 0.001:
        return "p < " + view.fmt.number(0.001, 3)
    return "p = " + view.fmt.number(p, 3)


def _error_bars(
    low: Sequence[float | None], high: Sequence[float | None], values: Sequence[Any]
) -> dict[str, Any]:
    plus = [None if h is None or v is None else h - v for h, v in zip(high, values, strict=True)]
    minus = [None if lo is None or v is None else v - lo for lo, v in zip(low, values, strict=True)]
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus}


# -- scores ----------------------------------------------------------------------------------


def _unit(view: View, survey: str) -> str:
    _ = view.gettext
    return {
        "nps": _("points, −100 to 100"),
        "csat": _("% satisfied (4–5 of 5)"),
        "ces": _("mean effort score, 1–7"),
    }[survey]


def _change_words(view: View, row: ScoreRow) -> str:
    _ = view.gettext
    change = row.change
    if change is None:
        return _("first period")
    if not math.isfinite(change.p_value):
        return _("cannot be tested (no spread in the answers)")
    words = {
        "delta": _signed(view, change.delta),
        "previous": row.previous or "",
        "p": _p_text(view, change.p_value),
    }
    if change.significant:
        words["delta"] = view.fmt.number(abs(change.delta), 1)  # "up 12.3", "down 4.0"
        if change.delta > 0:
            return _("up %(delta)s on %(previous)s: a real change (%(p)s)") % words
        return _("down %(delta)s on %(previous)s: a real change (%(p)s)") % words
    return _("%(delta)s on %(previous)s: could be noise (%(p)s)") % words


def _score_chart(view: View, survey: str, report: ScoreReport, table: Table) -> Chart:
    _ = view.gettext
    groups: dict[str | None, list[ScoreRow]] = {}
    for row in report.rows:
        groups.setdefault(row.group, []).append(row)
    data: list[dict[str, Any]] = []
    name = _(SURVEY_NAMES[survey])
    for i, (group, rows) in enumerate(groups.items()):
        values = [r.score.value for r in rows]
        color = PALETTE[i % len(PALETTE)]
        data.append(
            {
                "type": "scatter",
                # n written by each point when there is one line (hovered otherwise)
                "mode": "lines+markers+text" if len(groups) == 1 else "lines+markers",
                "text": [f"n = {view.fmt.number(r.n)}" for r in rows] if len(groups) == 1 else None,
                "textposition": "top center",
                "name": group if group is not None else name,
                "x": [r.period for r in rows],
                "y": values,
                "customdata": [r.n for r in rows],
                "hovertemplate": (
                    "%{x}: %{y:.1f}<br>n = %{customdata}<extra>%{fullData.name}</extra>"
                ),
                "error_y": {
                    **_error_bars(
                        [r.score.low for r in rows], [r.score.high for r in rows], values
                    ),
                    "color": color,
                    "thickness": 1,
                },
                "line": {"color": color},
                # a hollow marker: fewer answers than the workspace's min_n
                "marker": {
                    "color": color,
                    "size": 8,
                    "symbol": ["circle" if r.reliable else "circle-open" for r in rows],
                },
            }
        )
    layout: dict[str, Any] = {"xaxis": {"type": "category"}, "hovermode": "closest"}
    if survey == "nps":
        layout["yaxis"] = {"zeroline": True}
    return Chart(
        "scores",
        f"{name} ({_unit(view, survey)})",
        {"data": data, "layout": layout},
        replace(table, id="scores-points"),
        caption=_(
            "Bars are 95%% confidence intervals; a hollow point has fewer than %(n)s answers "
            "(not reliable). Hover a point to read its n."
        )
        % {"n": view.fmt.number(report.min_n)},
        empty=EmptyState(
            _("No survey answers in this scope. Send them as survey events:"),
            survey_snippets(survey),
        ),
        height=380,
    )


def build_scores(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    context = _base(
        view,
        "scores",
        {"score": "nps", "period": "quarter", "by": "", "since": "", "until": ""},
    )
    context.update(
        periods=PERIODS,
        breakdowns=[*BREAKDOWNS, *_segment_breakdowns(view)],
        main_chart=None,
        viewer_note=None,
    )
    try:
        survey = view.choice("score", SURVEYS, "nps")
        period = view.choice("period", PERIODS, "quarter")
        by = view.arg("by") or None
        since, until = _window(view)
        report = view.report(
            ("experience-scores", survey, period, by, since, until),
            lambda: view.ws.cx.score(survey, period=period, by=by, since=since, until=until),
        )
    except EmpreinteError as exc:
        context["error"] = view.problem(exc)
        return context
    if view.viewer.role is Role.VIEWER:
        from empreinte.analytics.cx.disclosure import score_for_viewers

        k = _viewer_min_group(view)
        report = score_for_viewers(report, k)
        context["viewer_note"] = _(
            "Groups of fewer than %(k)s answers are pooled into “(other)” or left out."
        ) % {"k": view.fmt.number(k)}
    rows = []
    for row in report.rows:
        rows.append(
            {
                "period": row.period,
                "group": row.group,
                "n": row.n,
                "value": row.score.value,
                "low": row.score.low,
                "high": row.score.high,
                "change": row.change.delta if row.change else None,
                "words": _change_words(view, row),
                "reliable": _("yes") if row.reliable else _("small sample"),
            }
        )
    columns = [Column("period", _("Period"))]
    if by is not None:
        columns.append(Column("group", by))
    columns += [
        Column("n", _("Answers (n)"), "number"),
        Column("value", _(SURVEY_NAMES[survey]), "number", 1),
        Column("low", _("95% interval, low"), "number", 1),
        Column("high", _("95% interval, high"), "number", 1),
        Column("change", _("Change"), "number", 1),
        Column("words", _("In plain words")),
        Column("reliable", _("Reliable"), "badge"),
    ]
    table = Table(
        "scores-data",
        _("%(score)s by %(period)s") % {"score": _(SURVEY_NAMES[survey]), "period": _(period)},
        columns,
        rows,
        caption=_(
            "Each period is compared with the same group's previous period; a change is real "
            "when its p-value is under 0.05."
        ),
    )
    context["main_chart"] = _score_chart(view, survey, report, table)
    context["main_table"] = table
    return context


def _segment_breakdowns(view: View) -> list[str]:
    try:
        return [f"segment:{s.definition.name}" for s in view.ws.segments.list()][:50]
    except EmpreinteError:
        return []


# -- key drivers -----------------------------------------------------------------------------


def _driver_name(view: View, name: str) -> str:
    known = DRIVER_NAMES.get(name)
    return view.gettext(known) if known else name


def _drivers_summary(view: View, survey: str, report: KeyDriverReport) -> str:
    _ = view.gettext
    fit = report.drivers
    words = {
        "r2": view.fmt.percent(fit.r_squared, 0),
        "score": _(SURVEY_NAMES[survey]),
        "n": view.fmt.number(fit.n),
    }
    line = (
        _(
            "Together, these parts of the journey go with %(r2)s of the differences between "
            "%(score)s answers (%(n)s answers)."
        )
        % words
    )
    top = next((d for d in fit.drivers if d.coefficient is not None and d.importance > 0), None)
    if top is not None and top.coefficient is not None:
        effect = {
            "driver": _driver_name(view, top.name),
            "effect": view.fmt.number(abs(top.coefficient), 2),
            "scale": ANSWER_SCALES[survey],
        }
        if top.coefficient < 0:
            line += " " + (
                _(
                    "Weighing most: %(driver)s; each one more goes with an answer %(effect)s "
                    "lower on the %(scale)s scale, all else equal."
                )
                % effect
            )
        else:
            line += " " + (
                _(
                    "Weighing most: %(driver)s; each one more goes with an answer %(effect)s "
                    "higher on the %(scale)s scale, all else equal."
                )
                % effect
            )
    return line


def build_drivers(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    context = _base(view, "drivers", {"score": "nps", "window_days": "30"})
    context.update(windows=DRIVER_WINDOWS, main_chart=None, summary=None, unreliable=None)
    empty = EmptyState(
        _(
            "Not enough survey answers to analyse. Key drivers need answers from people who "
            "allow analytics, and their journey events (calls, orders, deliveries):"
        ),
        survey_snippets("nps"),
    )
    context["empty"] = empty
    try:
        survey = view.choice("score", SURVEYS, "nps")
        window_days = view.int_arg("window_days", 30, 1, MAX_WINDOW_DAYS)
        report = view.report(
            ("experience-drivers", survey, window_days, DRIVER_BOOTSTRAP),
            lambda: view.ws.cx.drivers(survey, window_days=window_days, bootstrap=DRIVER_BOOTSTRAP),
        )
    except EmpreinteError as exc:
        if isinstance(exc, DriverInputError):
            context["insufficient"] = str(exc)
            return context
        context["error"] = view.problem(exc)
        return context
    fit = report.drivers
    rows: list[dict[str, Any]] = []
    for d in fit.drivers:
        rows.append(
            {
                "rank": len(rows) + 1,
                "driver": _driver_name(view, d.name),
                "importance": d.importance,
                "low": d.ci_low,
                "high": d.ci_high,
                "relative": d.relative,
                "direction": (
                    _("lowers the score")
                    if d.direction < 0
                    else _("raises the score")
                    if d.direction > 0
                    else "–"
                ),
                "effect": d.coefficient,
                "note": d.note,
            }
        )
    table = Table(
        "drivers-data",
        _("Key drivers"),
        [
            Column("rank", _("Rank"), "number"),
            Column("driver", _("Part of the journey")),
            Column("importance", _("Share of R²"), "percent", 1),
            Column("low", _("95% interval, low"), "percent", 1),
            Column("high", _("95% interval, high"), "percent", 1),
            Column("relative", _("Share of what is explained"), "percent", 0),
            Column("direction", _("Direction")),
            Column("effect", _("Effect per unit (answer points)"), "number", 2),
            Column("note", _("Note")),
        ],
        rows,
    )
    names = [r["driver"] for r in rows]
    values = [d.importance for d in fit.drivers]
    colors = ["#b03a48" if d.direction < 0 else "#2e8b57" for d in fit.drivers]
    figure = {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": values,
                "y": names,
                "marker": {"color": colors},
                "error_x": {
                    **_error_bars(
                        [d.ci_low for d in fit.drivers], [d.ci_high for d in fit.drivers], values
                    ),
                    "color": "#1d2330",
                    "thickness": 1,
                },
                "hovertemplate": "%{y}: %{x:.1%}<extra></extra>",
                "name": _("Share of R²"),
            }
        ],
        "layout": {
            "xaxis": {"tickformat": ".0%", "title": {"text": _("Share of R² (95% interval)")}},
            "yaxis": {"automargin": True, "autorange": "reversed"},
            "margin": {"l": 16, "r": 16, "t": 16, "b": 56},
        },
    }
    context["main_chart"] = Chart(
        "drivers",
        _("What moves %(score)s") % {"score": _(SURVEY_NAMES[survey])},
        figure,
        replace(table, id="drivers-points"),
        caption=_(
            "Red lowers the score, green raises it. Each bar is the share of the differences "
            "between answers that goes with that part of the journey in the %(days)s days "
            "before answering (Shapley shares of R²): a link, not proof of a cause."
        )
        % {"days": view.fmt.number(window_days)},
        empty=empty,
        height=max(260, 48 * len(rows) + 80),
    )
    context["main_table"] = table
    context["summary"] = _drivers_summary(view, survey, report)
    if not fit.reliable:
        context["unreliable"] = _(
            "Few answers: read these figures with care (they are computed, not reliable)."
        )
    if report.without_consent:
        context["without_consent"] = _(
            "%(n)s answers of people who do not allow analytics were not read."
        ) % {"n": view.fmt.number(report.without_consent)}
    return context


# -- detractors ------------------------------------------------------------------------------


def build_detractors(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    context = _base(
        view,
        "detractors",
        {"score": "nps", "days": "30", "touchpoint": "", "with_comment": "", "until": ""},
    )
    context.update(day_choices=DETRACTOR_DAYS, main_table=None, latest=None)
    try:
        survey = view.choice("score", SURVEYS, "nps")
        days = view.int_arg("days", 30, 1, MAX_WINDOW_DAYS)
        touchpoint = view.arg("touchpoint") or None
        with_comment = view.choice("with_comment", ("", "1"), "") == "1"
        until = _moment(view, "until")
        people = view.ws.cx.detractors(
            survey,
            days=days,
            touchpoint=touchpoint,
            with_comment=with_comment,
            limit=DETRACTOR_LIMIT,
            until=until,
        )
    except EmpreinteError as exc:
        context["error"] = view.problem(exc)
        return context
    low = {"nps": "0–6", "csat": "1–2", "ces": "1–3"}[survey]
    rows = [
        {
            "answered_at": p.answered_at,
            "profile": p.profile_id,
            "href": f"/customers/{p.profile_id}",
            "score": p.score,
            "survey_id": p.survey_id,
            "touchpoint": p.touchpoint,
            "channel": p.channel,
            "comment": p.comment,
        }
        for p in people
    ]
    context["main_table"] = Table(
        "detractors-data",
        _("Who to call back"),
        [
            Column("answered_at", _("Answered"), "datetime"),
            Column("profile", _("Customer"), "link", href="href"),
            Column("score", _("Score given"), "number"),
            Column("survey_id", _("Survey")),
            Column("touchpoint", _("Touchpoint")),
            Column("channel", _("Channel")),
            Column("comment", _("Comment")),
        ],
        rows,
        caption=_(
            "People whose latest answer of the period was low (%(low)s), newest first, at most "
            "%(limit)s. Personal data in comments is masked; open the customer to reach them."
        )
        % {"low": low, "limit": view.fmt.number(DETRACTOR_LIMIT)},
        empty=EmptyState(
            _("No unhappy answer in this period. Survey answers are sent as events:"),
            survey_snippets(survey),
        ),
    )
    if not rows:
        # The most recent low answer ever, so that the reader can go and look there.
        # Only its date is kept (in the report cache, as an aggregate: no one is named).
        def latest_low() -> datetime | None:
            found = view.ws.cx.detractors(
                survey,
                days=MAX_WINDOW_DAYS,
                touchpoint=touchpoint,
                with_comment=with_comment,
                limit=1,
            )
            return found[0].answered_at if found else None

        at = view.report(("experience-latest-low", survey, touchpoint, with_comment), latest_low)
        if at is not None:
            day = at.date() + timedelta(days=1)
            context["latest"] = {"at": at, "until": day.isoformat()}
    return context


# -- Kano ------------------------------------------------------------------------------------


def _kano_chart(view: View, report: KanoReport, table: Table) -> Chart:
    _ = view.gettext
    features = [f for f in report.features if f.better is not None and f.worse is not None]
    x = [abs(f.worse or 0.0) for f in features]
    y = [f.better for f in features]
    xs_low = [abs(f.worse_interval.high) if f.worse_interval else None for f in features]
    xs_high = [abs(f.worse_interval.low) if f.worse_interval else None for f in features]
    quadrants = [
        (0.25, 0.97, _("Attractive")),
        (0.75, 0.97, _("One-dimensional")),
        (0.75, 0.03, _("Must-be")),
        (0.25, 0.03, _("Indifferent")),
    ]
    figure = {
        "data": [
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": x,
                "y": y,
                "text": [f.feature for f in features],
                "textposition": "top center",
                "customdata": [f.n for f in features],
                "hovertemplate": "%{text}<br>Better %{y:.2f} · |Worse| %{x:.2f}<br>"
                "n = %{customdata}<extra></extra>",
                "marker": {
                    "size": 11,
                    "color": "#1f5fae",
                    "symbol": ["circle-open" if f.small_sample else "circle" for f in features],
                },
                "error_x": {**_error_bars(xs_low, xs_high, x), "color": "#8a93a3", "thickness": 1},
                "error_y": {
                    **_error_bars(
                        [f.better_interval.low if f.better_interval else None for f in features],
                        [f.better_interval.high if f.better_interval else None for f in features],
                        y,
                    ),
                    "color": "#8a93a3",
                    "thickness": 1,
                },
                "showlegend": False,
                "cliponaxis": False,
            }
        ],
        "layout": {
            "xaxis": {
                "range": [-0.05, 1.05],
                "title": {"text": _("Worse: dissatisfaction when absent (absolute value)")},
                "zeroline": False,
            },
            "yaxis": {
                "range": [-0.05, 1.05],
                "title": {"text": _("Better: satisfaction when present")},
                "zeroline": False,
            },
            "shapes": [
                {"type": "line", "x0": 0.5, "x1": 0.5, "y0": 0, "y1": 1, "line": {"dash": "dot"}},
                {"type": "line", "x0": 0, "x1": 1, "y0": 0.5, "y1": 0.5, "line": {"dash": "dot"}},
            ],
            "annotations": [
                {
                    "x": qx,
                    "y": qy,
                    "text": label,
                    "showarrow": False,
                    "font": {"color": "#4f5868", "size": 13},
                }
                for qx, qy, label in quadrants
            ],
        },
    }
    return Chart(
        "kano",
        _("Better and Worse per feature"),
        figure,
        replace(table, id="kano-points"),
        caption=_(
            "Better: the share of people a feature satisfies when present; Worse: the share it "
            "dissatisfies when absent. Bars are 95% intervals; a hollow point has few answers."
        ),
        empty=EmptyState(
            _("No Kano answers yet. Send one event per feature and person:"),
            track_snippets(
                "Kano Answered",
                {"feature": "click_and_collect", "functional": "like", "dysfunctional": "dislike"},
            ),
        ),
        height=480,
    )


def build_kano(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    context = _base(view, "kano", {"since": "", "until": ""})
    context.update(main_chart=None, viewer_note=None)
    try:
        since, until = _window(view)
        report = view.report(
            ("experience-kano", since, until), lambda: view.ws.cx.kano(since=since, until=until)
        )
    except EmpreinteError as exc:
        context["error"] = view.problem(exc)
        return context
    if view.viewer.role is Role.VIEWER:
        from empreinte.analytics.cx.disclosure import kano_for_viewers

        k = _viewer_min_group(view)
        report = kano_for_viewers(report, k)
        context["viewer_note"] = _("Features answered by fewer than %(k)s people are left out.") % {
            "k": view.fmt.number(k)
        }
    rows = []
    for f in report.features:
        row: dict[str, Any] = {
            "feature": f.feature,
            "n": f.n,
            "category": (
                " = ".join(_(KANO_NAMES[c.label]) for c in f.tied)
                if f.is_tie
                else _(KANO_NAMES[f.dominant.label])
                if f.dominant
                else None
            ),
            "better": f.better,
            "worse": f.worse,
            "reliable": _("small sample") if f.small_sample else _("yes"),
        }
        for category, share in f.shares.items():
            row[category.code] = share
        rows.append(row)
    columns = [
        Column("feature", _("Feature")),
        Column("n", _("Answers (n)"), "number"),
        Column("category", _("Category"), "badge"),
        Column("better", _("Better"), "number", 2),
        Column("worse", _("Worse"), "number", 2),
    ]
    columns += [
        Column(code, _(KANO_NAMES[label]), "percent", 0)
        for code, label in (
            ("A", "Attractive"),
            ("O", "One-dimensional"),
            ("M", "Must-be"),
            ("I", "Indifferent"),
            ("R", "Reverse"),
            ("Q", "Questionable"),
        )
    ]
    columns.append(Column("reliable", _("Reliable"), "badge"))
    table = Table(
        "kano-data",
        _("Category per feature"),
        columns,
        rows,
        caption=_(
            "The category is the most frequent answer pattern. Must-be: expected, its absence "
            "angers; One-dimensional: the more the better; Attractive: delights, not missed; "
            "Indifferent: nobody cares; Reverse: some would rather not have it."
        ),
    )
    context["main_chart"] = _kano_chart(view, report, table)
    context["main_table"] = table
    if report.unreadable:
        context["unreadable"] = _("%(n)s answers could not be read and were left out.") % {
            "n": view.fmt.number(report.unreadable)
        }
    return context


# -- experiments -----------------------------------------------------------------------------


def _verdict(view: View, report: ExperimentReport, c: TreatmentComparison) -> tuple[str, str]:
    """The verdict of one treatment against the control, and its tone (good, bad, wait)."""
    _ = view.gettext
    result = report.result
    arms = [result.variant(c.treatment), result.variant(c.control)]
    words = {
        "t": c.treatment,
        "c": c.control,
        "pts": view.fmt.number(abs(c.absolute_lift) * 100, 1),
        "low": _signed(view, c.absolute_lift_ci.low * 100),
        "high": _signed(view, c.absolute_lift_ci.high * 100),
        "level": view.fmt.number(result.confidence * 100),
        "mde": view.fmt.number(c.mde * 100, 1),
    }
    if c.significant and c.absolute_lift > 0:
        text = _(
            "%(t)s converts %(pts)s points better than %(c)s (%(level)s%% CI %(low)s to "
            "%(high)s): ship %(t)s."
        )
        return text % words, "good"
    if c.significant:
        text = _(
            "%(t)s converts %(pts)s points worse than %(c)s (%(level)s%% CI %(low)s to "
            "%(high)s): keep %(c)s."
        )
        return text % words, "bad"
    needed = c.sample_size_per_arm
    have = min(arm.exposed for arm in arms)
    if needed is not None and have < needed:
        words["more"] = view.fmt.number(needed - have)
        words["diff"] = _signed(view, c.absolute_lift * 100)
        text = _(
            "Not enough data yet: %(more)s more visitors per variant are needed to detect a "
            "difference of %(mde)s points (so far %(t)s against %(c)s: %(diff)s points, "
            "%(level)s%% CI %(low)s to %(high)s)."
        )
        return text % words, "wait"
    text = _(
        "No difference that matters: %(t)s and %(c)s convert alike (%(level)s%% CI %(low)s to "
        "%(high)s points, enough visitors to see %(mde)s points): keep %(c)s, or choose on "
        "other grounds."
    )
    return text % words, "wait"


def _experiment_card(view: View, report: ExperimentReport, index: int) -> dict[str, Any]:
    _ = view.gettext
    result = report.result
    verdicts = [_verdict(view, report, c) for c in result.comparisons]
    comparisons = {c.treatment: c for c in result.comparisons}
    rows = []
    for v in result.variants:
        c = comparisons.get(v.name)
        rows.append(
            {
                "variant": v.name + (" " + _("(control)") if v.name == result.control else ""),
                "exposed": v.exposed,
                "converted": v.converted,
                "rate": v.rate,
                "low": v.ci.low,
                "high": v.ci.high,
                "lift": c.absolute_lift * 100 if c else None,
                "p": c.p_value if c else None,
                "beats": c.prob_beats_control if c else None,
            }
        )
    table = Table(
        f"experiment-{index}-data",
        _("Variants"),
        [
            Column("variant", _("Variant")),
            Column("exposed", _("Visitors"), "number"),
            Column("converted", _("Converted"), "number"),
            Column("rate", _("Conversion rate"), "percent", 1),
            Column("low", _("95% interval, low"), "percent", 1),
            Column("high", _("95% interval, high"), "percent", 1),
            Column("lift", _("Difference (points)"), "number", 1),
            Column("p", _("p-value"), "number", 3),
            Column("beats", _("Chance to beat the control"), "percent", 0),
        ],
        rows,
    )
    notes = []
    if result.srm.mismatch:
        notes.append(
            _(
                "Warning: visitors were not split between the variants as intended "
                "(%(p)s): check how they are assigned before trusting this result."
            )
            % {"p": _p_text(view, result.srm.p_value)}
        )
    if report.crossed_over:
        notes.append(
            _("%(n)s people saw more than one variant and were set aside.")
            % {"n": view.fmt.number(report.crossed_over)}
        )
    if report.window_open:
        notes.append(
            _("%(n)s people are still within their conversion window: not counted yet.")
            % {"n": view.fmt.number(report.window_open)}
        )
    return {
        "name": report.experiment,
        "verdicts": [{"text": text, "tone": tone} for text, tone in verdicts],
        "table": table,
        "notes": notes,
        "error": None,
    }


def build_experiments(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    context = _base(view, "experiments", {"goal": DEFAULT_GOAL, "window_days": "7", "name": ""})
    context.update(found=None, cards=[], more=False)
    try:
        goal = view.arg("goal", DEFAULT_GOAL)
        window_days = view.int_arg("window_days", 7, 1, MAX_WINDOW_DAYS)
        chosen = view.arg("name")
        found = view.report(("experience-experiments",), view.ws.cx.experiments)
    except EmpreinteError as exc:
        context["error"] = view.problem(exc)
        return context
    names = [e.name for e in found]
    if chosen and chosen not in names:
        context["error"] = _("No experiment named “%(name)s” in the log.") % {"name": chosen}
        chosen = ""
    shown = [chosen] if chosen else names[:VERDICTS_SHOWN]
    context["found"] = Table(
        "experiments-list",
        _("Experiments found in the log"),
        [
            Column("name", _("Experiment"), "link", href="href"),
            Column("variants", _("Variants")),
            Column("exposures", _("Exposures"), "number"),
            Column("first", _("First exposure"), "date"),
            Column("last", _("Last exposure"), "date"),
        ],
        [
            {
                "name": e.name,
                "href": "/experience/experiments?"
                + _query(name=e.name, goal=goal, window_days=str(window_days)),
                "variants": ", ".join(e.variants),
                "exposures": e.exposures,
                "first": e.first_seen,
                "last": e.last_seen,
            }
            for e in found
        ],
        caption=_("Experiments are read from “%(event)s” events {experiment, variant}.")
        % {"event": EXPERIMENT_EVENT},
        empty=EmptyState(
            _("No experiment yet. Send an event when a visitor sees a variant:"),
            track_snippets(EXPERIMENT_EVENT, {"experiment": "checkout-countdown", "variant": "B"}),
        ),
    )
    cards = []
    for index, name in enumerate(shown):
        try:
            report = view.report(
                ("experience-experiment", name, goal, window_days),
                partial(view.ws.cx.experiment, name, goal=goal, window_days=window_days),
            )
        except EmpreinteError as exc:
            cards.append({"name": name, "error": view.problem(exc), "verdicts": [], "notes": []})
            continue
        cards.append(_experiment_card(view, report, index))
    context["cards"] = cards
    context["more"] = len(names) > len(shown)
    return context


def _query(**items: str) -> str:
    from urllib.parse import urlencode

    return urlencode(items)


# -- the pages -------------------------------------------------------------------------------

DRIVERS = Page(
    "experience", "/experience/drivers", N_("Key drivers"), "experience_drivers.html", build_drivers
)
DETRACTORS = Page(
    "experience",
    "/experience/detractors",
    N_("Detractors to call back"),
    "experience_detractors.html",
    build_detractors,
    STAFF,
)
KANO = Page("experience", "/experience/kano", N_("Kano"), "experience_kano.html", build_kano)
EXPERIMENTS = Page(
    "experience",
    "/experience/experiments",
    N_("Experiments"),
    "experience_experiments.html",
    build_experiments,
)
SCORES = Page(
    "experience", "/experience", N_("Experience"), "experience.html", build_scores, EVERYONE
)
# The navigation shows, per key, the first page declared with it: the scores, open to all.
PAGES = [SCORES, DRIVERS, DETRACTORS, KANO, EXPERIMENTS]
ACTIONS: list[Action] = []
