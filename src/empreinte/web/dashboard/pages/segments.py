"""Segments and personas: the saved segments, a builder with a live size, one segment's
members, history, size over time and overlap, and the persona cards.

Everything goes through `ws.segments` (segments/service.py) and `ws.know.personas` as the
API does (web/know_segments_api.py, web/know_personas_api.py), with the API's roles:
analysts and admins; viewers get 403 and no navigation entry. Members are pseudonymous
profile ids (a segment never lists personal values), linking to the customer page.

Personas are k-means over everyone's behaviour: 5 to 40 seconds on the default demo, far
over a page's second. They are computed in a background thread (`PersonaReports`): the page
shows the last report at once with its time, or says they are being computed and reloads
itself. Their PNG cards and the RFM/CLV summary are aggregates of a second or less, so they
go through the dashboard's report cache (`view.report`, web/dashboard/cache.py). Segment
sizes and members are never cached (a builder must be live).
"""

from __future__ import annotations

import base64
import logging
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from markupsafe import Markup

from empreinte.errors import EmpreinteError, InvalidInput, SegmentExpressionError
from empreinte.web.dashboard.components import Chart, Column, EmptyState, Table, bars, lines
from empreinte.web.dashboard.page import N_, STAFF, Action, Page, Redirect, View
from empreinte.web.dashboard.snippets import track_snippets

if TYPE_CHECKING:
    from empreinte.analytics.know.persona_cards import PersonaReport
    from empreinte.segments.service import SegmentDetail, SegmentSummary
    from empreinte.workspace import Workspace

log = logging.getLogger("empreinte.dashboard")

#: Members shown per page of a segment (paged on the server beyond that).
MEMBERS_PAGE = 500
#: Membership changes listed on a segment's page (newest first).
HISTORY_ROWS = 500
#: Refreshes drawn in the size-over-time chart.
SIZE_STEPS = 60
#: The live size of an expression (a fragment; not a segment name: names have no "/").
SIZE_PATH = "/segments/-/size"
#: A persona report older than this is computed again (in the background).
PERSONAS_MAX_AGE = 900.0
#: How often the authors of the cards' quotes are checked to still allow profiling (seconds).
QUOTES_CHECKED_EVERY = 60.0
#: Seconds between reloads of the personas page while they are computed.
PERSONAS_RELOAD = 5
K_CHOICES = ("", "2", "3", "4", "5", "6", "7", "8", "9", "10")

EXAMPLE = 'country = "FR" and did("Order Completed", within="90d", count>=2)'


def _actor(view: View) -> str:
    return f"dashboard:{view.viewer.username}"


def _segment_path(name: str) -> str:
    return "/segments/" + quote(name, safe="")


def _name_of(view: View) -> str:
    """The segment named by the path (`/segments/<name>`, maybe followed by an action's
    `/refresh`…; decoded by Starlette): names have no "/"."""
    name = view.path.removeprefix("/segments/").split("/")[0]
    if not name or len(name) > 200:
        raise InvalidInput("name", "no segment named in the address")
    return name


# -- the live size -----------------------------------------------------------------------


def _preview(view: View, expression: str) -> dict[str, Any]:
    """The size of `expression`, or its error (with line, column and the caret)."""
    if not expression:
        return {"size": None, "error": None}
    try:
        found = view.ws.segments.preview(expression, None, 0)
    except SegmentExpressionError as exc:
        return {"size": None, "error": _expression_error(exc)}
    except EmpreinteError as exc:
        return {"size": None, "error": {"message": view.problem(exc), "line": None, "column": None}}
    return {"size": found.size, "error": None}


def _expression_error(exc: SegmentExpressionError) -> dict[str, Any]:
    line, column = exc.position if exc.position else (None, None)
    return {"message": str(exc), "reason": exc.reason, "line": line, "column": column}


def build_size(view: View) -> Mapping[str, Any]:
    return {"preview": _preview(view, view.arg("expression"))}


# -- the list and the builder ------------------------------------------------------------


def _list_table(view: View, found: list[SegmentSummary]) -> Table:
    _ = view.gettext
    rows = [
        {
            "name": s.definition.name,
            "href": _segment_path(s.definition.name),
            "expression": s.definition.expression,
            "size": s.size,
            "last": s.definition.last_computed_at,
            "schedule": s.definition.schedule or _("by hand"),
            "description": s.definition.description,
        }
        for s in found
    ]
    return Table(
        "segments",
        _("Saved segments"),
        [
            Column("name", _("Name"), "link", href="href"),
            Column("expression", _("Expression")),
            Column("size", _("People"), "number"),
            Column("last", _("Last refresh"), "datetime"),
            Column("schedule", _("Refreshed every")),
            Column("description", _("Description")),
        ],
        rows,
        empty=EmptyState(
            _(
                "No segment saved yet. Write an expression in the builder below, check its "
                "live size and save it."
            )
        ),
        caption=_(
            "Sizes are as of each segment's last refresh; members are people who allow analytics."
        ),
    )


def build(view: View) -> Mapping[str, Any]:
    expression = view.arg("expression")
    found = view.ws.segments.list()
    return {
        "segments": _list_table(view, found),
        # Filled from the address when the builder was sent without script (Count button).
        "form": {
            "name": view.arg("name"),
            "expression": expression,
            "description": view.arg("description"),
            "schedule": view.arg("schedule"),
        },
        "form_error": None,
        "preview": _preview(view, expression),
        "size_path": SIZE_PATH,
        "example": EXAMPLE,
    }


def _form_values(form: Mapping[str, str]) -> dict[str, str]:
    return {
        key: form.get(key, "")[:4096].strip()
        for key in ("name", "expression", "description", "schedule")
    }


def save(view: View, form: Mapping[str, str]) -> Redirect | Mapping[str, Any]:
    values = _form_values(form)
    try:
        view.ws.segments.create(
            values["name"],
            values["expression"],
            description=values["description"] or None,
            schedule=values["schedule"] or None,
            by=_actor(view),
        )
    except SegmentExpressionError as exc:
        return {"form": values, "form_error": _expression_error(exc)}
    except EmpreinteError as exc:
        return {"form": values, "form_error": {"message": view.problem(exc), "line": None}}
    return Redirect(_segment_path(values["name"]), "saved")


# -- one segment -------------------------------------------------------------------------


def _size_chart(view: View, detail: SegmentDetail) -> Chart:
    """Size after each refresh, rebuilt backwards from the current size and what each
    refresh changed (size before = size after − entered + left)."""
    _ = view.gettext
    steps = sorted(detail.steps, key=lambda s: s.changed_at)
    sizes: list[int] = []
    size = detail.size
    for step in reversed(steps):
        sizes.append(size)
        size = size - step.entered + step.left
    sizes.reverse()
    # Refreshes as labels (a lone refresh on a time axis would be one bar as wide as it).
    x = [view.fmt.datetime(s.changed_at) for s in steps]
    figure = lines(x, {_("People"): sizes})
    figure["data"] += bars(
        x, {_("Entered"): [s.entered for s in steps], _("Left"): [-s.left for s in steps]}
    )["data"]
    figure["layout"].update(barmode="relative", bargap=0.6 if len(steps) < 4 else 0.2)
    rows = [
        {"at": s.changed_at, "size": n, "entered": s.entered, "left": s.left}
        for s, n in zip(steps, sizes, strict=True)
    ]
    return Chart(
        "size",
        _("Size over time"),
        figure,
        Table(
            "size-data",
            _("Size over time"),
            [
                Column("at", _("Refresh"), "datetime"),
                Column("size", _("People"), "number"),
                Column("entered", _("Entered"), "number"),
                Column("left", _("Left"), "number"),
            ],
            rows,
        ),
        caption=_(
            "People in the segment after each refresh that changed it; bars: who entered "
            "(up) and who left (down)."
        ),
        height=300,
    )


def _overlap_chart(view: View, name: str, others: list[str]) -> Chart:
    _ = view.gettext
    rows: list[dict[str, Any]] = []
    if others:
        report = view.ws.segments.overlap([name, *others])
        for r in report.rows:
            if r.a != name:
                continue
            rows.append(
                {
                    "other": r.b,
                    "size": r.size_b,
                    "both": r.both,
                    "share": r.both / r.size_a if r.size_a else None,
                    "jaccard": r.jaccard,
                }
            )
        rows.sort(key=lambda row: -row["both"])
    figure = bars(
        [r["other"] for r in rows], {_("In both"): [r["both"] for r in rows]}, horizontal=True
    )
    return Chart(
        "overlap",
        _("Overlap with other segments"),
        figure,
        Table(
            "overlap-data",
            _("Overlap with other segments"),
            [
                Column("other", _("Segment")),
                Column("size", _("Its people"), "number"),
                Column("both", _("In both"), "number"),
                Column("share", _("Share of this segment"), "percent"),
                Column("jaccard", _("Jaccard"), "number", 2),
            ],
            rows,
        ),
        caption=_(
            "People in this segment and in each other one, as of their last refreshes; "
            "Jaccard is in both ÷ in either."
        ),
        height=max(220, 40 + 28 * len(rows)),
        empty=EmptyState(_("Save another segment to compare it with this one.")),
    )


def build_segment(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    name = _name_of(view)
    segments = view.ws.segments
    detail = segments.show(name, steps=SIZE_STEPS)
    offset = view.int_arg("offset", 0, 0, max(detail.size - 1, 0))
    offset -= offset % MEMBERS_PAGE
    ids = segments.members(name, MEMBERS_PAGE, offset)
    members = Table(
        "members",
        _("Members"),
        [Column("profile", _("Profile (pseudonymous id)"), "link", href="href")],
        [{"profile": p, "href": "/customers/" + quote(p, safe="")} for p in ids],
        page_size=25,
        caption=_("%(first)s–%(last)s of %(total)s, as of the last refresh.")
        % {
            "first": view.fmt.number(offset + 1 if ids else 0),
            "last": view.fmt.number(offset + len(ids)),
            "total": view.fmt.number(detail.size),
        },
        empty=EmptyState(_("Nobody is in this segment as of its last refresh.")),
    )
    changes = segments.history(name, HISTORY_ROWS, 0)
    history = Table(
        "history",
        _("Who entered and left"),
        [
            Column("at", _("When"), "datetime"),
            Column("change", _("Entered or left"), "badge"),
            Column("profile", _("Profile (pseudonymous id)"), "link", href="href"),
        ],
        [
            {
                "at": c.changed_at,
                "change": _(c.change),
                "profile": c.profile_id,
                "href": "/customers/" + quote(c.profile_id, safe=""),
            }
            for c in changes
        ],
        caption=_("The latest %(n)s changes, newest first.") % {"n": view.fmt.number(HISTORY_ROWS)},
    )
    others = [s.definition.name for s in segments.list() if s.definition.name != name]
    return {
        "segment": detail.definition,
        "size": detail.size,
        "path": _segment_path(name),
        "members": members,
        "previous": offset - MEMBERS_PAGE if offset > 0 else None,
        "next": offset + MEMBERS_PAGE if offset + len(ids) < detail.size else None,
        "history": history,
        "size_chart": _size_chart(view, detail),
        "overlap": _overlap_chart(view, name, others),
        "form_error": None,
        "form": {
            "expression": detail.definition.expression,
            "description": detail.definition.description or "",
            "schedule": detail.definition.schedule or "",
        },
        "size_path": SIZE_PATH,
    }


def refresh(view: View, form: Mapping[str, str]) -> Redirect:
    name = _name_of(view)
    view.ws.segments.refresh(name)
    return Redirect(_segment_path(name), "refreshed")


def update(view: View, form: Mapping[str, str]) -> Redirect | Mapping[str, Any]:
    name = _name_of(view)
    values = _form_values(form)
    try:
        view.ws.segments.update(
            name,
            expression=values["expression"] or None,
            description=values["description"],
            schedule=values["schedule"],
        )
    except SegmentExpressionError as exc:
        return {"form": values, "form_error": _expression_error(exc)}
    except EmpreinteError as exc:
        if exc.status == 404:
            raise
        return {"form": values, "form_error": {"message": view.problem(exc), "line": None}}
    return Redirect(_segment_path(name), "updated")


def delete(view: View, form: Mapping[str, str]) -> Redirect | Mapping[str, Any]:
    name = _name_of(view)
    try:
        view.ws.segments.delete(name)
    except EmpreinteError as exc:
        if exc.status == 404:
            raise
        return {"delete_error": view.problem(exc)}
    return Redirect("/segments", "deleted")


# -- personas ----------------------------------------------------------------------------


@dataclass
class _Personas:
    """The last persona report of one (workspace, language, k), or the error it raised."""

    version: int  # the number of erasures when it was computed
    computed_at: datetime
    monotonic: float
    report: PersonaReport | None
    error: EmpreinteError | None
    quotes_checked: float = 0.0  # time.monotonic() of the last check of the quotes' authors


class PersonaReports:
    """Persona reports computed in a background thread and kept while they are fresh.

    Clustering everyone takes tens of seconds on the default demo (far over a page's
    second), and personas move slowly: a page shows the last report at once (and says when
    it was computed); one older than `max_age` is computed again in the background while
    the old one is shown. With none yet, the page says it is being computed and reloads
    itself. An erasure drops every report at once; a card whose quote's author no longer
    allows profiling is shown without its quote, and the report computed again. At most
    one computation per key at a time; keys are a language and a k (2 × 8): bounded.
    """

    def __init__(self, max_age: float = PERSONAS_MAX_AGE):
        self.max_age = max_age
        self._entries: dict[tuple[str, str, int | None], _Personas] = {}
        self._running: set[tuple[str, str, int | None]] = set()
        self._lock = threading.Lock()

    def get(
        self, view: View, k: int | None, *, renew: bool = False
    ) -> tuple[_Personas | None, bool]:
        """The last report of (language, k) if any, and whether one is being computed
        (started now if it is stale or `renew`: the viewer asked for the latest)."""
        ws, language = view.ws, view.language
        key = (str(ws.path), language, k)
        version = ws.privacy_store.erasure_count()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.version != version:
                del self._entries[key]
                entry = None
        withdrawn = entry is not None and self._take_down_quotes(ws, entry)
        with self._lock:
            # A computation may have finished while the quotes were checked (outside the lock):
            # its report is the one to show, or an old one would be paired with "not running".
            latest = self._entries.get(key)
            if latest is not None and latest is not entry and latest.version == version:
                entry, withdrawn = latest, False
            stale = entry is None or time.monotonic() - entry.monotonic >= self.max_age
            stale = stale or renew or withdrawn
            if stale and key not in self._running:
                self._running.add(key)
                threading.Thread(
                    target=self._compute,
                    args=(ws, key, version),
                    name="empreinte-dashboard-personas",
                    daemon=True,
                ).start()
            return entry, key in self._running

    def _take_down_quotes(self, ws: Workspace, entry: _Personas) -> bool:
        """Check, at most every `QUOTES_CHECKED_EVERY` seconds, that each quote's author still
        allows profiling; a quote whose author withdrew is removed from the card at once.
        True when one was (the report is then computed again, with another quote)."""
        from empreinte.privacy.consent import allowed

        now = time.monotonic()
        if entry.report is None or now - entry.quotes_checked < QUOTES_CHECKED_EVERY:
            return False
        entry.quotes_checked = now
        cards = entry.report.cards
        kept = [
            card
            if card.quote_by is None or allowed(ws, card.quote_by, "profiling")
            else replace(card, quote=None, quote_by=None)
            for card in cards
        ]
        if all(a is b for a, b in zip(kept, cards, strict=True)):
            return False
        entry.report = replace(entry.report, cards=tuple(kept))
        return True

    def _compute(self, ws: Workspace, key: tuple[str, str, int | None], version: int) -> None:
        _, language, k = key
        report, error = None, None
        try:
            report = ws.know.personas(k, 0, lang=language)
        except EmpreinteError as exc:
            error = exc
        except Exception:
            log.exception("computing the personas for the dashboard failed")
            error = EmpreinteError("computing the personas failed; it was logged")
        finally:
            with self._lock:
                self._running.discard(key)
                self._entries[key] = _Personas(
                    version, datetime.now(UTC), time.monotonic(), report, error
                )

    def wait(self, view: View, k: int | None, timeout: float) -> _Personas | None:
        """The report, waiting up to `timeout` seconds for one being computed (tests)."""
        deadline = time.monotonic() + timeout
        while True:
            entry, running = self.get(view, k)
            if entry is not None or not running or time.monotonic() > deadline:
                return entry
            time.sleep(0.1)


PERSONA_REPORTS = PersonaReports()


def _k_of(view: View) -> int | None:
    text = view.choice("k", K_CHOICES, "")
    return int(text) if text else None


def _no_personas(view: View, k: int | None, problem: str) -> dict[str, Any]:
    _ = view.gettext
    return {
        "cards": [],
        "k": k,
        "k_choices": K_CHOICES,
        "problem": problem,
        "computing": False,
        "empty": EmptyState(
            _(
                "Personas need people with some behaviour who allow analytics and "
                "profiling. Send their events with your write key:"
            ),
            track_snippets("Order Completed", {"order_id": "o-1", "revenue": 42.5}),
        ),
    }


def build_personas(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    k = _k_of(view)
    entry, computing = PERSONA_REPORTS.get(view, k, renew=view.query.get("fresh") == "1")
    if entry is None:
        return {
            "cards": [],
            "k": k,
            "k_choices": K_CHOICES,
            "problem": None,
            "computing": True,
            "reload": PERSONAS_RELOAD,
        }
    if entry.report is None:
        if entry.error is not None and entry.error.status >= 500:
            raise entry.error
        return _no_personas(view, k, str(entry.error))
    report = entry.report
    cards = [
        {
            "number": card.number,
            # The card's own HTML (persona_cards.py): every value in it is escaped there
            # with html.escape, so it is safe to insert as markup.
            "html": Markup(card.to_html()),
            "name": card.name,
        }
        for card in report.cards
    ]
    scores: Table | None = Table(
        "k-scores",
        _("How the number of personas was chosen"),
        [
            Column("k", _("Personas (k)"), "number"),
            Column("stability", _("Stability"), "number", 3),
            Column("chosen", _("Chosen")),
        ],
        [
            {
                "k": row["k"],
                "stability": row["stability"],
                "chosen": _("yes") if row["chosen"] else "",
            }
            for row in report.score_rows()
        ],
        caption=_(
            "The stability is how much the personas found on one half of the people agree with"
            " those found on the other half (adjusted Rand index: 0 by chance, 1 the same)."
        ),
    )
    if not report.score_rows():  # k was asked: no stability measured
        scores = None
    return {
        "cards": cards,
        "k": k,
        "k_choices": K_CHOICES,
        "people": report.clusters.total,
        "min_touchpoints": report.clusters.min_touchpoints,
        "too_little_history": report.clusters.too_little_history,
        "too_little_share": 1 - report.clusters.coverage,
        "scores": scores,
        "problem": None,
        "computing": computing,
        "computed_at": entry.computed_at,
        "max_age_minutes": round(PERSONA_REPORTS.max_age / 60),
        "value": _value(view),
    }


def _value(view: View) -> dict[str, Any]:
    """RFM segments and CLV totals (each a fraction of a second on the default demo)."""
    _ = view.gettext
    out: dict[str, Any] = {"rfm": None, "clv": None, "problem": None}

    def compute() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        rfm = view.ws.know.rfm()
        clv = view.ws.know.clv()
        return rfm.to_rows(), clv.to_rows(), clv.horizon_months

    try:
        rows, people, months = view.report(("rfm-clv",), compute)
    except EmpreinteError as exc:
        out["problem"] = view.problem(exc)
        return out
    rows = [{**r, "segment": _(r["segment"])} for r in rows]
    out["rfm"] = Chart(
        "rfm",
        _("RFM segments"),
        bars(
            [r["segment"] for r in rows],
            {_("Customers"): [r["customers"] for r in rows]},
            horizontal=True,
        ),
        Table(
            "rfm-data",
            _("RFM segments"),
            [
                Column("segment", _("Segment")),
                Column("customers", _("Customers"), "number"),
                Column("share", _("Share of customers"), "percent"),
                Column("revenue", _("Revenue"), "number"),
                Column("revenue_share", _("Share of revenue"), "percent"),
            ],
            rows,
        ),
        caption=_("Recency, frequency and monetary value of each customer's orders."),
        height=40 + 28 * len(rows),
    )
    values = [float(r["clv"]) for r in people if r.get("clv") is not None]
    alive = [float(r["p_alive"]) for r in people if r.get("p_alive") is not None]
    out["clv"] = {
        "customers": len(people),
        "total": sum(values),
        "mean": sum(values) / len(values) if values else None,
        "alive": sum(alive) / len(alive) if alive else None,
        "months": months,
    }
    return out


def build_card(view: View) -> Mapping[str, Any]:
    k = _k_of(view)
    number = view.int_arg("n", 1, 1, 8)
    entry, _running = PERSONA_REPORTS.get(view, k)
    if entry is None:
        return {"computing": True, "reload": PERSONAS_RELOAD, "number": number, "k": k}
    if entry.report is None:
        raise entry.error or EmpreinteError("the personas could not be computed")
    report = entry.report
    if number > len(report.cards):
        raise InvalidInput("n", f"no persona {number}: there are {len(report.cards)}")
    card = report.cards[number - 1]

    def draw() -> bytes:
        with tempfile.TemporaryDirectory(prefix="empreinte-persona-") as folder:
            return card.to_png(Path(folder) / "card.png").read_bytes()

    png = view.report(("persona-card", view.language, k, number, entry.computed_at), draw)
    return {
        "card_name": card.name,
        "number": number,
        "k": k,
        "png": "data:image/png;base64," + base64.b64encode(png).decode(),
        "filename": f"persona-{number}-{view.language}.png",
        "computing": False,
    }


# -- routes ------------------------------------------------------------------------------

SEGMENTS = Page(
    "segments",
    "/segments",
    N_("Segments"),
    "segments.html",
    build,
    STAFF,
    notices={"deleted": N_("The segment was deleted.")},
)
SIZE = Page(
    "segments", SIZE_PATH, N_("Segments"), "segments_size.html", build_size, STAFF, fragment=True
)
PERSONAS = Page("segments", "/personas", N_("Personas"), "personas.html", build_personas, STAFF)
CARD = Page(
    "segments", "/personas/card", N_("Persona card"), "personas_card.html", build_card, STAFF
)
SEGMENT = Page(
    "segments",
    "/segments/{name}",
    N_("Segment"),
    "segments_one.html",
    build_segment,
    STAFF,
    notices={
        "saved": N_("The segment was saved and its members computed."),
        "refreshed": N_("The segment's members were computed again."),
        "updated": N_("The segment was changed."),
    },
)

# The navigation links the first page of a key: the segment list. The live size comes before
# `/segments/{name}` so that its path is not read as a name.
PAGES = [SEGMENTS, SIZE, SEGMENT, PERSONAS, CARD]
ACTIONS = [
    Action("/segments", save, SEGMENTS, STAFF),
    Action("/segments/{name}/refresh", refresh, SEGMENT, STAFF),
    Action("/segments/{name}/update", update, SEGMENT, STAFF),
    Action("/segments/{name}/delete", delete, SEGMENT, STAFF),
]

# Texts shown from data: membership changes, and the RFM segments (analytics/know/rfm.py).
WORDS = (
    N_("entered"),
    N_("left"),
    N_("champions"),
    N_("loyal customers"),
    N_("potential loyalists"),
    N_("new customers"),
    N_("promising"),
    N_("need attention"),
    N_("about to sleep"),
    N_("cannot lose them"),
    N_("at risk"),
    N_("hibernating"),
    N_("lost"),
)
