"""The `empreinte` command line."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

import empreinte
from empreinte.cli_common import DEFAULT_WORKSPACE, WorkspaceOption, console, err
from empreinte.cli_common import fail as _fail
from empreinte.cli_common import open_workspace as _open
from empreinte.cli_common import workspace as _workspace
from empreinte.cli_privacy import consent_app, users_app
from empreinte.cli_privacy import erase as erase_command
from empreinte.cli_privacy import export as export_command
from empreinte.cli_profiles import identity_app, profile_app
from empreinte.cli_report import report_app
from empreinte.credentials import Role
from empreinte.identity.match_cli import match_app
from empreinte.store.records import EventFilter
from empreinte.workspace import DATABASE_FILE, Workspace

app = typer.Typer(
    help="empreinte — customer data and experience platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Write keys (for sources that send events).", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (for reading, with a role).", no_args_is_help=True)
events_app = typer.Typer(help="Look into the event log.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(tokens_app, name="tokens")
app.add_typer(events_app, name="events")
app.add_typer(profile_app, name="profile")
app.add_typer(identity_app, name="identity")
app.add_typer(match_app, name="match")
app.add_typer(consent_app, name="consent")
app.add_typer(users_app, name="users")
app.add_typer(report_app, name="report")
app.command("erase")(erase_command)
app.command("export")(export_command)

DEMO_MARKER = ".empreinte-demo"


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(help="Where to create the workspace.")
    ] = DEFAULT_WORKSPACE,
    source: Annotated[str, typer.Option(help="Name of the first source.")] = "default",
) -> None:
    """Create a workspace, with a write key for its first source and an admin API token."""
    if (directory / DATABASE_FILE).exists():
        raise _fail(f"{directory} already holds a workspace")
    with empreinte.open(directory) as ws:
        key = ws.credentials.create_write_key(source)
        token = ws.credentials.create_api_token("admin", Role.ADMIN)
    console.print(f"Workspace created in [bold]{directory}[/]")
    console.print(f"  write key for source {source!r}: [bold green]{key}[/]")
    console.print(f"  admin API token:               [bold green]{token}[/]")
    console.print("Keep them: they are stored hashed and cannot be shown again.")


@app.command()
def serve(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Run the collector and the API (Segment-compatible, on /v1/*)."""
    _serve(_open(workspace), host, port)


def _serve(ws: Workspace, host: str, port: int) -> None:
    import uvicorn

    from empreinte.collect.gc_tuning import tune_for_ingest
    from empreinte.web.app import create_app

    console.print(f"empreinte listening on [bold]http://{host}:{port}[/] (workspace {ws.path})")
    asgi = create_app(ws)
    tune_for_ingest()
    uvicorn.run(
        asgi,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


@keys_app.command("create")
def keys_create(
    source: Annotated[str, typer.Option("--source", help="Source name (created if new).")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Make a write key for a source. Write keys can only send events."""
    with _workspace(workspace) as ws:
        key = ws.credentials.create_write_key(source)
    console.print(key)


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Option("--name", help="Who or what the token is for.")],
    role: Annotated[Role, typer.Option("--role", help="What it may read.")] = Role.VIEWER,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Make an API token with a role (admin, analyst, viewer)."""
    with _workspace(workspace) as ws:
        console.print(ws.credentials.create_api_token(name, role))


def _filter(user: str | None, anonymous: str | None, event: str | None) -> EventFilter:
    return EventFilter(user_id=user, anonymous_id=anonymous, event=event)


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
    with _workspace(workspace) as ws:
        console.print(ws.engine.count_events(_filter(user, anonymous, event)))


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

    with _workspace(workspace) as ws:
        records = ws.engine.find_events(_filter(user, anonymous, event), n, newest_first=True)
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
    from empreinte.web.api import to_segment

    with _workspace(workspace) as ws:
        records = ws.events(limit=10, pii=pii, message_id=message_id)
    if not records:
        raise _fail(f"no event with messageId {message_id!r}")
    for record in records:
        console.print_json(orjson.dumps(to_segment(record)).decode())


@app.command("import")
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
) -> None:
    """Import events from a file. Bad lines are reported by number; good ones are stored."""
    from empreinte.collect.importers import CsvMapping, import_file

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
                ws,
                file,
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


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Demo workspace (recreated).")] = Path(
        "demo-workspace"
    ),
    people: Annotated[int, typer.Option(help="How many people to simulate.")] = 2_000,
    months: Annotated[int, typer.Option(help="How many months of behaviour.")] = 12,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    serve_: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server after.")
    ] = True,
) -> None:
    """Generate the demo dataset into a fresh workspace, then serve it."""
    from empreinte.demo import generate

    if directory.exists():
        if not (directory / DEMO_MARKER).exists():
            raise _fail(f"{directory} exists and is not a demo workspace; choose another --dir")
        shutil.rmtree(directory)
    ws = empreinte.open(directory)
    (directory / DEMO_MARKER).write_text("created by `empreinte demo`; deleted by the next run\n")
    with _progress() as bar:
        task = bar.add_task(f"simulating {people} people over {months} months", total=None)
        stored = 0
        batch: list[dict[str, Any]] = []
        for message in generate(people=people, months=months, seed=seed):
            batch.append(message)
            if len(batch) >= 20_000:
                stored += ws.ingest(batch, source="demo").stored
                batch = []
                bar.update(task, completed=stored)
        stored += ws.ingest(batch, source="demo").stored
        bar.update(task, completed=stored)
    key = ws.credentials.create_write_key("web")
    token = ws.credentials.create_api_token("demo admin", Role.ADMIN)
    console.print(f"{stored} demo events stored in [bold]{directory}[/]")
    console.print(f"  write key (source 'web'): [bold green]{key}[/]")
    console.print(f"  admin API token:          [bold green]{token}[/]")
    console.print(
        f"  try: curl -H 'Authorization: Bearer {token}' 'http://{host}:{port}/api/events?limit=3'"
    )
    console.print(
        f"       curl -H 'Authorization: Bearer {token}'"
        f" 'http://{host}:{port}/api/cx/nps?period=quarter&format=csv'"
    )
    console.print(f"       empreinte report nps --period quarter -w {directory}")
    if serve_:
        _serve(ws, host, port)
    else:
        ws.close()


def main() -> None:
    app()
