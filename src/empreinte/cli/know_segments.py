"""`empreinte segment …`: saved segments from the command line.

    empreinte segment create gen-z-fr 'country = "FR" and generation = "Gen Z"' --schedule 1d
    empreinte segment preview 'did("Order Completed", within="90d", count>=2)'
    empreinte segment list
    empreinte segment show gen-z-fr --lang fr
    empreinte segment members gen-z-fr --limit 20
    empreinte segment export gen-z-fr --out members.csv        # or .jsonl
    empreinte segment refresh [NAME] [--due]
    empreinte segment history gen-z-fr --limit 50
    empreinte segment overlap gen-z-fr big-spenders --csv overlap.csv --chart overlap.png
    empreinte segment delete gen-z-fr

Members are pseudonymous profile ids, never raw personal data. The language is in
docs/segments.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    ActorOption,
    ChartOption,
    CsvOption,
    JsonOption,
    WorkspaceOption,
    actor,
    check_lang,
    console,
    err,
    fail,
    print_json,
    reading,
    report_table,
    save,
)
from empreinte.cli.common import (
    workspace as writing,
)

segment_app = typer.Typer(
    help="Saved segments: create, list, show, members, export, refresh, history, overlap.",
    no_args_is_help=True,
)

LangOption = Annotated[str, typer.Option("--lang", help="Headings: en or fr.")]
DescriptionOption = Annotated[
    str | None, typer.Option("--description", help="What the segment is for.")
]
ScheduleOption = Annotated[
    str | None,
    typer.Option("--schedule", help='Refresh every…: "1h", "1d" (by `empreinte serve`).'),
]

_WORDS = {
    "en": {
        "segments": "Segments",
        "name": "name",
        "size": "size",
        "schedule": "schedule",
        "computed": "last computed",
        "expression": "expression",
        "description": "description",
        "created": "created",
        "refreshes": "Latest refreshes",
        "at": "at",
        "entered": "entered",
        "left": "left",
        "overlap": "Overlap",
        "both": "both",
        "jaccard": "Jaccard",
        "never": "never",
    },
    "fr": {
        "segments": "Segments",
        "name": "nom",
        "size": "taille",
        "schedule": "fréquence",
        "computed": "dernier calcul",
        "expression": "expression",
        "description": "description",
        "created": "créé",
        "refreshes": "Derniers calculs",
        "at": "le",
        "entered": "entrés",
        "left": "sortis",
        "overlap": "Recouvrement",
        "both": "dans les deux",
        "jaccard": "Jaccard",
        "never": "jamais",
    },
}


def _when(moment: object, lang: str) -> str:
    if moment is None:
        return _WORDS[lang]["never"]
    return str(moment)[:19]


@segment_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The segment's name.")],
    expression: Annotated[str, typer.Argument(help="e.g. 'country = \"FR\" and orders >= 2'")],
    description: DescriptionOption = None,
    schedule: ScheduleOption = None,
    by: ActorOption = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Save a segment and compute its members."""
    with writing(workspace) as ws:
        summary = ws.segments.create(
            name, expression, description=description, schedule=schedule, by=actor(by)
        )
    if as_json:
        print_json(summary.to_json())
        return
    err.print(f"segment {name!r} saved: {summary.size:,} members")


@segment_app.command("update")
def update(
    name: Annotated[str, typer.Argument(help="The segment's name.")],
    expression: Annotated[
        str | None, typer.Option("--expression", help="A new expression.")
    ] = None,
    description: DescriptionOption = None,
    schedule: Annotated[
        str | None, typer.Option("--schedule", help='A new schedule ("" for none).')
    ] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Change a segment's expression (computed again), description or schedule."""
    with writing(workspace) as ws:
        summary = ws.segments.update(
            name, expression=expression, description=description, schedule=schedule
        )
    err.print(f"segment {name!r} updated: {summary.size:,} members")


@segment_app.command("preview")
def preview(
    expression: Annotated[str, typer.Argument(help="An expression to try, not saved.")],
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """The live size of an expression, without saving it."""
    with reading(workspace) as ws:
        found = ws.segments.preview(expression)
    if as_json:
        print_json(found.to_json())
        return
    typer.echo(f"{found.size:,} people")


@segment_app.command("list")
def list_(
    csv: CsvOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Every saved segment with its size."""
    check_lang(lang)
    with reading(workspace) as ws:
        found = ws.segments.list()
    rows = [s.to_json() for s in found]
    if as_json:
        print_json(rows)
        return
    if csv is not None:
        from empreinte.analytics.cx.rendering import to_csv

        save(csv, to_csv(rows) if rows else "name\r\n")
    w = _WORDS[lang]
    table = report_table(w["segments"])
    for column in ("name", "size", "schedule", "computed", "expression"):
        table.add_column(w[column], justify="right" if column == "size" else "left")
    for s in found:
        d = s.definition
        table.add_row(
            d.name, f"{s.size:,}", d.schedule or "–", _when(d.last_computed_at, lang), d.expression
        )
    console.print(table)


@segment_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="The segment's name.")],
    as_json: JsonOption = False,
    lang: LangOption = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """A segment: its expression, size, schedule and what its latest refreshes changed."""
    check_lang(lang)
    with reading(workspace) as ws:
        detail = ws.segments.show(name)
    if as_json:
        print_json(detail.to_json())
        return
    w, d = _WORDS[lang], detail.definition
    console.print(f"[bold]{d.name}[/]  {w['size']}: {detail.size:,}", highlight=False)
    console.print(f"{w['expression']}: {d.expression}", highlight=False, markup=False)
    if d.description:
        console.print(f"{w['description']}: {d.description}", highlight=False, markup=False)
    console.print(
        f"{w['schedule']}: {d.schedule or '–'}   {w['computed']}: "
        f"{_when(d.last_computed_at, lang)}   {w['created']}: {_when(d.created_at, lang)}"
        + (f" ({d.created_by})" if d.created_by else ""),
        highlight=False,
        markup=False,
    )
    table = report_table(w["refreshes"])
    for column in ("at", "entered", "left"):
        table.add_column(w[column], justify="left" if column == "at" else "right")
    for step in detail.steps:
        table.add_row(_when(step.changed_at, lang), f"{step.entered:,}", f"{step.left:,}")
    console.print(table)


@segment_app.command("members")
def members(
    name: Annotated[str, typer.Argument(help="The segment's name.")],
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many.")] = None,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many.")] = 0,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Member profile ids (pseudonymous), one a line, as of the last refresh."""
    with reading(workspace) as ws:
        ids = ws.segments.members(name, limit, offset)
        total = ws.segments.size(name)
    for profile in ids:
        typer.echo(profile)
    err.print(f"{len(ids):,} of {total:,} members")


@segment_app.command("export")
def export(
    name: Annotated[str, typer.Argument(help="The segment's name.")],
    out: Annotated[Path, typer.Option("--out", help="A .csv or .jsonl file.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Write the members (profile id, when they entered) to a CSV or JSON Lines file."""
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise fail(f"--out: {out} must end in .csv or .jsonl")
    with reading(workspace) as ws:
        ids = ws.segments.members(name)
    if suffix == ".csv":
        text = "profile_id\r\n" + "".join(f"{profile}\r\n" for profile in ids)
    else:
        text = "".join(
            orjson.dumps({"segment": name, "profile_id": profile}).decode() + "\n"
            for profile in ids
        )
    save(out, text, f"{len(ids):,} members", "--out")


@segment_app.command("refresh")
def refresh(
    name: Annotated[str | None, typer.Argument(help="One segment (default: all).")] = None,
    due: Annotated[
        bool, typer.Option("--due", help="Only segments whose schedule is due.")
    ] = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Compute members again and record who entered and left."""
    if name is not None and due:
        raise fail("give a segment's name or --due, not both")
    with writing(workspace) as ws:
        done = [ws.segments.refresh(name)] if name else ws.segments.refresh_all(due=due)
    if as_json:
        print_json([r.to_json() for r in done])
        return
    for r in done:
        typer.echo(f"{r.name}: {r.size:,} members (+{r.entered:,} entered, -{r.left:,} left)")
    if not done:
        err.print("no segment to refresh")


@segment_app.command("history")
def history(
    name: Annotated[str, typer.Argument(help="The segment's name.")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 100,
    profile: Annotated[str | None, typer.Option("--profile", help="Only this profile id.")] = None,
    csv: CsvOption = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Who entered and left the segment, newest first."""
    with reading(workspace) as ws:
        changes = ws.segments.history(name, limit, profile_id=profile)
    rows = [
        {"changed_at": c.changed_at.isoformat(), "profile_id": c.profile_id, "change": c.change}
        for c in changes
    ]
    if as_json:
        print_json(rows)
        return
    if csv is not None:
        from empreinte.analytics.cx.rendering import to_csv

        save(csv, to_csv(rows) if rows else "changed_at,profile_id,change\r\n")
        return
    table = report_table(f"History of {name}")
    for column in ("changed_at", "profile_id", "change"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["changed_at"][:19], row["profile_id"], row["change"])
    console.print(table)


@segment_app.command("overlap")
def overlap(
    names: Annotated[
        list[str] | None, typer.Argument(help="Segments to compare (default: all).")
    ] = None,
    csv: CsvOption = None,
    chart: ChartOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """People in both of each pair of segments, and Jaccard (both / either)."""
    check_lang(lang)
    with reading(workspace) as ws:
        report = ws.segments.overlap(names or None)
        sizes = {name: ws.segments.size(name) for name in report.names}
    rows = report.to_rows()
    if chart is not None:
        from empreinte.analytics.know.segment_charts import overlap_chart
        from empreinte.errors import ChartError

        try:
            overlap_chart(report.names, report.to_rows(), sizes, chart, language=lang)
        except ChartError as exc:
            raise fail(f"--chart: {exc}") from None
        err.print(f"chart written to {chart}")
    if as_json:
        print_json(rows)
        return
    if csv is not None:
        from empreinte.analytics.cx.rendering import to_csv

        save(csv, to_csv(rows) if rows else "a,b,size_a,size_b,both,either,jaccard\r\n")
    w = _WORDS[lang]
    table = report_table(w["overlap"])
    for column in ("a", "b", "size_a", "size_b", w["both"], w["jaccard"]):
        table.add_column(column, justify="left" if column in ("a", "b") else "right")
    for r in rows:
        table.add_row(
            r["a"],
            r["b"],
            f"{r['size_a']:,}",
            f"{r['size_b']:,}",
            f"{r['both']:,}",
            f"{r['jaccard']:.3f}",
        )
    console.print(table)


@segment_app.command("delete")
def delete(
    name: Annotated[str, typer.Argument(help="The segment's name.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Delete a segment with its members and history."""
    with writing(workspace) as ws:
        ws.segments.delete(name)
    err.print(f"segment {name!r} deleted")
