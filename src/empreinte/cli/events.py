"""`empreinte events count|tail|show` and `empreinte import`: the event log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from empreinte.cli import voc_import
from empreinte.cli.common import DEFAULT_WORKSPACE, WorkspaceOption, console, err, reading
from empreinte.cli.common import fail as _fail
from empreinte.cli.common import progress as _progress
from empreinte.cli.common import workspace as _workspace

events_app = typer.Typer(help="Look into the event log.", no_args_is_help=True)


UserOption = Annotated[str | None, typer.Option("--user", help="Only this userId.")]
AnonOption = Annotated[str | None, typer.Option("--anonymous", help="Only this anonymousId.")]
EventOption = Annotated[str | None, typer.Option("--event", help="Only this event name.")]


@events_app.command("count")
def events_count(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    user: UserOption = None,
    anonymous: AnonOption = None,
    event: EventOption = None,
) -> None:
    """Count events in the log."""
    with reading(workspace) as ws:
        console.print(ws.count(user_id=user, anonymous_id=anonymous, event=event))


@events_app.command("tail")
def events_tail(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    n: Annotated[int, typer.Option("-n", help="How many.")] = 10,
    user: UserOption = None,
    anonymous: AnonOption = None,
    event: EventOption = None,
) -> None:
    """The last events received, oldest first (a table on a terminal, tab-separated otherwise)."""
    from rich.table import Table

    with reading(workspace) as ws:
        records = ws.events(n, user_id=user, anonymous_id=anonymous, event=event)
    header = ("seq", "received", "type", "event / name", "user", "anonymous", "channel")
    lines = [
        (
            str(r["seq"]),
            f"{r['received_at']:%Y-%m-%d %H:%M:%S}",
            r["type"],
            r["event"] or r["name"] or "",
            r["user_id"] or "",
            r["anonymous_id"] or "",
            r["channel"] or "",
        )
        for r in reversed(records)
    ]
    if console.is_terminal:
        table = Table(*header)
        for line in lines:
            table.add_row(*line)
        console.print(table)
    else:
        for line in (header, *lines):
            typer.echo("\t".join(line))


@events_app.command("show")
def events_show(
    message_id: Annotated[str, typer.Argument(help="The messageId.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    pii: Annotated[
        bool, typer.Option("--pii", help="Show raw personal values, not pseudonyms.")
    ] = False,
) -> None:
    """One event, in full, as JSON."""
    from empreinte.profiles.views import event_json

    with reading(workspace) as ws:
        records = ws.events(limit=10, pii=pii, message_id=message_id)
    if not records:
        raise _fail(f"no event with messageId {message_id!r}")
    for record in records:
        console.print_json(orjson.dumps(event_json(record)).decode())


def import_(
    file: Annotated[
        Path, typer.Argument(help="A .jsonl file of Segment messages, or a .csv file.")
    ],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    source: Annotated[str, typer.Option(help="Source name recorded on every event.")] = "import",
    mapping: Annotated[Path | None, typer.Option(help="CSV: a TOML column mapping file.")] = None,
    type_: Annotated[str, typer.Option("--type", help="CSV: message type.")] = "track",
    event: Annotated[str | None, typer.Option(help="CSV: event name for every row.")] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="CSV: FIELD=COLUMN, e.g. "
            "userId=customer_id or properties.total=amount. Repeatable.",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="CSV: FIELD=VALUE constant, e.g. context.channel=store. Repeatable."
        ),
    ] = None,
    time_format: Annotated[
        str | None,
        typer.Option(help="CSV: strptime format of the timestamp column, when it is not ISO-8601."),
    ] = None,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="events (Segment JSONL, CSV) or transcripts (JSONL, text, VTT, SRT "
            "conversations, redacted: see `empreinte voc import`).",
        ),
    ] = "events",
    channel: voc_import.ChannelOption = "phone",
    queue: voc_import.QueueOption = None,
    agent_id: voc_import.AgentIdOption = None,
    caller_number: voc_import.CallerOption = None,
    caller_field: voc_import.CallerFieldOption = "caller_number",
    agent_name: voc_import.AgentNameOption = None,
    customer_name: voc_import.CustomerNameOption = None,
    format_: voc_import.FormatOption = None,
    timestamp: voc_import.WhenOption = None,
) -> None:
    """Import events from a file. Bad lines are reported by number; good ones are stored."""
    from empreinte.collect.importers import CsvMapping, import_file

    if kind not in ("events", "transcripts"):
        raise _fail(f"--kind: choose events or transcripts, not {kind!r}")
    if kind == "transcripts":
        voc_import.import_transcripts(
            file,
            workspace,
            "transcripts" if source == "import" else source,
            channel,
            queue,
            agent_id,
            caller_number,
            caller_field,
            agent_name,
            customer_name,
            format_,
            timestamp,
        )
        return

    with _workspace(workspace) as ws:
        csv_mapping = None
        if file.suffix.lower() == ".csv" or mapping or map_:
            if mapping:
                csv_mapping = CsvMapping.from_file(mapping)
            else:
                csv_mapping = CsvMapping(
                    type=type_,
                    event=event,
                    columns=_pairs(map_, "--map"),
                    constants=_pairs(set_, "--set"),
                    time_format=time_format,
                )
        with _progress() as bar:
            task = bar.add_task(f"importing {file.name}", total=None)
            report = import_file(
                file,
                write=ws.writer.write,
                policy=ws.policy,
                source=source,
                mapping=csv_mapping,
                progress=lambda n: bar.update(task, completed=n),
            )
    for error in report.errors[:50]:
        err.print(f"{file}:{error.line}: {error.reason}")
    if len(report.errors) > 50:
        err.print(f"… and {len(report.errors) - 50} more bad lines")
    console.print(
        f"{report.lines} lines read: {report.stored} events stored, "
        f"{report.duplicates} already present, {len(report.errors)} rejected"
    )
    if report.errors:
        raise typer.Exit(code=2)


def _pairs(items: list[str] | None, option: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _fail(f"{option} {item!r}: expected FIELD=VALUE")
        out[key.strip()] = value.strip()
    return out
