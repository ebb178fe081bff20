"""`empreinte attribution`: which channels (or campaigns) deserve the credit for a goal.

    empreinte attribution --goal "Order Completed" --value revenue --lookback 30d \
        --by channel --models all --csv attribution.csv --chart attribution.png

A table with one line per channel and, side by side, the conversions each model attributes
(`--show value` for the value); `--csv FILE` writes every figure (conversions, value, removal
effects), `--chart FILE` a grouped bar chart (PNG or SVG), `--json` prints the rows. The rules
are in docs/attribution.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    WorkspaceOption,
    check_lang,
    console,
    err,
    fail,
    journey_scope,
    print_json,
    reading,
    save,
)

# The analytics (Ibis, scipy, matplotlib) are imported when the command runs.


# Column heads short enough for 80 columns.
_SHORT = {
    "first_touch": "first",
    "last_touch": "last",
    "linear": "linear",
    "time_decay": "decay",
    "position_based": "position",
}


def attribution(
    goal: Annotated[str, typer.Option(help="The conversion event.")] = "Order Completed",
    value: Annotated[
        str, typer.Option(help="The goal's property holding its value; 'none' for none.")
    ] = "revenue",
    lookback: Annotated[
        str, typer.Option(help="Touches this long before a conversion count: 30d, 12h, 2w.")
    ] = "30d",
    by: Annotated[
        str, typer.Option("--by", help="channel, campaign or channel_campaign.")
    ] = "channel",
    models: Annotated[
        str,
        typer.Option(
            help="Comma-separated: all, heuristic, markov, first_touch, last_touch, linear,"
            " time_decay, position_based, markov_<order>."
        ),
    ] = "all",
    markov_orders: Annotated[
        str, typer.Option("--markov-orders", help="Orders of the Markov models: 1,2,3.")
    ] = "1,2",
    half_life: Annotated[
        str, typer.Option("--half-life", help="Half-life of the time-decay model.")
    ] = "7d",
    session_gap: Annotated[
        str, typer.Option("--session-gap", help="Inactivity that ends a touch (a session).")
    ] = "30m",
    goal_touch: Annotated[
        bool,
        typer.Option(
            "--goal-touch/--no-goal-touch", help="The goal's own channel is its last touch."
        ),
    ] = True,
    collapse: Annotated[
        bool,
        typer.Option("--collapse/--keep-repeats", help="Consecutive repeats are one touch."),
    ] = True,
    since: Annotated[str | None, typer.Option(help="From this date (YYYY-MM-DD).")] = None,
    until: Annotated[
        str | None, typer.Option(help="Until this date (YYYY-MM-DD), excluded.")
    ] = None,
    show: Annotated[
        str, typer.Option(help="What the table shows: conversions or value.")
    ] = "conversions",
    csv: Annotated[Path | None, typer.Option("--csv", help="Write every figure to CSV.")] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Write a chart (.png, .svg).")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of the chart: en or fr.")] = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Attribution: conversions and value per channel or campaign under every model."""
    from empreinte.analytics.cx.rendering import to_csv
    from empreinte.analytics.journeys.attribution import attribution_report
    from empreinte.analytics.journeys.attribution_chart import attribution_chart
    from empreinte.analytics.journeys.conversion_paths import PathRules
    from empreinte.durations import parse_duration
    from empreinte.errors import EmpreinteError

    if show not in ("conversions", "value"):
        raise fail(f"--show: {show!r}: use conversions or value")
    check_lang(lang)
    try:
        orders = [int(o) for o in markov_orders.split(",") if o.strip()]
    except ValueError:
        raise fail(f"--markov-orders: {markov_orders!r} is not a list of whole numbers") from None
    with reading(workspace) as ws:
        try:
            rules = PathRules(
                goal=goal,
                value=None if value.lower() == "none" else value,
                lookback=parse_duration(lookback, "--lookback"),
                by=by,  # type: ignore[arg-type]  # checked by PathRules
                session_gap=parse_duration(session_gap, "--session-gap"),
                goal_touch=goal_touch,
                collapse=collapse,
            )
            scope = journey_scope(ws, since, until)
            with ws.analytics() as log:
                report = attribution_report(
                    log,
                    rules,
                    scope,
                    models=[m.strip() for m in models.split(",") if m.strip()],
                    markov_orders=orders,
                    half_life=parse_duration(half_life, "--half-life"),
                )
            if csv is not None:
                save(csv, to_csv(report.to_rows()))
            if chart is not None:
                attribution_chart(report, chart, language=lang)
                err.print(f"chart written to {chart}")
        except EmpreinteError as exc:
            raise fail(str(exc)) from None
    if json:
        print_json(report.to_rows())
        return
    if report.conversions == 0:
        console.print(f"no {goal!r} conversion with a touch in this scope")
        return
    value_note = (
        f", value {report.value:,.2f} ({report.value_property})" if report.value_property else ""
    )
    table = Table(
        title=f"{report.goal}: {report.conversions} conversions{value_note}",
        caption=(
            f"{show} attributed per {by}; {report.non_converting} paths without a conversion"
            f" (read by the Markov models); lookback {lookback}."
            + (f" {report.without_touch} conversions had no touch." if report.without_touch else "")
        ),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        caption_justify="left",
    )
    table.add_column(by, overflow="fold")
    for model in report.models:
        table.add_column(_SHORT.get(model, model.replace("_", " ")), justify="right")
    for row in report.to_rows():
        cells = [str(row[by])]
        cells += [f"{row[f'{model}_{show}']:,.1f}" for model in report.models]
        table.add_row(*cells)
    total = report.conversions if show == "conversions" else report.value
    table.add_row("[bold]total[/]", *(f"[bold]{total:,.1f}[/]" for _ in report.models))
    console.print(table)
