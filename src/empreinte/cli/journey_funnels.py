"""`empreinte funnel STEP STEP …`: how many people reach each step, where they drop.

    empreinte funnel "Product Viewed" "Page Viewed[name=Checkout]" "Order Completed" \\
        --window 7d --mode ordered --by country --csv funnel.csv --chart funnel.png
    empreinte funnel "Product Viewed" "Order Completed[channel=store]" --dropped 1 --csv ids.csv

Steps: an event name, then optionally `[key=value,…]` filters (channel, name,
properties.<key>, context.<key>); see docs/funnels.md for the exact rules.
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
    reading,
    save,
)


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 86400:
        return f"{value / 86400:.1f} d"
    if value >= 3600:
        return f"{value / 3600:.1f} h"
    if value >= 60:
        return f"{value / 60:.1f} min"
    return f"{value:.0f} s"


def funnel(
    steps: Annotated[list[str], typer.Argument(help='Steps, e.g. "Page Viewed[name=Cart]".')],
    window: Annotated[str, typer.Option(help="Conversion window: 7d, 24h, 30m, 90s.")] = "7d",
    mode: Annotated[str, typer.Option(help="ordered, strict or unordered.")] = "ordered",
    by: Annotated[
        str | None, typer.Option("--by", help="Breakdown: country, channel, properties.<key>…")
    ] = None,
    count: Annotated[str, typer.Option(help="people (default) or entries.")] = "people",
    since: Annotated[str | None, typer.Option(help="From this date, included.")] = None,
    until: Annotated[str | None, typer.Option(help="Until this date, excluded.")] = None,
    dropped: Annotated[
        int | None,
        typer.Option("--dropped", help="List who reached this step but not the next one."),
    ] = None,
    group: Annotated[str | None, typer.Option(help="With --dropped: only this group.")] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write the table to CSV.")] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Write a chart (.png/.svg).")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Chart titles: en or fr.")] = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Funnel: people (or entries) reaching each step within the window, conversion,
    drop-off and time between steps; or, with --dropped, who dropped."""
    from empreinte.analytics.cx.rendering import to_csv
    from empreinte.analytics.journeys import funnels
    from empreinte.analytics.journeys.funnels_spec import FunnelSpec
    from empreinte.analytics.journeys.steps import parse_steps
    from empreinte.durations import parse_duration
    from empreinte.errors import AnalyticsError

    check_lang(lang)
    try:
        spec = FunnelSpec(
            steps=parse_steps(steps),
            window=parse_duration(window, "window"),
            mode=mode,  # type: ignore[arg-type]  # checked by FunnelSpec
            by=by,
            count=count,  # type: ignore[arg-type]
        )
    except AnalyticsError as exc:
        raise fail(str(exc)) from None
    with reading(workspace) as ws, ws.analytics() as log:
        scope = journey_scope(ws, since, until)
        if dropped is not None:
            ids = funnels.dropped(log, spec, dropped, scope, group=group)
            rows = [{"profile_id": profile} for profile in ids]
            if csv is not None:
                save(csv, to_csv(rows) if rows else "profile_id\r\n")
            else:
                for profile in ids:
                    typer.echo(profile)
            err.print(f"{len(ids)} people reached step {dropped} but not step {dropped + 1}")
            return
        report = funnels.funnel_report(log, spec, scope)
    if csv is not None:
        save(csv, to_csv(report.to_rows()))
    if chart is not None:
        from empreinte.analytics.journeys.funnels_chart import funnel_chart

        funnel_chart(report, chart, language=lang)
        err.print(f"chart written to {chart}")
    title = f"Funnel ({spec.mode}, {spec.count}, window {window})"
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    columns = ["group"] if spec.by else []
    columns += ["step", "reached", "of step 1", "of previous", "dropped", "median", "p90"]
    for name in columns:
        table.add_column(name, justify="left" if name in ("group", "step") else "right")
    for row in report.rows:
        cells = [str(row.group)] if spec.by else []
        cells += [
            f"{row.step}. {row.label}",
            f"{row.count:,}",
            "–" if row.conversion is None else f"{100 * row.conversion:.1f}%",
            "–" if row.step_conversion is None else f"{100 * row.step_conversion:.1f}%",
            f"{row.drop_off:,}" if row.step > 1 else "",
            _seconds(row.median_seconds),
            _seconds(row.p90_seconds),
        ]
        table.add_row(*cells)
    console.print(table)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        raise fail(f"--csv: cannot write {path}: {exc.strerror}") from None
    err.print(f"table written to {path}")
