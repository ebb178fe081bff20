"""`empreinte profile show|find|timeline`: unified profiles from the command line.

The CLI runs locally with the workspace's files, as its owner: it may show raw personal values,
but only when asked (`--pii`). Tables on a terminal, JSON with `--json` (the same documents as
the HTTP API).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.table import Table

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    JsonOption,
    PiiOption,
    WorkspaceOption,
    console,
    print_json,
    reading,
)
from empreinte.cli.common import fail as _fail
from empreinte.profiles.views import iso, profile_json

if TYPE_CHECKING:
    from empreinte.profiles.profile import Profile

profile_app = typer.Typer(
    help="Unified profiles: one person across every channel and identifier.",
    no_args_is_help=True,
)


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
        ("generation", computed["generation"] or "—"),
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
    if doc["predicted"]:
        predicted = Table("trait", "value", "computed at", title="predicted", title_justify="left")
        for trait, entry in doc["predicted"].items():
            value = entry["value"]
            text = f"{value:.4g}" if isinstance(value, float) else _value(value)
            predicted.add_row(trait, text, entry["computedAt"])
        console.print(predicted)
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
    with reading(workspace) as ws:
        profile = ws.profiles.get(profile_id, pii=pii)
    if json:
        print_json(profile_json(profile))
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
    with reading(workspace) as ws:
        profile_id = ws.profiles.find(by, value)
        if profile_id is None:
            raise _fail(f"no profile has this {by}")
        profile = ws.profiles.get(profile_id, pii=pii)
    if json:
        print_json({"matchedBy": by, **profile_json(profile)})
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
    from empreinte.profiles.views import timeline_json

    with reading(workspace) as ws:
        page = ws.profiles.timeline(
            profile_id, limit=limit, after=after, before=before, include_bots=bots, pii=pii
        )
    if json:
        print_json(timeline_json(page))
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
