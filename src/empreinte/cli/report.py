"""`empreinte report …`: the CX figures from the command line.

    empreinte report nps --period quarter --by channel
    empreinte report nps --period quarter --compare 2026-Q2 2026-Q3
    empreinte report drivers nps --chart drivers.png
    empreinte report detractors --days 30
    empreinte report kano --chart kano.svg
    empreinte report experiment checkout-countdown --goal "Order Completed" --window-days 7

Readable tables on the terminal; `--csv FILE` writes the table, `--chart FILE` a PNG or SVG
chart, `--json` prints the rows. Every figure comes with its n; figures below the minimum n
are shown and marked, not hidden.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich import box
from rich.table import Table

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    WorkspaceOption,
    console,
    err,
    moment,
    print_json,
    reading,
    save,
)
from empreinte.cli.common import ChartOption as Chart
from empreinte.cli.common import CsvOption as Csv
from empreinte.cli.common import JsonRowsOption as Json
from empreinte.cli.common import SinceOption as Since
from empreinte.cli.common import UntilOption as Until

if TYPE_CHECKING:
    from empreinte.analytics.cx.rendering import Report
    from empreinte.analytics.cx.scores import ScoreReport

# The analytics (Ibis, pandas, matplotlib) are imported by the report commands only, not by
# every `empreinte` command (`serve` among them) at start-up.

report_app = typer.Typer(
    help="CX reports: NPS, CSAT, CES, key drivers, detractors, Kano, experiments.",
    no_args_is_help=True,
)

# A date or date-time without an offset is read in the workspace's time zone (`timezone`).
SurveyId = Annotated[str | None, typer.Option("--survey-id", help="Only this survey programme.")]
Touchpoint = Annotated[str | None, typer.Option(help="Only answers about this touchpoint.")]
Kind = Annotated[
    str, typer.Option(help="all, relational (no touchpoint) or transactional surveys.")
]
Lang = Annotated[str, typer.Option("--lang", help="Language of charts and verdicts: en or fr.")]


def _fmt(value: Any, digits: int = 1, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return str(value)


def _table(title: str, caption: str | None = None) -> Table:
    """A report table: a rule under the header and one space between columns, so that the
    figures (not borders) fill the 80 columns of a terminal."""
    return Table(
        title=title,
        caption=caption,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=0,
        caption_justify="left",
    )


def _interval(low: Any, high: Any, digits: int = 1) -> str:
    if low is None or high is None:
        return "–"
    return f"[{_fmt(low, digits)}, {_fmt(high, digits)}]"


def _p(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return "p<0.001" if value < 0.001 else f"p={value:.3f}"


def _outputs(report: Report, csv: Path | None, chart: Path | None, lang: str) -> None:
    from empreinte.analytics.cx.rendering import draw, texts, to_csv

    texts(lang)  # an unknown language fails before anything is written
    if csv is not None:
        save(csv, to_csv(report.to_rows()), "table")
    if chart is not None:
        draw(report, chart, language=lang)
        err.print(f"chart written to {chart}")


def _score_table(report: ScoreReport) -> Table:
    """One line per period/group, narrow enough for an 80-column terminal."""
    nps = report.survey == "nps"
    digits = 2 if report.survey == "ces" else 1
    caption = f"* n below {report.min_n}: not reliable."
    if report.period:
        caption += " change: against the previous period (bold: beyond noise, p < 0.05)."
        changes = [row for row in report.rows if row.change]
        if len(changes) > 1:
            significant = sum(1 for row in changes if row.change and row.change.significant)
            kept = sum(1 for row in changes if (row.change_q_value or 0.0) < 0.05)
            caption += (
                f" {significant} of {len(changes)} changes beyond noise, {kept} after"
                " correcting for reading them all at once (Benjamini-Hochberg q < 0.05)."
            )
    table = _table(f"{report.headline}: {report.n} answers", caption)
    if report.period:
        table.add_column(report.period, no_wrap=True)
    if report.by:
        # The groups are what the table is read by: never squeezed out (long names wrap).
        longest = max((len(str(row.group)) for row in report.rows), default=0)
        table.add_column(
            report.by, min_width=min(max(longest, len(report.by)), 10), overflow="fold"
        )
    table.add_column("n", justify="right", no_wrap=True)
    table.add_column(report.headline.split(" (")[0], justify="right", no_wrap=True)
    table.add_column("95% CI", justify="right", no_wrap=True)
    detail = {"nps": "% P/Pa/D", "csat": "mean", "ces": "% agree"}[report.survey]
    table.add_column(detail, justify="right", no_wrap=True)
    if report.period:
        table.add_column("change", justify="right", no_wrap=True)
        table.add_column("p", justify="right", no_wrap=True)
    for row in report.rows:
        cells = [str(row.period)] if report.period else []
        if report.by:
            cells.append(str(row.group))
        cells.append(f"{row.n}" if row.reliable else f"[yellow]{row.n}*[/]")
        cells.append(_fmt(row.score.value, digits, signed=nps))
        cells.append(_interval(row.score.low, row.score.high, digits))
        shares = [f"{e.value:.0f}" for e in row.details.values()]
        key = detail.strip("% ")
        cells.append(
            "/".join(shares) if nps else _fmt(row.details[key].value, 2 if key == "mean" else 1)
        )
        if report.period:
            change = row.change
            if change is None:
                cells += ["", ""]
            else:
                mark = "[bold]" if change.significant else ""
                cells.append(f"{mark}{_fmt(change.delta, digits, True)}")
                cells.append(_p(change.p_value).removeprefix("p="))  # the column says p
        table.add_row(*cells)
    return table


def _score_command(survey: str) -> Callable[..., None]:
    def command(
        period: Annotated[str | None, typer.Option(help="week, month, quarter or year.")] = None,
        by: Annotated[
            str | None,
            typer.Option(
                help="Break down by: channel, source, touchpoint, survey_id, country, "
                "preferred_channel, generation, birth_year, properties.<path>, "
                "context.<path>, traits.<path>."
            ),
        ] = None,
        since: Since = None,
        until: Until = None,
        survey_id: SurveyId = None,
        touchpoint: Touchpoint = None,
        kind: Kind = "all",
        scale: Annotated[int, typer.Option(help="CSAT scale: 5 or 7.")] = 5,
        min_n: Annotated[
            int | None, typer.Option("--min-n", help="Minimum n for a reliable figure.")
        ] = None,
        answers: Annotated[
            str | None, typer.Option(help="latest (per person, survey and period) or all.")
        ] = None,
        compare: Annotated[
            tuple[str, str] | None,
            typer.Option(help="Test the difference between two periods or groups: A B."),
        ] = None,
        csv: Csv = None,
        chart: Chart = None,
        json: Json = False,
        lang: Lang = "en",
        workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    ) -> None:
        with reading(workspace) as ws:
            report = ws.cx.score(
                survey,
                period=period,
                by=by,
                since=moment(since, "--since"),
                until=moment(until, "--until"),
                survey_id=survey_id,
                touchpoint=touchpoint,
                kind=kind,  # type: ignore[arg-type]  # checked by AnswerScope
                scale=scale,
                min_n=min_n,
                answers=answers,
            )
            difference = report.compare(*compare) if compare else None
            _outputs(report, csv, chart, lang)
        if json:
            print_json(report.to_rows())
        elif not report.rows:
            console.print("no answers in this scope")
        else:
            console.print(_score_table(report))
        if difference is not None:
            a, b = compare or ("", "")
            verdict = (
                "significant" if difference.significant else "not significant (could be noise)"
            )
            console.print(
                f"{b} vs {a}: {_fmt(difference.delta, 2, True)} ({difference.test},"
                f" {_p(difference.p_value)}): {verdict}"
            )

    command.__doc__ = {
        "nps": "Net Promoter Score: % promoters (9-10) - % detractors (0-6), with its 95% CI.",
        "csat": "CSAT: % top-2-box and mean satisfaction, with 95% CIs.",
        "ces": "Customer Effort Score: mean (1-7) and % agree (5-7), with 95% CIs.",
    }[survey]
    return command


for _survey in ("nps", "csat", "ces"):
    report_app.command(_survey)(_score_command(_survey))


@report_app.command("drivers")
def drivers(
    survey: Annotated[str, typer.Argument(help="nps, csat or ces.")] = "nps",
    window_days: Annotated[
        int, typer.Option("--window-days", help="Journey days before each answer.")
    ] = 30,
    since: Since = None,
    until: Until = None,
    survey_id: SurveyId = None,
    touchpoint: Touchpoint = None,
    kind: Kind = "all",
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for the CIs.")] = 200,
    csv: Csv = None,
    chart: Chart = None,
    json: Json = False,
    lang: Lang = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Key drivers: what in the journey before answering moves the score (Shapley R²)."""
    with reading(workspace) as ws:
        report = ws.cx.drivers(
            survey,
            since=moment(since, "--since"),
            until=moment(until, "--until"),
            survey_id=survey_id,
            touchpoint=touchpoint,
            kind=kind,  # type: ignore[arg-type]  # checked by AnswerScope
            window_days=window_days,
            bootstrap=bootstrap,
        )
        _outputs(report, csv, chart, lang)
    if json:
        print_json(report.to_rows())
        return
    result = report.drivers
    reliability = "" if result.reliable else " — [yellow]n below minimum: not reliable[/]"
    table = _table(
        f"Key drivers of {report.survey.upper()}: n {result.n}, R² {result.r_squared:.3f}"
        f"{reliability}",
        "effect: score points per unit of the driver, the others held equal.",
    )
    for name in ("driver", "share of R²", "95% CI", "% of explained", "effect"):
        table.add_column(name, justify="left" if name == "driver" else "right", no_wrap=True)
    for d in result.drivers:
        table.add_row(
            d.name,
            _fmt(d.importance, 4),
            _interval(d.ci_low, d.ci_high, 4),
            _fmt(100 * d.relative, 1),
            d.note or _fmt(d.coefficient, 2, signed=True),
        )
    console.print(table)
    if report.without_consent:
        console.print(f"{report.without_consent} answers left out: no analytics consent")


@report_app.command("detractors")
def detractors(
    survey: Annotated[str, typer.Argument(help="nps, csat or ces.")] = "nps",
    days: Annotated[int, typer.Option(help="Answers of the last N days.")] = 30,
    touchpoint: Touchpoint = None,
    with_comment: Annotated[
        bool, typer.Option("--with-comment", help="Only those who left a comment.")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many people.")] = 500,
    until: Annotated[
        str | None, typer.Option(help="End of the period (YYYY-MM-DD); default now.")
    ] = None,
    scale: Annotated[int, typer.Option(help="CSAT scale: 5 or 7.")] = 5,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write the list to CSV.")] = None,
    json: Json = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Closed loop: unhappy respondents of the last days to call back, newest first."""
    with reading(workspace) as ws:
        people = ws.cx.detractors(
            survey,
            days=days,
            touchpoint=touchpoint,
            with_comment=with_comment,
            limit=limit,
            until=moment(until, "--until"),
            scale=scale,
        )
    rows = [p.to_dict() for p in people]
    if csv is not None:
        from empreinte.analytics.cx.rendering import to_csv

        save(csv, to_csv(rows), "list")
    if json:
        print_json(rows)
        return
    table = _table(f"{len(rows)} people to call back ({survey.upper()}, last {days} days)")
    for name in ("answered", "score", "touchpoint", "profile", "comment"):
        table.add_column(name, no_wrap=name in ("answered", "profile"))
    for p in people:
        table.add_row(
            p.answered_at.strftime("%Y-%m-%d %H:%M"),
            str(p.score),
            p.touchpoint or "(relational)",
            p.profile_id,
            p.comment or "",
        )
    console.print(table)


@report_app.command("kano")
def kano(
    by: Annotated[str | None, typer.Option(help="Break down by an attribute.")] = None,
    feature: Annotated[
        list[str] | None, typer.Option("--feature", help="Only these features (repeatable).")
    ] = None,
    since: Since = None,
    until: Until = None,
    survey_id: SurveyId = None,
    min_n: Annotated[int | None, typer.Option("--min-n")] = None,
    csv: Csv = None,
    chart: Chart = None,
    json: Json = False,
    lang: Lang = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Kano model: each feature's category shares, dominant category, Better and Worse."""
    with reading(workspace) as ws:
        report = ws.cx.kano(
            by=by,
            since=moment(since, "--since"),
            until=moment(until, "--until"),
            survey_id=survey_id,
            features=feature,
            min_n=min_n,
        )
        _outputs(report, csv, chart, lang)
    rows = report.to_rows()
    if json:
        print_json(rows)
        return
    from empreinte.analytics.cx.kano import Category

    # Shares as whole percentages and Better/Worse without their intervals (those are in
    # --csv and --json), one table per group: a Kano matrix fits 80 columns that way.
    for group in report.groups:
        title = f"Kano: {by} = {group.group}" if by else "Kano"
        table = _table(title)
        table.add_column("feature", overflow="fold")
        table.add_column("n", justify="right", no_wrap=True)
        table.add_column("dominant", no_wrap=True)
        for category in Category:
            table.add_column(f"{category.code}%", justify="right", no_wrap=True)
        table.add_column("Better", justify="right", no_wrap=True)
        table.add_column("Worse", justify="right", no_wrap=True)
        for r in group.features:
            dominant = (
                "=".join(c.code for c in r.tied)
                if r.is_tie
                else (r.dominant.label if r.dominant else "–")
            )
            table.add_row(
                r.feature,
                f"{r.n}" if not r.small_sample else f"[yellow]{r.n}*[/]",
                dominant,
                *(f"{100 * r.shares[c]:.0f}" for c in Category),
                _fmt(r.better, 2),
                _fmt(r.worse, 2),
            )
        console.print(table)
    legend = "A attractive, O one-dimensional, M must-be, I indifferent, R reverse, Q questionable."
    small = [r for g in report.groups for r in g.features if r.small_sample]
    if small:
        legend += f" * n below {small[0].min_n}: read with care."
    console.print(legend)
    if report.unreadable:
        console.print(f"{report.unreadable} answers could not be read as Kano answers")


@report_app.command("experiment")
def experiment(
    name: Annotated[str, typer.Argument(help="The experiment's name.")],
    goal: Annotated[str, typer.Option(help="The goal event.")] = "Order Completed",
    window_days: Annotated[
        float, typer.Option("--window-days", help="Days after first exposure to convert.")
    ] = 7,
    control: Annotated[str | None, typer.Option(help="The control variant.")] = None,
    since: Since = None,
    until: Until = None,
    mde: Annotated[
        float, typer.Option(help="Smallest lift worth detecting (0.01 = 1 point).")
    ] = 0.01,
    csv: Csv = None,
    chart: Chart = None,
    json: Json = False,
    lang: Lang = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """A/B test: conversion per variant, z-test, P(beats control), expected loss, SRM check."""
    with reading(workspace) as ws:
        report = ws.cx.experiment(
            name,
            goal=goal,
            window_days=window_days,
            control=control,
            since=moment(since, "--since"),
            until=moment(until, "--until"),
            mde=mde,
        )
        _outputs(report, csv, chart, lang)
    if json:
        typer.echo(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    result = report.result
    table = _table(
        f"{name}: {goal} within {window_days:g} days of first exposure",
        "conv.: people who reached the goal; lift: against the control, in points of rate;"
        " P(>ctrl): Bayesian probability of beating the control.",
    )
    longest = max((len(v.name) for v in result.variants), default=7)
    table.add_column("variant", min_width=min(longest, 16), overflow="fold")
    for column in ("people", "conv.", "rate", "95% CI", "lift", "95% CI", "p", "P(>ctrl)"):
        table.add_column(column, justify="right", no_wrap=True)
    for v in result.variants:
        cells = [
            v.name + (" (control)" if v.name == result.control != "control" else ""),
            str(v.exposed),
            str(v.converted),
            f"{100 * v.rate:.1f}%",
            _interval(100 * v.ci.low, 100 * v.ci.high),
        ]
        if v.name != result.control:
            c = result.comparison(v.name)
            ci = c.absolute_lift_ci
            cells += [
                f"{100 * c.absolute_lift:+.1f}",
                _interval(100 * ci.low, 100 * ci.high),
                _p(c.p_value),
                f"{100 * c.prob_beats_control:.1f}%",
            ]
        table.add_row(*cells)
    console.print(table)
    console.print(result.verdict(lang))  # type: ignore[arg-type]  # checked by texts()
    notes = []
    if report.crossed_over:
        notes.append(f"{report.crossed_over} people saw several variants (set aside)")
    if report.window_open:
        notes.append(f"{report.window_open} people are still within their window (not counted yet)")
    if report.without_consent:
        notes.append(f"{report.without_consent} people without analytics consent (not read)")
    for note in notes:
        console.print(note)
