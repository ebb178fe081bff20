"""`empreinte destinations …`: where segments, traits and events are sent.

    empreinte destinations add crm webhook --url https://crm.example/hooks/empreinte \\
        --purpose marketing_email --segment big-spenders --trait country --trait clv
    empreinte destinations add audiences csv --directory audiences --purpose personalisation \\
        --segment gen-z-fr
    empreinte destinations add warehouse segment --url https://api.segment.io \\
        --write-key KEY --purpose analytics --event "Order Completed"
    empreinte destinations list
    empreinte destinations show crm
    empreinte destinations sync [NAME]
    empreinte destinations deliveries [NAME] [--status dead] [--deletions]
    empreinte destinations retry crm [--id dl_…]
    empreinte destinations remove crm

A webhook's signing secret is printed once, by `add`; docs/destinations.md says how a
receiver checks the signature. A running `empreinte serve` syncs every destination in the
background; `sync` is for a workspace no server holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    ActorOption,
    JsonOption,
    WorkspaceOption,
    actor,
    console,
    err,
    print_json,
    reading,
    report_table,
)
from empreinte.cli.common import workspace as writing

if TYPE_CHECKING:
    from empreinte.store.destination_store import Delivery

destinations_app = typer.Typer(
    help="Destinations: webhooks, CSV/Parquet exports and Segment forwarders, behind consent.",
    no_args_is_help=True,
)

StatusOption = Annotated[
    str | None,
    typer.Option("--status", help="Only deliveries in this status: pending, sent, dead, withheld."),
]
LimitOption = Annotated[int, typer.Option("--limit", min=1, max=10_000, help="At most this many.")]


@destinations_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="1-63 lower-case letters, digits, - and _.")],
    kind: Annotated[str, typer.Argument(help="webhook, segment, csv or parquet.")],
    purpose: Annotated[
        str,
        typer.Option("--purpose", help="The consent purpose a person must allow to be sent."),
    ],
    url: Annotated[str | None, typer.Option("--url", help="Where a webhook/segment sends.")] = None,
    directory: Annotated[
        str | None,
        typer.Option("--directory", help="Where a csv/parquet export writes (in export_root)."),
    ] = None,
    segment: Annotated[
        list[str] | None, typer.Option("--segment", help="A saved segment (repeat).")
    ] = None,
    trait: Annotated[list[str] | None, typer.Option("--trait", help="A trait (repeat).")] = None,
    event: Annotated[
        list[str] | None, typer.Option("--event", help="An event to forward (repeat).")
    ] = None,
    write_key: Annotated[
        str | None,
        typer.Option(
            "--write-key",
            help="The receiving source's write key (segment).",
            envvar="EMPREINTE_DESTINATION_WRITE_KEY",
        ),
    ] = None,
    by: ActorOption = None,
    json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Make a destination: what it sends, where, and the consent it needs."""
    with writing(workspace) as ws:
        created = ws.destinations.add(
            name,
            kind,
            purpose=purpose,
            url=url,
            directory=directory,
            segments=segment or (),
            traits=trait or (),
            events=event or (),
            write_key=write_key,
            by=actor(by),
        )
    if json:
        print_json(created.to_json())
        return
    console.print(f"destination {name} ({kind}) → {created.destination.record.target}")
    if created.secret:
        console.print(f"signing secret (shown once, keep it with the receiver): {created.secret}")


@destinations_app.command("list")
def list_(json: JsonOption = False, workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Every destination with its deliveries per status."""
    with reading(workspace) as ws:
        found = ws.destinations.list()
    if json:
        print_json({"destinations": [d.to_json() for d in found]})
        return
    if not found:
        err.print("no destination yet: add one with `empreinte destinations add`")
        return
    table = report_table("Destinations")
    for column in ("name", "kind", "purpose", "target", "sent", "pending", "dead", "withheld"):
        table.add_column(
            column, justify="right" if column in ("sent", "pending", "dead", "withheld") else "left"
        )
    for d in found:
        c = d.to_json()["deliveries"]
        r = d.record
        table.add_row(
            r.name,
            r.kind,
            r.purpose,
            r.target,
            *(str(c[s]) for s in ("sent", "pending", "dead", "withheld")),
        )
    console.print(table)


@destinations_app.command("show")
def show(
    name: str, json: JsonOption = False, workspace: WorkspaceOption = DEFAULT_WORKSPACE
) -> None:
    """One destination: what it sends, its deliveries, its latest failures."""
    with reading(workspace) as ws:
        found = ws.destinations.get(name)
        failing = [d for d in ws.destinations.deliveries(name, None, 200) if d.last_error][:10]
    doc = found.to_json()
    doc["latest_errors"] = [
        {
            "delivery_id": d.delivery_id,
            "status": d.status,
            "attempts": d.attempts,
            "error": d.last_error,
        }
        for d in failing
    ]
    if json:
        print_json(doc)
        return
    for key in (
        "name",
        "kind",
        "target",
        "purpose",
        "segments",
        "traits",
        "events",
        "created_at",
        "created_by",
    ):
        value = doc[key]
        console.print(f"{key}: {', '.join(value) if isinstance(value, list) else value}")
    console.print("deliveries: " + ", ".join(f"{k} {v}" for k, v in doc["deliveries"].items()))
    for e in doc["latest_errors"]:
        console.print(f"  {e['delivery_id']} {e['status']} after {e['attempts']}: {e['error']}")


@destinations_app.command("remove")
def remove(name: str, workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Remove a destination, its outbox and its record of recipients (an erasure can no
    longer reach it)."""
    with writing(workspace) as ws:
        ws.destinations.remove(name)
    console.print(f"destination {name} removed")


@destinations_app.command("sync")
def sync(
    name: Annotated[str | None, typer.Argument(help="One destination (default: all).")] = None,
    json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Queue what changed and send what is due, now."""
    with writing(workspace) as ws:
        reports = ws.destinations.sync(name)
    if json:
        print_json({"rounds": [r.to_json() for r in reports]})
        return
    for r in reports:
        line = (
            f"{r.destination}: queued {r.queued}, sent {r.sent}, failed {r.failed}, "
            f"dead {r.dead}, withheld {r.withheld}"
        )
        console.print(line + (f" — error: {r.error}" if r.error else ""))


@destinations_app.command("deliveries")
def deliveries(
    name: Annotated[str | None, typer.Argument(help="One destination (default: all).")] = None,
    status: StatusOption = None,
    deletions: Annotated[bool, typer.Option("--deletions", help="Only deletion requests.")] = False,
    limit: LimitOption = 50,
    json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Deliveries, newest first: the dead-letter queue with `--status dead`."""
    with reading(workspace) as ws:
        found = ws.destinations.deliveries(name, status, limit, "delete" if deletions else None)
    rows = [_delivery_json(d) for d in found]
    if json:
        print_json({"deliveries": rows})
        return
    table = report_table("Deliveries")
    for column in ("id", "destination", "type", "status", "attempts", "created", "error"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["delivery_id"],
            row["destination"],
            row["type"],
            row["status"],
            str(row["attempts"]),
            row["created_at"][:19],
            row["last_error"] or "",
        )
    console.print(table)


@destinations_app.command("retry")
def retry(
    name: Annotated[str | None, typer.Argument(help="Its dead deliveries (default: all).")] = None,
    ids: Annotated[
        list[str] | None, typer.Option("--id", help="Only this delivery (repeat).")
    ] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Put dead deliveries back in the queue; the next round sends them."""
    with writing(workspace) as ws:
        n = ws.destinations.retry(name, ids or None)
    console.print(f"{n} dead deliveries queued again")


def _delivery_json(d: Delivery) -> dict[str, Any]:
    from empreinte.activate.destinations.model import delivery_json

    return delivery_json(d)
