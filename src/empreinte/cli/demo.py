"""`empreinte demo`: a seeded omnichannel demo workspace, then the server on it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from empreinte.cli.common import console
from empreinte.cli.common import fail as _fail
from empreinte.cli.common import progress as _progress
from empreinte.cli.workspace import run_server
from empreinte.config import CONFIG_FILE
from empreinte.credentials import Role

DEMO_MARKER = ".empreinte-demo"


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
    import empreinte
    from empreinte.demo import generate

    if directory.exists():
        if not (directory / DEMO_MARKER).exists():
            raise _fail(f"{directory} exists and is not a demo workspace; choose another --dir")
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    # The simulated people's marketing consent comes confirmed from the "demo" source, as
    # from an e-mail tool that runs its own double opt-in: a source the operator trusts.
    (directory / CONFIG_FILE).write_text('[consent]\ntrusted_sources = ["demo"]\n')
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
        run_server(ws, host, port)
    else:
        ws.close()
