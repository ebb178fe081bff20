"""`empreinte paths` and `empreinte retention`: where people go from a step, and who comes back.

    empreinte paths --from "Product Viewed" --depth 3 --chart paths.png
    empreinte paths --to "Order Completed" --label channel --collapse --within session
    empreinte paths --from "Page Viewed: Checkout" --label page --within 30m --csv paths.csv
    empreinte retention --period week --start "Signed Up" --return "Order Completed"
    empreinte retention --period month --bucket day --periods 30 --by country --unbounded

Readable tables on the terminal; `--csv FILE` writes the Sankey table (paths) or the cohort
cells (retention), `--chart FILE` a Sankey or a heat-map (.png or .svg), `--json` the rows.
The rules are in docs/paths.md.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    WorkspaceOption,
    console,
    err,
    fail,
    journey_scope,
    print_json,
    report_table,
    save,
)
from empreinte.cli.common import ChartOption as Chart
from empreinte.cli.common import CsvOption as Csv
from empreinte.cli.common import JsonRowsOption as Json
from empreinte.cli.common import SinceOption as Since
from empreinte.cli.common import UntilOption as Until
from empreinte.cli.common import reading as _reading

if TYPE_CHECKING:
    from empreinte.analytics.journeys.paths import PathReport
    from empreinte.analytics.journeys.retention import RetentionReport

Channels = Annotated[
    list[str] | None, typer.Option("--channel", help="Only this channel (repeatable).")
]
Lang = Annotated[str, typer.Option("--lang", help="Language of the chart: en or fr.")]


def paths(
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            help='The steps after this one: an event ("Product Viewed"), with filters '
            '("Product Viewed[category=shoes]"), or a page ("Page Viewed: Checkout").',
        ),
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="The steps before this one.")] = None,
    depth: Annotated[int, typer.Option(help="How many steps after (before) it.")] = 3,
    top: Annotated[int, typer.Option(help="Steps kept per level; the rest is (other).")] = 5,
    label: Annotated[
        str, typer.Option(help="What a step is: step, page, channel or channel_step.")
    ] = "step",
    collapse: Annotated[
        bool, typer.Option("--collapse", help="Repeats of the same step count once.")
    ] = False,
    within: Annotated[
        str | None,
        typer.Option(help="Stop at the end of the session, or after 30m, 2h, 7d… (default: no)."),
    ] = None,
    session_gap: Annotated[
        int, typer.Option("--session-gap", help="Minutes of silence that end a session.")
    ] = 30,
    first: Annotated[
        bool, typer.Option("--first", help="Only each person's first occurrence of the step.")
    ] = False,
    since: Since = None,
    until: Until = None,
    channel: Channels = None,
    csv: Csv = None,
    chart: Chart = None,
    json: Json = False,
    lang: Lang = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """The most frequent next (--from) or previous (--to) steps of a step, level by level."""
    if (from_ is None) == (to is None):
        raise fail("give one of --from STEP (the next steps) or --to STEP (the previous ones)")
    if session_gap < 1:
        raise fail("--session-gap: give a number of minutes above 0")
    from empreinte.analytics.cx.rendering import to_csv
    from empreinte.analytics.journeys.path_charts import sankey_chart
    from empreinte.analytics.journeys.paths import parse_within
    from empreinte.analytics.journeys.paths import paths as path_report
    from empreinte.errors import AnalyticsError

    try:
        limit = parse_within(within)  # before the workspace is opened
    except AnalyticsError as exc:
        raise fail(str(exc)) from None
    with _reading(workspace) as ws:
        scope = journey_scope(ws, since, until, channel)
        with ws.analytics() as log:
            report = path_report(
                log,
                from_ or to or "",
                direction="next" if from_ else "previous",
                depth=depth,
                top=top,
                label=label,
                collapse=collapse,
                within=limit,
                session_gap=timedelta(minutes=session_gap),
                anchors="first" if first else "every",
                scope=scope,
            )
        if csv is not None:
            save(csv, to_csv(report.to_rows()), "Sankey table")
        if chart is not None and report.transitions:
            sankey_chart(report, chart, language=lang)
            err.print(f"chart written to {chart}")
    if json:
        print_json({"steps": report.step_rows(), "sankey": report.to_rows()})
    elif not report.occurrences:
        console.print(f"no {report.anchor.label} in this scope")
    else:
        console.print(_pathsreport_table(report))


def _pathsreport_table(report: PathReport) -> Table:
    forward = report.direction == "next"
    what = "after" if forward else "before"
    table = report_table(
        f"{report.depth} steps {what} {report.anchor.label}: "
        f"{report.occurrences} paths, {report.people} people",
        "share: of the paths at that level. (other): steps outside the top "
        f"{report.top}; {'(end)' if forward else '(start)'}: nothing further"
        + (f" within {report.within}." if report.within != "unlimited" else "."),
    )
    table.add_column("level", justify="right", no_wrap=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("step")
    table.add_column("share", justify="right", no_wrap=True)
    table.add_column("paths", justify="right", no_wrap=True)
    table.add_column("people", justify="right", no_wrap=True)
    previous = None
    for s in report.steps:
        if s.level == 0:
            continue
        if previous is not None and s.level != previous:
            table.add_section()
        previous = s.level
        table.add_row(
            f"{s.level:+d}",
            str(s.rank),
            s.step,
            f"{100 * s.share:.1f}%",
            str(s.transitions),
            str(s.people),
        )
    return table


def retention(
    period: Annotated[str, typer.Option(help="Cohorts by week or month of the start.")] = "week",
    bucket: Annotated[
        str | None, typer.Option(help="Buckets: day, week or month (default: the period).")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="The start step (default: any touchpoint).")
    ] = None,
    return_: Annotated[
        str | None,
        typer.Option("--return", help="The return step (default: any touchpoint)."),
    ] = None,
    periods: Annotated[
        int | None, typer.Option(help="Buckets after the start (default 30 days, 12 weeks/months).")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(help="Break down by: country, generation, traits.<path>, channel…"),
    ] = None,
    unbounded: Annotated[
        bool,
        typer.Option("--unbounded", help="Show unbounded retention (in bucket N or later)."),
    ] = False,
    since: Since = None,
    until: Until = None,
    channel: Channels = None,
    csv: Csv = None,
    chart: Chart = None,
    json: Json = False,
    lang: Lang = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Cohort retention: of those who started in a week (month), the share who came back."""
    if chart is not None and by is not None:
        raise fail("--chart: a heat-map shows one population; drop --by")
    from empreinte.analytics.cx.rendering import to_csv
    from empreinte.analytics.journeys.path_charts import retention_chart
    from empreinte.analytics.journeys.retention import retention as retention_report

    with _reading(workspace) as ws:
        scope = journey_scope(ws, since, until, channel)
        with ws.analytics() as log:
            report = retention_report(
                log,
                period=period,
                bucket=bucket,
                start=start,
                returning=return_,
                periods=periods,
                by=by,
                scope=scope,
            )
        if csv is not None:
            save(csv, to_csv(report.to_rows()), "retention table")
        if chart is not None and report.cells:
            retention_chart(report, chart, language=lang, unbounded=unbounded)
            err.print(f"chart written to {chart}")
    if json:
        print_json(report.to_rows())
    elif not report.cells:
        console.print("no cohort in this scope")
    else:
        console.print(_retentionreport_table(report, unbounded))


def _retentionreport_table(report: RetentionReport, unbounded: bool) -> Table:
    kind = "unbounded (in bucket N or later)" if unbounded else "in bucket N"
    table = report_table(
        f"Retention by {report.period}: {report.start} → {report.returning}, % who returned {kind}",
        f"bucket N: the {report.bucket} N after the start's; blank: not begun yet.",
    )
    if report.by:
        table.add_column(report.by)
    table.add_column(report.period)
    table.add_column("size", justify="right", no_wrap=True)
    buckets = sorted({c.bucket for c in report.cells})
    for b in buckets:
        table.add_column(str(b), justify="right", no_wrap=True)
    rows: dict[tuple[str | None, str], dict[int, float]] = {}
    sizes: dict[tuple[str | None, str], int] = {}
    for c in report.cells:
        key = (c.group, c.cohort)
        rows.setdefault(key, {})[c.bucket] = c.unbounded_rate if unbounded else c.rate
        sizes[key] = c.size if c.bucket == 0 else sizes.get(key, c.size)
    for (group, cohort), rates in rows.items():
        cells = [str(group)] if report.by else []
        cells += [cohort, str(sizes[(group, cohort)])]
        cells += [f"{100 * rates[b]:.0f}" if b in rates else "" for b in buckets]
        table.add_row(*cells)
    return table
