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
    # Loyalty points last ten years here (one by default): the demo's year (2025) stays
    # worth a look whenever the demo is opened. The returns page answers refund calls: those
    # who phoned without reading it count as avoidable calls (docs/voc-journeys.md).
    (directory / CONFIG_FILE).write_text(
        '[consent]\ntrusted_sources = ["demo"]\n\n[loyalty]\nexpiry = "3650d"\n\n'
        '[voc.answers]\nrefund = ["Returns"]\n'
    )
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
    from empreinte.activate.destinations import demo as destinations_demo
    from empreinte.activate.loyalty import demo as loyalty_demo
    from empreinte.activate.offers import demo as offers_demo
    from empreinte.activate.stories import demo as stories_demo

    ws.flush()
    offers = offers_demo.seed_demo(ws)  # demo offers, and the recommender trained on the log
    stories_demo.seed_demo(ws, seed)  # the product catalogue the year-in-review stories read
    with _progress() as bar:
        bar.add_task("loyalty: points over the year, a brand-funded campaign", total=None)
        loyalty = loyalty_demo.seed_demo(ws)
    with _progress() as bar:
        bar.add_task("voice of the customer: sentiment, reasons, topics", total=None)
        voc = ws.voc.refresh()
    exported = destinations_demo.seed_demo(ws)[0].destination.record.target
    key = ws.credentials.create_write_key("web")
    token = ws.credentials.create_api_token("demo admin", Role.ADMIN)
    logins = _demo_users(ws, directory)
    console.print(f"{stored} demo events stored in [bold]{directory}[/]")
    console.print(f"  offers: recommender trained on {offers.interactions:,} interactions")
    console.print(
        f"  loyalty: {loyalty['points_earned']:,} points earned, campaign autumn-2025 offered to "
        f"{loyalty['offered']} people ({loyalty['holdout']} held out), "
        f"{loyalty['challenges_completed']} challenges paid"
    )
    console.print(
        f"  voice of the customer: {voc.texts:,} conversations and verbatims analysed "
        f"(redacted at the door), {voc.topics} topics — empreinte voc reasons -w {directory}"
    )
    console.print(f"  dashboard: [bold]http://{host}:{port}/[/]")
    for username, password in logins:
        console.print(f"    log in as [bold]{username}[/] with password [bold green]{password}[/]")
    console.print(f"  destination crm-export (CSV, marketing e-mail consent): {exported}")
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


#: The dashboard users the demo creates (and only the demo): one per role a newcomer tries.
DEMO_USERS = (("demo-admin", Role.ADMIN), ("demo-analyst", Role.ANALYST))
LOGINS_FILE = "demo-logins.txt"


def _demo_users(ws: Any, directory: Path) -> list[tuple[str, str]]:
    """Create the demo's dashboard users with fresh random passwords (a demo served on a
    shared network must not open with a password everyone knows); they are also written,
    owner-only, to `demo-logins.txt` in the demo workspace."""
    import os
    import secrets

    from empreinte.privacy.users import Users

    users = Users.for_workspace(ws.path, ws.privacy_store)
    logins = []
    for username, role in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        users.create(username, password, role)
        logins.append((username, password))
    path = directory / LOGINS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(f"{u} {p}\n" for u, p in logins)
    return logins
