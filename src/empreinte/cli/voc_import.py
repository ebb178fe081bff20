"""`empreinte voc import` (= `empreinte import --kind transcripts`) and
`empreinte voc originals enable|disable|status|show`: conversations in, redacted at the door;
the originals kept, sealed, only when an admin opted in.

Registered on the `voc` group by `register(group)` (called from cli/voc.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    ActorOption,
    JsonOption,
    WorkspaceOption,
    console,
    err,
    print_json,
)
from empreinte.cli.common import actor as _actor
from empreinte.cli.common import progress as _progress
from empreinte.cli.common import workspace as _workspace

ChannelOption = Annotated[
    str,
    typer.Option(help="Transcripts: phone (Call Completed) or chat (Chat Completed)."),
]
QueueOption = Annotated[
    str | None, typer.Option(help="Transcripts: the queue of every conversation of the file.")
]
AgentIdOption = Annotated[
    str | None, typer.Option("--agent-id", help="Transcripts: the agent of a text file's call.")
]
CallerOption = Annotated[
    str | None,
    typer.Option(
        "--caller-number",
        help="Transcripts: the caller's number for a text/VTT/SRT file (pseudonymised).",
    ),
]
CallerFieldOption = Annotated[
    str,
    typer.Option(
        "--caller-field", help="Transcripts, JSONL: the field holding the caller's number."
    ),
]
AgentNameOption = Annotated[
    list[str] | None,
    typer.Option("--agent-name", help="Transcripts: a speaker label meaning the agent."),
]
CustomerNameOption = Annotated[
    list[str] | None,
    typer.Option("--customer-name", help="Transcripts: a speaker label meaning the customer."),
]
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format", help="Transcripts: jsonl, text, vtt or srt (default: by the extension)."
    ),
]
WhenOption = Annotated[
    str | None,
    typer.Option(
        "--timestamp", help="Transcripts: when a text file's conversation took place (ISO)."
    ),
]
SourceOption = Annotated[str, typer.Option(help="Source name recorded on every event.")]


def import_transcripts(
    file: Path,
    workspace: Path,
    source: str = "transcripts",
    channel: str = "phone",
    queue: str | None = None,
    agent_id: str | None = None,
    caller_number: str | None = None,
    caller_field: str = "caller_number",
    agent_name: list[str] | None = None,
    customer_name: list[str] | None = None,
    format_: str | None = None,
    timestamp: str | None = None,
) -> None:
    """Import a file of conversations; bad lines reported by number, good ones stored."""
    from empreinte.collect.importers import import_lines
    from empreinte.collect.limits import MAX_TRANSCRIPT_BYTES
    from empreinte.collect.transcript_files import TranscriptOptions, transcript_lines

    with _workspace(workspace) as ws:
        options = TranscriptOptions(
            channel=channel,
            queue=queue,
            agent_id=agent_id,
            caller_number=caller_number,
            caller_field=caller_field,
            agent_names=tuple(agent_name or ()),
            customer_names=tuple(customer_name or ()),
            timestamp=timestamp,
            format=format_,
        )
        with _progress() as bar:
            task = bar.add_task(f"importing {file.name}", total=None)
            report = import_lines(
                transcript_lines(file, options),
                write=ws.writer.write,
                policy=ws.policy,
                source=source,
                progress=lambda n: bar.update(task, completed=n),
                max_bytes=MAX_TRANSCRIPT_BYTES,
            )
    for error in report.errors[:50]:
        err.print(f"{file}:{error.line}: {error.reason}")
    if len(report.errors) > 50:
        err.print(f"… and {len(report.errors) - 50} more bad lines")
    console.print(
        f"{report.stored} conversation(s) stored, {report.duplicates} already present, "
        f"{len(report.errors)} line(s) rejected"
    )
    if report.errors:
        raise typer.Exit(code=2)


def voc_import(
    file: Annotated[
        Path, typer.Argument(help="A .jsonl, plain-text, .vtt or .srt file of conversations.")
    ],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    source: SourceOption = "transcripts",
    channel: ChannelOption = "phone",
    queue: QueueOption = None,
    agent_id: AgentIdOption = None,
    caller_number: CallerOption = None,
    caller_field: CallerFieldOption = "caller_number",
    agent_name: AgentNameOption = None,
    customer_name: CustomerNameOption = None,
    format_: FormatOption = None,
    timestamp: WhenOption = None,
) -> None:
    """Import call transcripts or chat logs, redacted before they are stored."""
    import_transcripts(
        file,
        workspace,
        source,
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


originals_app = typer.Typer(
    help="Originals of redacted texts: kept encrypted, only when an admin opts in.",
    no_args_is_help=True,
)


@originals_app.command("enable")
def originals_enable(
    expire: Annotated[
        str, typer.Option(help="How long each original is kept: 30d, 4w (whole days).")
    ],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    by: ActorOption = None,
) -> None:
    """Keep the originals of texts redacted from now on, encrypted, for EXPIRE."""

    with _workspace(workspace) as ws:
        policy = ws.voc.originals.enable(expire, _actor(by))
    console.print(
        f"originals kept from now on, encrypted, for {policy.expire_days} day(s); "
        "`empreinte voc originals disable` makes them all unreadable"
    )


@originals_app.command("disable")
def originals_disable(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE, by: ActorOption = None
) -> None:
    """Keep no more originals; those kept become unreadable (their keys are deleted)."""

    with _workspace(workspace) as ws:
        deleted = ws.voc.originals.disable(_actor(by))
    console.print(f"originals no longer kept; {deleted} day key(s) deleted")


@originals_app.command("status")
def originals_status(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE, json_: JsonOption = False
) -> None:
    """Whether originals are kept, for how long, which days are readable, the latest audit."""

    with _workspace(workspace) as ws:
        status = ws.voc.originals.status()
    if json_:
        print_json(status.to_json())
        return
    if status.policy is None:
        console.print("originals are not kept")
    else:
        console.print(
            f"originals kept for {status.policy.expire_days} day(s), since "
            f"{status.policy.enabled_at} (by {status.policy.enabled_by})"
        )
    console.print(f"readable days: {', '.join(status.readable_days) or 'none'}")
    for entry in status.audit:
        seq = f" seq {entry.seq}" if entry.seq is not None else ""
        console.print(
            f"  {entry.at:%Y-%m-%d %H:%M} {entry.actor} {entry.action}{seq}: {entry.outcome}"
        )


@originals_app.command("show")
def originals_show(
    seq: Annotated[int, typer.Argument(help="The event's seq.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    by: ActorOption = None,
) -> None:
    """Print the originals of one event (admins; every read is audited)."""

    with _workspace(workspace) as ws:
        originals = ws.voc.originals.show(seq, _actor(by))
    print_json(originals)


def register(group: typer.Typer) -> None:
    """Add `import` and `originals` to the `voc` group."""
    group.command("import")(voc_import)
    group.add_typer(originals_app, name="originals")
