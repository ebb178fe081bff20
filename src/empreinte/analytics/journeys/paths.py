"""Paths: the most frequent next (or previous) steps from an anchor step, as a Sankey-ready table.

From every occurrence of the anchor (a step, optionally with property filters: "Product Viewed
where category = shoes") the report follows the person's touchpoints `depth` steps forwards
(`direction="next"`) or backwards (`"previous"`), within the person's session or within a time
limit of the anchor when asked, and counts the transitions level by level:

- level 1 is anchor → first step after it, level 2 first → second, … (for `previous`, level
  -1 is the step just before → the anchor, level -2 the one before that → the step before…);
- a path that stops (no more touchpoints, the session ends, the time limit is reached) goes to
  `(end)` (`(start)` backwards) and stops there;
- at each level only the `top` most frequent labels are kept; the others are `(other)`.

Counting: a *path occurrence* is one anchor occurrence and the steps that follow it. A person
who views a product three times has three occurrences (with `anchors="first"`, only their
first). `transitions` counts occurrences that made a transition; `people` counts the distinct
people among them. So the shares of the targets of one source at one level (transitions over
the source's outgoing transitions) sum to 1.

The heavy work is one Ibis expression run in the engine, a single pass over the touchpoints:
window functions give each touchpoint the labels of the `depth` steps after (before) it, the
anchors' rows are unnested into one row per level, a rank over each level keeps the top, and
one aggregate counts; Python only orders the small result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, get_args

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.journeys.steps import Step, parse_step
from empreinte.analytics.journeys.touchpoints import (
    DEFAULT_SESSION_GAP,
    JourneyScope,
    sessions,
    touchpoints,
)
from empreinte.analytics.log import AnalyticsLog
from empreinte.durations import parse_duration
from empreinte.errors import AnalyticsError

Direction = Literal["next", "previous"]
Label = Literal["step", "page", "channel", "channel_step"]
Anchors = Literal["every", "first"]
DIRECTIONS: tuple[str, ...] = get_args(Direction)
LABELS: tuple[str, ...] = get_args(Label)
ANCHORS: tuple[str, ...] = get_args(Anchors)

END = "(end)"
START = "(start)"
OTHER = "(other)"
MAX_DEPTH = 20
MAX_TOP = 100


def parse_within(text: str | None) -> timedelta | Literal["session"] | None:
    """`session`, a duration (`90s`, `30m`, `2h`, `7d`: journeys/steps.py) or nothing (the
    whole journey): the CLI's and the API's spelling of `within`."""
    if text is None or text == "" or text == "unlimited":
        return None
    if text == "session":
        return "session"
    return parse_duration(text, "within")


@dataclass(frozen=True)
class Transition:
    """One edge of the Sankey: at `level`, from node `source` to node `target`."""

    level: int
    source: str
    target: str
    people: int
    transitions: int
    share: float  # of the source's transitions at this level


@dataclass(frozen=True)
class LevelStep:
    """A node of one level: how many occurrences (and people) were at `step` then."""

    level: int
    rank: int
    step: str
    people: int
    transitions: int
    share: float  # of the occurrences that reached this level


@dataclass(frozen=True)
class PathReport:
    """The most frequent next or previous steps of an anchor."""

    anchor: Step
    direction: Direction
    depth: int
    label: Label
    top: int
    collapse: bool
    within: str  # "session", "unlimited" or a duration such as "1 day, 0:00:00"
    occurrences: int  # anchor occurrences followed
    people: int  # distinct people among them
    transitions: tuple[Transition, ...]
    steps: tuple[LevelStep, ...]

    def to_rows(self) -> list[dict[str, Any]]:
        """The Sankey-ready table: level, source, target, people, transitions, share."""
        return [
            {
                "level": t.level,
                "source": t.source,
                "target": t.target,
                "people": t.people,
                "transitions": t.transitions,
                "share": t.share,
            }
            for t in self.transitions
        ]

    def step_rows(self) -> list[dict[str, Any]]:
        """The top steps of each level, with their shares."""
        return [
            {
                "level": s.level,
                "rank": s.rank,
                "step": s.step,
                "people": s.people,
                "transitions": s.transitions,
                "share": s.share,
            }
            for s in self.steps
        ]

    def to_pandas(self) -> pd.DataFrame:
        columns = ["level", "source", "target", "people", "transitions", "share"]
        return pd.DataFrame(self.to_rows(), columns=columns)

    def steps_frame(self) -> pd.DataFrame:
        columns = ["level", "rank", "step", "people", "transitions", "share"]
        return pd.DataFrame(self.step_rows(), columns=columns)


def check_label(label: str) -> Label:
    if label not in LABELS:
        raise AnalyticsError(f"unknown step label {label!r}: use one of {', '.join(LABELS)}")
    return label  # type: ignore[return-value]


def labelled(table: ir.Table, label: Label) -> ir.StringValue:
    """The label of each touchpoint: its step; the page or screen with its name
    (`Page Viewed: Checkout`); its channel; or `channel: step`."""
    if label == "step":
        return table.step
    if label == "channel":
        return table.channel
    if label == "channel_step":
        return table.channel.concat(": ", table.step)
    named = table.type.isin(["page", "screen"]) & table.name.notnull() & (table.name != "")
    return ibis.ifelse(named, table.step.concat(": ", table.name), table.step)


def paths(
    log: AnalyticsLog,
    anchor: Step | str,
    *,
    direction: str = "next",
    depth: int = 3,
    top: int = 5,
    label: str = "step",
    collapse: bool = False,
    within: timedelta | Literal["session"] | None = None,
    session_gap: timedelta = DEFAULT_SESSION_GAP,
    anchors: str = "every",
    scope: JourneyScope | None = None,
) -> PathReport:
    """The `top` most frequent steps at each of `depth` levels after (or before) `anchor`.

    `within`: None follows the whole journey; "session" stops at the end of the anchor's
    session (sessions across channels, a new one after `session_gap` of silence); a duration
    stops at the last touchpoint at most that long after (before) the anchor. `collapse`
    merges runs of the same label into one step (A A B → A B) before anything is counted.
    """
    spec = parse_step(anchor) if isinstance(anchor, str) else anchor
    if direction not in DIRECTIONS:
        raise AnalyticsError(f"unknown direction {direction!r}: use next or previous")
    if not 1 <= depth <= MAX_DEPTH:
        raise AnalyticsError(f"depth must be between 1 and {MAX_DEPTH}, got {depth}")
    if not 1 <= top <= MAX_TOP:
        raise AnalyticsError(f"top must be between 1 and {MAX_TOP}, got {top}")
    if anchors not in ANCHORS:
        raise AnalyticsError(f"unknown anchors {anchors!r}: use every or first")
    kind = check_label(label)
    if isinstance(within, timedelta) and within <= timedelta(0):
        raise AnalyticsError(f"the time limit must be positive, not {within}")
    if within is not None and not isinstance(within, timedelta) and within != "session":
        raise AnalyticsError(f"within must be 'session' or a duration, not {within!r}")
    forward = direction == "next"
    table = touchpoints(log, scope)

    keys = ["profile_id"]
    if within == "session":
        table = sessions(table, session_gap, by_channel=False)
        keys.append("session_id")
    table = table.mutate(label=labelled(table, kind), is_anchor=spec.matches(log, table))
    order = [table.at, table.seq]
    if collapse:
        previous = table.label.lag().over(group_by=[table[k] for k in keys], order_by=order)
        # The window as a column first, then the filter (Spark cannot filter on a window).
        table = table.mutate(_previous=previous)
        table = table.filter(table._previous.isnull() | (table._previous != table.label)).drop(
            "_previous"
        )
    # The `depth` labels after (before) each touchpoint, by window functions over the
    # person's (session's) touchpoints: no self-join, the touchpoints are read once.
    window = ibis.window(group_by=[table[k] for k in keys], order_by=[table.at, table.seq])
    limit = (
        ibis.interval(microseconds=within // timedelta(microseconds=1))
        if isinstance(within, timedelta)
        else None
    )
    following: dict[str, ir.Value] = {}
    for k in range(1, depth + 1):
        label_k = (table.label.lead(k) if forward else table.label.lag(k)).over(window)
        if limit is not None:
            at_k = (table.at.lead(k) if forward else table.at.lag(k)).over(window)
            inside = (at_k <= table.at + limit) if forward else (at_k >= table.at - limit)
            label_k = ibis.ifelse(inside, label_k, ibis.null("string"))
        following[f"_l{k}"] = label_k
    table = table.mutate(**following)
    found = table.filter(table.is_anchor)
    if anchors == "first":
        first = ibis.row_number().over(group_by=found.profile_id, order_by=[found.at, found.seq])
        found = found.mutate(_first=first).filter(lambda t: t._first == 0).drop("_first")
    # One row per occurrence and level: the anchor, the steps, then the terminal once.
    terminal = ibis.literal(END if forward else START)
    items = [ibis.struct({"offset": ibis.literal(0, "int64"), "label": found.label})]
    for k in range(1, depth + 1):
        step = found[f"_l{k}"]
        went_on = ibis.literal(True) if k == 1 else found[f"_l{k - 1}"].notnull()
        node = ibis.cases((step.notnull(), step), (went_on, terminal), else_=ibis.null("string"))
        items.append(ibis.struct({"offset": ibis.literal(k, "int64"), "label": node}))
    unnested = found.select("profile_id", o_seq=found.seq, _item=ibis.array(items)).unnest("_item")
    nodes = unnested.select(
        "profile_id", "o_seq", offset=unnested._item["offset"], label=unnested._item["label"]
    ).filter(lambda t: t.label.notnull())
    # The `top` labels of each level by occurrences (ties by label) by a rank over the level;
    # the terminals are always their own node and take no place in the top.
    is_terminal = nodes.label.isin([END, START])
    nodes = nodes.mutate(
        _terminal=ibis.ifelse(is_terminal, 1, 0),
        _n=nodes.count().over(group_by=[nodes.offset, nodes.label]),
    )
    rank = ibis.dense_rank().over(
        group_by=nodes.offset, order_by=[nodes._terminal, ibis.desc(nodes._n), nodes.label]
    )
    ranked = nodes.mutate(_rank=rank)
    grouped = ranked.select(
        "profile_id",
        "o_seq",
        "offset",
        node=ibis.ifelse(
            (ranked._terminal == 1) | (ranked._rank < top), ranked.label, ibis.literal(OTHER)
        ),
    )
    before = grouped.node.lag().over(
        group_by=[grouped.profile_id, grouped.o_seq], order_by=grouped.offset
    )
    # One aggregate over one table (Spark would compute a union's branches each from the
    # start): per (level, source, target) the occurrences and three counts of people, each
    # person counted at their first row of the edge, of the node, and of the level.
    nodes_of = grouped.mutate(before=before)

    def first_of(*keys: str) -> ir.IntegerValue:
        number = ibis.row_number().over(
            group_by=[nodes_of[k] for k in (*keys, "profile_id")], order_by=nodes_of.o_seq
        )
        flag: ir.IntegerValue = ibis.ifelse(number == 0, 1, 0)
        return flag

    flagged = nodes_of.mutate(
        _edge=first_of("offset", "before", "node"),
        _node=first_of("offset", "node"),
        _level=first_of("offset"),
    )
    counts = flagged.group_by(["offset", "before", "node"]).agg(
        transitions=flagged.count(),
        people=flagged._edge.sum(),
        node_people=flagged._node.sum(),
        level_people=flagged._level.sum(),
    )
    frame = log.execute(counts)
    anchored = frame[frame.offset == 0]
    occurrences = int(anchored.transitions.sum())
    if occurrences == 0:
        _check_known_step(log, spec)
    return PathReport(
        anchor=spec,
        direction=direction,  # type: ignore[arg-type]
        depth=depth,
        label=kind,
        top=top,
        collapse=collapse,
        within="unlimited" if within is None else str(within),
        occurrences=occurrences,
        people=int(anchored.level_people.sum()),
        transitions=_transitions(frame[frame.offset > 0], forward),
        steps=_steps(_levels(frame), forward),
    )


def _check_known_step(log: AnalyticsLog, spec: Step) -> None:
    """An anchor step that no touchpoint has ever had is a typo, not an empty report."""
    everyone = touchpoints(log, JourneyScope(consented_only=False))
    known = log.execute(everyone.filter(everyone.step == spec.event).limit(1).count())
    if not int(known):
        raise AnalyticsError(f"unknown step {spec.event!r}: no touchpoint has this name")


def _levels(frame: pd.DataFrame) -> pd.DataFrame:
    """The nodes of each level from the edge counts: occurrences add up; people were counted
    once per node (`node_people`)."""
    summed = frame.groupby(["offset", "node"], as_index=False)[["transitions", "node_people"]]
    return summed.sum().rename(columns={"node_people": "people"})


def _level(offset: int, forward: bool) -> int:
    return offset if forward else -offset


def _transitions(frame: pd.DataFrame, forward: bool) -> tuple[Transition, ...]:
    records = frame.to_dict("records")
    out_of: dict[tuple[int, str], int] = {}
    for r in records:
        key = (int(r["offset"]), str(r["before"]))
        out_of[key] = out_of.get(key, 0) + int(r["transitions"])
    rows = []
    for r in records:
        offset, before, node = int(r["offset"]), str(r["before"]), str(r["node"])
        n = int(r["transitions"])
        # Backwards, time flows from the step further back (`node`) to the one nearer.
        source, target = (before, node) if forward else (node, before)
        rows.append(
            Transition(
                _level(offset, forward),
                source,
                target,
                int(r["people"]),
                n,
                n / out_of[(offset, before)],
            )
        )
    rows.sort(key=lambda t: (abs(t.level), -t.transitions, t.source, t.target))
    return tuple(rows)


def _steps(frame: pd.DataFrame, forward: bool) -> tuple[LevelStep, ...]:
    records = frame.to_dict("records")
    at_level: dict[int, int] = {}
    for r in records:
        at_level[int(r["offset"])] = at_level.get(int(r["offset"]), 0) + int(r["transitions"])
    ordered = sorted(
        records, key=lambda r: (int(r["offset"]), -int(r["transitions"]), str(r["node"]))
    )
    rows: list[LevelStep] = []
    rank = 0
    for i, r in enumerate(ordered):
        offset = int(r["offset"])
        rank = 1 if i == 0 or int(ordered[i - 1]["offset"]) != offset else rank + 1
        n = int(r["transitions"])
        rows.append(
            LevelStep(
                _level(offset, forward),
                rank,
                str(r["node"]),
                int(r["people"]),
                n,
                n / at_level[offset],
            )
        )
    return tuple(rows)


def sources_of(report: PathReport) -> dict[tuple[int, str], list[Transition]]:
    """The transitions of `report` grouped by (level, the node they leave)."""
    grouped: dict[tuple[int, str], list[Transition]] = {}
    forward = report.direction == "next"
    for t in report.transitions:
        key = (t.level, t.source if forward else t.target)
        grouped.setdefault(key, []).append(t)
    return grouped


__all__: Sequence[str] = (
    "END",
    "OTHER",
    "START",
    "LevelStep",
    "PathReport",
    "Transition",
    "labelled",
    "paths",
    "sources_of",
)
