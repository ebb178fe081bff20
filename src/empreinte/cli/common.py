"""What every `empreinte` sub-command shares: consoles, options, JSON output, errors, the
workspace.

Command modules import only Typer, Rich and this module at load time; what a command needs
to do its work (the workspace, analytics, Splink) it imports when it runs, so that
`empreinte --help` and quick commands start fast.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from empreinte.errors import EmpreinteError, WorkspaceLocked
from empreinte.store.engine_choice import AnalyticsEngine, check_source

if TYPE_CHECKING:
    from rich.progress import Progress

    from empreinte.analytics.journeys.touchpoints import JourneyScope
    from empreinte.workspace import Workspace

# soft_wrap: long messages (keys, paths, file:line errors) must not be cut by the terminal width.
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DEFAULT_WORKSPACE = Path(os.environ.get("EMPREINTE_WORKSPACE", "workspace"))
WorkspaceOption = Annotated[
    Path,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace directory (env EMPREINTE_WORKSPACE).",
        envvar="EMPREINTE_WORKSPACE",
    ),
]
ActorOption = Annotated[
    str | None, typer.Option("--by", help="Who decides (default: the system user name).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (as the HTTP API does).")]
PiiOption = Annotated[bool, typer.Option("--pii", help="Show raw personal values, not pseudonyms.")]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="Why (kept in the audit).")]

# The options of the report commands (CX and journeys). A date or date-time without an offset
# is read in the workspace's time zone (`timezone`) by the reports.
SinceOption = Annotated[
    str | None, typer.Option("--since", help="From this date (YYYY-MM-DD), included.")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Until this date (YYYY-MM-DD), excluded.")
]
CsvOption = Annotated[Path | None, typer.Option("--csv", help="Write the table to this CSV file.")]
ChartOption = Annotated[Path | None, typer.Option("--chart", help="Write a chart (.png or .svg).")]
JsonRowsOption = Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")]


def moment(text: str | None, option: str) -> datetime | None:
    """A `--since`/`--until` value: a date (its midnight) or a date-time, an offset optional."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"{option}: {text!r} is not a date (YYYY-MM-DD) or date-time") from None


def report_table(title: str, caption: str | None = None) -> Table:
    """A report table: a rule under the header, no outer border, so that the figures (not
    borders) fill the 80 columns of a terminal."""
    return Table(
        title=title,
        caption=caption,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
        caption_justify="left",
    )


def check_lang(lang: str) -> None:
    """`--lang` of charts and verdicts: English or French."""
    if lang not in ("en", "fr"):
        raise fail(f"--lang: unknown language {lang!r}: use en or fr")


def save(path: Path, text: str, what: str = "table", option: str = "--csv") -> None:
    """Write a command's output file, or a one-line error naming the option."""
    try:
        path.write_text(text)
    except OSError as exc:
        raise fail(f"{option}: cannot write {path}: {exc.strerror}") from None
    err.print(f"{what} written to {path}")


def journey_scope(
    ws: Workspace, since: str | None, until: str | None, channels: Sequence[str] | None = None
) -> JourneyScope:
    """The touchpoints a journey command reads: `--since`/`--until` (dates without an
    offset in the workspace's time zone) and `--channel`."""
    return ws.journeys.scope(
        moment(since, "--since"), moment(until, "--until"), tuple(channels or ())
    )


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` as an error; the caller raises the returned exit."""
    # Escaped: messages name settings such as "[icp]", which Rich would read as markup.
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code=code)


def print_json(doc: Any) -> None:
    """`doc` as indented JSON on standard output (dates and other values as text; NaN, which
    a report has where a figure is undefined, as null)."""
    typer.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2, default=str).decode())


_engine: AnalyticsEngine | None = None
_source: str | None = None


def select_engine(text: str | None, source: str | None = None) -> None:
    """The analytics engine of this run (`empreinte --engine …`) and the log it reads
    (`--source`), or the workspace's own."""
    global _engine, _source
    try:
        _engine = None if text is None else AnalyticsEngine.parse(text)
        _source = None if source is None else check_source(source)
    except EmpreinteError as exc:
        raise fail(str(exc)) from None


def _opened(ws: Workspace) -> Workspace:
    if _engine is None and _source is None:
        return ws
    try:
        configured = AnalyticsEngine.chosen(ws.config.analytics)
        chosen = dataclasses.replace(
            _engine or configured, source=check_source(_source or configured.source)
        )
    except EmpreinteError as exc:
        ws.close()
        raise fail(str(exc)) from None
    ws.analytics_engine = chosen
    return ws


def open_workspace(path: Path) -> Workspace:
    """The existing workspace at `path`, or a one-line error."""
    import empreinte

    try:
        return _opened(empreinte.open(path, create=False))
    except EmpreinteError as exc:
        raise fail(str(exc)) from None


@contextmanager
def workspace(path: Path) -> Iterator[Workspace]:
    """The workspace, with every expected error turned into a one-line message."""
    ws = open_workspace(path)
    try:
        yield ws
    except EmpreinteError as exc:
        raise fail(str(exc)) from None
    finally:
        ws.close()


@contextmanager
def reading(path: Path) -> Iterator[Workspace]:
    """The workspace, for a command that only reads: when a running `empreinte serve` holds
    it, a snapshot that server takes now (see cli/local_server.py)."""
    import empreinte
    from empreinte.cli.local_server import advertised, discard

    snapshot: Path | None = None
    try:
        try:
            ws = empreinte.open(path, create=False)
        except WorkspaceLocked:
            server = advertised(path)
            if server is None:
                raise
            snapshot = server.snapshot(path)
            ws = empreinte.open(path, create=False, snapshot=snapshot)
        _opened(ws)
    except EmpreinteError as exc:
        raise fail(str(exc)) from None
    try:
        yield ws
    except EmpreinteError as exc:
        raise fail(str(exc)) from None
    finally:
        ws.close()
        if snapshot is not None:
            discard(snapshot)


def actor(by: str | None = None) -> str:
    """Who is acting, for audit records: `--by`, else the system user."""
    if by:
        return by
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli"


def progress() -> Progress:
    """A progress bar on standard error, for long imports and generation."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
