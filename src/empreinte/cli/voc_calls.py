"""`empreinte voc calls`: what people did on the web and in the app before calling.

    empreinte voc calls                           per reason: calls, linked, errors, abandons
    empreinte voc calls --show seen --reason delivery   the top pages and steps before calls
    empreinte voc calls --show avoidable          calls whose answer page was not reached
    empreinte voc calls --show pages --hours 12   the called-after-the-web rate per page
    empreinte voc calls --show repeats --days 7   reasons that make people call twice

Aggregates only (no call or person is listed). `--json` prints the rows, `--csv FILE` writes
them. The rules are in docs/voc-journeys.md.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    WorkspaceOption,
    console,
    fail,
    moment,
    print_json,
    reading,
    report_table,
    save,
)
from empreinte.cli.common import CsvOption as Csv
from empreinte.cli.common import JsonRowsOption as Json
from empreinte.cli.common import SinceOption as Since
from empreinte.cli.common import UntilOption as Until

SHOWS = ("reasons", "seen", "avoidable", "pages", "repeats")


def _pct(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


def calls(
    show: Annotated[
        str, typer.Option("--show", help="reasons, seen, avoidable, pages or repeats.")
    ] = "reasons",
    hours: Annotated[
        int | None,
        typer.Option("--hours", help="Web/app sessions in these hours before a call (24)."),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Only calls of this reason.")
    ] = None,
    since: Since = None,
    until: Until = None,
    top: Annotated[int, typer.Option("--top", help="Pages and steps per reason (seen).")] = 10,
    days: Annotated[
        int | None, typer.Option("--days", help="A repeated call: within these days (7).")
    ] = None,
    csv: Csv = None,
    json: Json = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """The journeys before calls: per reason, what people saw online before calling."""
    if show not in SHOWS:
        raise fail(f"--show: {show!r} is not one of {', '.join(SHOWS)}")
    scope: dict[str, Any] = {
        "hours": hours,
        "reason": reason,
        "since": moment(since, "--since"),
        "until": moment(until, "--until"),
    }
    with reading(workspace) as ws:
        journeys = ws.voc.calls
        if show in ("reasons", "seen"):
            before = journeys.before(top=top, **scope)
            rows = before.reason_rows() if show == "reasons" else before.to_rows()
            report: Any = before
        elif show == "avoidable":
            report = journeys.avoidable(**scope)
            rows = report.to_rows()
        elif show == "pages":
            report = journeys.pages(**scope)
            rows = report.to_rows()
        else:
            report = journeys.repeats(days=days, **scope)
            rows = report.to_rows()
        window = journeys.scope(hours=hours).window
    if csv is not None:
        from empreinte.analytics.cx.rendering import to_csv

        save(csv, to_csv(rows))
    if json:
        print_json(rows)
        return
    _print(show, report, rows, int(window.total_seconds() // 3600))


def _print(show: str, report: Any, rows: list[dict[str, Any]], hours: int) -> None:
    if show == "reasons":
        table = report_table(
            f"Calls and the {hours} h before them: {report.calls} calls, {report.linked} linked"
            " to a web or app session",
            "linked: a web/app touchpoint of the caller in the window; errors: Error Shown or"
            " Payment Failed seen; abandoned: a checkout without an order after it.",
        )
        for name in ("reason", "calls", "linked", "share", "with errors", "abandoned"):
            table.add_column(name, justify="left" if name == "reason" else "right")
        for r in report.reasons:
            table.add_row(
                r.reason,
                str(r.calls),
                str(r.linked),
                _pct(r.linked_share),
                str(r.with_errors),
                str(r.checkout_abandoned),
            )
    elif show == "seen":
        table = report_table(
            f"Seen in the {hours} h before calls, per reason",
            "share: of the reason's linked calls.",
        )
        for name in ("reason", "kind", "page or step", "calls", "share"):
            table.add_column(name, justify="right" if name in ("calls", "share") else "left")
        for r in report.seen:
            table.add_row(r.reason, r.kind.replace("_", " "), r.value, str(r.calls), _pct(r.share))
    elif show == "avoidable":
        table = report_table(
            f"Avoidable calls: {report.avoidable} of {report.linked} linked calls"
            f" ({_pct(report.share)})",
            "avoidable: a linked call whose journey reached none of its reason's answer pages"
            " (\\[voc.answers]).",
        )
        for name in ("reason", "answer pages", "calls", "linked", "reached", "avoidable", "share"):
            table.add_column(
                name, justify="left" if name in ("reason", "answer pages") else "right"
            )
        for r in report.rows:
            table.add_row(
                r.reason,
                ", ".join(r.answers),
                str(r.calls),
                str(r.linked),
                str(r.reached),
                str(r.avoidable),
                _pct(r.share),
            )
    elif show == "pages":
        table = report_table(
            f"Called after the web, per page: {report.called} of {report.sessions} sessions"
            f" followed by a call within {hours} h",
            "rate: of the sessions that viewed the page, those followed by a call (95% interval).",
        )
        for name in ("page", "sessions", "called", "rate", "95% interval"):
            table.add_column(name, justify="left" if name == "page" else "right")
        for r in report.rows:
            table.add_row(
                r.page,
                str(r.sessions),
                str(r.called),
                _pct(r.rate),
                f"{_pct(r.low)}–{_pct(r.high)}",
            )
    else:
        table = report_table(
            f"Repeated calls within {report.days} days: {report.repeated} of {report.calls}"
            f" ({_pct(report.rate)})",
            "per reason of the first call; same reason: the next call had the same reason.",
        )
        for name in ("reason", "calls", "repeated", "same reason", "rate", "95% interval"):
            table.add_column(name, justify="left" if name == "reason" else "right")
        for r in report.rows:
            table.add_row(
                r.reason,
                str(r.calls),
                str(r.repeated),
                str(r.same_reason),
                _pct(r.rate),
                f"{_pct(r.low)}–{_pct(r.high)}",
            )
    if not rows:
        console.print("No calls in scope.")
        return
    console.print(table)


def register(group: typer.Typer) -> None:
    """Add `calls` to the `empreinte voc` group."""
    group.command("calls")(calls)
