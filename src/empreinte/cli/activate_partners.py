"""`empreinte partners`: aggregated insights a retailer may hand to a brand.

    empreinte partners brands                       # brands with at least k buyers
    empreinte partners report --brand Apple --by generation --since 2025-01-01 \\
        --until 2026-01-01 --csv apple.csv --lang fr
    empreinte partners report --brand Apple --parquet apple.parquet --json

No cell of fewer than k people, and none recoverable from the others (docs/partners.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    CsvOption,
    JsonRowsOption,
    SinceOption,
    UntilOption,
    WorkspaceOption,
    check_lang,
    console,
    err,
    fail,
    moment,
    print_json,
    reading,
    report_table,
    save,
)

partners_app = typer.Typer(
    help="Partner insights: brand reports with no cell below k.", no_args_is_help=True
)

KOption = Annotated[
    int | None,
    typer.Option("--k", help="Minimum people per cell (default and floor: [partners] k)."),
]
LangOption = Annotated[str, typer.Option("--lang", help="Headers and words: en or fr.")]


@partners_app.command("brands")
def brands(
    since: SinceOption = None,
    until: UntilOption = None,
    k: KOption = None,
    as_json: JsonRowsOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """The brands bought by at least k people in the period, most bought first."""
    with reading(workspace) as ws:
        found = ws.partners.brands(
            since=moment(since, "--since"), until=moment(until, "--until"), k=k
        )
    if as_json:
        print_json({"k": found.k, "brands": found.to_rows()})
        return
    table = report_table(f"Brands with at least {found.k} buyers")
    for name in ("brand", "buyers", "categories"):
        table.add_column(name, justify="left" if name == "brand" else "right")
    for brand in found.brands:
        table.add_row(brand.name, f"{brand.buyers:,}", str(brand.categories))
    console.print(table)


@partners_app.command("report")
def report(
    brand: Annotated[str, typer.Option("--brand", help="The brand (any case).")],
    by: Annotated[
        str | None, typer.Option("--by", help="Breakdown: generation, country or city.")
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    k: KOption = None,
    csv: CsvOption = None,
    parquet: Annotated[
        Path | None, typer.Option("--parquet", help="Write the report to this Parquet file.")
    ] = None,
    as_json: JsonRowsOption = False,
    lang: LangOption = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Penetration, repeat rate, share of wallet and switching of a brand per category (and
    by generation, country or city), suppressed cells marked."""
    from empreinte.analytics.partners.labels import label

    check_lang(lang)
    with reading(workspace) as ws:
        found = ws.partners.report(
            brand, by=by, since=moment(since, "--since"), until=moment(until, "--until"), k=k
        )
    if csv is not None:
        save(csv, found.to_csv(lang))
    if parquet is not None:
        import pyarrow.parquet as pq

        try:
            pq.write_table(found.to_arrow(), parquet)
        except OSError as exc:
            raise fail(f"--parquet: cannot write {parquet}: {exc}") from None
        err.print(f"report written to {parquet}")
    if as_json:
        print_json(found.to_json())
        return

    def t(key: str) -> str:
        return label(key, lang)

    title = f"{found.brand} — k = {found.k}"
    notes = []
    if found.categories_below_k:
        notes.append(
            f"{found.categories_below_k} categories with fewer than {found.k} brand buyers"
            if lang == "en"
            else f"{found.categories_below_k} catégories de moins de {found.k} acheteurs"
        )
    table = report_table(title, "; ".join(notes) or None)
    # The terminal shows the headline figures; --csv, --parquet and --json hold them all.
    shown = ("category_buyers", "brand_buyers")
    rates = ("penetration", "repeat_rate", "share_of_wallet", "retention")
    for name in ("category", "group", *shown, *rates):
        table.add_column(
            t(name),
            justify="left" if name in ("category", "group") else "right",
            overflow="fold",
        )
    for row in found.rows:
        table.add_row(
            t(row.category),
            t(row.group),
            *(row.counts[name].text(lang) for name in shown),
            *(_pct(row.rates[name]) for name in rates),
        )
    console.print(table)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"
