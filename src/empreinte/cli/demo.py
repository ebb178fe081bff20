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
    # worth a look whenever the demo is opened.
    (directory / CONFIG_FILE).write_text(
        '[consent]\ntrusted_sources = ["demo"]\n\n[loyalty]\nexpiry = "3650d"\n'
    )
    ws = empreinte.open(directory)
    (directory / DEMO_MARKER).write_text("created by `empreinte demo`; deleted by the next run\n")
    with _progress() as bar:
        task = bar.add_task(f"simulating {people} people over {months} months", total=None)
        stored = 0
        batch: list[dict[str, Any]] = []
        # Conversations and verbatims are redacted before they are stored: by the door when
        # it does (the voice of the customer's ingestion), else here, never twice (the models
        # make it the demo's largest cost).
        redact = _unchanged if door_redacts(ws) else redact_voices
        for message in generate(people=people, months=months, seed=seed):
            batch.append(message)
            if len(batch) >= 20_000:
                stored += ws.ingest(redact(batch), source="demo").stored
                batch = []
                bar.update(task, completed=stored)
        stored += ws.ingest(redact(batch), source="demo").stored
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


_PROBE_CARD = "4970 1234 5678 9013"  # Luhn-valid, in the test range


def door_redacts(ws: Any) -> bool:
    """Whether `Workspace.ingest` redacts a call transcript by itself: a probe call goes
    through the door's normalisation (nothing is written) and must come out with its card
    number nowhere, neither in the row nor in its vault."""
    from empreinte.collect.validate import normalise, now_micros
    from empreinte.errors import InvalidMessage

    turn = {"speaker": "customer", "text": f"ma carte {_PROBE_CARD}", "start": 0.0, "end": 2.0}
    probe = {
        "type": "track",
        "event": "Call Completed",
        "anonymousId": "demo-probe",
        "messageId": "demo-probe",
        "properties": {"transcript": [turn], "language": "fr"},
    }
    try:
        row = normalise(probe, source="demo", received_at=now_micros(), policy=ws.policy)
    except InvalidMessage:
        return False
    kept = f"{row.properties}{row.pii}"
    return _PROBE_CARD not in kept and _PROBE_CARD.replace(" ", "") not in kept


def _unchanged(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return messages


def redact_voices(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`messages` with their conversations and verbatims redacted (privacy/text_pii): the
    demo writes through `Workspace.ingest`, and the door must never see a card number in
    clear, whichever version of it runs (redacting twice changes nothing: placeholders are
    no personal data). Verbatims go in batches per language (`redact_many`, where there)."""
    from empreinte.privacy import text_pii
    from empreinte.voc.model import CONVERSATION_EVENTS, VERBATIM_KEYS

    out = list(messages)
    verbatims: dict[tuple[str | None, str], list[tuple[int, str, str]]] = {}
    for index, message in enumerate(messages):
        properties = message.get("properties")
        if not isinstance(properties, dict):
            continue
        keys = [k for k in VERBATIM_KEYS if isinstance(properties.get(k), str) and properties[k]]
        turns = properties.get("transcript")
        conversation = message.get("event") in CONVERSATION_EVENTS and isinstance(turns, list)
        if not keys and not conversation:
            continue
        language = properties.get("language")
        language = language if language in text_pii.LANGUAGES else None
        locale = message.get("context", {}).get("locale")
        region = locale[-2:] if isinstance(locale, str) and len(locale) == 5 else "FR"
        copy = dict(properties)
        if conversation and isinstance(turns, list):
            copy["transcript"] = text_pii.redact_turns(turns, language=language, region=region)
        for key in keys:
            verbatims.setdefault((language, region), []).append((index, key, properties[key]))
        out[index] = {**message, "properties": copy}
    many = getattr(text_pii, "redact_many", None)  # the first version of text_pii has none
    for (language, region), items in verbatims.items():
        texts = [text for _, _, text in items]
        done = (
            many(texts, language=language, region=region)
            if callable(many)
            else [text_pii.redact_text(t, language=language, region=region) for t in texts]
        )
        for (index, key, _), redacted in zip(items, done, strict=True):
            out[index]["properties"][key] = redacted.text
    return out


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
