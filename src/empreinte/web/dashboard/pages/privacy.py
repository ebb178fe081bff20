"""Privacy: consent rates per purpose over time, the events suppression dropped, the erasure
audit trail (and the form that asks for an erasure), and the match review queue.

Roles mirror the privacy API (web/privacy_api.py): every privacy register is for admins and
analysts, so the page is theirs (a viewer gets a 403, and no menu entry). The erasure audit
(`GET /api/privacy/erasures`) and erasing (`DELETE /api/profiles/{id}`) are for admins only:
analysts do not get them rendered. The match review queue has no HTTP API; its evidence holds
the raw values of both records (names, e-mails, phones), so analysts see the queue with the
agreement of each field and its weight but no value and no record id (the profile id is a
pseudonym), and only admins accept or reject (as `empreinte match accept|reject` do).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from empreinte.credentials import Role
from empreinte.errors import EmpreinteError
from empreinte.web.dashboard.components import Chart, Column, EmptyState, Table, bars, lines
from empreinte.web.dashboard.page import ADMINS, N_, STAFF, Action, Page, Redirect, View
from empreinte.web.dashboard.snippets import snippets

if TYPE_CHECKING:
    from empreinte.analytics.consent_rates import ConsentRate
    from empreinte.store.match_store import MatchReview

# The consent ledger and the match store load pyarrow (and Ibis for the rates): imported when
# the page is built, not with the app.
PERIODS = ("week", "month", "quarter")
#: Pending reviews shown per page (the queue is paged on the server).
REVIEWS_PER_PAGE = 10
MAX_OFFSET = 1_000_000
#: How an erasure may name the person (privacy.erasure.erase_by).
ERASE_BY = ("profileId", "userId", "email", "phone", "anonymousId")
PURPOSE_NAMES = {
    "analytics": N_("Analytics"),
    "personalisation": N_("Personalisation"),
    "marketing_email": N_("Marketing e-mails"),
    "marketing_sms": N_("Marketing SMS"),
    "profiling": N_("Profiling"),
}
ERASE_BY_NAMES = {
    "profileId": N_("Profile id"),
    "userId": N_("User id"),
    "email": N_("E-mail"),
    "phone": N_("Phone"),
    "anonymousId": N_("Anonymous id"),
}
#: The audit's counts worth a column (the others are in the CSV of the API).
AUDIT_COUNTS = ("events", "consent_entries", "suppressed_identifiers", "match_reviews")


def _actor(view: View) -> str:
    return f"dashboard:{view.viewer.username}"


# -- consent ---------------------------------------------------------------------------------


def _consent_chart(view: View, rows: list[ConsentRate]) -> Chart:
    _ = view.gettext
    periods = sorted({(r.start, r.period) for r in rows})
    labels = [label for _start, label in periods]
    purposes = list(dict.fromkeys(r.purpose for r in rows))
    cell = {(r.period, r.purpose): r for r in rows}
    names = {p: _(PURPOSE_NAMES.get(p, p)) for p in purposes}
    figure = lines(
        labels,
        {names[p]: [cell[(label, p)].rate for label in labels] for p in purposes},
        percent_axis=True,
    )
    figure["layout"]["yaxis"]["rangemode"] = "tozero"
    # "2026-01" is a period, not a date for Plotly to place on a time axis.
    figure["layout"]["xaxis"] = {"type": "category"}
    columns = [Column("period", _("Period")), Column("known", _("People known"), "number")]
    columns += [Column(p, names[p], "percent", 1) for p in purposes]
    columns += [
        Column(f"{p}_n", _("%(purpose)s (people)") % {"purpose": names[p]}, "number")
        for p in purposes
    ]
    table_rows: list[dict[str, Any]] = []
    for label in labels:
        row: dict[str, Any] = {"period": label}
        for p in purposes:
            found = cell[(label, p)]
            row["known"] = found.known
            row[p] = found.rate
            row[f"{p}_n"] = found.allowing
        table_rows.append(row)
    title = _("Consent rate per purpose")
    return Chart(
        "consent-rates",
        title,
        figure,
        Table("consent-rates-data", title, columns, table_rows),
        caption=_(
            "Share of the people known at the end of each period (every profile, anonymous "
            "visitors included) who allowed each purpose then. Silence is a no; a grant of "
            "marketing counts only from a trusted source, and of e-mails only once confirmed "
            "(double opt-in)."
        ),
        empty=EmptyState(
            _("No consent recorded yet. Send each choice as a `Consent Updated` event:"),
            snippets(
                "track",
                "user-42",
                "Consent Updated",
                {"purpose": "analytics", "granted": True, "wording_version": "banner-v3"},
            ),
        ),
    )


def _consent_now(view: View, rows: list[ConsentRate]) -> list[dict[str, Any]]:
    """The last period's rate of each purpose: the rate now."""
    if not rows:
        return []
    last = max(r.start for r in rows)
    return [
        {
            "purpose": view.gettext(PURPOSE_NAMES.get(r.purpose, r.purpose)),
            "rate": r.rate,
            "allowing": r.allowing,
            "known": r.known,
        }
        for r in rows
        if r.start == last
    ]


# -- suppression and erasure -----------------------------------------------------------------


def _suppressed_chart(view: View, counts: list[tuple[Any, str, int]]) -> Chart:
    _ = view.gettext
    days = sorted({day for day, _source, _n in counts})
    sources = sorted({source for _day, source, _n in counts})
    cell = {(day, source): n for day, source, n in counts}
    labels = [day.isoformat() for day in days]
    figure = bars(labels, {s: [cell.get((d, s), 0) for d in days] for s in sources}, stacked=True)
    figure["layout"]["xaxis"] = {"type": "category"}  # whole days, however few
    table_rows = [
        {"day": day, "source": source, "events": n}
        for day, source, n in sorted(counts, key=lambda c: (c[0], c[1]), reverse=True)
    ]
    title = _("Events dropped by suppression")
    return Chart(
        "suppressed",
        title,
        figure,
        Table(
            "suppressed-data",
            title,
            [
                Column("day", _("Day"), "date"),
                Column("source", _("Source")),
                Column("events", _("Events dropped"), "number"),
            ],
            table_rows,
        ),
        caption=_(
            "Events that arrived after their sender was erased, by day of arrival and source: "
            "the collector drops them (or strips the erased identifier) before storing."
        ),
        empty=EmptyState(
            _(
                "No event has been dropped: events are suppressed only when they carry an "
                "identifier of an erased person."
            )
        ),
        height=280,
    )


def _erasures(view: View) -> Table:
    _ = view.gettext
    records = view.ws.privacy_store.erasures()
    rows = []
    for r in reversed(records):  # newest first
        counts = r.get("counts") or {}
        rows.append(
            {
                "at": r["recorded_at"],
                "id": r["erasure_id"],
                "actor": r["actor"],
                "identifiers": len(r.get("id_hashes") or ()),
                **{k: counts.get(k) for k in AUDIT_COUNTS},
            }
        )
    return Table(
        "erasures",
        _("Erasure audit trail"),
        [
            Column("at", _("When"), "datetime"),
            Column("id", _("Erasure")),
            Column("actor", _("Asked by")),
            Column("events", _("Events deleted"), "number"),
            Column("consent_entries", _("Consent entries deleted"), "number"),
            Column("match_reviews", _("Match reviews deleted"), "number"),
            Column("suppressed_identifiers", _("Identifiers suppressed"), "number"),
        ],
        rows,
        caption=_(
            "Every erasure, newest first: when, who asked, and what was deleted. The trail "
            "keeps no personal data: the identifiers are kept only as hashes, to suppress "
            "what their owner would still send."
        ),
        empty=EmptyState(_("No one has been erased yet.")),
    )


# -- match reviews ---------------------------------------------------------------------------


def _review_card(view: View, review: MatchReview, raw: bool) -> dict[str, Any]:
    _ = view.gettext
    evidence = []
    for c in review.detail.get("comparisons") or []:
        if not isinstance(c, Mapping):
            continue
        weight = c.get("match_weight")
        evidence.append(
            {
                "field": str(c.get("name") or ""),
                "file": _text(c.get("left")) if raw else None,
                "known": _text(c.get("right")) if raw else None,
                "level": str(c.get("level") or ""),
                "weight": float(weight) if isinstance(weight, int | float) else None,
            }
        )
    return {
        "id": review.review_id,
        "probability": review.probability,
        "source_file": review.source_file,
        "created_at": review.created_at,
        "record": review.record_id if raw else None,
        "profile": review.profile_id,
        "other_record": review.other_record_id if raw else None,
        "duplicate": review.other_record_id is not None,
        "evidence": evidence,
    }


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:200]


def _reviews(view: View, offset: int) -> dict[str, Any]:
    from empreinte.store.match_store import MatchStore, ReviewStatus

    store = MatchStore(view.ws.engine)
    total = store.count(ReviewStatus.PENDING)
    offset = min(offset, max(total - 1, 0) // REVIEWS_PER_PAGE * REVIEWS_PER_PAGE)
    pending = store.list(ReviewStatus.PENDING, REVIEWS_PER_PAGE, offset)
    raw = view.viewer.role == Role.ADMIN
    return {
        "total": total,
        "offset": offset,
        "first": offset + 1 if pending else 0,
        "last": offset + len(pending),
        "previous": offset - REVIEWS_PER_PAGE if offset > 0 else None,
        "next": offset + REVIEWS_PER_PAGE if offset + REVIEWS_PER_PAGE < total else None,
        "cards": [_review_card(view, r, raw) for r in pending],
        "raw": raw,
    }


# -- the page --------------------------------------------------------------------------------


def build(view: View) -> Mapping[str, Any]:
    from empreinte.analytics.consent_rates import consent_rates
    from empreinte.privacy.consent import policy_of

    problems: list[str] = []
    try:
        period = view.choice("period", PERIODS, "month")
    except EmpreinteError as exc:
        period = "month"
        problems.append(view.problem(exc))
    try:
        offset = view.int_arg("reviews_from", 0, 0, MAX_OFFSET)
    except EmpreinteError as exc:
        offset = 0
        problems.append(view.problem(exc))

    def rates_of() -> list[ConsentRate]:
        with view.ws.analytics() as log:
            return consent_rates(log, policy_of(view.ws), period)

    # An aggregate: kept a minute for every viewer (emptied by an erasure); the registers
    # below are read fresh, they are small.
    rates = view.report(("consent_rates", period), rates_of)
    counts = view.ws.suppression.counts()
    admin = view.viewer.role == Role.ADMIN
    return {
        "period": period,
        "periods": PERIODS,
        "problems": problems,
        "consent": _consent_chart(view, rates),
        "consent_now": _consent_now(view, rates),
        "suppressed": _suppressed_chart(view, counts),
        "suppressed_total": sum(n for _day, _source, n in counts),
        "erasures": _erasures(view) if admin else None,
        "reviews": _reviews(view, offset),
        "erase_by": [(k, view.gettext(ERASE_BY_NAMES[k])) for k in ERASE_BY],
        "erase_form": {"by": "profileId", "value": ""},
        "action_error": None,
    }


def _decide(view: View, form: Mapping[str, str], accept: bool) -> Redirect | Mapping[str, Any]:
    from empreinte.matching.jobs import accept_review, reject_review

    review_id = form.get("review_id", "").strip()[:100]
    try:
        if accept:
            accept_review(view.ws, review_id, _actor(view))
        else:
            reject_review(view.ws, review_id, _actor(view))
    except EmpreinteError as exc:
        return {"action_error": view.problem(exc)}
    return Redirect("/privacy", "accepted" if accept else "rejected")


def accept(view: View, form: Mapping[str, str]) -> Redirect | Mapping[str, Any]:
    return _decide(view, form, accept=True)


def reject(view: View, form: Mapping[str, str]) -> Redirect | Mapping[str, Any]:
    return _decide(view, form, accept=False)


def erase(view: View, form: Mapping[str, str]) -> Redirect | Mapping[str, Any]:
    from empreinte.privacy.erasure import erase_by

    by = form.get("by", "profileId")
    value = form.get("value", "").strip()[:500]
    kept = {"erase_form": {"by": by if by in ERASE_BY else "profileId", "value": value}}
    _ = view.gettext
    if by not in ERASE_BY:
        return {**kept, "action_error": _("Choose how the person is named.")}
    if not value:
        return {**kept, "action_error": _("Give the identifier of the person to erase.")}
    if form.get("confirm") != "yes":
        return {
            **kept,
            "action_error": _("Tick the box to confirm: an erasure cannot be undone."),
        }
    try:
        erase_by(view.ws, by, value, _actor(view))
    except EmpreinteError as exc:
        return {**kept, "action_error": view.problem(exc)}
    return Redirect("/privacy", "erased")


PRIVACY = Page(
    "privacy",
    "/privacy",
    N_("Privacy"),
    "privacy.html",
    build,
    STAFF,
    notices={
        "accepted": N_("Match accepted: the record now belongs to the profile."),
        "rejected": N_("Match rejected: the pair will not be proposed again."),
        "erased": N_("The person was erased; the audit trail below records it."),
    },
)
PAGES = [PRIVACY]
ACTIONS: list[Action] = [
    Action("/privacy/reviews/accept", accept, PRIVACY, ADMINS),
    Action("/privacy/reviews/reject", reject, PRIVACY, ADMINS),
    Action("/privacy/erase", erase, PRIVACY, ADMINS),
]
