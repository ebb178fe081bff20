"""`empreinte voc …`: the voice of the customer from the command line.

    empreinte voc refresh [--refit]                      # analyse the texts logged since
    empreinte voc conversations --reason delivery --sentiment negative --limit 20
    empreinte voc conversation 1234                      # one text, turn by turn (redacted)
    empreinte voc topics                                 # topics, their terms and volumes
    empreinte voc topics rename 3 "Colis en retard"
    empreinte voc topics merge 5 3                       # topic 5 counts as 3 (--undo)
    empreinte voc reasons --period week
    empreinte voc quality [--agents]                     # FCR, silence, overtalk; per agent

Texts are shown as stored: redacted at ingestion. Other parts add their commands to this
group (`voc import`, `voc calls`) with a `register(voc_app)` in their own module.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    JsonOption,
    WorkspaceOption,
    console,
    err,
    fail,
    print_json,
    reading,
    report_table,
)
from empreinte.cli.common import workspace as writing

voc_app = typer.Typer(
    help="Voice of the customer: refresh, conversations, topics, reasons, quality.",
    no_args_is_help=True,
)
topics_app = typer.Typer(help="Topics: list (no command), rename, merge.")
voc_app.add_typer(topics_app, name="topics")

PeriodOption = Annotated[str, typer.Option("--period", help="day, week, month, quarter or year.")]


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


@voc_app.command("refresh")
def refresh(
    refit: Annotated[bool, typer.Option("--refit", help="Fit the topics again now.")] = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Analyse the texts written to the log since the last refresh (sentiment, reasons,
    quality, topics)."""
    with writing(workspace) as ws:
        report = ws.voc.refresh(refit=refit)
    if as_json:
        print_json(report.to_json())
        return
    refitted = ", topics fitted again" if report.refitted else ""
    err.print(
        f"{report.texts:,} texts analysed in {report.seconds:.1f} s; "
        f"{report.topics} topics{refitted}"
    )


@voc_app.command("conversations")
def conversations(
    reason: Annotated[str | None, typer.Option("--reason", help="Only this reason.")] = None,
    topic: Annotated[int | None, typer.Option("--topic", help="Only this topic id.")] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="call, chat, survey or review.")
    ] = None,
    sentiment: Annotated[
        str | None, typer.Option("--sentiment", help="negative, neutral or positive.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Analysed texts, newest first."""
    from empreinte.store.voc_store import TextFilter

    if kind is not None and kind not in ("call", "chat", "survey", "review"):
        raise fail(f"--kind: unknown kind {kind!r}: use call, chat, survey or review")
    if sentiment is not None and sentiment not in ("negative", "neutral", "positive"):
        raise fail(f"--sentiment: {sentiment!r}: use negative, neutral or positive")
    flt = TextFilter(kind=kind, reason=reason, topic_id=topic, sentiment=sentiment)
    with reading(workspace) as ws:
        rows = ws.voc.conversations(flt, limit=limit)
    if as_json:
        print_json({"texts": rows})
        return
    table = report_table("Conversations and verbatims")
    for heading in ("seq", "when", "kind", "lang", "sentiment", "start→end", "reason", "topics"):
        table.add_column(heading)
    for r in rows:
        table.add_row(
            str(r["seq"]),
            str(r["occurred_at"])[:16],
            r["kind"],
            r["language"] or "?",
            _num(r["sentiment"]),
            f"{_num(r['sentiment_start'])}→{_num(r['sentiment_end'])}",
            f"{r['reason'] or '–'} ({r['reason_by'] or ''})" if r["reason"] else "–",
            ", ".join(t["label"] for t in r["topics"]) or "–",
        )
    console.print(table)


@voc_app.command("conversation")
def conversation(
    seq: Annotated[int, typer.Argument(help="The text's seq (from `voc conversations`).")],
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """One text, turn by turn, with each turn's sentiment (redacted as stored)."""
    with reading(workspace) as ws:
        found = ws.voc.conversation(seq)
    if as_json:
        print_json(found)
        return
    console.print(
        f"[bold]{found['kind']}[/] #{seq} · {str(found['occurred_at'])[:16]} · "
        f"reason {found['reason'] or '–'} · sentiment {_num(found['sentiment'])}"
    )
    for turn in found["turns"]:
        console.print(
            f"  {turn['speaker']:>8} ({_num(turn['sentiment'])}): ", turn["text"], markup=False
        )


@topics_app.callback(invoke_without_command=True)
def topics(
    ctx: typer.Context,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """The topics found in the texts (rename and merge them with the subcommands)."""
    if ctx.invoked_subcommand is not None:
        return
    with reading(workspace) as ws:
        rows = ws.voc.topics()
    if as_json:
        print_json({"topics": rows})
        return
    if not rows:
        err.print("no topics yet: run `empreinte voc refresh` once texts are in the log")
        return
    table = report_table("Topics (NMF over the texts)")
    for heading in ("id", "label", "texts", "top terms", "merged into"):
        table.add_column(heading)
    for t in rows:
        table.add_row(
            str(t["topic_id"]),
            t["label"],
            _num(t["texts"]),
            ", ".join(t["terms"][:8]),
            str(t["merged_into"]) if t["merged_into"] is not None else "",
        )
    console.print(table)


@topics_app.command("rename")
def rename(
    topic_id: Annotated[int, typer.Argument(help="The topic's id.")],
    label: Annotated[str, typer.Argument(help='Its name ("" for its top terms again).')],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Name a topic; the name stays with it when the topics are fitted again."""
    with writing(workspace) as ws:
        ws.voc.rename_topic(topic_id, label or None)
    err.print(f"topic {topic_id} renamed")


@topics_app.command("merge")
def merge(
    topic_id: Annotated[int, typer.Argument(help="The topic merged.")],
    into: Annotated[int | None, typer.Argument(help="The topic it counts as.")] = None,
    undo: Annotated[bool, typer.Option("--undo", help="Undo the merge of TOPIC_ID.")] = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Count a topic as another one (in every report), or undo it with --undo."""
    if (into is None) != undo:
        raise fail("give the topic to merge into, or --undo (not both)")
    with writing(workspace) as ws:
        ws.voc.merge_topics(topic_id, None if undo else into)
    err.print(f"topic {topic_id} unmerged" if undo else f"topic {topic_id} merged into {into}")


@voc_app.command("reasons")
def reasons(
    period: PeriodOption = "week",
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Why people call: conversations per reason, and per period."""
    with reading(workspace) as ws:
        report = ws.voc.reasons(period)
    if as_json:
        print_json(report)
        return
    table = report_table("Reasons for calling")
    for heading in ("reason", "conversations", "share"):
        table.add_column(heading)
    for r in report["reasons"]:
        table.add_row(r["reason"], _num(r["texts"]), f"{r['share']:.1%}")
    console.print(table)
    trend = report_table(f"Per {period}")
    for heading in (period, "reason", "conversations", "sentiment"):
        trend.add_column(heading)
    for r in report["trend"]:
        trend.add_row(r["period"], r["reason"], _num(r["texts"]), _num(r["sentiment"]))
    console.print(trend)


@voc_app.command("quality")
def quality(
    agents: Annotated[bool, typer.Option("--agents", help="Per agent (for coaching).")] = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Quality of service: first-contact resolution (no second contact within 7 days),
    length, silence and overtalk, per reason; or per agent."""
    with reading(workspace) as ws:
        rows = ws.voc.agents() if agents else ws.voc.quality()
    if as_json:
        print_json({"agents" if agents else "reasons": rows})
        return
    key = "agent_id" if agents else "reason"
    table = report_table("Per agent" if agents else "Quality per reason (* = all)")
    for heading in (key, "contacts", "mean length (s)", "FCR", "silence", "sentiment end−start"):
        table.add_column(heading)
    for r in rows:
        table.add_row(
            str(r[key]),
            _num(r["contacts"]),
            _num(r["mean_duration_s"], 0),
            _num(r["fcr"]),
            _num(r["silence_ratio"]),
            _num(r["sentiment_change"]),
        )
    console.print(table)


def _register_parts() -> None:
    """The other parts' commands (`voc import`, `voc calls`), each module's `register`."""
    for part in ("voc_import", "voc_calls"):
        name = f"empreinte.cli.{part}"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(voc_app)


_register_parts()
