"""`empreinte match …`: probabilistic record matching from the command line.

A Typer sub-app, mounted as `empreinte match` by `cli/__init__.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    ActorOption,
    WorkspaceOption,
    console,
    reading,
)
from empreinte.cli.common import actor as _actor
from empreinte.cli.common import fail as _fail
from empreinte.cli.common import workspace as _workspace
from empreinte.errors import EmpreinteError
from empreinte.matching.jobs import (
    DEFAULT_ID_TYPE,
    accept_review,
    list_reviews,
    read_csv,
    reject_review,
    run_match_job,
)
from empreinte.matching.linkage import DEFAULT_HIGH, DEFAULT_LOW, MatchSettings
from empreinte.store.match_store import MatchReview

match_app = typer.Typer(
    help="Probabilistic record matching (Splink): link CRM/store files to known people.",
    no_args_is_help=True,
)


@match_app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help="CSV file of records (one per line, a header).")],
    reference: Annotated[
        Path | None,
        typer.Option(
            help="CSV of known people (profile_id, user_id, first_name, last_name, email, "
            "phone, birth_date, city, postcode). Without it, the workspace's profiles are "
            "the known people (raw values from the vault)."
        ),
    ] = None,
    dedup: Annotated[
        bool,
        typer.Option("--dedup", help="Deduplicate FILE against itself, not against people."),
    ] = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    id_column: Annotated[str, typer.Option(help="The file's record id column.")] = "record_id",
    id_type: Annotated[
        str, typer.Option(help="Kind of record id, as written in context.externalIds.")
    ] = DEFAULT_ID_TYPE,
    fields: Annotated[
        str | None,
        typer.Option(help="Comma-separated fields to compare (default: all found in both)."),
    ] = None,
    high: Annotated[float, typer.Option(help="Accept automatically from this probability.")] = (
        DEFAULT_HIGH
    ),
    low: Annotated[float, typer.Option(help="Queue for review from this probability.")] = (
        DEFAULT_LOW
    ),
    region: Annotated[str, typer.Option(help="Country of phone numbers without +code.")] = "FR",
    identifier: Annotated[
        list[str] | None,
        typer.Option(
            help="A column holding an id of the person (social security, member number): "
            "same value = strong evidence, one typo apart = some. Repeat it, or separate "
            "columns with commas."
        ),
    ] = None,
    compare: Annotated[
        list[str] | None,
        typer.Option(
            help="Another column to compare as text (street number, state). Repeat it, or "
            "separate columns with commas."
        ),
    ] = None,
) -> None:
    """Match FILE against known people: accept sure pairs, queue doubtful ones for review."""
    if dedup and reference is not None:
        raise _fail("--dedup and --reference exclude each other")
    try:
        settings = MatchSettings(
            high_threshold=high,
            low_threshold=low,
            fields=tuple(f.strip() for f in fields.split(",") if f.strip()) if fields else None,
            id_column=id_column,
            default_region=region.upper(),
            identifiers=_columns(identifier),
            compare=_columns(compare),
        )
        records = read_csv(file)
        known = read_csv(reference) if reference is not None else None
    except EmpreinteError as exc:
        raise _fail(str(exc)) from None
    with _workspace(workspace) as ws:
        if known is None and not dedup:
            from empreinte.profiles.reference import reference_table

            with console.status("reading the known people from the profiles…"):
                known = reference_table(ws.profiles)
            if known.num_rows == 0:
                raise _fail(
                    "no profile has a name, an e-mail or a phone yet: pass --reference "
                    "FILE, or --dedup to deduplicate the file against itself"
                )
        with console.status("training and scoring…"):
            report = run_match_job(
                ws, records, known, source_file=file.name, settings=settings, id_type=id_type
            )
    against = f"{report.reference} known people" if known is not None else "each other"
    console.print(
        f"{report.records} records of {file.name} matched against {against} "
        f"in {report.seconds:.1f} s: {report.pairs} candidate pairs"
    )
    console.print(f"  accepted automatically (p ≥ {high}): [bold green]{report.accepted}[/]")
    console.print(f"  waiting for review ({low} ≤ p < {high}): [bold yellow]{report.queued}[/]")
    if report.skipped:
        console.print(f"  decided earlier, not proposed again: {report.skipped}")
    for note in report.notes:
        console.print(f"  note: {note}")
    if report.queued:
        console.print("Review them with `empreinte match reviews`.")


def _columns(given: list[str] | None) -> tuple[str, ...]:
    """Column names from repeated options, each possibly a comma-separated list."""
    return tuple(c.strip() for item in given or () for c in item.split(",") if c.strip())


def _describe(review: MatchReview) -> str:
    target = (
        f"profile {review.profile_id}"
        if review.profile_id is not None
        else f"record {review.other_record_id}"
    )
    return f"record {review.record_id} ↔ {target}"


@match_app.command("reviews")
def reviews(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    status: Annotated[str, typer.Option(help="pending, accepted, rejected or all.")] = "pending",
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
) -> None:
    """List match reviews (pending by default), most probable first, with the comparisons."""
    if status not in ("pending", "accepted", "rejected", "all"):
        raise _fail(f"unknown status {status!r}: choose pending, accepted, rejected or all")
    with reading(workspace) as ws:
        rows = list_reviews(ws, None if status == "all" else status, limit)
    if not rows:
        console.print(f"no {status} match reviews" if status != "all" else "no match reviews")
        return
    for review in rows:
        console.print(
            f"[bold]{review.review_id}[/]  p={review.probability:.3f}  {_describe(review)}  "
            f"({review.source_file}, {review.status})"
        )
        table = Table(show_header=True, box=None, pad_edge=False)
        for column in ("field", "file", "known", "agreement", "weight"):
            table.add_column(column, overflow="fold")
        for c in review.detail.get("comparisons", []):
            table.add_row(
                str(c.get("name")),
                str(c.get("left") or "—"),
                str(c.get("right") or "—"),
                str(c.get("level")),
                f"{float(c.get('match_weight') or 0):+.1f}",
            )
        console.print(table)


@match_app.command("accept")
def accept(
    review_id: Annotated[str, typer.Argument(help="The review id (see `match reviews`).")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    by: ActorOption = None,
) -> None:
    """Accept a match: an identify event links the record to the profile."""
    with _workspace(workspace) as ws:
        review = accept_review(ws, review_id, _actor(by))
    console.print(f"accepted {review.review_id}: {_describe(review)}")


@match_app.command("reject")
def reject(
    review_id: Annotated[str, typer.Argument(help="The review id (see `match reviews`).")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    by: ActorOption = None,
) -> None:
    """Reject a match: nothing is merged and the pair is not proposed again."""
    with _workspace(workspace) as ws:
        review = reject_review(ws, review_id, _actor(by))
    console.print(f"rejected {review.review_id}: {_describe(review)}")
