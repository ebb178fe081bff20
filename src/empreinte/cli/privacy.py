"""`empreinte erase`, `empreinte export`, `empreinte consent …` and `empreinte users …`.

A person is named by exactly one of --email, --phone, --user, --anonymous, --loyalty-card or
--profile (raw values: they are normalised and pseudonymised as ingestion does). `export`,
`consent show` and `users list` read a snapshot while `empreinte serve` runs; the commands that
change the workspace need it stopped, or the HTTP API.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.table import Table

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    WorkspaceOption,
    console,
    err,
    print_json,
    reading,
)
from empreinte.cli.common import actor as _actor
from empreinte.cli.common import fail as _fail
from empreinte.cli.common import workspace as _workspace
from empreinte.credentials import Role
from empreinte.errors import EmpreinteError, ProfileNotFound
from empreinte.privacy import consent, erasure
from empreinte.privacy.export import export as export_person
from empreinte.privacy.people import Person, locate, one_of

if TYPE_CHECKING:
    from empreinte.privacy.users import Users
    from empreinte.workspace import Workspace

consent_app = typer.Typer(
    help="The consent ledger: what each person agreed to, per purpose.", no_args_is_help=True
)
users_app = typer.Typer(help="Dashboard users, their passwords and roles.", no_args_is_help=True)


EmailOption = Annotated[str | None, typer.Option("--email", help="The person's e-mail.")]
PhoneOption = Annotated[str | None, typer.Option("--phone", help="The person's phone number.")]
UserOption = Annotated[str | None, typer.Option("--user", help="The person's userId.")]
AnonOption = Annotated[
    str | None, typer.Option("--anonymous", help="An anonymousId of the person.")
]
CardOption = Annotated[
    str | None, typer.Option("--loyalty-card", help="The person's loyalty card number.")
]
ProfileOption = Annotated[str | None, typer.Option("--profile", help="The profile id (p_…).")]


def _named(
    email: str | None,
    phone: str | None,
    user: str | None,
    anonymous: str | None,
    card: str | None,
    profile: str | None,
) -> tuple[str, str]:
    try:
        return one_of(
            {
                "email": email,
                "phone": phone,
                "userId": user,
                "anonymousId": anonymous,
                "loyaltyCard": card,
                "profileId": profile,
            }
        )
    except EmpreinteError:
        raise _fail(
            "name the person by exactly one of --email, --phone, --user, --anonymous, "
            "--loyalty-card or --profile"
        ) from None


_OPTION = {
    "email": "--email",
    "phone": "--phone",
    "userId": "--user",
    "anonymousId": "--anonymous",
    "loyaltyCard": "--loyalty-card",
    "profileId": "--profile",
}


# -- erase and export ----------------------------------------------------------------------------


def erase(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    email: EmailOption = None,
    phone: PhoneOption = None,
    user: UserOption = None,
    anonymous: AnonOption = None,
    loyalty_card: CardOption = None,
    profile: ProfileOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    compact: Annotated[
        bool,
        typer.Option(
            "--compact",
            help="Then rewrite the database file so that erased rows are physically gone "
            "(alone: compact only). Needs the server stopped.",
        ),
    ] = False,
) -> None:
    """Erase a person (right to be forgotten): their events, identities, traits, consent history
    and every derived row, across their whole merged profile; their identifiers (hashed) go on
    the suppression list, so later events carrying them are dropped at ingestion."""
    if compact and not any((email, phone, user, anonymous, loyalty_card, profile)):
        _compact(workspace)
        return
    by, value = _named(email, phone, user, anonymous, loyalty_card, profile)
    _erase(workspace, by, value, yes)
    if compact:
        _compact(workspace)


def _compact(workspace: Path) -> None:
    from empreinte.store.privacy_store import compact_database
    from empreinte.workspace import DATABASE_FILE

    path = workspace / DATABASE_FILE
    if not path.exists():
        raise _fail(f"no workspace at {workspace}")
    try:
        before, after = compact_database(path)
    except EmpreinteError as exc:
        raise _fail(str(exc)) from None
    console.print(f"database rewritten without deleted rows: {before:,} → {after:,} bytes")


def _erase(workspace: Path, by: str, value: str, yes: bool) -> None:
    with _workspace(workspace) as ws:
        try:
            person = locate(ws, by, value)
        except ProfileNotFound:
            gone = erasure.suppressed(ws, by, value)
            if gone is not None:
                console.print(
                    f"nothing to erase: this {_OPTION[by][2:]} was erased on "
                    f"{gone.since:%Y-%m-%d %H:%M} UTC (erasure {gone.erasure_id})"
                )
            else:
                console.print(f"nothing to erase: no profile holds this {_OPTION[by][2:]}")
            return
        if not yes:
            _preview(ws, person)
            if not typer.confirm("Erase this person? This cannot be undone", default=False):
                raise _fail("nothing was erased", code=1)
        report = erasure.erase(ws, person.profile_id, _actor())
    counts = report.counts
    console.print(
        f"erased profile {report.profile_id}: {counts.get('events', 0)} events "
        f"({counts.get('consent_entries', 0)} consent entries), "
        f"{counts.get('identities', 0)} identities, {report.suppressed} identifiers suppressed"
        + (f", {report.shared} shared identifiers kept" if report.shared else "")
        + f" (erasure {report.erasure_id})"
    )
    if report.destinations:
        console.print("deletion requests queued for: " + ", ".join(report.destinations))


def _preview(ws: Workspace, person: Person) -> None:
    events = ws.profiles.events(person.profile_id, include_bots=True)
    types: dict[str, int] = {}
    for record in person.identifiers:
        types[record.id_type] = types.get(record.id_type, 0) + 1
    err.print(
        f"profile {person.profile_id}: {len(events)} events, identifiers: "
        + ", ".join(f"{t} {n}" for t, n in sorted(types.items()))
    )


def export(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    email: EmailOption = None,
    phone: PhoneOption = None,
    user: UserOption = None,
    anonymous: AnonOption = None,
    loyalty_card: CardOption = None,
    profile: ProfileOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """Everything the workspace holds about a person, as JSON (access and portability):
    identifiers, profile traits, consent history and every event, with raw values."""
    by, value = _named(email, phone, user, anonymous, loyalty_card, profile)
    with reading(workspace) as ws:
        try:
            person = locate(ws, by, value)
        except ProfileNotFound:
            raise _fail(f"no profile holds this {_OPTION[by][2:]}") from None
        # Beside a running server the copy read cannot keep the audit of a read: originals
        # are withheld (counted), and exported by the API or with the server stopped.
        document = export_person(
            ws, person.profile_id, actor=_actor(), originals=not ws.is_snapshot
        )
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        err.print(f"{len(document['events'])} events exported to {output}")
    if withheld := document["originals"]["withheld"]:
        err.print(
            f"{withheld} kept original(s) of texts not exported: a server holds the workspace "
            "and a read of the copy cannot be audited; use GET /api/profiles/{id}/export"
        )


# -- consent -------------------------------------------------------------------------------------


@consent_app.command("show")
def consent_show(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    email: EmailOption = None,
    phone: PhoneOption = None,
    user: UserOption = None,
    anonymous: AnonOption = None,
    loyalty_card: CardOption = None,
    profile: ProfileOption = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON (as the HTTP API).")] = False,
) -> None:
    """A person's consent per purpose, and its history."""
    by, value = _named(email, phone, user, anonymous, loyalty_card, profile)
    with reading(workspace) as ws:
        try:
            person = locate(ws, by, value)
        except ProfileNotFound:
            raise _fail(f"no profile holds this {_OPTION[by][2:]}") from None
        found = consent.ledger(ws, person.profile_id)
    if json:
        print_json(found.to_json())
        return
    console.print(f"[bold]{found.profile_id}[/]")
    table = Table("purpose", "allowed", "status", "since", "source", "wording")
    for purpose, state in found.states.items():
        entry = state.decided_by
        table.add_row(
            purpose,
            "yes" if state.allowed else "no",
            state.status.value,
            f"{entry.at:%Y-%m-%d %H:%M}" if entry else "",
            entry.source if entry else "",
            (entry.wording_version or "") if entry else "",
        )
    console.print(table)
    console.print(f"{len(found.entries)} entries in the history (--json shows them)")


@consent_app.command("set")
def consent_set(
    purpose: Annotated[str, typer.Option("--purpose", help=", ".join(consent.PURPOSES))],
    wording: Annotated[
        str, typer.Option("--wording", help="Version of the wording the person was shown.")
    ],
    grant: Annotated[bool, typer.Option("--grant/--revoke", help="Grant or revoke the purpose.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    user: UserOption = None,
    anonymous: AnonOption = None,
    profile: ProfileOption = None,
    email: Annotated[
        str | None, typer.Option("--email", help="The person's e-mail (with --user/--anonymous).")
    ] = None,
    phone: Annotated[
        str | None, typer.Option("--phone", help="The person's phone (with --user/--anonymous).")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Where the consent was collected.")
    ] = None,
) -> None:
    """Record a grant or a revocation in the log. A marketing_email grant is pending until
    the printed confirmation token comes back (`empreinte consent confirm TOKEN`)."""
    with _workspace(workspace) as ws:
        recorded = consent.record(
            ws,
            purpose=purpose,
            granted=grant,
            wording_version=wording,
            source=source or "cli",
            recorded_by=_actor(),
            profile_id=profile,
            user_id=user,
            anonymous_id=anonymous,
            email=email,
            phone=phone,
        )
    console.print(f"{recorded.purpose}: {recorded.status.value} (event {recorded.message_id})")
    if recorded.token is not None:
        console.print(f"  confirmation token (shown once): [bold green]{recorded.token}[/]")


@consent_app.command("confirm")
def consent_confirm(
    token: Annotated[str, typer.Argument(help="The confirmation token the person sent back.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Confirm a pending double opt-in grant."""
    with _workspace(workspace) as ws:
        recorded = consent.confirm(ws, token)
    console.print(f"{recorded.purpose}: {recorded.status.value} (event {recorded.message_id})")


# -- users ---------------------------------------------------------------------------------------


def _users(ws: Workspace) -> Users:
    from empreinte.privacy.users import Users

    return Users.for_workspace(ws.path, ws.privacy_store)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option("--username", help="Login name.")],
    role: Annotated[Role, typer.Option("--role", help="admin, analyst or viewer.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
    ] = False,
) -> None:
    """Create a dashboard user. The password is asked twice (or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _workspace(workspace) as ws:
        user = _users(ws).create(username, password, role)
    console.print(f"user {user.username!r} created with role {user.role.value}")


@users_app.command("list")
def users_list(workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Every dashboard user, with its role and whether it is disabled."""
    with reading(workspace) as ws:
        users = _users(ws).list()
    table = Table("username", "role", "created", "disabled")
    for user in users:
        table.add_row(
            user.username,
            user.role.value,
            f"{user.created_at:%Y-%m-%d %H:%M}" if user.created_at else "",
            f"{user.disabled_at:%Y-%m-%d %H:%M}" if user.disabled_at else "",
        )
    console.print(table)


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="The user to disable.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Disable a user: their sessions stop working at once."""
    with _workspace(workspace) as ws:
        _users(ws).disable(username)
    console.print(f"user {username!r} disabled")
