"""`empreinte loyalty …`: the points programme and brand-funded challenges (docs/loyalty.md).

    empreinte loyalty run                               earn, expire, settle challenges now
    empreinte loyalty overview [--json]                 points issued, redeemed, expired
    empreinte loyalty balance PROFILE
    empreinte loyalty ledger PROFILE [--limit 50]
    empreinte loyalty redeem PROFILE POINTS --reference RECEIPT-123 [--reason …]
    empreinte loyalty challenges import campaign.json   (or .toml)
    empreinte loyalty challenges list
    empreinte loyalty challenges offer autumn-2025
    empreinte loyalty challenges for PROFILE
    empreinte loyalty challenges accept autumn-2025 PROFILE apple-1
    empreinte loyalty challenges complete autumn-2025 PROFILE
    empreinte loyalty report autumn-2025 [--brand Apple] [--json] [--lang fr]

Profiles are pseudonymous ids (`empreinte profile find …` gives one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    JsonOption,
    WorkspaceOption,
    check_lang,
    console,
    fail,
    print_json,
    report_table,
)
from empreinte.cli.common import workspace as writing

loyalty_app = typer.Typer(
    help="Loyalty points and brand-funded challenges: run, balance, ledger, redeem, report.",
    no_args_is_help=True,
)
challenges_app = typer.Typer(
    help="Campaigns of challenges: import, list, offer, for, accept, complete.",
    no_args_is_help=True,
)
loyalty_app.add_typer(challenges_app, name="challenges")

LangOption = Annotated[str, typer.Option("--lang", help="Headings: en or fr.")]
_WORDS = {
    "en": {
        "challenge": "challenge",
        "offered": "offered",
        "held_out": "held out",
        "accepted": "accepted",
        "completed": "completed",
        "unfunded": "unfunded",
        "funder": "funder",
        "funded": "funded",
        "used": "used",
        "left": "left",
        "brand": "brand",
        "lift": "incremental spend per person",
        "interval": "95% interval",
        "funnel": "Challenges",
        "budget": "Budget",
        "sales": "Incremental sales (offered vs holdout)",
    },
    "fr": {
        "challenge": "défi",
        "offered": "proposés",
        "held_out": "témoins",
        "accepted": "acceptés",
        "completed": "réussis",
        "unfunded": "non financés",
        "funder": "financeur",
        "funded": "apport",
        "used": "dépensé",
        "left": "restant",
        "brand": "marque",
        "lift": "ventes supplémentaires par personne",
        "interval": "intervalle à 95 %",
        "funnel": "Défis",
        "budget": "Budget",
        "sales": "Ventes incrémentales (ciblés contre témoins)",
    },
}


@loyalty_app.command("run")
def run(json_: JsonOption = False, path: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Earn points from the events since the last run, expire lapsed points, pay challenges."""
    with writing(path) as ws:
        done = ws.loyalty.run()
    if json_:
        print_json(done.to_json())
        return
    for key, value in done.to_json().items():
        console.print(f"{key.replace('_', ' ')}: [bold]{value}[/]")


@loyalty_app.command("overview")
def overview(json_: JsonOption = False, path: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Points issued, rewarded, redeemed, expired and outstanding."""
    with writing(path) as ws:
        found = ws.loyalty.overview()
    if json_:
        print_json(found)
        return
    for key, value in found.items():
        if key != "flows":
            console.print(f"{key.replace('_', ' ')}: [bold]{value}[/]")


@loyalty_app.command("balance")
def balance(
    profile: str, json_: JsonOption = False, path: WorkspaceOption = DEFAULT_WORKSPACE
) -> None:
    """A member's points (after expiry) and what they are worth."""
    with writing(path) as ws:
        found = ws.loyalty.balance(profile)
    if json_:
        print_json(found.to_json())
        return
    console.print(f"{found.profile_id}: [bold]{found.points}[/] points (worth {found.value:.2f})")
    if not found.member:
        console.print("  (this person does not allow the programme's purpose: earns nothing)")


@loyalty_app.command("ledger")
def ledger(
    profile: str,
    limit: Annotated[int, typer.Option(help="At most this many rows.", min=1)] = 50,
    json_: JsonOption = False,
    path: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """A member's ledger rows, newest first."""
    with writing(path) as ws:
        rows = ws.loyalty.ledger(profile, limit)
    if json_:
        print_json([r.to_json() for r in rows])
        return
    table = report_table(f"Ledger of {profile}")
    for column in ("at", "kind", "points", "reason", "source"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.at.isoformat(), r.kind, f"{r.points:+d}", r.reason, r.source)
    console.print(table)


@loyalty_app.command("redeem")
def redeem(
    profile: str,
    points: int,
    reference: Annotated[
        str, typer.Option("--reference", help="Unique per redemption (a receipt number).")
    ],
    reason: Annotated[str, typer.Option("--reason", help="What was bought.")] = "redemption",
    path: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Spend a member's points (oldest first); refused when the balance is short."""
    with writing(path) as ws:
        done = ws.loyalty.redeem(profile, points, reference, reason)
    note = " (already recorded)" if done.duplicate else ""
    console.print(f"redeemed {done.points} points{note}; balance [bold]{done.balance}[/]")


@challenges_app.command("import")
def import_(file: Path, path: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Save and fund a campaign from a JSON or TOML document."""
    import json
    import tomllib

    try:
        text = file.read_text()
        doc: Any = tomllib.loads(text) if file.suffix == ".toml" else json.loads(text)
    except (OSError, ValueError) as exc:
        raise fail(f"{file}: {exc}") from None
    with writing(path) as ws:
        campaign = ws.loyalty.import_campaign(doc)
    console.print(
        f"campaign [bold]{campaign.name}[/]: {len(campaign.challenges)} challenge(s), "
        f"budget {campaign.budget:g} + brands {sum(campaign.brands.values()):g}"
    )


@challenges_app.command("list")
def list_(json_: JsonOption = False, path: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Every campaign and its challenges."""
    with writing(path) as ws:
        found = ws.loyalty.campaigns()
    if json_:
        print_json([c.to_json() for c in found])
        return
    for c in found:
        doc = c.to_json()
        console.print(f"[bold]{c.name}[/] {doc['starts']} → {doc['ends']}")
        for ch in c.challenges:
            console.print(f"  {ch.id}: {ch.describe()} (brand pays {ch.brand_share:.0%})")


@challenges_app.command("offer")
def offer(name: str, path: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Choose the challenges of everyone eligible not yet assigned (and the holdout)."""
    with writing(path) as ws:
        done = ws.loyalty.offer(name)
    console.print(f"{done['people']} people: {done['offered']} offered, {done['holdout']} held out")


@challenges_app.command("for")
def for_(profile: str, path: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """The challenges a person is offered now, with their progress."""
    with writing(path) as ws:
        print_json(ws.loyalty.offers_for(profile))


@challenges_app.command("accept")
def accept(
    name: str, profile: str, challenge: str, path: WorkspaceOption = DEFAULT_WORKSPACE
) -> None:
    """Accept a challenge on a person's behalf (one per campaign)."""
    with writing(path) as ws:
        done = ws.loyalty.accept(name, profile, challenge)
    console.print(f"{done.profile_id} accepted {done.challenge} in {done.campaign}")


@challenges_app.command("complete")
def complete(name: str, profile: str, path: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Pay a completed challenge now (refused when not complete or the budget is short)."""
    with writing(path) as ws:
        done = ws.loyalty.complete(name, profile)
    console.print(f"{done.profile_id}: {done.challenge} {done.status}")


@loyalty_app.command("report")
def report(
    name: str,
    brand: Annotated[str | None, typer.Option("--brand", help="One brand's report.")] = None,
    json_: JsonOption = False,
    lang: LangOption = "en",
    path: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """A campaign's challenges funnel, budget used and left, and incremental sales."""
    check_lang(lang)
    words = _WORDS[lang]
    with writing(path) as ws:
        found = ws.loyalty.report(name, brand)
    doc = found.to_json()
    if json_:
        print_json(doc)
        return
    funnel = report_table(words["funnel"], f"{name} {doc['starts']} → {doc['ends']}")
    keys = ("offered", "held_out", "accepted", "completed", "unfunded")
    funnel.add_column(words["challenge"])
    for key in keys:
        funnel.add_column(words[key], justify="right")
    for row in doc["challenges"]:
        funnel.add_row(row["description"], *(str(row[k]) for k in keys))
    console.print(funnel)
    budget = report_table(words["budget"])
    for key in ("funder", "funded", "used", "left"):
        budget.add_column(words[key], justify="left" if key == "funder" else "right")
    for pot in doc["budget"]:
        budget.add_row(pot["funder"], *(f"{pot[k]:.2f}" for k in ("funded", "used", "left")))
    console.print(budget)
    sales = report_table(words["sales"])
    for key in ("brand", "offered", "held_out", "lift", "interval"):
        sales.add_column(words[key])
    for b, lift in doc["incremental_sales"].items():
        interval = lift["interval_95"]
        sales.add_row(
            b,
            str(lift["offered_people"]),
            str(lift["holdout_people"]),
            f"{lift['incremental_spend_per_person']:+.2f}",
            "—" if interval is None else f"[{interval[0]:.2f}, {interval[1]:.2f}]",
        )
    console.print(sales)
