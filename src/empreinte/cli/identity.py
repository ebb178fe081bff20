"""`empreinte identity …`: explain merges, list conflicts, block, cut, unblock, rebuild."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    ActorOption,
    JsonOption,
    ReasonOption,
    WorkspaceOption,
    console,
    print_json,
    reading,
)
from empreinte.cli.common import actor as _actor
from empreinte.cli.common import workspace as _workspace
from empreinte.profiles.views import conflict_json, explanation_json, rebuild_json

identity_app = typer.Typer(
    help="The identity graph: explain merges, list conflicts, block, cut, rebuild.",
    no_args_is_help=True,
)


@identity_app.command("explain")
def identity_explain(
    profile_id: Annotated[str, typer.Argument(help="The profile id (p_…).")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    json: JsonOption = False,
) -> None:
    """How a profile was built: each identifier that founded or joined it, each merge, each
    refused link, and the admin decisions involved."""
    with reading(workspace) as ws:
        explanation = ws.identity.explain(profile_id)
    doc = explanation_json(explanation)
    if json:
        print_json(doc)
        return
    title = f"[bold]{doc['profileId']}[/]"
    if doc["redirectedFrom"]:
        title += f"  (merged from {doc['redirectedFrom']})"
    console.print(title)
    steps = Table("seq", "at", "action", "identifier", "profile", "other", "rule")
    for step in doc["steps"]:
        steps.add_row(
            str(step["seq"]),
            step["at"] or "",
            step["action"],
            step["idKey"],
            step["profileId"],
            step["otherProfileId"] or "",
            step["rule"] or "",
        )
    console.print(steps)
    if doc["overrides"]:
        overrides = Table("at", "actor", "action", "identifier", "profile", "reason")
        for item in doc["overrides"]:
            overrides.add_row(
                item["recordedAt"] or "",
                item["actor"],
                item["action"],
                item["idKey"],
                item["profileId"] or "",
                item["reason"] or "",
            )
        console.print(overrides)


@identity_app.command("conflicts")
def identity_conflicts(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    profile: Annotated[
        str | None, typer.Option("--profile", help="Only those touching this profile.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many (newest first).")] = 50,
    json: JsonOption = False,
) -> None:
    """Links that merge protection refused (e.g. a shared tablet, a call-centre number)."""
    with reading(workspace) as ws:
        ws.identity.sync()
        if profile is not None:
            found = ws.identity.conflicts(profile)
        else:
            found = ws.profiles.store.conflicts(limit)
    docs = [conflict_json(c) for c in found]
    if json:
        print_json({"conflicts": docs, "count": len(docs)})
        return
    if not docs:
        console.print("no conflicts")
        return
    table = Table("seq", "recorded", "identifier", "profile", "other profile", "rule")
    for doc in docs:
        table.add_row(
            str(doc["seq"]),
            doc["recordedAt"] or "",
            doc["idKey"],
            doc["profileId"],
            doc["otherProfileId"] or "",
            doc["rule"],
        )
    console.print(table)


KeyArgument = Annotated[
    str,
    typer.Argument(
        help="TYPE:VALUE, e.g. loyalty_card:2912345, email:jane@example.com (pseudonymised "
        "for you) or email:pii_… as profiles show it."
    ),
]


@identity_app.command("block")
def identity_block(
    key: KeyArgument,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    reason: ReasonOption = None,
    by: ActorOption = None,
) -> None:
    """Ignore an identifier everywhere: it links nothing and belongs to no profile."""
    with _workspace(workspace) as ws:
        parsed = ws.profiles.keys.parse(key, "KEY")
        profiles = ws.identity.block(parsed, _actor(by), reason)
    console.print(f"blocked {parsed}; profiles now: {', '.join(profiles) or '—'}")


@identity_app.command("cut")
def identity_cut(
    key: KeyArgument,
    profile: Annotated[str, typer.Option("--profile", help="The profile to take it out of.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    reason: ReasonOption = None,
    by: ActorOption = None,
) -> None:
    """Mark an identifier shared (it joined two people): it stays with its first holder and
    never joins two people again; the wrongly merged people come apart."""
    with _workspace(workspace) as ws:
        parsed = ws.profiles.keys.parse(key, "KEY")
        profiles = ws.identity.cut(parsed, profile, _actor(by), reason)
    console.print(f"cut {parsed} out of {profile}; profiles now: {', '.join(profiles)}")


@identity_app.command("unblock")
def identity_unblock(
    key: KeyArgument,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    reason: ReasonOption = None,
    by: ActorOption = None,
) -> None:
    """Lift a block or a cut: the identifier links again under the ordinary rules."""
    with _workspace(workspace) as ws:
        parsed = ws.profiles.keys.parse(key, "KEY")
        profiles = ws.identity.unblock(parsed, _actor(by), reason)
    console.print(f"unblocked {parsed}; profiles now: {', '.join(profiles) or '—'}")


@identity_app.command("rebuild")
def identity_rebuild(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    json: JsonOption = False,
) -> None:
    """Recompute every profile from the event log (the same result as the incremental path)."""
    with _workspace(workspace) as ws, console.status("rebuilding the identity graph…"):
        report = ws.identity.rebuild()
    doc = rebuild_json(report)
    if json:
        print_json(doc)
        return
    console.print(
        f"{doc['events']} events, {doc['identifiers']} identifiers → {doc['profiles']} profiles, "
        f"{doc['conflicts']} conflicts, in {doc['seconds']:.2f} s"
    )
