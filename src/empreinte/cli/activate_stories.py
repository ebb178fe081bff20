"""`empreinte products …` and `empreinte stories …`: the product catalogue and the year in
review from the command line.

    empreinte products import catalogue.csv            # or .jsonl; --replace to start afresh
    empreinte products list [--category phones] [--json]
    empreinte products show P0002
    empreinte stories show p_1234abcd… --year 2025 [--lang fr] [--png story.png] [--json]
    empreinte stories render --year 2025 [--segment NAME] --out stories/ [--lang fr]
    empreinte stories community --year 2025
    empreinte stories share p_1234abcd… --year 2025     # a public link's path

People who refused `personalisation` get no story: `render` counts them as skipped, never
names them (docs/stories.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    ActorOption,
    JsonOption,
    WorkspaceOption,
    actor,
    console,
    fail,
    print_json,
    progress,
    reading,
    report_table,
)
from empreinte.cli.common import workspace as writing

products_app = typer.Typer(
    help="The product catalogue (prices, CO2 figures): import, list, show.",
    no_args_is_help=True,
)
stories_app = typer.Typer(
    help="The year in review: show one story, render a segment's, the community, share links.",
    no_args_is_help=True,
)

YearOption = Annotated[int, typer.Option("--year", help="The year told (e.g. 2025).")]
StoryLangOption = Annotated[
    str | None, typer.Option("--lang", help="en or fr (default: each person's own).")
]


@products_app.command("import")
def import_products(
    file: Annotated[Path, typer.Argument(help="A CSV (with a header) or JSONL file.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the whole catalogue (default: add).")
    ] = False,
    json_: JsonOption = False,
    path: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Import products; bad rows are reported by line and field and left out."""
    with writing(path) as ws:
        report = ws.stories.catalogue.import_file(file, replace_all=replace)
    if json_:
        print_json(report.to_json())
    else:
        console.print(
            f"{report.imported} products imported; the catalogue has {report.total} products"
        )
        for problem in report.problems:
            console.print(f"  [yellow]left out[/] {problem}")
    if report.problems:
        raise typer.Exit(1)


@products_app.command("list")
def list_products(
    category: Annotated[str | None, typer.Option("--category", help="Only this one.")] = None,
    json_: JsonOption = False,
    path: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """The catalogue, by product id."""
    with reading(path) as ws:
        products = [
            p for p in ws.stories.catalogue.all() if category is None or p.category == category
        ]
    if json_:
        print_json({"products": [p.to_json() for p in products]})
        return
    table = report_table(f"{len(products)} products")
    for column in ("id", "sku", "name", "category", "condition", "price", "CO₂ kg", "avoided"):
        table.add_column(column, justify="right" if column[0] in "pCa" else "left")
    for p in products:
        avoided = p.co2_avoided_kg
        table.add_row(
            p.product_id,
            p.sku or "",
            p.name,
            p.category or "",
            p.condition,
            "" if p.price is None else f"{p.price:,.2f} {p.currency or ''}",
            "" if p.co2_kg is None else f"{p.co2_kg:g}",
            "" if avoided is None else f"{avoided:g}",
        )
    console.print(table)


@products_app.command("show")
def show_product(
    product_id: Annotated[str, typer.Argument(help="The product id.")],
    path: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """One product as JSON."""
    with reading(path) as ws:
        product = ws.stories.catalogue.get(product_id)
    if product is None:
        raise fail(f"no product {product_id!r} in the catalogue")
    print_json(product.to_json())


@stories_app.command("show")
def show_story(
    profile: Annotated[str, typer.Argument(help="A profile id.")],
    year: YearOption,
    lang: StoryLangOption = None,
    png: Annotated[Path | None, typer.Option("--png", help="Also write the PNG here.")] = None,
    json_: JsonOption = False,
    path: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """One person's story (none when they refused personalisation)."""
    with reading(path) as ws:
        story = ws.stories.story(profile, year, lang)
        image = ws.stories.png(story) if png else None
    if png and image:
        png.write_bytes(image)
    if json_:
        print_json(story.to_json())
        return
    console.print(f"[bold]{story.intro.title}[/] — {story.year} ({story.lang})")
    for slide in story.slides:
        console.print(f"\n[dim]{slide.title}[/]\n  [bold]{slide.big}[/]  {slide.detail}")
        if slide.note:
            console.print(f"  {slide.note}")
    console.print(f"\n[dim]{story.footer}[/]")


@stories_app.command("render")
def render_stories(
    year: YearOption,
    out: Annotated[Path, typer.Option("--out", help="Directory of the PNG files.")],
    segment: Annotated[
        str | None, typer.Option("--segment", help="Only this saved segment's members.")
    ] = None,
    lang: StoryLangOption = None,
    json_: JsonOption = False,
    path: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Render the PNG story of every buyer of the year (of a segment) who allows
    personalisation; the others are counted, not named."""
    with reading(path) as ws, progress() as bar:
        task = bar.add_task(f"rendering {year} stories", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = ws.stories.render(year, out, segment=segment, lang=lang, progress=advance)
    if json_:
        print_json(report.to_json())
        return
    console.print(f"{report.rendered} stories written to [bold]{report.directory}[/]")
    console.print(f"  skipped: {report.refused} without personalisation consent", highlight=False)
    if segment:
        console.print(f"  skipped: {report.without_purchases} members without a {year} order")


@stories_app.command("community")
def community(
    year: YearOption, json_: JsonOption = False, path: WorkspaceOption = DEFAULT_WORKSPACE
) -> None:
    """The community's year: buyers, refurbished items, CO2 avoided together."""
    with reading(path) as ws:
        found = ws.stories.community(year)
    if json_:
        print_json(found.to_json())
        return
    console.print(
        f"{year}: {found.buyers:,} buyers, {found.refurbished_buyers:,} chose refurbished "
        f"({found.refurbished_items:,} items), {found.co2_avoided_kg:,.1f} kg of CO₂ avoided"
    )


@stories_app.command("share")
def share(
    profile: Annotated[str, typer.Argument(help="A profile id.")],
    year: YearOption,
    lang: StoryLangOption = None,
    by: ActorOption = None,
    json_: JsonOption = False,
    path: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Make a public link to a person's story (served by `empreinte serve` at its path)."""
    with writing(path) as ws:
        link = ws.stories.share(profile, year, actor(by), lang)
    if json_:
        print_json(link.to_json())
    else:
        console.print(f"{link.path}   (append it to the server's address)")
