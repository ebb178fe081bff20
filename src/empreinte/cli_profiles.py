"""`empreinte profile …` and `empreinte identity …`: profiles and the identity graph from the
command line.

Typer sub-apps, mounted by `cli.py`. The CLI runs locally with the workspace's files, as its
owner: it may show raw personal values, but only when asked (`--pii`). Tables on a terminal,
JSON with `--json` (the same documents as the HTTP API).
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from empreinte.cli_common import (
    DEFAULT_WORKSPACE,
    ActorOption,
    WorkspaceOption,
    console,
)
from empreinte.cli_common import actor as _actor
from empreinte.cli_common import fail as _fail
from empreinte.cli_common import workspace as _workspace
from empreinte.profiles.profile import Profile
from empreinte.profiles.views import (
    conflict_json,
    explanation_json,
    iso,
    profile_json,
    rebuild_json,
)

profile_app = typer.Typer(
    help="Unified profiles: one person across every channel and identifier.",
    no_args_is_help=True,
)
identity_app = typer.Typer(
    help="The identity graph: explain merges, list conflicts, block, cut, rebuild.",
    no_args_is_help=True,
)


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (as the HTTP API does).")]
PiiOption = Annotated[bool, typer.Option("--pii", help="Show raw personal values, not pseudonyms.")]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="Why (kept in the audit).")]


def _print_json(doc: Any) -> None:
    typer.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _show_profile(profile: Profile) -> None:
    doc = profile_json(profile, history=False)
    title = f"[bold]{profile.profile_id}[/]"
    if profile.redirected_from:
        title += f"  (merged from {profile.redirected_from})"
    console.print(title)
    computed = doc["computed"]
    summary = Table(show_header=False, box=None, pad_edge=False)
    summary.add_column(style="bold")
    summary.add_column(overflow="fold")
    channels = ", ".join(f"{c} {n}" for c, n in computed["channels"].items()) or "—"
    revenue = ", ".join(f"{v:g} {c}" for c, v in computed["revenue"].items()) or "—"
    purchase = computed["lastPurchase"]
    rows = [
        ("first seen", computed["firstSeen"] or "—"),
        ("last seen", computed["lastSeen"] or "—"),
        ("events", f"{computed['events']} (+{computed['botEvents']} from bots)"),
        ("channels", channels),
        ("preferred channel", computed["preferredChannel"] or "—"),
        ("orders", str(computed["orders"])),
        ("revenue", revenue),
        (
            "last purchase",
            f"{purchase['time']} {purchase['orderId'] or ''} "
            f"{purchase['amount'] if purchase['amount'] is not None else ''} "
            f"{purchase['currency'] or ''}".strip()
            if purchase
            else "—",
        ),
        ("birth year", str(computed["birthYear"] or "—")),
        ("age", str(computed["age"] if computed["age"] is not None else "—")),
        ("country", computed["country"] or "—"),
        ("identifiers", ", ".join(f"{t} {n}" for t, n in computed["identifiers"].items())),
    ]
    for name, text in rows:
        summary.add_row(name, text)
    console.print(summary)
    traits = Table("trait", "value", "source", "since", title="traits", title_justify="left")
    for path, value in profile.traits.flat(profile.pii).items():
        winner = profile.traits.current[path]
        traits.add_row(path, _value(value), winner.source, iso(winner.timestamp) or "")
    console.print(traits)
    keys = Table("identifier", "first seq", "last seq", title="identifiers", title_justify="left")
    for record in profile.identifiers:
        keys.add_row(record.id_key, str(record.first_seq), str(record.last_seq))
    console.print(keys)


# -- profile ----------------------------------------------------------------------------------


@profile_app.command("show")
def profile_show(
    profile_id: Annotated[str, typer.Argument(help="The profile id (p_…).")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    pii: PiiOption = False,
    json: JsonOption = False,
) -> None:
    """A profile: computed traits, merged traits (with history in --json), identifiers."""
    with _workspace(workspace) as ws:
        profile = ws.profiles.get(profile_id, pii=pii)
    if json:
        _print_json(profile_json(profile))
    else:
        _show_profile(profile)


@profile_app.command("find")
def profile_find(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    email: Annotated[str | None, typer.Option(help="An e-mail address (any case).")] = None,
    phone: Annotated[str | None, typer.Option(help="A phone number (any format).")] = None,
    user: Annotated[str | None, typer.Option("--user", help="A userId.")] = None,
    anonymous: Annotated[str | None, typer.Option("--anonymous", help="An anonymousId.")] = None,
    card: Annotated[str | None, typer.Option("--card", help="A loyalty card number.")] = None,
    pii: PiiOption = False,
    json: JsonOption = False,
) -> None:
    """Find the profile of an e-mail, phone, userId, anonymousId or loyalty card."""
    given = {
        name: value
        for name, value in (
            ("email", email),
            ("phone", phone),
            ("userId", user),
            ("anonymousId", anonymous),
            ("loyaltyCard", card),
        )
        if value is not None
    }
    if len(given) != 1:
        raise _fail("give exactly one of --email, --phone, --user, --anonymous, --card")
    [(by, value)] = given.items()
    with _workspace(workspace) as ws:
        profile_id = ws.profiles.find(by, value)
        if profile_id is None:
            raise _fail(f"no profile has this {by}")
        profile = ws.profiles.get(profile_id, pii=pii)
    if json:
        _print_json({"matchedBy": by, **profile_json(profile)})
    else:
        _show_profile(profile)


@profile_app.command("timeline")
def profile_timeline(
    profile_id: Annotated[str, typer.Argument(help="The profile id (p_…).")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    limit: Annotated[int, typer.Option(help="How many events.")] = 50,
    after: Annotated[
        str | None, typer.Option(help="Events after this cursor or ISO date-time.")
    ] = None,
    before: Annotated[
        str | None, typer.Option(help="Events before this cursor or ISO date-time.")
    ] = None,
    bots: Annotated[bool, typer.Option("--bots", help="Include bot-flagged events.")] = False,
    pii: PiiOption = False,
    json: JsonOption = False,
) -> None:
    """Every event of the profile, across channels, oldest first (the customer 360)."""
    from empreinte.web.profiles_api import timeline_json

    with _workspace(workspace) as ws:
        page = ws.profiles.timeline(
            profile_id, limit=limit, after=after, before=before, include_bots=bots, pii=pii
        )
    if json:
        _print_json(timeline_json(page))
        return
    if page.redirected_from:
        console.print(f"{page.redirected_from} merged into [bold]{page.profile_id}[/]")
    table = Table("time", "channel", "type", "event / name", "source", "identifiers")
    for record in page.events:
        table.add_row(
            iso(record["timestamp"]) or "",
            record["channel"] or "",
            record["type"],
            record["event"] or record["name"] or "",
            record["source"],
            ", ".join(record["identifiers"] or []),
        )
    console.print(table)
    if page.previous:
        console.print(f"earlier events: --before {page.previous}")
    if page.next:
        console.print(f"later events: --after {page.next}")


# -- identity ---------------------------------------------------------------------------------


@identity_app.command("explain")
def identity_explain(
    profile_id: Annotated[str, typer.Argument(help="The profile id (p_…).")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    json: JsonOption = False,
) -> None:
    """How a profile was built: each identifier that founded or joined it, each merge, each
    refused link, and the admin decisions involved."""
    with _workspace(workspace) as ws:
        explanation = ws.identity.explain(profile_id)
    doc = explanation_json(explanation)
    if json:
        _print_json(doc)
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
    with _workspace(workspace) as ws:
        ws.identity.sync()
        if profile is not None:
            found = ws.identity.conflicts(profile)
        else:
            found = ws.profiles.store.conflicts(limit)
    docs = [conflict_json(c) for c in found]
    if json:
        _print_json({"conflicts": docs, "count": len(docs)})
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
    """Take an identifier out of a profile: it lives alone from then on."""
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
        _print_json(doc)
        return
    console.print(
        f"{doc['events']} events, {doc['identifiers']} identifiers → {doc['profiles']} profiles, "
        f"{doc['conflicts']} conflicts, in {doc['seconds']:.2f} s"
    )
