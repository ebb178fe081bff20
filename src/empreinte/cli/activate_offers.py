"""`empreinte offers …`: the offer catalogue, the recommender, a person's next offers.

    empreinte offers import offers.csv            # or .jsonl; bad rows reported by line
    empreinte offers list [--json]
    empreinte offers show OFFER_ID
    empreinte offers train                        # the model file beside the workspace
    empreinte offers next --profile prf_… [--channel app] [-n 3] [--lang fr] [--seed 7]
    empreinte offers performance [--csv perf.csv]

`next` is a preview: it records no impression (the API's answers do). docs/offers.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    CsvOption,
    JsonOption,
    WorkspaceOption,
    check_lang,
    console,
    err,
    print_json,
    reading,
    report_table,
    save,
)
from empreinte.cli.common import (
    workspace as writing,
)

offers_app = typer.Typer(
    help="Next best offers: import, list, show, train, next, performance.",
    no_args_is_help=True,
)


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f} €"


def _share(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f} %"


@offers_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A .csv (header: the fields) or .jsonl file.")],
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Add or replace offers from a file; each bad row is reported, the good ones kept."""
    with writing(workspace) as ws:
        report = ws.offers.import_file(file)
    if as_json:
        print_json(report.to_json())
    else:
        console.print(f"imported {len(report.offers)} offer(s)")
        for error in report.errors:
            err.print(f"{file}: {error}", markup=False)
    if report.errors and not report.offers:
        raise typer.Exit(1)


@offers_app.command("list")
def list_(
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """The catalogue."""
    with reading(workspace) as ws:
        offers = ws.offers.list()
    if as_json:
        print_json({"offers": [o.to_json() for o in offers]})
        return
    table = report_table("Offers")
    for column in ("offer", "title", "targets", "channels", "valid", "cap/week", "status"):
        table.add_column(column)
    for o in offers:
        targets = ", ".join([*o.categories, *o.products] + ([o.brand] if o.brand else []))
        valid = f"{o.valid_from.date() if o.valid_from else '…'} → " + (
            str(o.valid_until.date()) if o.valid_until else "…"
        )
        table.add_row(
            o.offer_id,
            o.title_en,
            targets,
            ", ".join(o.channels) or "all",
            valid,
            str(o.cap_per_week),
            o.status,
        )
    console.print(table)


@offers_app.command("show")
def show(
    offer_id: Annotated[str, typer.Argument(help="The offer's id.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """One offer, as JSON."""
    with reading(workspace) as ws:
        print_json(ws.offers.get(offer_id).to_json())


@offers_app.command("train")
def train(
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Train the recommender from the log and save the model beside the workspace (a running
    server loads it at its next refresh)."""
    with writing(workspace) as ws:
        report = ws.offers.train()
    if as_json:
        print_json(report.to_json())
    else:
        console.print(
            f"trained on {report.interactions:,} interactions of {report.people:,} people "
            f"over {report.products:,} products → {report.path}"
        )


@offers_app.command("next")
def next_(
    profile: Annotated[str | None, typer.Option("--profile", help="A profile id.")] = None,
    user_id: Annotated[str | None, typer.Option("--user-id", help="Or a userId.")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="web, app, store…")] = None,
    n: Annotated[int, typer.Option("-n", help="How many offers (1-20).")] = 3,
    lang: Annotated[str, typer.Option("--lang", help="en or fr.")] = "en",
    seed: Annotated[int | None, typer.Option("--seed", help="Pin the draw.")] = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """A person's next best offers, with reasons (a preview: no impression recorded)."""
    check_lang(lang)
    with writing(workspace) as ws:
        found = ws.offers.next(
            profile, user_id=user_id, channel=channel, n=n, lang=lang, seed=seed, record=False
        )
    if as_json:
        print_json(found.to_json())
        return
    if not found.personalised:
        console.print(f"not personalised: {found.why_not_personalised}")
    table = report_table(f"Next offers for {found.profile_id}", caption=f"seed {found.seed}")
    for column in ("offer", "title", "score", "reason"):
        table.add_column(column)
    for r in found.offers:
        table.add_row(r.offer.offer_id, r.offer.title(lang), f"{r.score:.3f}", r.reason.text)
    console.print(table)


@offers_app.command("performance")
def performance(
    csv: CsvOption = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Per offer: shown, clicked, declined, redeemed, rates and budget used."""
    with reading(workspace) as ws:
        rows = ws.offers.performance()
    if as_json:
        print_json({"offers": [r.to_json() for r in rows]})
        return
    if csv is not None:
        import csv as csv_module
        import io

        buffer = io.StringIO()
        docs = [r.to_json() for r in rows]
        writer = csv_module.DictWriter(buffer, fieldnames=list(docs[0]) if docs else ["offer_id"])
        writer.writeheader()
        writer.writerows(docs)
        save(csv, buffer.getvalue())
    table = report_table("Offer performance")
    names = ("offer", "shown", "clicked", "declined", "redeemed", "click rate", "budget used")
    for column in names:
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.offer.offer_id,
            f"{r.shown:,}",
            f"{r.clicked:,}",
            f"{r.declined:,}",
            f"{r.redeemed:,}",
            _share(r.click_rate),
            _share(r.budget_used) + (f" ({_money(r.spent_eur)})" if r.spent_eur else ""),
        )
    console.print(table)
