"""`empreinte init|serve|keys|tokens`: a workspace, its server and its credentials."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from empreinte.cli.common import DEFAULT_WORKSPACE, WorkspaceOption, console, reading, report_table
from empreinte.cli.common import fail as _fail
from empreinte.cli.common import open_workspace as _open
from empreinte.cli.common import workspace as _workspace
from empreinte.cli.local_server import LocalServer
from empreinte.credentials import Role

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

keys_app = typer.Typer(help="Write keys (for sources that send events).", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (for reading, with a role).", no_args_is_help=True)


def init(
    directory: Annotated[
        Path, typer.Argument(help="Where to create the workspace.")
    ] = DEFAULT_WORKSPACE,
    source: Annotated[str, typer.Option(help="Name of the first source.")] = "default",
    like: Annotated[
        Path | None,
        typer.Option(
            help="Make a collector beside this workspace: the same settings, pseudonym key, "
            "write keys and API tokens (docs/publish.md).",
        ),
    ] = None,
) -> None:
    """Create a workspace, with a write key for its first source and an admin API token."""
    import empreinte
    from empreinte.workspace import DATABASE_FILE

    if (directory / DATABASE_FILE).exists():
        raise _fail(f"{directory} already holds a workspace")
    if like is not None:
        _init_like(directory, like)
        return
    with empreinte.open(directory) as ws:
        key = ws.credentials.create_write_key(source)
        token = ws.credentials.create_api_token("admin", Role.ADMIN)
    console.print(f"Workspace created in [bold]{directory}[/]")
    console.print(f"  write key for source {source!r}: [bold green]{key}[/]")
    console.print(f"  admin API token:               [bold green]{token}[/]")
    console.print("Keep them: they are stored hashed and cannot be shown again.")


def _init_like(directory: Path, like: Path) -> None:
    """A sibling collector of `like`: its config file and pseudonym key copied first (the key
    before the workspace opens, which would make its own), then its credentials. Events it
    takes are pseudonymised exactly as `like`'s, so the published log joins them."""
    import shutil

    import empreinte
    from empreinte.config import CONFIG_FILE
    from empreinte.privacy.pseudonym import KEY_FILE, install_key
    from empreinte.workspace import DATABASE_FILE

    if not (like / DATABASE_FILE).exists() or not (like / KEY_FILE).exists():
        raise _fail(f"{like} is not a workspace (no {DATABASE_FILE} and {KEY_FILE} there)")
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    try:
        install_key(directory, (like / KEY_FILE).read_bytes())
    except FileExistsError:
        raise _fail(
            f"{directory} already has a pseudonym key: it would not match {like}'s"
        ) from None
    if (like / CONFIG_FILE).exists():
        shutil.copyfile(like / CONFIG_FILE, directory / CONFIG_FILE)
    with reading(like) as source, empreinte.open(directory) as ws:
        copied = ws.credentials.copy_from(source.credentials)
        shared_id = ws.config.publish.get("collector_id")
    console.print(f"Workspace created in [bold]{directory}[/], a collector beside {like}")
    console.print(
        f"  copied: its settings, its pseudonym key, {copied.write_keys} write key(s) and "
        f"{copied.api_tokens} API token(s); keys made later: `empreinte keys copy --from {like}`"
    )
    if shared_id:
        # Two collectors cannot publish under one id (docs/publish.md): staging would refuse.
        console.print(
            f"  [bold]change[/] [publish] collector_id = {shared_id!r} in "
            f"{directory / CONFIG_FILE}: each collector needs its own"
        )


def serve(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Processes that parse and validate event batches beside the server "
            "(default: one when there are several cores, else none).",
            min=0,
        ),
    ] = None,
) -> None:
    """Run the collector and the API (Segment-compatible, on /v1/*)."""
    run_server(_open(workspace), host, port, workers)


def default_workers() -> int:
    """One validation worker beside the server wherever there is a second core."""
    import os

    return 1 if (os.cpu_count() or 1) > 1 else 0


def run_server(ws: Workspace, host: str, port: int, workers: int | None = None) -> None:
    import uvicorn

    from empreinte.collect.gc_tuning import tune_for_ingest
    from empreinte.web.app import create_app

    console.print(f"empreinte listening on [bold]http://{host}:{port}[/] (workspace {ws.path})")
    # The CLI's read commands find this server in the workspace and read through snapshots.
    local = LocalServer.start(ws.path, host, port)
    asgi = create_app(
        ws,
        local_secret=local.secret,
        on_shutdown=lambda: local.stop(ws.path),
        workers=default_workers() if workers is None else workers,
    )
    tune_for_ingest()
    try:
        uvicorn.run(
            asgi,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            loop="uvloop",
            http="httptools",
        )
    finally:
        local.stop(ws.path)  # when the server could not start


@keys_app.command("create")
def keys_create(
    source: Annotated[str, typer.Option("--source", help="Source name (created if new).")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Make a write key for a source. Write keys can only send events."""
    with _workspace(workspace) as ws:
        key = ws.credentials.create_write_key(source)
    console.print(key)


@keys_app.command("copy")
def keys_copy(
    source: Annotated[Path, typer.Option("--from", help="The workspace to copy keys from.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Accept the write keys and API tokens of another workspace (by digest), and revoke the
    keys it revoked: for collectors side by side behind one load balancer."""
    with reading(source) as other, _workspace(workspace) as ws:
        copied = ws.credentials.copy_from(other.credentials)
    console.print(
        f"{copied.write_keys} write key(s) and {copied.api_tokens} API token(s) added, "
        f"{copied.revoked} write key(s) revoked"
    )


@keys_app.command("list")
def keys_list(workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Every write key made, revoked ones too, by digest (keys themselves are not kept)."""
    with reading(workspace) as ws:
        keys = ws.credentials.write_key_list()
    table = report_table("Write keys", "revoke one with `empreinte keys revoke DIGEST`")
    table.add_column("source")
    table.add_column("digest", min_width=64, no_wrap=True)  # whole: `keys revoke` takes it
    table.add_column("created")
    table.add_column("revoked")
    for key in keys:
        revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else ""
        created = key.created_at.isoformat(timespec="seconds")
        table.add_row(key.source, key.key_hash, created, revoked)
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="The key's digest (from `keys list`), or the key.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Revoke a write key: events sent with it are refused (401) from now on."""
    from empreinte.credentials import key_digest

    digest = key_digest(key) if key.startswith("wk_") else key.strip().lower()
    with _workspace(workspace) as ws:
        revoked = ws.credentials.revoke_write_key(digest)
    console.print(f"revoked the write key {revoked.key_hash[:12]}… of source {revoked.source}")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Option("--name", help="Who or what the token is for.")],
    role: Annotated[Role, typer.Option("--role", help="What it may read.")] = Role.VIEWER,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Make an API token with a role (admin, analyst, viewer)."""
    with _workspace(workspace) as ws:
        console.print(ws.credentials.create_api_token(name, role))
