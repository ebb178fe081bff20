"""`empreinte channels …`: omnichannel classes, the channel mix, ROPO and friction.

    empreinte channels classes --by country
    empreinte channels mix --combinations
    empreinte channels ropo --window-days 7 --by country
    empreinte channels ropo --showrooming --match category
    empreinte channels friction calls --within-hours 24 --chart calls.png
    empreinte channels friction errors --error-step "Payment Failed"
    empreinte channels friction drop-off --funnel "Cart Viewed" --funnel "Checkout Started"

Readable tables; `--csv FILE` writes the table, `--chart FILE` a PNG or SVG chart (classes,
mix, ropo, friction calls), `--json` prints the rows. The rules are in docs/channels.md.
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

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
    report_table,
    save,
)
from empreinte.cli.common import ChartOption as Chart
from empreinte.cli.common import CsvOption as Csv
from empreinte.cli.common import JsonRowsOption as Json
from empreinte.cli.common import SinceOption as Since
from empreinte.cli.common import UntilOption as Until

if TYPE_CHECKING:
    pass

channels_app = typer.Typer(
    help="Omnichannel journeys: classes, channel mix, ROPO/showrooming, friction.",
    no_args_is_help=True,
)

By = Annotated[
    str | None,
    typer.Option(help="Break down by a profile attribute: country, generation, traits.<path>…"),
]
Lang = Annotated[str, typer.Option("--lang", help="Language of the chart: en or fr.")]


def _pct(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


def _write(rows: list[dict[str, Any]], csv: Path | None, json: bool) -> None:
    if csv is not None:
        from empreinte.analytics.cx.rendering import to_csv

        save(csv, to_csv(rows))
    if json:
        print_json(rows)


def _chart(draw: Any, report: Any, chart: Path | None, lang: str) -> None:
    if chart is None:
        return
    from empreinte.errors import EmpreinteError

    try:
        draw(report, chart, lang)
    except EmpreinteError as exc:
        raise fail(f"--chart: {exc}") from None
    err.print(f"chart written to {chart}")


def _days(value: float, option: str) -> timedelta:
    if not math.isfinite(value) or value <= 0:
        raise fail(f"{option} must be a positive number of days, not {value}")
    return timedelta(days=value)


@channels_app.command("classes")
def classes(
    by: By = None,
    journey_gap_days: Annotated[
        float,
        typer.Option("--journey-gap-days", help="Days without a touchpoint that end a journey."),
    ] = 7,
    continuity_days: Annotated[
        float,
        typer.Option("--continuity-days", help="Most days between two channels of one thread."),
    ] = 7,
    since: Since = None,
    until: Until = None,
    csv: Csv = None,
    chart: Chart = None,
    json: Json = False,
    lang: Lang = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """How many people are mono-, multi-, cross- and omni-channel."""
    check_lang(lang)
    rules_args = (
        _days(journey_gap_days, "--journey-gap-days"),
        _days(continuity_days, "--continuity-days"),
    )
    with reading(workspace) as ws:
        from empreinte.analytics.journeys.channel_charts import draw_classes
        from empreinte.analytics.journeys.channels import ChannelRules, channel_classes

        rules = ChannelRules(journey_gap=rules_args[0], continuity_window=rules_args[1])
        with ws.analytics() as log:
            report = channel_classes(log, journey_scope(ws, since, until), rules, by=by)
        _chart(draw_classes, report, chart, lang)
    rows = report.to_rows()
    _write(rows, csv, False)
    if json:
        print_json(rows)
        return
    table = report_table(
        f"Omnichannel classes: {report.people} people",
        f"{report.without_own_touchpoints} people with no touchpoint of their own (only brand"
        " messages) are not classified.",
    )
    if by:
        table.add_column(by)
    for name in ("class", "people", "share"):
        table.add_column(name, justify="left" if name == "class" else "right")
    for r in report.rows:
        cells = [r.group] if by else []
        table.add_row(*cells, r.channel_class, str(r.people), _pct(r.share))
    console.print(table)


@channels_app.command("mix")
def mix(
    by: By = None,
    combinations: Annotated[
        bool, typer.Option("--combinations", help="People per combination of channels.")
    ] = False,
    since: Since = None,
    until: Until = None,
    csv: Csv = None,
    chart: Chart = None,
    json: Json = False,
    lang: Lang = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """The channel mix: share of people and touchpoints per channel (or per combination)."""
    check_lang(lang)
    with reading(workspace) as ws:
        from empreinte.analytics.journeys.channel_charts import draw_mix
        from empreinte.analytics.journeys.channels import channel_mix

        with ws.analytics() as log:
            report = channel_mix(log, journey_scope(ws, since, until), by=by)
        _chart(draw_mix, report, chart, lang)
    rows = report.combination_rows() if combinations else report.to_rows()
    _write(rows, csv, False)
    if json:
        print_json(rows)
        return
    title = f"Channel mix: {report.people} people, {report.touchpoints} touchpoints of their own"
    table = report_table(title)
    if by:
        table.add_column(by)
    if combinations:
        for name in ("channels", "people", "share"):
            table.add_column(name, justify="left" if name == "channels" else "right")
        for c in report.combinations:
            table.add_row(*([c.group] if by else []), c.combination, str(c.people), _pct(c.share))
    else:
        for name in ("channel", "people", "% people", "touchpoints", "% touchpoints"):
            table.add_column(name, justify="left" if name == "channel" else "right")
        for s in report.channels:
            table.add_row(
                *([s.group] if by else []),
                s.channel,
                str(s.people),
                _pct(s.people_share),
                str(s.touchpoints),
                _pct(s.touchpoint_share),
            )
    console.print(table)


@channels_app.command("ropo")
def ropo(
    showrooming: Annotated[
        bool, typer.Option("--showrooming", help="Seen in store, bought online (the reverse).")
    ] = False,
    window_days: Annotated[
        float, typer.Option("--window-days", help="Most days from research to purchase.")
    ] = 7,
    match: Annotated[
        str | None,
        typer.Option(
            help="Only research with the purchase's value of this property (product_id…)."
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(help="Break down by a profile attribute or the purchase's (channel…)."),
    ] = None,
    since: Since = None,
    until: Until = None,
    csv: Csv = None,
    chart: Chart = None,
    json: Json = False,
    lang: Lang = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """ROPO (research online, purchase offline) or showrooming rates, per purchase and person."""
    check_lang(lang)
    if not math.isfinite(window_days) or window_days < 0:
        raise fail(f"--window-days must be a number of days, 0 or more, not {window_days}")
    direction = "showrooming" if showrooming else "ropo"
    with reading(workspace) as ws:
        from empreinte.analytics.journeys.channel_charts import draw_cross
        from empreinte.analytics.journeys.ropo import cross_channel_purchases

        with ws.analytics() as log:
            report = cross_channel_purchases(
                log,
                direction,
                window=timedelta(days=window_days),
                match=match,
                by=by,
                scope=journey_scope(ws, since, until),
            )
        if report.rows:
            _chart(draw_cross, report, chart, lang)
    rows = report.to_rows()
    _write(rows, csv, False)
    if json:
        print_json(rows)
        return
    if not report.rows:
        console.print("no purchases on these channels in this scope")
        return
    name = "ROPO" if direction == "ropo" else "Showrooming"
    table = report_table(
        f"{name} within {window_days:g} days" + (f", matched on {match}" if match else ""),
        "per purchase: of the purchases on the purchase channels; per person: of their buyers.",
    )
    if by:
        table.add_column(by)
    for column in ("purchases", name, "% of purchases", "95% CI", "buyers", name, "% of buyers"):
        table.add_column(column, justify="right")
    for r in report.rows:
        table.add_row(
            *([r.group] if by else []),
            str(r.purchases),
            str(r.crossed_purchases),
            _pct(r.purchase_rate),
            f"[{_pct(r.purchase_low)}, {_pct(r.purchase_high)}]",
            str(r.buyers),
            str(r.crossed_buyers),
            _pct(r.person_rate),
        )
    console.print(table)


@channels_app.command("friction")
def friction(
    what: Annotated[str, typer.Argument(help="calls, errors or drop-off.")] = "calls",
    within_hours: Annotated[
        float, typer.Option("--within-hours", help="calls: most hours from the session.")
    ] = 24,
    chat: Annotated[
        bool, typer.Option("--chat", help="calls: count chats (Chat Started) as contacts too.")
    ] = False,
    error_step: Annotated[
        list[str] | None, typer.Option("--error-step", help="errors: an error step (repeatable).")
    ] = None,
    min_errors: Annotated[
        int, typer.Option("--min-errors", help="errors: errors in one session to count.")
    ] = 2,
    funnel: Annotated[
        list[str] | None, typer.Option("--funnel", help="drop-off: a funnel step (repeatable).")
    ] = None,
    period: Annotated[str, typer.Option(help="drop-off: week, month, quarter or year.")] = "week",
    baseline: Annotated[
        str, typer.Option(help="drop-off: others (all other periods) or previous.")
    ] = "others",
    alpha: Annotated[float, typer.Option(help="drop-off: false discovery rate.")] = 0.05,
    all_rows: Annotated[
        bool, typer.Option("--all", help="drop-off: every period and step, not only abnormal.")
    ] = False,
    since: Since = None,
    until: Until = None,
    csv: Csv = None,
    chart: Chart = None,
    json: Json = False,
    lang: Lang = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Friction: calls after a web or app session, repeated errors, abnormal drop-off."""
    check_lang(lang)
    if what not in ("calls", "errors", "drop-off"):
        raise fail(f"unknown friction report {what!r}: use calls, errors or drop-off")
    if not math.isfinite(within_hours) or within_hours < 0:
        raise fail(f"--within-hours must be 0 or more, not {within_hours}")
    with reading(workspace) as ws:
        from empreinte.analytics.journeys import friction as analytic
        from empreinte.analytics.journeys.channel_charts import draw_calls

        with ws.analytics() as log:
            scope = journey_scope(ws, since, until)
            if what == "calls":
                contacts: dict[str, tuple[str, ...]] = {
                    "contact_steps": ("Call Started",),
                    "contact_channels": ("phone",),
                }
                if chat:
                    contacts = {
                        "contact_steps": ("Call Started", "Chat Started"),
                        "contact_channels": ("phone", "chat"),
                    }
                calls = analytic.called_after_web(
                    log, scope, within=timedelta(hours=within_hours), **contacts
                )
            elif what == "errors":
                errors = analytic.repeated_errors(
                    log,
                    scope,
                    error_steps=tuple(error_step or analytic.ERROR_STEPS),
                    min_errors=min_errors,
                )
            else:
                drops = analytic.drop_off(
                    log, scope, funnel=funnel or None, period=period, baseline=baseline, alpha=alpha
                )
        if what == "calls" and calls.pages():
            _chart(draw_calls, calls, chart, lang)
    if what == "calls":
        _callsreport_table(calls, within_hours, csv, json)
    elif what == "errors":
        rows = errors.to_rows()
        _write(rows, csv, json)
        if json:
            return
        table = report_table(
            f"Repeated errors: {errors.people_repeated} of {errors.people_with_errors} people"
            f" with errors had {errors.min_errors}+ in one session"
            f" ({errors.sessions_repeated} of {errors.sessions_with_errors} sessions)"
        )
        for name in ("channel", "error", "page", "errors", "sessions", "people"):
            table.add_column(
                name, justify="right" if name in ("errors", "sessions", "people") else "left"
            )
        for e in errors.rows:
            table.add_row(e.channel, e.step, e.page, str(e.errors), str(e.sessions), str(e.people))
        console.print(table)
    else:
        shown = drops.rows if all_rows else tuple(drops.abnormal())
        rows = [dict(r.__dict__) for r in shown]
        _write(rows, csv, json)
        if json:
            return
        kind = "funnel" if funnel else "exit rate"
        table = report_table(
            f"Drop-off ({kind}) by {period}: {len(drops.abnormal())} abnormal of {len(drops.rows)}",
            f"abnormal: above its baseline ({baseline}), one-sided z-test, BH q < {alpha:g}.",
        )
        for name in ("period", "step", "sessions", "drop", "baseline", "z", "q", ""):
            table.add_column(name, justify="left" if name in ("period", "step") else "right")
        for r in shown:
            table.add_row(
                r.period,
                r.step,
                str(r.sessions),
                _pct(r.rate),
                _pct(r.baseline_rate),
                "–" if math.isnan(r.z) else f"{r.z:.2f}",
                "–" if math.isnan(r.q_value) else f"{r.q_value:.3f}",
                "[bold red]abnormal[/]" if r.abnormal else "",
            )
        console.print(table)


def _callsreport_table(report: Any, within_hours: float, csv: Path | None, json: bool) -> None:
    rows = report.to_rows()
    _write(rows, csv, json)
    if json:
        return
    console.print(
        f"{report.after_web} of {report.contacts} contacts ({_pct(report.share)}) came within"
        f" {within_hours:g} h of a web or app session; {report.people_after_web} of"
        f" {report.people} people."
    )
    for kind, found in (("page", report.pages()), ("step", report.steps())):
        table = report_table(
            f"Last {kind} before the call",
            "lift: share among sessions followed by a call / share among all"
            f" {report.sessions} web and app sessions.",
        )
        for name in (kind, "calls", "share", "sessions", "lift"):
            table.add_column(name, justify="left" if name == kind else "right")
        for r in found:
            lift = "–" if math.isnan(r.lift) else f"{r.lift:.2f}"
            table.add_row(r.value, str(r.calls), _pct(r.share), str(r.sessions), lift)
        console.print(table)
