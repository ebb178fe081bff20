"""Customers: find a person (by e-mail, phone, user id, anonymous id, loyalty card, profile id
or pseudonym) and their customer 360 — identities and merge history, traits with their history,
computed traits and predictions, consent with its history, segments, and the cross-channel
timeline, newest first.

Admins and analysts only (viewers see aggregates: the page answers 403 and is not in their
navigation). What a role sees follows the profile API (web/profiles_api.py): raw personal
values for admins, pseudonyms for analysts (`pii_for`), and analysts may not look people up by
e-mail or phone (`PERSONAL_LOOKUPS`): the answer would tell whether that person is known. The
refusal comes before anything is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from empreinte.credentials import Role
from empreinte.errors import EmpreinteError, Forbidden, InvalidInput, ProfileNotFound
from empreinte.web.dashboard.components import Column, EmptyState, Table
from empreinte.web.dashboard.page import MAX_ARG, N_, STAFF, Action, Page, View
from empreinte.web.dashboard.snippets import snippets, track_snippets

if TYPE_CHECKING:
    from empreinte.identity.model import Explanation
    from empreinte.privacy.consent import Ledger
    from empreinte.profiles.profile import Profile, TimelinePage

#: The kinds of search: a guess, then what the profile API looks up by, then profile ids and
#: pseudonyms (`p_…`, `pii_…`, or an identifier key `email:pii_…` as the 360 shows them).
KINDS = ("auto", "email", "phone", "userId", "anonymousId", "loyaltyCard", "profile")
KIND_LABELS = {
    "auto": N_("Guess from what I type"),
    "email": N_("E-mail address"),
    "phone": N_("Phone number"),
    "userId": N_("User id"),
    "anonymousId": N_("Anonymous id"),
    "loyaltyCard": N_("Loyalty card"),
    "profile": N_("Profile id or pseudonym"),
}
#: Events per page of the timeline.
TIMELINE_PAGE = 50
#: Without a cursor the timeline starts from the newest event: "before the end of time".
_END = "9999-12-31T23:59:59Z"
#: Longest text shown for one property value (a comment can be 32 KB).
_MAX_TEXT = 280
#: Matches shown for one search (a guessed value is tried as several kinds).
_MAX_MATCHES = 10

_PHONE = re.compile(r"^\+?[0-9][0-9 ().\-]{4,}[0-9]$")
_PROFILE_ID = re.compile(r"^p_[0-9a-f]{8,64}$")
_PSEUDONYM = "pii_"

#: One icon per channel: an inline SVG path (24×24, stroked) and a colour; the label next to
#: it is the channel's name, so screen readers read the word and the picture is decoration.
CHANNEL_ICONS: dict[str, tuple[str, str]] = {
    "web": (
        "#1f5fae",
        "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M3 12h18M12 3c3 3 3 15 0 18M12 3c-3 3-3 15 0 18",
    ),
    "app": (
        "#2e8b57",
        "M8 3h8a1 1 0 0 1 1 1v16a1 1 0 0 1-1 1H8a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1M11 18h2",
    ),
    "phone": (
        "#b03a48",
        "M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2"
        "A16 16 0 0 1 3 6a2 2 0 0 1 2-2",
    ),
    "store": ("#8c6d31", "M4 9l1-5h14l1 5M4 9h16M5 9v11h14V9M10 20v-6h4v6"),
    "email": ("#d9822b", "M3 6h18v12H3zM3 6l9 7 9-7"),
    "sms": ("#7a5195", "M4 5h16v11H9l-4 4v-4H4zM8 9h8M8 12h5"),
    "push": ("#4d8fa8", "M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0"),
    "social": (
        "#e377c2",
        "M6 12a2 2 0 1 0 0 .1M18 6a2 2 0 1 0 0 .1M18 18a2 2 0 1 0 0 .1M8 11l8-4M8 13l8 4",
    ),
    "chat": ("#17becf", "M3 5h12v8H8l-3 3v-3H3zM17 9h4v8h-2v3l-3-3h-5v-2"),
    "voice": (
        "#555555",
        "M12 3a3 3 0 0 1 3 3v6a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3M6 11a6 6 0 0 0 12 0M12 17v4",
    ),
}
UNKNOWN_ICON = (
    "#8a93a3",
    "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M9.5 9a2.5 2.5 0 1 1 3.5 2.3c-.8.4-1 .9-1 1.7M12 17h.01",
)

#: Channel names as the dashboard shows them (the collector's values, collect/channels.py).
CHANNEL_NAMES = {
    "web": N_("Web"),
    "app": N_("App"),
    "phone": N_("Phone"),
    "store": N_("Store"),
    "email": N_("E-mail"),
    "sms": N_("SMS"),
    "push": N_("Push"),
    "social": N_("Social"),
    "chat": N_("Chat"),
    "voice": N_("Voice assistant"),
}
IDENTIFIER_TYPES = {
    "user_id": N_("User id"),
    "email": N_("E-mail address"),
    "phone": N_("Phone number"),
    "loyalty_card": N_("Loyalty card"),
    "external": N_("External id"),
    "device_id": N_("Device id"),
    "anonymous_id": N_("Anonymous id"),
    "matched_record": N_("Matched record"),
}
STEP_ACTIONS = {
    "found": N_("first seen: started this profile"),
    "join": N_("joined the profile"),
    "merge": N_("two profiles merged"),
    "conflict": N_("link refused by a rule"),
}
OVERRIDE_ACTIONS = {"block": N_("blocked"), "cut": N_("cut"), "unblock": N_("unblocked")}
CONSENT_STATUS = {
    "granted": N_("granted"),
    "revoked": N_("refused or withdrawn"),
    "pending": N_("awaiting confirmation"),
    "not_given": N_("not given"),
    "default": N_("allowed by default"),
}
PURPOSE_NAMES = {
    "analytics": N_("Analytics"),
    "personalisation": N_("Personalisation"),
    "marketing_email": N_("Marketing e-mails"),
    "marketing_sms": N_("Marketing SMS"),
    "profiling": N_("Profiling"),
}
EVENT_TYPES = {
    "page": N_("Page viewed"),
    "screen": N_("Screen viewed"),
    "identify": N_("Identified"),
    "alias": N_("Identities linked"),
    "group": N_("Joined a group"),
}
#: Predictions (computed traits of model runs, analytics/know/scorers.py): label and format.
PREDICTIONS: dict[str, tuple[str, str]] = {
    "churn_risk": (N_("Churn risk"), "percent"),
    "clv": (N_("Customer lifetime value"), "money"),
    "p_alive": (N_("Probability still active"), "percent"),
    "expected_purchases": (N_("Expected purchases"), "number"),
    "rfm_segment": (N_("RFM segment"), "text"),
    "rfm_r": (N_("RFM recency score"), "number"),
    "rfm_f": (N_("RFM frequency score"), "number"),
    "rfm_m": (N_("RFM monetary score"), "number"),
    "persona": (N_("Persona"), "text"),
}
#: The properties that say most about an event, shown first in the timeline.
_KEY_PROPERTIES = (
    "name",
    "title",
    "path",
    "query",
    "score",
    "comment",
    "order_id",
    "revenue",
    "total",
    "value",
    "currency",
    "reason",
    "purpose",
    "granted",
    "campaign",
    "subject",
    "store_id",
)
_DETAIL_PROPERTIES = 4


# -- search ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    profile_id: str
    by: str  # a KINDS value


def _is_admin(view: View) -> bool:
    return view.viewer.role is Role.ADMIN


def _pii(view: View) -> bool:
    """Raw personal values or pseudonyms: the profile API's rule (`pii_for`), for this
    viewer, without a `pii` parameter (admins see raw values, anyone else pseudonyms)."""
    from starlette.datastructures import QueryParams

    from empreinte.web.params import Query
    from empreinte.web.profiles_api import pii_for

    return pii_for(view.viewer.principal, Query(QueryParams()))


def guess(text: str) -> tuple[str, ...]:
    """The kinds a typed value may be, most likely first."""
    if "@" in text:
        return ("email",)
    if _PROFILE_ID.match(text) or text.startswith(_PSEUDONYM):
        return ("profile",)
    kind, sep, _rest = text.partition(":")
    if sep and kind.lower() in IDENTIFIER_TYPES:
        return ("profile",)
    if _PHONE.match(text) and sum(c.isdigit() for c in text) >= 6:
        return ("phone", "userId", "loyaltyCard")
    return ("userId", "anonymousId", "loyaltyCard")


def _personal(view: View, kind: str, text: str) -> bool:
    """Whether looking `text` up as `kind` takes a raw e-mail or phone number."""
    from empreinte.profiles.lookup import PERSONAL_LOOKUPS

    if kind in PERSONAL_LOOKUPS:
        return True
    if kind == "profile":
        id_type, sep, value = text.partition(":")
        return (
            bool(sep)
            and id_type.strip().lower() in ("email", "phone")
            and not value.startswith(_PSEUDONYM)
        )
    return False


def _find(view: View, kind: str, text: str) -> list[str]:
    """Profile ids holding `text` as `kind` (raises `InvalidInput` for impossible values)."""
    profiles = view.ws.profiles
    if kind != "profile":
        found = profiles.find(kind, text)
        return [found] if found else []
    if _PROFILE_ID.match(text):
        try:
            return [profiles.current(text)]
        except ProfileNotFound:
            return []
    if ":" in text:
        found = profiles.find_key(text)
        return [found] if found else []
    if text.startswith(_PSEUDONYM):
        out = []
        for id_type in ("email", "phone"):
            found = profiles.find_key(f"{id_type}:{text}")
            if found and found not in out:
                out.append(found)
        return out
    raise InvalidInput(
        "q", "a profile id starts with p_, a pseudonym with pii_, an identifier key is TYPE:VALUE"
    )


def search(view: View, kind: str, text: str) -> tuple[list[Match], list[str], str]:
    """The profiles matching `text`, the kinds it was tried as, and why some were skipped
    (analysts: no e-mail or phone lookups). Refusals come before any read."""
    _ = view.gettext
    kinds = guess(text) if kind == "auto" else (kind,)
    admin = _is_admin(view)
    refused = [k for k in kinds if not admin and _personal(view, k, text)]
    if refused and len(refused) == len(kinds):
        raise Forbidden(
            _(
                "Analysts cannot look people up by e-mail address or phone number (the answer "
                "would tell whether that person is known). Search by user id, anonymous id, "
                "loyalty card, profile id or pseudonym."
            )
        )
    tried = [k for k in kinds if k not in refused]
    note = (
        _("Phone numbers are searched by admins only; this was searched as the other kinds.")
        if refused
        else ""
    )
    matches: list[Match] = []
    errors: list[EmpreinteError] = []
    for k in tried:
        try:
            found = _find(view, k, text)
        except InvalidInput as exc:
            errors.append(exc)
            continue
        for profile_id in found:
            if all(m.profile_id != profile_id for m in matches):
                matches.append(Match(profile_id, k))
    if errors and len(errors) == len(tried):
        raise errors[0]
    return matches[:_MAX_MATCHES], tried, note


def _name(view: View, profile: Profile) -> str:
    """How the person is called on screen: their name for admins; for analysts, never a
    name (the stored first and last names are pseudonyms)."""
    if profile.pii:
        parts = [profile.traits.raw("first_name"), profile.traits.raw("last_name")]
        name = " ".join(str(p) for p in parts if isinstance(p, str) and p.strip())
        if name:
            return name
        name_trait = profile.traits.raw("name")
        if isinstance(name_trait, str) and name_trait.strip():
            return name_trait
    return profile.profile_id


def _result_rows(view: View, matches: Sequence[Match]) -> list[dict[str, Any]]:
    _ = view.gettext
    pii = _pii(view)
    rows = []
    for match in matches:
        profile = view.ws.profiles.get(match.profile_id, pii=pii)
        computed = profile.computed
        flat = profile.traits.flat(pii)
        row: dict[str, Any] = {
            "profile_id": profile.profile_id,
            "href": _customer_path(profile.profile_id),
            "name": _name(view, profile),
            "by": _(KIND_LABELS[match.by]),
            "events": computed.events,
            "channels": ", ".join(_(CHANNEL_NAMES.get(c, c)) for c in computed.channels),
            "last_seen": computed.last_seen,
            "country": computed.country,
        }
        if pii:
            row["email"] = flat.get("email")
            row["phone"] = flat.get("phone")
        else:
            row["email"] = flat.get("email")  # the pseudonym
        rows.append(row)
    return rows


def _results_table(view: View, rows: list[dict[str, Any]]) -> Table:
    _ = view.gettext
    columns = [Column("profile_id", _("Profile"), "link", href="href")]
    if _pii(view):
        columns += [
            Column("name", _("Name")),
            Column("email", _("E-mail address")),
            Column("phone", _("Phone number")),
        ]
    else:
        columns.append(Column("email", _("E-mail (pseudonym)")))
    columns += [
        Column("by", _("Found by")),
        Column("events", _("Events"), "number"),
        Column("channels", _("Channels")),
        Column("country", _("Country")),
        Column("last_seen", _("Last seen"), "datetime"),
    ]
    return Table("results", _("Customers found"), columns, rows)


def build_search(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    typed = view.query.getlist("q")
    context: dict[str, Any] = {
        # What was typed stays in the box, even when it is refused below.
        "q": typed[0].strip()[:MAX_ARG] if typed else "",
        "kind": "auto",
        "kinds": [(k, _(KIND_LABELS[k])) for k in KINDS],
        "results": None,
        "error": "",
        "note": "",
        "tried": [],
        "admin": _is_admin(view),
    }
    try:
        text = view.arg("q")
        kind = view.choice("kind", KINDS, "auto")
        context["kind"] = kind
        if not text:
            return context
        matches, tried, note = search(view, kind, text)
        context["tried"] = [_(KIND_LABELS[k]) for k in tried]
        context["note"] = note
        context["results"] = _results_table(view, _result_rows(view, matches))
    except EmpreinteError as exc:
        context["error"] = view.problem(exc)
    return context


# -- the customer 360 ------------------------------------------------------------------------


def _requested(view: View) -> str:
    profile_id = view.path.removeprefix(CUSTOMER_PREFIX)
    if not profile_id or "/" in profile_id or len(profile_id) > 200:
        raise ProfileNotFound("no such profile")
    return profile_id


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _raw_of(profile: Profile) -> dict[str, Any]:
    """Pseudonym → raw value, from the profile's own trait history (for admins only: it lets
    the identities table show an e-mail address rather than its pseudonym)."""
    if not profile.pii:
        return {}
    out: dict[str, Any] = {}
    for changes in profile.traits.history.values():
        for change in changes:
            shown, value = change.last.shown, change.last.value
            if isinstance(shown, str) and shown.startswith(_PSEUDONYM) and shown != value:
                out[shown] = value
    return out


def _customer_path(profile_id: str | None) -> str | None:
    return CUSTOMER_PREFIX + quote(profile_id, safe="") if profile_id else None


def _shown_key(key: str, raw: Mapping[str, Any]) -> str:
    _type, _sep, value = key.partition(":")
    return str(raw.get(value, value))


def _identity_tables(
    view: View, profile: Profile, explanation: Explanation
) -> tuple[Table, Table, Table]:
    _ = view.gettext
    raw = _raw_of(profile)
    first_step: dict[str, datetime] = {}
    for step in explanation.steps:
        first_step.setdefault(step.id_key, step.at)
    identities = Table(
        "identities",
        _("Identities"),
        [
            Column("type", _("Type")),
            Column("value", _("Identifier")),
            Column("since", _("First seen"), "datetime"),
        ],
        [
            {
                "type": _(IDENTIFIER_TYPES.get(r.id_type, r.id_type)),
                "value": _shown_key(r.id_key, raw),
                "since": first_step.get(r.id_key),
            }
            for r in profile.identifiers
        ],
        caption=(
            _("E-mail addresses and phone numbers are shown as pseudonyms for your role.")
            if not profile.pii
            else ""
        ),
    )
    steps = Table(
        "merge-history",
        _("Merge history"),
        [
            Column("at", _("When"), "datetime"),
            Column("action", _("What happened")),
            Column("key", _("Identifier")),
            # A merged-away id opens the profile it merged into.
            Column("profile", _("Profile"), "link", href="profile_href"),
            Column("other", _("Other profile"), "link", href="other_href"),
            Column("rule", _("Rule")),
        ],
        [
            {
                "at": s.at,
                "action": _(STEP_ACTIONS.get(s.action, s.action)),
                "key": _(IDENTIFIER_TYPES.get(s.id_key.partition(":")[0], s.id_key))
                + " "
                + _shown_key(s.id_key, raw),
                "profile": s.profile_id,
                "profile_href": _customer_path(s.profile_id),
                "other": s.other_profile_id,
                "other_href": _customer_path(s.other_profile_id),
                "rule": s.rule,
            }
            for s in explanation.steps
        ],
        page_size=10,
        caption=_(
            "How the identity graph built this profile, replayed from the events: each "
            "identifier found, each profile merged in, each link a rule refused."
        ),
    )
    decisions = Table(
        "identity-decisions",
        _("Refused links and admin decisions"),
        [
            Column("at", _("When"), "datetime"),
            Column("what", _("What happened")),
            Column("key", _("Identifier")),
            Column("by", _("By")),
            Column("reason", _("Reason")),
        ],
        [
            {
                "at": c.recorded_at,
                "what": _("link refused by a rule"),
                "key": _shown_key(c.id_key, raw),
                "by": c.rule,
                "reason": c.other_profile_id,
            }
            for c in explanation.conflicts
        ]
        + [
            {
                "at": o.recorded_at,
                "what": _(OVERRIDE_ACTIONS.get(o.action, o.action)),
                "key": _shown_key(o.id_key, raw),
                "by": o.actor,
                "reason": o.reason,
            }
            for o in explanation.overrides
        ],
        page_size=10,
    )
    return identities, steps, decisions


def _traits(view: View, profile: Profile) -> Table:
    from empreinte.profiles.views import history_json

    _ = view.gettext
    history = history_json(profile.traits, profile.pii)
    rows = []
    for path, changes in sorted(history.items()):
        current = next((c for c in changes if c["current"]), changes[-1])
        earlier = [c for c in changes if c is not current]
        rows.append(
            {
                "trait": path,
                "value": _short(current["value"]),
                "source": current["source"],
                "since": _when(current["since"]),
                "updated": _when(current["timestamp"]),
                "history": [
                    {
                        "value": _short(c["value"]),
                        "source": c["source"],
                        "since": _when(c["since"]),
                        "until": _when(c["timestamp"]),
                    }
                    for c in reversed(earlier)
                ],
            }
        )
    return Table(
        "traits",
        _("Traits"),
        [
            Column("trait", _("Trait")),
            Column("value", _("Value")),
            Column("source", _("Source")),
            Column("since", _("Since"), "datetime"),
            Column("updated", _("Last stated"), "datetime"),
        ],
        rows,
        page_size=50,
        caption=(
            _("Personal values are pseudonyms for your role.")
            if not profile.pii
            else _("Raw personal values: you are an admin.")
        ),
        empty=EmptyState(
            _("No traits yet. Send an identify call when the person signs up or logs in:"),
            snippets("identify", "user-42", {"first_name": "Jane", "email": "jane@example.com"}),
        ),
    )


def _computed(view: View, profile: Profile) -> list[dict[str, Any]]:
    """The computed traits as label/value cards (values already formatted)."""
    _ = view.gettext
    fmt = view.fmt
    c = profile.computed
    cards: list[dict[str, Any]] = [
        {"label": _("Events"), "value": fmt.number(c.events)},
        {"label": _("Orders"), "value": fmt.number(c.orders)},
    ]
    for currency, amount in sorted(c.revenue.items()):
        cards.append(
            {
                "label": _("Revenue (%(currency)s)") % {"currency": currency},
                "value": fmt.number(amount, 2),
            }
        )
    preferred = c.preferred_channel
    cards += [
        {"label": _("First seen"), "value": fmt.date(c.first_seen)},
        {"label": _("Last seen"), "value": fmt.date(c.last_seen)},
        {
            "label": _("Preferred channel"),
            "value": _(CHANNEL_NAMES.get(preferred, preferred)) if preferred else "–",
        },
    ]
    if c.last_purchase is not None:
        purchase = c.last_purchase
        paid = (
            fmt.number(purchase.amount, 2) + " " + (purchase.currency or "")
            if purchase.amount is not None
            else "–"
        )
        cards.append({"label": _("Last purchase"), "value": f"{fmt.date(purchase.time)} · {paid}"})
    if c.age is not None:
        cards.append({"label": _("Age"), "value": fmt.number(c.age)})
    if profile.generation:
        cards.append({"label": _("Generation"), "value": profile.generation})
    if c.country:
        cards.append({"label": _("Country"), "value": c.country})
    return cards


def _predictions(view: View, profile: Profile) -> Table:
    _ = view.gettext
    rows = []
    for trait in sorted(profile.predicted, key=lambda t: (t.trait not in PREDICTIONS, t.trait)):
        label, kind = PREDICTIONS.get(trait.trait, (trait.trait, "text"))
        value: Any = trait.value
        if kind == "percent" and isinstance(value, float):
            shown = view.fmt.percent(value, 1)
        elif kind in ("money", "number") and isinstance(value, float):
            shown = view.fmt.number(value, 2 if kind == "money" else 1)
        else:
            shown = _short(value)
        rows.append(
            {
                "trait": _(label),
                "value": shown,
                "computed_at": trait.computed_at,
                "key": trait.trait,
            }
        )
    return Table(
        "predictions",
        _("Predictions"),
        [
            Column("trait", _("Prediction")),
            Column("value", _("Value")),
            Column("computed_at", _("Computed"), "datetime"),
        ],
        rows,
        caption=_(
            "Churn risk, customer lifetime value, RFM and persona, from the latest model run. "
            "People who do not allow profiling get none."
        ),
        empty=EmptyState(
            _(
                "No predictions for this person: an admin runs the models with "
                "`empreinte predict` (or POST /api/know/predict); people who do not allow "
                "profiling, or who have not bought yet, are not scored."
            )
        ),
    )


def _consent(view: View, ledger: Ledger) -> tuple[list[dict[str, Any]], Table]:
    _ = view.gettext
    states = [
        {
            "purpose": _(PURPOSE_NAMES.get(p, p)),
            "status": s.status.value,
            "label": _(CONSENT_STATUS.get(s.status.value, s.status.value)),
            "allowed": s.allowed,
            "since": s.decided_by.at if s.decided_by else None,
            "source": s.decided_by.source if s.decided_by else None,
            "wording": s.decided_by.wording_version if s.decided_by else None,
        }
        for p, s in ledger.states.items()
    ]
    history = Table(
        "consent-history",
        _("Consent history"),
        [
            Column("at", _("When"), "datetime"),
            Column("purpose", _("Purpose")),
            Column("decision", _("Decision"), "badge"),
            Column("source", _("Collected by")),
            Column("wording", _("Wording version")),
            Column("ignored", _("Ignored because")),
        ],
        [
            {
                "at": e.at,
                "purpose": _(PURPOSE_NAMES.get(e.purpose or "", e.purpose or "?")),
                "decision": _("granted") if e.granted else _("refused or withdrawn"),
                "source": e.source,
                "wording": e.wording_version,
                "ignored": e.problem,
            }
            for e in reversed(ledger.entries)
        ],
        page_size=10,
        caption=_("Newest first; an ignored entry does not count (the reason says why)."),
        empty=EmptyState(
            _("No consent recorded for this person. Send it as a `Consent Updated` event:"),
            track_snippets(
                "Consent Updated",
                {"purpose": "analytics", "granted": True, "wording_version": "2024-10"},
            ),
        ),
    )
    return states, history


def _segments(view: View, profile_id: str) -> list[dict[str, Any]]:
    """The saved segments the person is in, with when they entered (as of each segment's
    last refresh)."""
    service = view.ws.segments
    out = []
    for summary in service.list():
        name = summary.definition.name
        changes = service.history(name, 1, 0, profile_id)
        if changes and changes[0].change == "entered":
            out.append(
                {
                    "name": name,
                    "since": changes[0].changed_at,
                    "size": summary.size,
                    "refreshed": summary.definition.last_computed_at,
                }
            )
    return out


def _short(value: Any) -> str:
    """A value as one line of at most `_MAX_TEXT` characters."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        import orjson

        text = orjson.dumps(value).decode()
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _yes_no(view: View, value: Any) -> str:
    """`_short`, with booleans in the page's language."""
    if isinstance(value, bool):
        return view.gettext("yes") if value else view.gettext("no")
    return _short(value)


def _event_row(view: View, event: Mapping[str, Any]) -> dict[str, Any]:
    _ = view.gettext
    kind = event.get("type")
    if kind == "track":
        what = str(event.get("event") or "")
    elif kind in ("page", "screen"):
        what = _(EVENT_TYPES[kind])
        name = event.get("name")
        if name:
            what += " · " + str(name)
    else:
        what = _(EVENT_TYPES.get(str(kind), str(kind)))
    properties = event.get("properties") or {}
    details: list[tuple[str, str]] = []
    if isinstance(properties, Mapping):
        keys = [k for k in _KEY_PROPERTIES if k in properties and properties[k] not in (None, "")]
        keys += [k for k in properties if k not in keys and properties[k] not in (None, "", {})]
        details = [(str(k), _yes_no(view, properties[k])) for k in keys[:_DETAIL_PROPERTIES]]
        if kind in ("page", "screen"):
            details = [d for d in details if d[0] != "name"]
    traits = event.get("traits")
    if kind == "identify" and isinstance(traits, Mapping):
        # Which traits were stated, not their values: those are in the traits table.
        details = [(_("traits"), ", ".join(sorted(str(k) for k in traits)))]
    channel = event.get("channel") or ""
    color, path = CHANNEL_ICONS.get(channel, UNKNOWN_ICON)
    moment = event.get("timestamp")
    return {
        # A time beyond Python's years comes back as the engine's text (profiles/views.py).
        "time": moment if isinstance(moment, datetime) else None,
        "time_text": "" if isinstance(moment, datetime) else str(moment or ""),
        "channel": channel,
        "channel_name": _(CHANNEL_NAMES.get(channel, channel)) if channel else _("unknown"),
        "color": color,
        "icon": path,
        "what": what,
        "details": details,
        "source": event.get("source"),
    }


def _timeline(view: View, profile_id: str, pii: bool) -> dict[str, Any]:
    """A page of the timeline, newest first: `before` (older pages), `after` (newer pages),
    else the newest events."""
    _ = view.gettext
    before, after, error = "", "", ""
    page: TimelinePage
    try:
        before, after = view.arg("before"), view.arg("after")
        if after and before:
            raise InvalidInput("before", "give `after` or `before`, not both")
        page = view.ws.profiles.timeline(
            profile_id,
            limit=TIMELINE_PAGE,
            after=after or None,
            before=before or (None if after else _END),
            pii=pii,
        )
    except InvalidInput as exc:
        error = str(exc)
        before, after = "", ""
        page = view.ws.profiles.timeline(profile_id, limit=TIMELINE_PAGE, before=_END, pii=pii)
    rows = [_event_row(view, e) for e in reversed(page.events)]
    base = CUSTOMER_PREFIX + quote(profile_id, safe="")
    return {
        "rows": rows,
        "error": error,
        "older": f"{base}?{urlencode({'before': page.previous})}#timeline"
        if page.previous
        else None,
        "newer": f"{base}?{urlencode({'after': page.next})}#timeline" if page.next else None,
        "newest": f"{base}#timeline" if (before or after) else None,
        "paged": bool(before or after),
        "empty": EmptyState(
            _("No events for this person yet. Send events with their user id:"),
            track_snippets(),
        ),
    }


def build_customer(view: View) -> Mapping[str, Any]:
    from empreinte.privacy import consent

    _ = view.gettext
    requested = _requested(view)
    pii = _pii(view)
    profile = view.ws.profiles.get(requested, pii=pii)
    current = profile.profile_id
    explanation = view.ws.identity.explain(current)
    identities, steps, decisions = _identity_tables(view, profile, explanation)
    states, consent_history = _consent(view, consent.ledger(view.ws, current))
    channels = [
        {
            "key": channel,
            "name": _(CHANNEL_NAMES.get(channel, channel)),
            "events": count,
            "color": CHANNEL_ICONS.get(channel, UNKNOWN_ICON)[0],
            "icon": CHANNEL_ICONS.get(channel, UNKNOWN_ICON)[1],
        }
        for channel, count in sorted(profile.computed.channels.items(), key=lambda kv: -kv[1])
    ]
    return {
        "profile_id": current,
        "redirected_from": profile.redirected_from,
        "name": _name(view, profile),
        "pii": pii,
        "computed": _computed(view, profile),
        "channels": channels,
        "predictions": _predictions(view, profile),
        "identities": identities,
        "merge_steps": steps,
        "decisions": decisions,
        "traits": _traits(view, profile),
        "consent_states": states,
        "consent_history": consent_history,
        "segments": _segments(view, current),
        "timeline": _timeline(view, current, pii),
    }


CUSTOMER_PREFIX = "/customers/"
SEARCH = Page("customers", "/customers", N_("Customers"), "customers.html", build_search, STAFF)
# The 360 lights up the Customers entry (the search, first of the key, is the entry).
CUSTOMER = Page(
    "customers",
    CUSTOMER_PREFIX + "{profile_id}",
    N_("Customer"),
    "customers_360.html",
    build_customer,
    STAFF,
)
PAGES = [SEARCH, CUSTOMER]
ACTIONS: list[Action] = []
