"""Journeys: the funnel builder (with who dropped at each step), paths as a Sankey, the channel
mix and the mono/multi/cross/omni split, ROPO and showrooming, the pages that send people to
the phone, and attribution under every model side by side.

One page per tab (`/journeys`, `/journeys/paths`, `/journeys/channels`, `/journeys/ropo`,
`/journeys/calls`, `/journeys/attribution`), each computing only the reports it shows. Every
form is a GET: a funnel is a link to share. The reports are those of `view.ws.journeys`
(analytics/journeys/reports.py), called with the options of `web/journey_*_api.py`; the
aggregates go through the dashboard's report cache (`view.report`), the lists of people never
do: who dropped at a step is computed when asked (`?dropped=<step>[&group=…]`, the "list" links
of the funnel table), with `journeys.dropped`, as the API's `dropped=`.

Roles mirror the API (`web/journey_*_api.py`, tests/web/test_roles.py): journeys link each
person's actions across channels, so every journey report is for admins and analysts, and a
viewer gets 403 on these pages (and no navigation entry), as on `/api/journeys/*`. The lists of
people who dropped are pseudonymous profile ids, as the API's `dropped=` answers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from empreinte.errors import EmpreinteError, InvalidInput
from empreinte.web.dashboard.components import (
    PALETTE,
    Chart,
    Column,
    EmptyState,
    Table,
    bars,
    sankey,
)
from empreinte.web.dashboard.page import N_, STAFF, Action, Page, View
from empreinte.web.dashboard.snippets import track_snippets

if TYPE_CHECKING:
    from empreinte.analytics.journeys.attribution import AttributionReport
    from empreinte.analytics.journeys.funnels import FunnelReport
    from empreinte.analytics.journeys.paths import PathReport

# Report modules load Ibis and pandas: imported when a page is built, not with the app.

DEFAULT_STEPS = ("Product Viewed", "Checkout Started", "Order Completed")
#: The API's `dropped` goes to step 19: a funnel has at most 20 steps.
MAX_STEPS = 20
MIN_INPUTS = 3
MODES = ("ordered", "strict", "unordered")
COUNTS = ("people", "entries")
#: Breakdowns offered in the form's suggestions (any attribute of analytics/attributes.py is
#: accepted: properties.<path>, traits.<path>, segment:<name>…).
BREAKDOWNS = ("channel", "country", "generation", "preferred_channel", "source")
#: Groups drawn in the funnel chart (the table has them all).
MAX_CHART_GROUPS = 8
#: People listed per drop-off (the rest: the API's `dropped=` with a larger `limit`).
MAX_DROPPED = 2_000
#: Event names suggested in the forms.
MAX_SUGGESTIONS = 40

DIRECTIONS = ("next", "previous")
LABELS = ("step", "page", "channel", "channel_step")
ATTRIBUTION_BY = ("channel", "campaign", "channel_campaign")
MODEL_SETS = ("all", "heuristic", "markov")

WORDS = (
    N_("ordered"),
    N_("strict"),
    N_("unordered"),
    N_("people"),
    N_("entries"),
    N_("next"),
    N_("previous"),
    N_("step"),
    N_("page"),
    N_("channel"),
    N_("channel_step"),
    N_("campaign"),
    N_("channel_campaign"),
    N_("all"),
    N_("heuristic"),
    N_("markov"),
)


@dataclass(frozen=True)
class Tab:
    path: str
    label: str


TABS = (
    Tab("/journeys", N_("Funnel")),
    Tab("/journeys/paths", N_("Paths")),
    Tab("/journeys/channels", N_("Channels")),
    Tab("/journeys/ropo", N_("ROPO and showrooming")),
    Tab("/journeys/calls", N_("Calls after the web")),
    Tab("/journeys/attribution", N_("Attribution")),
)


def _frame(view: View, tab: str) -> dict[str, Any]:
    return {"tabs": TABS, "tab": tab, "error": "", "typed": {}}


def _number(
    view: View, context: dict[str, Any], name: str, default: int, low: int, high: int
) -> int:
    """A bounded whole number of the form; out of bounds, the page says so (in `error`) and
    keeps what was typed, and the report is computed with the default."""
    try:
        return view.int_arg(name, default, low, high)
    except EmpreinteError as exc:
        context["error"] = _failed(view, exc)
        context.setdefault("typed", {})[name] = view.query.get(name, "")[:40]
        return default


def _failed(view: View, exc: EmpreinteError) -> str:
    """The message of a report that could not be computed as asked (the service's words)."""
    return view.gettext("This report cannot be computed as asked:") + " " + view.problem(exc)


# -- durations --------------------------------------------------------------------------------


def _time_unit(view: View, seconds: Sequence[float | None]) -> tuple[float, str]:
    """One unit for a column of durations: the divisor and its name."""
    _ = view.gettext
    longest = max((s for s in seconds if s is not None), default=0.0)
    if longest < 120:
        return 1.0, _("seconds")
    if longest < 2 * 3600:
        return 60.0, _("minutes")
    if longest < 48 * 3600:
        return 3600.0, _("hours")
    return 86400.0, _("days")


def _in(value: float | None, divisor: float) -> float | None:
    return None if value is None else value / divisor


# -- funnel -----------------------------------------------------------------------------------


def _funnel_chart(view: View, report: FunnelReport, labels: Sequence[str]) -> Chart:
    _ = view.gettext
    groups: dict[str, dict[int, int]] = {}
    for r in report.rows:
        groups.setdefault(r.group or _("All"), {})[r.step] = r.count
    ranked = sorted(groups, key=lambda g: -groups[g].get(1, 0))
    shown = ranked[:MAX_CHART_GROUPS]
    x = [f"{i}. {label}" for i, label in enumerate(labels, 1)]
    series = {g: [groups[g].get(i, 0) for i in range(1, len(labels) + 1)] for g in shown}
    figure = bars(x, series)
    unit = _("people") if report.spec.count == "people" else _("entries")
    figure["layout"]["yaxis"] = {"title": {"text": unit}, "rangemode": "tozero"}
    caption = _("Bars: how many reached each step.")
    if len(ranked) > len(shown):
        caption += " " + _(
            "The chart shows the %(n)s largest groups; the table below has all %(total)s."
        ) % {"n": len(shown), "total": len(ranked)}
    columns = [Column("group", _("Group"))] if report.spec.by else []
    columns += [
        Column("step", _("Step")),
        Column("count", unit.capitalize(), "number"),
    ]
    rows = [
        {"group": r.group, "step": f"{r.step}. {r.label}", "count": r.count} for r in report.rows
    ]
    if not any(r.count for r in report.rows):
        rows = []  # nobody entered: the empty state says what to send
    return Chart(
        "funnel",
        _("People at each step") if report.spec.count == "people" else _("Entries at each step"),
        figure,
        Table("funnel-data", _("People at each step"), columns, rows),
        caption=caption,
        empty=EmptyState(
            _("Nobody went through this funnel. Send its first step as an event:"),
            track_snippets(labels[0].split("[")[0].split(":")[0] if labels else "Product Viewed"),
        ),
    )


def _funnel_table(view: View, report: FunnelReport, lists: bool) -> Table:
    _ = view.gettext
    # the unit that reads the medians best (a long tail of one group must not turn every
    # median into 0.0 hours)
    divisor, unit = _time_unit(view, [r.median_seconds for r in report.rows])
    counted = _("People") if report.spec.count == "people" else _("Entries")
    columns = [Column("group", _("Group"))] if report.spec.by else []
    columns += [
        Column("step", _("Step")),
        Column("count", counted, "number"),
        Column("conversion", _("Conversion from step 1"), "percent", 1),
        Column("step_conversion", _("From the previous step"), "percent", 1),
        Column("drop_off", _("Dropped before this step"), "number"),
        Column(
            "median",
            _("Median time from the previous step (%(unit)s)") % {"unit": unit},
            "number",
            1,
        ),
        Column("p90", _("90th percentile (%(unit)s)") % {"unit": unit}, "number", 1),
    ]
    if lists:
        columns.append(Column("who", _("Who dropped"), "link", href="who_href"))
    rows = [
        {
            "group": r.group,
            "step": f"{r.step}. {r.label}",
            "count": r.count,
            "conversion": r.conversion,
            "step_conversion": r.step_conversion,
            "drop_off": r.drop_off,
            "median": _in(r.median_seconds, divisor),
            "p90": _in(r.p90_seconds, divisor),
            "who": _("list") if lists and r.step > 1 and r.drop_off else None,
            "who_href": (
                _list_link(view, r.step - 1, r.group)
                if lists and r.step > 1 and r.drop_off
                else None
            ),
        }
        for r in report.rows
    ]
    return Table(
        "funnel-steps",
        _("Conversion, drop-off and time between steps"),
        columns,
        rows,
        page_size=40,
        caption=_(
            "Times are those of each person's counted attempt (the one that went furthest), "
            "over the people who reached the step."
        ),
    )


def _list_link(view: View, step: int, group: str | None) -> str:
    """This funnel's address, listing who reached `step` and not the next (of `group`)."""
    keep = [(k, v) for k, v in view.query.multi_items() if k not in _ONE_OFF]
    keep.append(("dropped", str(step)))
    if group is not None:
        keep.append(("group", group))
    return "/journeys?" + urlencode(keep) + "#dropped"


_ONE_OFF = ("dropped", "group", "download", "notice", "fresh")


def _dropped_table(
    view: View, steps: Sequence[str], labels: Sequence[str], spec: Mapping[str, Any]
) -> Table | None:
    """Who reached the step `?dropped=` names and not the next (of `?group=`): pseudonymous
    profile ids linked to their customer page, from `journeys.dropped` as the API's
    `dropped=` answers."""
    _ = view.gettext
    if not view.arg("dropped"):
        return None
    step = view.int_arg("dropped", 1, 1, max(1, len(labels) - 1))
    group = view.arg("group") or None
    ids = view.ws.journeys.dropped(steps, step, group=group, **spec)
    rows = [{"profile_id": i, "href": f"/customers/{quote(i, safe='')}"} for i in ids]
    caption = view.ngettext(
        "%(n)s person reached this step and not the next.",
        "%(n)s people reached this step and not the next.",
        len(ids),
    ) % {"n": view.fmt.number(len(ids))}
    if group is not None:
        caption += " " + _("Group: %(group)s.") % {"group": group}
    if len(ids) > MAX_DROPPED:
        caption += " " + _("The first %(n)s are listed (by id).") % {
            "n": view.fmt.number(MAX_DROPPED)
        }
    return Table(
        "dropped-people",
        _("Reached “%(reached)s”, not “%(next)s”")
        % {"reached": labels[step - 1], "next": labels[step]},
        [Column("profile_id", _("Profile (pseudonym)"), "link", href="href")],
        rows[:MAX_DROPPED],
        caption=caption,
    )


def _dates(view: View) -> tuple[str, str, dict[str, datetime]]:
    """`since` (inclusive) and `until` (exclusive) as typed, and as the report's arguments
    (midnight in the workspace's time zone, as the API reads a date without a time)."""
    texts = view.arg("since"), view.arg("until")
    found: dict[str, datetime] = {}
    for name, text in zip(("since", "until"), texts, strict=True):
        if text:
            try:
                found[name] = datetime.combine(date.fromisoformat(text), time())
            except ValueError:
                raise InvalidInput(name, f"`{name}` must be a date: YYYY-MM-DD") from None
    if "since" in found and "until" in found and found["since"] >= found["until"]:
        raise InvalidInput("until", "`until` must be after `since` (the period is empty)")
    return texts[0], texts[1], found


def _known_steps(view: View) -> list[str]:
    """The most frequent event names of the log (the form's suggestions), counted in the
    engine."""

    def compute() -> list[str]:
        import ibis

        with view.ws.analytics() as log:
            events = log.events()
            names = events.filter(events.event.notnull()).group_by("event").agg(n=ibis._.count())
            top = log.execute(names.order_by(ibis.desc("n")).limit(MAX_SUGGESTIONS))
        # page and screen calls are the steps `Page Viewed` and `Screen Viewed`
        return sorted({*(str(name) for name in top["event"]), "Page Viewed", "Screen Viewed"})

    with contextlib.suppress(EmpreinteError):
        return view.report(("journeys-known-steps",), compute)
    return list(DEFAULT_STEPS)


def _breakdown_suggestions(view: View) -> list[str]:
    names = list(BREAKDOWNS)
    with contextlib.suppress(EmpreinteError):
        names += [f"segment:{s.definition.name}" for s in view.ws.segments.list()][:50]
    return names


def funnel_page(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    context = _frame(view, "/journeys")
    asked = "step" in view.query
    steps = view.args("step") if asked else list(DEFAULT_STEPS)
    window = view.arg("window", "7d")
    mode = view.choice("mode", MODES, "ordered")
    count = view.choice("count", COUNTS, "people")
    by = view.arg("by") or None
    inputs = min(MAX_STEPS, max(MIN_INPUTS, len(steps) + 1))
    since_text, until_text = view.arg("since"), view.arg("until")
    context.update(
        since=since_text,
        until=until_text,
        steps=steps + [""] * (inputs - len(steps)),
        window=window,
        mode=mode,
        modes=MODES,
        count=count,
        counts=COUNTS,
        by=by or "",
        breakdowns=_breakdown_suggestions(view),
        known_steps=_known_steps(view),
        report=None,
        funnel_chart=None,
        steps_table=None,
        dropped=None,
        totals=None,
    )
    if len(steps) > MAX_STEPS:
        context["error"] = _("A funnel has at most %(n)s steps.") % {"n": MAX_STEPS}
        return context
    if len(steps) < 2:
        context["error"] = _("Give at least two steps.")
        return context
    spec: dict[str, Any] = {"window": window, "mode": mode, "by": by, "count": count}
    lists = view.viewer.role in STAFF
    try:
        spec.update(_dates(view)[2])
        report = view.report(
            ("journeys-funnel", tuple(steps), window, mode, by, count, since_text, until_text),
            lambda: view.ws.journeys.funnel(steps, **spec),
        )
        labels = report.spec.labels
        dropped = _dropped_table(view, steps, labels, spec) if lists else None
    except EmpreinteError as exc:
        context["error"] = _failed(view, exc)
        return context
    first = sum(r.count for r in report.rows if r.step == 1)
    last = sum(r.count for r in report.rows if r.step == len(labels))
    context.update(
        report=report,
        funnel_chart=_funnel_chart(view, report, labels),
        steps_table=_funnel_table(view, report, lists),
        dropped=dropped,
        totals={"entered": first, "converted": last, "rate": last / first if first else None},
    )
    return context


# -- paths ------------------------------------------------------------------------------------


def _path_figure(report: PathReport) -> dict[str, Any]:
    """The Sankey: one node per (position, step), time left to right; `(other)`, `(end)` and
    `(start)` are nodes like the others."""
    forward = report.direction == "next"
    index: dict[tuple[int, str], int] = {}
    labels: list[str] = []

    def node(position: int, label: str) -> int:
        key = (position, label)
        if key not in index:
            index[key] = len(labels)
            labels.append(label)
        return index[key]

    links = []
    for t in report.transitions:
        source = t.level - 1 if forward else t.level
        links.append((node(source, t.source), node(source + 1, t.target), float(t.transitions)))
    figure = sankey(labels, links)
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(labels))]
    figure["data"][0]["node"]["color"] = colours
    figure["data"][0]["link"]["color"] = [colours[s] + "55" for s, _, _ in links]
    figure["data"][0]["valueformat"] = ",d"
    return figure


def paths_page(view: View) -> Mapping[str, Any]:
    from empreinte.analytics.journeys.paths import parse_within

    _ = view.gettext
    context = _frame(view, "/journeys/paths")
    anchor = view.arg("anchor", "Product Viewed")
    direction = view.choice("direction", DIRECTIONS, "next")
    depth = _number(view, context, "depth", 3, 1, 10)
    top = _number(view, context, "top", 5, 1, 20)
    label = view.choice("label", LABELS, "step")
    collapse = view.arg("collapse") == "1"
    within_text = view.arg("within")
    context.update(
        anchor=anchor,
        direction=direction,
        directions=DIRECTIONS,
        depth=depth,
        top=top,
        label=label,
        labels=LABELS,
        collapse=collapse,
        within=within_text,
        known_steps=_known_steps(view),
        report=None,
        paths_chart=None,
        level_table=None,
    )
    if context["error"]:
        return context
    try:
        within = parse_within(within_text or None)
        report = view.report(
            ("journeys-paths", anchor, direction, depth, top, label, collapse, within_text),
            lambda: view.ws.journeys.paths(
                anchor,
                direction=direction,
                depth=depth,
                top=top,
                label=label,
                collapse=collapse,
                within=within,
            ),
        )
    except EmpreinteError as exc:
        context["error"] = _failed(view, exc)
        return context
    columns = [
        Column("level", _("Level"), "number"),
        Column("source", _("From")),
        Column("target", _("To")),
        Column("transitions", _("Transitions"), "number"),
        Column("people", _("People"), "number"),
        Column("share", _("Share of the level"), "percent", 1),
    ]
    title = (
        _("After “%(anchor)s”: the next steps") % {"anchor": report.anchor.label}
        if direction == "next"
        else _("Before “%(anchor)s”: the previous steps") % {"anchor": report.anchor.label}
    )
    chart = Chart(
        "paths",
        title,
        _path_figure(report),
        Table("paths-data", title, columns, report.to_rows(), page_size=25),
        height=max(360, min(720, 70 * top + 120)),
        caption=_(
            "Band widths are transitions (occurrences of the step followed). (other) gathers "
            "the steps outside the top of their level; (end) and (start) are where paths stop."
        ),
        empty=EmptyState(
            _("No occurrence of this step in the data. Send it as an event:"),
            track_snippets(report.anchor.event),
        ),
    )
    steps_table = Table(
        "paths-steps",
        _("Steps by level"),
        [
            Column("level", _("Level"), "number"),
            Column("rank", _("Rank"), "number"),
            Column("step", _("Step")),
            Column("transitions", _("Transitions"), "number"),
            Column("people", _("People"), "number"),
            Column("share", _("Share of the level"), "percent", 1),
        ],
        report.step_rows(),
        page_size=25,
    )
    context.update(report=report, paths_chart=chart, level_table=steps_table)
    return context


# -- channels ---------------------------------------------------------------------------------

CLASSES = (
    ("mono", N_("Mono-channel"), N_("one channel")),
    ("multi", N_("Multi-channel"), N_("several channels, every journey on one channel")),
    (
        "cross",
        N_("Cross-channel"),
        N_("at least one journey over two channels or more, none resumed"),
    ),
    ("omni", N_("Omnichannel"), N_("at least one journey resumed on another channel")),
)


def channels_page(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    context = _frame(view, "/journeys/channels")
    try:
        classes = view.report(("journeys-classes",), view.ws.journeys.channel_classes)
        mix = view.report(("journeys-mix",), view.ws.journeys.channel_mix)
    except EmpreinteError as exc:
        context["error"] = _failed(view, exc)
        context.update(classes=None, mix=None)
        return context
    empty = EmptyState(
        _("No journeys yet. Send events from each channel (context.channel) with your write key:"),
        track_snippets(),
    )
    by_class = {r["channel_class"]: r for r in classes.to_rows()}
    class_rows = [
        {
            "name": _(name),
            "meaning": _(meaning),
            "people": by_class.get(key, {}).get("people", 0),
            "share": by_class.get(key, {}).get("share"),
        }
        for key, name, meaning in CLASSES
    ]
    class_chart = Chart(
        "channel-classes",
        _("Mono-, multi-, cross- and omnichannel people"),
        bars(
            [r["name"] for r in class_rows],
            {_("People"): [r["people"] for r in class_rows]},
        ),
        Table(
            "channel-classes-data",
            _("Classes"),
            [
                Column("name", _("Class")),
                Column("meaning", _("Meaning")),
                Column("people", _("People"), "number"),
                Column("share", _("Share"), "percent", 1),
            ],
            class_rows if classes.people else [],
        ),
        caption=_(
            "A journey ends after 7 days without a touchpoint; it is resumed when a cart or "
            "an order started on one channel goes on on another."
        ),
        empty=empty,
    )
    mix_rows = mix.to_rows()
    mix_chart = Chart(
        "channel-mix",
        _("Channel mix"),
        bars(
            [r["channel"] for r in mix_rows],
            {
                _("Share of people"): [r["people_share"] for r in mix_rows],
                _("Share of touchpoints"): [r["touchpoint_share"] for r in mix_rows],
            },
            percent_axis=True,
        ),
        Table(
            "channel-mix-data",
            _("Channel mix"),
            [
                Column("channel", _("Channel")),
                Column("people", _("People"), "number"),
                Column("people_share", _("Share of people"), "percent", 1),
                Column("touchpoints", _("Touchpoints"), "number"),
                Column("touchpoint_share", _("Share of touchpoints"), "percent", 1),
            ],
            mix_rows,
        ),
        caption=_(
            "A person on two channels counts in both: people shares add up to more than 100%."
        ),
        empty=empty,
    )
    combinations = Table(
        "channel-combinations",
        _("Combinations of channels"),
        [
            Column("combination", _("Channels used")),
            Column("channels", _("Number of channels"), "number"),
            Column("people", _("People"), "number"),
            Column("share", _("Share of people"), "percent", 1),
        ],
        mix.combination_rows(),
        caption=_("Each person is in exactly one combination: the channels they used."),
        empty=empty,
    )
    context.update(
        classes=classes,
        mix=mix,
        class_chart=class_chart,
        mix_chart=mix_chart,
        combinations=combinations,
    )
    return context


# -- ROPO and showrooming -----------------------------------------------------------------------


def ropo_page(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    context = _frame(view, "/journeys/ropo")
    days = _number(view, context, "window_days", 7, 1, 365)
    context.update(window_days=days, rates=None, ropo_chart=None, summary=None)
    if context["error"]:
        return context
    try:
        ropo = view.report(
            ("journeys-ropo", days), lambda: view.ws.journeys.ropo(window=timedelta(days=days))
        )
        showrooming = view.report(
            ("journeys-showrooming", days),
            lambda: view.ws.journeys.showrooming(window=timedelta(days=days)),
        )
    except EmpreinteError as exc:
        context["error"] = _failed(view, exc)
        return context
    names = {"ropo": _("ROPO"), "showrooming": _("Showrooming")}
    meanings = {
        "ropo": _("researched online, purchased offline"),
        "showrooming": _("visited the store, purchased online"),
    }
    rows = []
    for key, report in (("ropo", ropo), ("showrooming", showrooming)):
        total = report.total
        if total is None or not total.purchases:
            continue
        rows.append({"direction": names[key], "meaning": meanings[key], **report.to_rows()[0]})
    figure: dict[str, Any] = {"data": [], "layout": {"barmode": "group"}}
    for i, (measure, label) in enumerate(
        (("purchase_rate", _("Share of purchases")), ("person_rate", _("Share of buyers")))
    ):
        low, high = measure.replace("rate", "low"), measure.replace("rate", "high")
        figure["data"].append(
            {
                "type": "bar",
                "name": label,
                "x": [r["direction"] for r in rows],
                "y": [r[measure] for r in rows],
                "marker": {"color": PALETTE[i]},
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [r[high] - r[measure] for r in rows],
                    "arrayminus": [r[measure] - r[low] for r in rows],
                },
            }
        )
    figure["layout"]["yaxis"] = {"tickformat": ".0%", "rangemode": "tozero"}
    columns = [
        Column("direction", _("Behaviour")),
        Column("purchases", _("Purchases"), "number"),
        Column("crossed_purchases", _("Of which crossed"), "number"),
        Column("purchase_rate", _("Share of purchases"), "percent", 1),
        Column("purchase_low", _("95% interval, low"), "percent", 1),
        Column("purchase_high", _("95% interval, high"), "percent", 1),
        Column("buyers", _("Buyers"), "number"),
        Column("crossed_buyers", _("Of which crossed"), "number"),
        Column("person_rate", _("Share of buyers"), "percent", 1),
        Column("person_low", _("95% interval, low"), "percent", 1),
        Column("person_high", _("95% interval, high"), "percent", 1),
    ]
    context["ropo_chart"] = Chart(
        "ropo",
        _("ROPO and showrooming rates"),
        figure,
        Table("ropo-data", _("ROPO and showrooming rates"), columns, rows),
        caption=_(
            "Crossed: the purchase came within %(days)s days after research on the other side "
            "(web or app, then store; or store, then web or app). Whiskers: 95%% intervals."
        )
        % {"days": days},
        empty=EmptyState(
            _("No purchases yet. Send them as Order Completed events with their channel:"),
            track_snippets("Order Completed", {"order_id": "o-1", "revenue": 49.9}),
        ),
    )
    fmt = view.fmt

    def interval(low: float, high: float) -> str:
        return f"{fmt.percent(low)} – {fmt.percent(high)}"

    context["summary"] = Table(
        "ropo-summary",
        _("Per purchase and per buyer"),
        [
            Column("direction", _("Behaviour")),
            Column("purchases", _("Purchases"), "number"),
            Column("crossed_purchases", _("Of which crossed"), "number"),
            Column("purchase_rate", _("Share of purchases"), "percent", 1),
            Column("purchase_interval", _("95% interval")),
            Column("buyers", _("Buyers"), "number"),
            Column("crossed_buyers", _("Of which crossed"), "number"),
            Column("person_rate", _("Share of buyers"), "percent", 1),
            Column("person_interval", _("95% interval")),
        ],
        [
            {
                **r,
                "purchase_interval": interval(r["purchase_low"], r["purchase_high"]),
                "person_interval": interval(r["person_low"], r["person_high"]),
            }
            for r in rows
        ],
    )
    context["rates"] = rows
    return context


# -- calls after the web ------------------------------------------------------------------------


def calls_page(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    context = _frame(view, "/journeys/calls")
    hours = _number(view, context, "within_hours", 24, 1, 24 * 30)
    chat = view.arg("chat") == "1"
    context.update(within_hours=hours, chat=chat, calls=None)
    if context["error"]:
        return context
    steps = ("Call Started", "Chat Started") if chat else ("Call Started",)
    channels = ("phone", "chat") if chat else ("phone",)
    try:
        calls = view.report(
            ("journeys-calls", hours, chat),
            lambda: view.ws.journeys.called_after_web(
                within=timedelta(hours=hours), contact_steps=steps, contact_channels=channels
            ),
        )
    except EmpreinteError as exc:
        context["error"] = _failed(view, exc)
        return context
    columns = [
        Column("value", _("Last page before the call")),
        Column("calls", _("Calls"), "number"),
        Column("share", _("Share of calls after the web"), "percent", 1),
        Column("session_share", _("Share of all sessions"), "percent", 1),
        Column("lift", _("Lift"), "number", 2),
    ]
    pages = [dict(r.__dict__) for r in calls.pages()]
    steps_rows = [dict(r.__dict__) for r in calls.steps()]
    top = pages[:10]
    empty = EmptyState(
        _("No calls after a web or app session yet. Log calls as Call Started events:"),
        track_snippets("Call Started", {"reason": "delivery"}),
    )
    figure = bars(
        [r["value"] for r in top], {_("Calls"): [r["calls"] for r in top]}, horizontal=True
    )
    figure["layout"]["xaxis"] = {"rangemode": "tozero", "tickformat": ",d"}
    if top and max(r["calls"] for r in top) <= 10:
        figure["layout"]["xaxis"]["dtick"] = 1
    chart = Chart(
        "called-pages",
        _("Pages that send people to the phone"),
        figure,
        Table("called-pages-data", _("Pages before a call"), columns, pages),
        caption=_(
            "The last page of the web or app session before each call; lift = its share of "
            "those calls over its share of all sessions (above 1: it sends people to the phone "
            "more than its traffic says)."
        ),
        empty=empty,
    )
    step_columns = [Column("value", _("Last step before the call")), *columns[1:]]
    context.update(
        calls=calls,
        calls_chart=chart,
        pages_table=Table(
            "called-pages-table",
            _("Pages before a call, by lift"),
            columns,
            sorted(pages, key=lambda r: -(r["lift"] or 0)),
            empty=empty,
        ),
        steps_table=Table(
            "called-steps", _("Steps before a call"), step_columns, steps_rows, empty=empty
        ),
    )
    return context


# -- attribution --------------------------------------------------------------------------------

MODEL_NAMES = {
    "first_touch": N_("First touch"),
    "last_touch": N_("Last touch"),
    "linear": N_("Linear"),
    "time_decay": N_("Time decay"),
    "position_based": N_("Position-based"),
}


def _model_name(view: View, model: str) -> str:
    if model in MODEL_NAMES:
        return view.gettext(MODEL_NAMES[model])
    if model.startswith("markov_"):
        return view.gettext("Markov, order %(n)s") % {"n": model.removeprefix("markov_")}
    return model


def _attribution_chart(view: View, report: AttributionReport, measure: str) -> Chart:
    _ = view.gettext
    rows = report.to_rows()
    touches = [str(r[report.by]) for r in rows]
    series = {_model_name(view, m): [r[f"{m}_{measure}"] for r in rows] for m in report.models}
    title = (
        _("Conversions credited, by model")
        if measure == "conversions"
        else _("Value credited, by model")
    )
    columns = [Column("touch", _(report.by).capitalize())]
    columns += [Column(m, _model_name(view, m), "number", 1) for m in report.models]
    table_rows = [
        {"touch": t, **{m: r[f"{m}_{measure}"] for m in report.models}}
        for t, r in zip(touches, rows, strict=True)
    ]
    return Chart(
        f"attribution-{measure}",
        title,
        bars(touches, series),
        Table(f"attribution-{measure}-data", title, columns, table_rows),
        height=400,
        empty=EmptyState(
            _("No conversions yet. Send them as events with their value:"),
            track_snippets("Order Completed", {"order_id": "o-1", "revenue": 49.9}),
        ),
    )


def attribution_page(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    context = _frame(view, "/journeys/attribution")
    goal = view.arg("goal", "Order Completed")
    value = view.arg("value", "revenue")
    lookback = view.arg("lookback", "30d")
    by = view.choice("by", ATTRIBUTION_BY, "channel")
    models = view.choice("models", MODEL_SETS, "all")
    context.update(
        goal=goal,
        value=value,
        lookback=lookback,
        by=by,
        bys=ATTRIBUTION_BY,
        models=models,
        model_sets=MODEL_SETS,
        report=None,
        charts=[],
    )
    try:
        from empreinte.analytics.journeys.conversion_paths import check_property

        if value.lower() != "none":
            check_property(value)
        report = view.report(
            ("journeys-attribution", goal, value, lookback, by, models),
            lambda: view.ws.journeys.attribution(
                goal=goal,
                value=None if value.lower() == "none" else value,
                lookback=lookback,
                by=by,
                models=models,
            ),
        )
    except EmpreinteError as exc:
        context["error"] = _failed(view, exc)
        return context
    charts = [_attribution_chart(view, report, "conversions")]
    if report.value_property:
        charts.append(_attribution_chart(view, report, "value"))
    effects = [m for m in report.models if m.startswith("markov_")]
    removal = None
    if effects:
        rows = report.to_rows()
        removal = Table(
            "removal-effects",
            _("Markov removal effects"),
            [Column("touch", _(report.by).capitalize())]
            + [Column(m, _model_name(view, m), "percent", 1) for m in effects],
            [
                {"touch": r[report.by], **{m: r[f"{m}_removal_effect"] for m in effects}}
                for r in rows
            ],
            caption=_(
                "The share of conversions lost if this channel were removed from every path."
            ),
        )
    context.update(report=report, charts=charts, removal=removal)
    return context


# The funnel page comes first: the navigation links the first page of a key.
FUNNEL = Page("journeys", "/journeys", N_("Journeys"), "journeys.html", funnel_page, STAFF)
PATHS = Page("journeys", "/journeys/paths", N_("Paths"), "journeys_paths.html", paths_page, STAFF)
CHANNELS = Page(
    "journeys", "/journeys/channels", N_("Channels"), "journeys_channels.html", channels_page, STAFF
)
ROPO = Page(
    "journeys", "/journeys/ropo", N_("ROPO and showrooming"), "journeys_ropo.html", ropo_page, STAFF
)
CALLS = Page(
    "journeys",
    "/journeys/calls",
    N_("Calls after the web"),
    "journeys_calls.html",
    calls_page,
    STAFF,
)
ATTRIBUTION = Page(
    "journeys",
    "/journeys/attribution",
    N_("Attribution"),
    "journeys_attribution.html",
    attribution_page,
    STAFF,
)
PAGES = [FUNNEL, PATHS, CHANNELS, ROPO, CALLS, ATTRIBUTION]
ACTIONS: list[Action] = []
