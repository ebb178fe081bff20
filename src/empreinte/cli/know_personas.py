"""`empreinte personas`: personas found in behaviour, and their cards.

    empreinte personas                      # k chosen by stability over 2..10, seed 0
    empreinte personas --k 5 --seed 3 --lang fr --out cards/
    empreinte personas --csv personas.csv --json

Prints the personas (name, people, share) and every k's stability (when k is not asked);
`--out DIR` writes the cards as personas.md, personas.html and persona-<n>.png. Only people
who allow analytics and profiling are clustered (docs/personas.md).
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


def personas(
    k: Annotated[
        int | None, typer.Option("--k", help="Number of personas (default: the most stable).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample and k-means.")] = 0,
    lang: Annotated[str, typer.Option("--lang", help="Names and cards: en or fr.")] = "en",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the cards (.md, .html, .png) here.")
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    csv: CsvOption = None,
    json: JsonRowsOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Personas from data: people clustered on their behaviour, each with a card."""
    from empreinte.analytics.cx.rendering import to_csv
    from empreinte.errors import AnalyticsError

    check_lang(lang)
    with reading(workspace) as ws:
        try:
            report = ws.know.personas(
                k, seed, lang=lang, since=moment(since, "--since"), until=moment(until, "--until")
            )
        except AnalyticsError as exc:
            raise fail(str(exc)) from None
    if csv is not None:
        save(csv, to_csv(report.to_rows()))
    if out is not None:
        try:
            written = report.write(out)
        except OSError as exc:
            raise fail(f"--out: cannot write {out}: {exc.strerror}") from None
        err.print(f"{len(written)} files written to {out}")
    if json:
        print_json(report.to_dict())
        return
    clusters = report.clusters
    how: str = clusters.chosen_by
    if clusters.fitted != clusters.k:
        how += f"; {clusters.fitted - clusters.k} of {clusters.fitted} components left empty"
    table = report_table(
        f"Personas (k = {clusters.k}, {how}; seed {clusters.seed})",
        f"{clusters.total:,} people who allow analytics and profiling, with at least"
        f" {clusters.min_touchpoints} touchpoints; {clusters.too_little_history:,} more"
        f" ({100 * (1 - clusters.coverage):.0f}%) have too little history yet",
    )
    for name, justify in (("#", "right"), ("persona", "left"), ("people", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("share", justify="right")
    for row in report.to_rows():
        table.add_row(
            str(row["cluster"]), row["name"], f"{row['people']:,}", f"{100 * row['share']:.1f}%"
        )
    console.print(table)
    if not report.score_rows():  # k was asked: no stability measured
        return
    scores = report_table("Choice of k: stability across half-samples (ARI)")
    for name in ("k", "stability", ""):
        scores.add_column(name, justify="right")
    for row in report.score_rows():
        scores.add_row(str(row["k"]), f"{row['stability']:.3f}", "chosen" if row["chosen"] else "")
    console.print(scores)
