"""Destinations: where segments, traits and events are sent, with their delivery status
(sent, pending, failing, dead, withheld), the dead-letter queue with a retry button, and the
last deletion requests erasures sent. Staff read; admins add, remove, sync and retry (the
API's roles, web/activate_destinations_api.py). No payload is ever shown: a delivery lists
its id, type, status and last error, never who it was about.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from empreinte.credentials import Role
from empreinte.errors import EmpreinteError, InvalidInput
from empreinte.web.dashboard.components import Column, EmptyState, Table
from empreinte.web.dashboard.page import ADMINS, N_, STAFF, Action, Page, Redirect, View

#: Dead letters and deletion requests listed (newest first).
ROWS = 200
KINDS = ("webhook", "segment", "csv", "parquet")
FIELDS = ("name", "kind", "purpose", "target", "segments", "traits", "events", "write_key")


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _destinations(view: View) -> Table:
    _ = view.gettext
    rows = []
    admin = view.viewer.role == Role.ADMIN
    for d in view.ws.destinations.list():
        doc = d.to_json(admin)
        r, counts = d.record, doc["deliveries"]
        sends = [
            *(_("segment %(name)s") % {"name": s} for s in r.segments),
            *(_("trait %(name)s") % {"name": t} for t in r.traits),
            *(_("event %(name)s") % {"name": e} for e in r.events),
        ]
        rows.append(
            {
                "name": r.name,
                "kind": r.kind,
                "purpose": r.purpose,
                "target": _shown(view, doc["target"]),
                "sends": ", ".join(sends),
                "round_at": r.round_at,
                "round_error": r.round_error,
                **counts,
            }
        )
    return Table(
        "destinations",
        _("Destinations and their deliveries"),
        [
            Column("name", _("Name")),
            Column("kind", _("Kind"), "badge"),
            Column("purpose", _("Consent needed")),
            Column("target", _("Sends to")),
            Column("sends", _("What it sends")),
            Column("sent", _("Sent"), "number"),
            Column("pending", _("Pending"), "number"),
            Column("failing", _("Failing"), "number"),
            Column("dead", _("Dead"), "number"),
            Column("withheld", _("Withheld"), "number"),
            Column("round_at", _("Last round"), "datetime"),
            Column("round_error", _("What stopped it")),
        ],
        rows,
        caption=_(
            "Deliveries per status. Failing: tried, failed, tried again later. Dead: given up "
            "after the last try, waiting for a retry. Withheld: the person withdrew consent "
            "before the message left."
        ),
        empty=EmptyState(
            _(
                "No destination yet. Add one below, or with `empreinte destinations add`: a "
                "webhook, a CSV or Parquet export, or a Segment-compatible forwarder."
            )
        ),
    )


def _shown(view: View, target: str) -> str:
    """An export directory inside the workspace as a path relative to it (shorter to read)."""
    from pathlib import Path

    root = view.ws.path.resolve()
    path = Path(target)
    return str(path.relative_to(root)) if path.is_absolute() and root in path.parents else target


def _deliveries(view: View, status: str | None, kind: str | None) -> list[dict[str, Any]]:
    from empreinte.activate.destinations.model import delivery_json

    found = view.ws.destinations.deliveries(None, status, ROWS, kind)
    return [delivery_json(d) for d in found]


def _deletions(view: View) -> Table:
    _ = view.gettext
    rows = []
    for d in _deliveries(view, None, "delete"):
        rows.append(
            {
                "created_at": _parse(d["created_at"]),
                "destination": d["destination"],
                "erasure_id": d["erasure_id"],
                "status": _(d["status"]),
                "sent_at": _parse(d["sent_at"]),
                "error": d["last_error"],
            }
        )
    return Table(
        "deletions",
        _("Last deletion requests"),
        [
            Column("created_at", _("Asked"), "datetime"),
            Column("destination", _("Destination")),
            Column("erasure_id", _("Erasure")),
            Column("status", _("Status"), "badge"),
            Column("sent_at", _("Delivered"), "datetime"),
            Column("error", _("Last error")),
        ],
        rows,
        caption=_(
            "When a person is erased, every destination that received them is asked to delete "
            "them; an export is written again without them."
        ),
        empty=EmptyState(_("No one who was sent anywhere has been erased.")),
    )


def _parse(text: str | None) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text) if text else None


def build(view: View) -> Mapping[str, Any]:
    from empreinte.activate.destinations.model import TRAITS
    from empreinte.privacy.consent import PURPOSES

    dead = _deliveries(view, "dead", None)
    for d in dead:
        d["created_at"] = _parse(d["created_at"])
    return {
        "destinations": _destinations(view),
        "dead": dead,
        "deletions": _deletions(view),
        "names": [d.name for d in view.ws.destinations.list()],
        "segments": [s.definition.name for s in view.ws.segments.list()],
        "purposes": PURPOSES,
        "kinds": KINDS,
        "traits": TRAITS,
        "form": dict.fromkeys(FIELDS, ""),
        "form_error": None,
        "created": None,
    }


def add(view: View, form: Mapping[str, str]) -> Mapping[str, Any]:
    values = {
        k: (form.get(k) or "").strip()
        for k in ("name", "kind", "purpose", "target", "segments", "traits", "events", "write_key")
    }
    kind = values["kind"]
    http = kind in ("webhook", "segment")
    try:
        created = view.ws.destinations.add(
            values["name"],
            kind,
            purpose=values["purpose"],
            url=values["target"] if http else None,
            directory=None if http else values["target"],
            segments=_names(values["segments"]),
            traits=_names(values["traits"]),
            events=_names(values["events"]),
            write_key=values["write_key"] or None if kind == "segment" else None,
            by=f"dashboard:{view.viewer.username}",
        )
    except EmpreinteError as exc:
        if exc.status >= 500:
            raise
        values["write_key"] = ""  # never sent back to the browser
        return {"form": values, "form_error": view.problem(exc)}
    return {"created": {"name": created.destination.name, "secret": created.secret}}


def _chosen(form: Mapping[str, str]) -> str:
    name = (form.get("name") or "").strip()
    if not name:
        raise InvalidInput("name", "no destination named")
    return name


def retry(view: View, form: Mapping[str, str]) -> Redirect:
    delivery = (form.get("delivery_id") or "").strip()
    name = _chosen(form)
    view.ws.destinations.retry(name, [delivery] if delivery else None)
    return Redirect("/destinations", "retried")


def sync(view: View, form: Mapping[str, str]) -> Redirect:
    view.ws.destinations.sync(_chosen(form))
    return Redirect("/destinations", "synced")


def remove(view: View, form: Mapping[str, str]) -> Redirect:
    view.ws.destinations.remove(_chosen(form))
    return Redirect("/destinations", "removed")


DESTINATIONS = Page(
    "destinations",
    "/destinations",
    N_("Destinations"),
    "destinations.html",
    build,
    STAFF,
    notices={
        "retried": N_("The dead deliveries were queued again: the next round sends them."),
        "synced": N_("The destination was brought up to date."),
        "removed": N_("The destination was removed."),
    },
)
PAGES = [DESTINATIONS]
ACTIONS = [
    Action("/destinations", add, DESTINATIONS, ADMINS),
    Action("/destinations/retry", retry, DESTINATIONS, ADMINS),
    Action("/destinations/sync", sync, DESTINATIONS, ADMINS),
    Action("/destinations/remove", remove, DESTINATIONS, ADMINS),
]

# Statuses shown from data.
WORDS = (N_("pending"), N_("sent"), N_("dead"), N_("withheld"), N_("failing"))
