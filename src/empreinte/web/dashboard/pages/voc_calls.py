"""Before the call (`/voc/calls`): what people did on the web and in the app before calling,
per reason for calling. Pick the hours before the call, a reason and a period; read the calls
linked to a session, the pages and steps seen, the calls the help pages could have avoided,
the pages whose visitors call, and the reasons that make people call twice.

Staff only (linking calls to journeys links a person's actions), aggregates only: no call and
no person is listed. The figures are voc/call_journeys.py's, cached as every aggregate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from empreinte.errors import EmpreinteError, InvalidInput
from empreinte.web.dashboard.components import Chart, Column, EmptyState, Table, bars
from empreinte.web.dashboard.page import N_, STAFF, Action, Page, View
from empreinte.web.dashboard.snippets import track_snippets

UNKNOWN_REASON = "unknown"  # voc/before_calls.py's, not imported: pages load no Ibis

MAX_HOURS = 720
_KINDS = {"last_page": N_("Last page"), "page": N_("Page seen"), "step": N_("Step")}


def _day(view: View, name: str) -> datetime | None:
    text = view.arg(name)
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time())
    except ValueError:
        raise InvalidInput(name, f"`{name}` must be a date (YYYY-MM-DD)") from None


def _empty(view: View) -> EmptyState:
    _ = view.gettext
    return EmptyState(
        _(
            "No calls yet. Send each call as a Call Completed event with the caller's number "
            "(it is pseudonymised at the door) and its transcript:"
        ),
        track_snippets("Call Completed", {"callerNumber": "+33 6 12 34 56 78", "duration": 240}),
    )


def _reason(view: View, rows: list[dict[str, Any]], key: str = "reason") -> list[dict[str, Any]]:
    """`rows` with the reason "unknown" (not understood yet) in the page's language."""
    label = view.gettext("Unknown reason")
    return [{**r, key: label} if r[key] == UNKNOWN_REASON else r for r in rows]


def _reasons_table(view: View, report: Any) -> Table:
    _ = view.gettext
    return Table(
        "call-reasons",
        _("Calls per reason"),
        [
            Column("reason", _("Reason")),
            Column("calls", _("Calls"), "number"),
            Column("linked", _("Linked to a session"), "number"),
            Column("linked_share", _("Share linked"), "percent", 1),
            Column("with_errors", _("With an error seen"), "number"),
            Column("checkout_abandoned", _("Checkout abandoned"), "number"),
        ],
        _reason(view, report.reason_rows()),
        caption=_(
            "Linked: the caller has a web or app touchpoint in the hours before the call. "
            "Errors: Error Shown or Payment Failed. Abandoned: a checkout with no order after it."
        ),
        empty=_empty(view),
    )


def _seen_table(view: View, report: Any) -> Table:
    _ = view.gettext
    rows = [{**r, "kind": view.gettext(_KINDS[r["kind"]])} for r in _reason(view, report.to_rows())]
    return Table(
        "call-seen",
        _("Seen before the call"),
        [
            Column("reason", _("Reason")),
            Column("kind", _("What")),
            Column("value", _("Page or step")),
            Column("calls", _("Calls"), "number"),
            Column("share", _("Share of the reason's linked calls"), "percent", 1),
        ],
        rows,
        page_size=25,
        empty=_empty(view),
    )


def _avoidable_table(view: View, report: Any) -> Table:
    _ = view.gettext
    rows = [{**r, "answers": ", ".join(r["answers"])} for r in report.to_rows()]
    return Table(
        "call-avoidable",
        _("Calls that could have been avoided"),
        [
            Column("reason", _("Reason")),
            Column("answers", _("Answer pages")),
            Column("linked", _("Linked calls"), "number"),
            Column("reached", _("Reached an answer"), "number"),
            Column("avoidable", _("Avoidable"), "number"),
            Column("share", _("Share avoidable"), "percent", 1),
        ],
        rows,
        caption=_(
            "A linked call is avoidable when the caller reached none of the pages that answer "
            "its reason (the [voc.answers] setting) before calling."
        ),
        empty=EmptyState(
            _("No answer pages are set. Name them per reason in empreinte.toml, for example:"),
            {"empreinte.toml": '[voc.answers]\ndelivery = ["/help/delivery", "/suivi"]'},
        ),
    )


def _pages_chart(view: View, report: Any, hours: int) -> Chart:
    _ = view.gettext
    rows = report.to_rows()
    top = [r for r in rows if r["called"]][:10]
    figure = bars(
        [r["page"] for r in top],
        {_("Called after the web"): [r["rate"] for r in top]},
        horizontal=True,
        percent_axis=True,
    )
    columns = [
        Column("page", _("Page")),
        Column("sessions", _("Sessions"), "number"),
        Column("called", _("Followed by a call"), "number"),
        Column("rate", _("Rate"), "percent", 1),
        Column("low", _("Low (95%)"), "percent", 1),
        Column("high", _("High (95%)"), "percent", 1),
    ]
    return Chart(
        "call-pages",
        _("Pages whose visitors call"),
        figure,
        Table("call-pages-data", _("Called after the web, per page"), columns, rows),
        caption=_(
            "Of the web and app sessions that viewed the page, the share followed by a call "
            "within %(hours)s h (the pages with the most such calls first)."
        )
        % {"hours": view.fmt.number(hours)},
        empty=_empty(view),
    )


def _repeats_table(view: View, report: Any) -> Table:
    _ = view.gettext
    return Table(
        "call-repeats",
        _("Calls again within %(days)s days") % {"days": view.fmt.number(report.days)},
        [
            Column("reason", _("Reason of the first call")),
            Column("calls", _("Calls"), "number"),
            Column("repeated", _("Called again"), "number"),
            Column("same_reason", _("Again for the same reason"), "number"),
            Column("rate", _("Rate"), "percent", 1),
        ],
        _reason(view, report.to_rows()),
        caption=_("The processes that make people call twice: highest rate first."),
        empty=_empty(view),
    )


def build(view: View) -> Mapping[str, Any]:
    from empreinte.voc.call_journeys import CallJourneys

    journeys = CallJourneys.of(view.ws)
    context: dict[str, Any] = {
        "form": {
            "hours": view.arg("hours"),
            "reason": view.arg("reason"),
            "since": view.arg("since"),
            "until": view.arg("until"),
        },
        "default_hours": journeys.settings.hours,
        "max_hours": MAX_HOURS,
        "before": None,
        "error": None,
    }
    try:
        hours = view.int_arg("hours", journeys.settings.hours, 1, MAX_HOURS)
        reason = view.arg("reason") or None
        since, until = _day(view, "since"), _day(view, "until")
        scope: dict[str, Any] = {"hours": hours, "reason": reason, "since": since, "until": until}
        key = (hours, reason, since, until)
        before = view.report(("voc-calls-before", *key), lambda: journeys.before(**scope))
        avoidable = view.report(("voc-calls-avoidable", *key), lambda: journeys.avoidable(**scope))
        pages = view.report(("voc-calls-pages", *key), lambda: journeys.pages(**scope))
        repeats = view.report(("voc-calls-repeats", *key), lambda: journeys.repeats(**scope))
    except EmpreinteError as exc:
        context["error"] = view.problem(exc)
        return context
    context.update(
        hours=hours,
        before=before,
        avoidable=avoidable,
        repeats=repeats,
        reasons_table=_reasons_table(view, before),
        seen_table=_seen_table(view, before),
        avoidable_table=_avoidable_table(view, avoidable),
        pages_chart=_pages_chart(view, pages, hours),
        repeats_table=_repeats_table(view, repeats),
    )
    return context


BEFORE_CALLS = Page("voc", "/voc/calls", N_("Before the call"), "voc_calls.html", build, STAFF)
PAGES = [BEFORE_CALLS]
ACTIONS: list[Action] = []
