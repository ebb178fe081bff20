"""Sources: the write keys (create, shown once; revoke, after a confirmation), what each source
sends now (events per minute over the last hour, and a live count), what the collector
refused and why (collect/rejections.py: rule and field, never the value), and the share of
bot traffic per source over 7 and 30 days. Admins only, as the keys are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from empreinte.credentials import INTERNAL_SOURCES, MAX_SOURCE_NAME, key_digest
from empreinte.errors import EmpreinteError
from empreinte.web.dashboard.components import Chart, Column, EmptyState, Table, bars, lines
from empreinte.web.dashboard.page import ADMINS, N_, Action, Page, Redirect, View
from empreinte.web.dashboard.snippets import WRITE_KEY, track_snippets

if TYPE_CHECKING:
    from empreinte.analytics.ingestion import BotShare, MinuteCount, RecentCount
    from empreinte.collect.rejections import RejectionReport

#: A source name is at most this long (the form refuses longer ones before anything else).
#: Minutes the ingestion chart covers.
WINDOW_MINUTES = 60
#: The live figures read the workspace's own log (the embedded engine) whatever engine runs
#: the reports: on Spark each read would export the log first, every few seconds.
LIVE_ENGINE = "duckdb"
#: How many characters of a key's digest name it on screen.
FINGERPRINT = 12

#: The collector's refusal codes in plain words (others are shown as their code).
REASONS = {
    "missing_identity": N_("no userId nor anonymousId"),
    "missing_field": N_("a required field is missing"),
    "invalid_field": N_("a field has the wrong type or is too long"),
    "invalid_timestamp": N_("a date is not ISO-8601 or is out of range"),
    "invalid_type": N_("unknown message type"),
    "message_too_large": N_("message over 32 KB"),
    "integer_too_large": N_("an integer over 64 bits"),
    "out_of_range": N_("a score out of its scale"),
    "invalid_message": N_("not a valid message"),
    "unauthorized": N_("missing, unknown or revoked write key"),
    "invalid_auth": N_("unreadable authorization header"),
    "invalid_json": N_("malformed JSON"),
    "invalid_body": N_("the body is not a message or a batch"),
    "batch_too_large": N_("batch over 2,500 messages"),
    "request_too_large": N_("request over the size limit"),
    "invalid_gzip": N_("gzip body that cannot be read"),
    "other": N_("other reasons (too many distinct ones to list)"),
}


def _now() -> datetime:
    return datetime.now(UTC)


def fingerprint(key_hash: str) -> str:
    return key_hash[:FINGERPRINT]


def _source_label(view: View, source: str) -> str:
    return source if source else view.gettext("(no valid write key)")


def _reason_text(view: View, code: str) -> str:
    return view.gettext(REASONS[code]) if code in REASONS else code


# -- write keys --------------------------------------------------------------------------------


def _keys_table(view: View) -> Table:
    _ = view.gettext
    rows = []
    for key in view.ws.credentials.write_key_list():
        active = key.revoked_at is None
        rows.append(
            {
                "source": key.source,
                "fingerprint": fingerprint(key.key_hash),
                "created": key.created_at,
                "revoked": key.revoked_at,
                "status": _("active") if active else _("revoked"),
                "action": _("Revoke…") if active else None,
                "href": f"/sources?revoke={key.key_hash}#revoke" if active else None,
            }
        )
    rows.reverse()  # newest first
    return Table(
        "write-keys",
        _("Write keys"),
        [
            Column("source", _("Source")),
            Column("fingerprint", _("Key fingerprint")),
            Column("created", _("Created"), "datetime"),
            Column("revoked", _("Revoked"), "datetime"),
            Column("status", _("Status")),
            Column("action", _("Action"), "link", href="href"),
        ],
        rows,
        caption=_(
            "A key is shown once, when it is made: only its digest is kept, whose first "
            "characters (the fingerprint) name it here. A revoked key is refused at once."
        ),
        empty=EmptyState(_("No write key yet: create one for each site, app or shop.")),
    )


def _snippets_for(key: str) -> dict[str, str]:
    """The track snippets with the new key filled in."""
    return {
        name: code.replace(WRITE_KEY, key)
        for name, code in track_snippets("Order Completed", {"order_id": "o-1001"}).items()
    }


def _check_source_name(view: View, name: str) -> str | None:
    """What is wrong with a new source's name, in the viewer's language; None if nothing."""
    _ = view.gettext
    if not name:
        return _("Give the source a name (the site, app or shop that will send events).")
    if len(name) > MAX_SOURCE_NAME:
        return _("A source name is at most %(n)s characters.") % {"n": MAX_SOURCE_NAME}
    if not name.replace("-", "").replace("_", "").isalnum() or not name.isascii():
        return _("A source name may hold letters, digits, “-” and “_” only.")
    if name in INTERNAL_SOURCES:
        return _(
            "“%(name)s” is empreinte's own source (the Python API and the server): choose "
            "another name."
        ) % {"name": name}
    return None


def create_key(view: View, form: Mapping[str, str]) -> Mapping[str, Any]:
    name = form.get("source", "").strip()
    problem = _check_source_name(view, name)
    if problem is not None:
        return {"create_error": problem, "source_value": name[: MAX_SOURCE_NAME * 2]}
    try:
        key = view.ws.credentials.create_write_key(name)
    except EmpreinteError as exc:
        return {"create_error": view.problem(exc), "source_value": name}
    return {
        "created": {
            "source": name,
            "key": key,
            "fingerprint": fingerprint(key_digest(key)),
            "snippets": _snippets_for(key),
        },
    }


def revoke_key(view: View, form: Mapping[str, str]) -> Redirect | Mapping[str, Any]:
    _ = view.gettext
    key_hash = form.get("key", "")
    if form.get("confirm") != "yes":
        return {"revoke_error": _("Tick the box to confirm the revocation.")}
    try:
        view.ws.credentials.revoke_write_key(key_hash)
    except EmpreinteError:
        return {"revoke_error": _("No active write key has this fingerprint (already revoked?).")}
    return Redirect("/sources", "revoked")


def _revoke_request(view: View) -> dict[str, Any] | None:
    """The key `?revoke=<digest>` asks to revoke, for the confirmation box."""
    wanted = view.arg("revoke")
    if not wanted:
        return None
    for key in view.ws.credentials.write_key_list():
        if key.key_hash == wanted and key.revoked_at is None:
            return {
                "missing": False,
                "source": key.source,
                "hash": key.key_hash,
                "fingerprint": fingerprint(wanted),
            }
    return {"missing": True}


# -- ingestion ---------------------------------------------------------------------------------


def _minutes(now: datetime) -> list[datetime]:
    last = now.replace(second=0, microsecond=0)
    return [last - timedelta(minutes=i) for i in range(WINDOW_MINUTES - 1, -1, -1)]


def _ingestion_chart(view: View, counts: list[MinuteCount], now: datetime) -> Chart:
    _ = view.gettext
    minutes = _minutes(now)
    sources = sorted({c.source for c in counts})
    cell = {(c.source, c.minute.astimezone(UTC)): c.events for c in counts}
    labels = [m.strftime("%H:%M") for m in minutes]
    series = {s: [cell.get((s, m), 0) for m in minutes] for s in sources}
    rows = []
    for m, label in zip(minutes, labels, strict=True):
        row: dict[str, Any] = {"minute": label}
        row.update({"source:" + s: cell.get((s, m), 0) for s in sources})
        rows.append(row)
    columns = [Column("minute", _("Minute (UTC)"))]
    columns += [Column("source:" + s, s, "number") for s in sources]
    return Chart(
        "ingestion",
        _("Events received per minute, last hour"),
        lines(labels, series),
        Table("ingestion-data", _("Events per minute"), columns, rows if sources else []),
        caption=_("By time of arrival at the collector, bots included; times in UTC."),
        empty=EmptyState(
            _("Nothing received in the last hour. Send events with a write key:"),
            track_snippets(),
        ),
        height=300,
    )


def _live_rows(
    view: View, recent: list[RecentCount], report: RejectionReport
) -> list[dict[str, Any]]:
    by_source = {r.source: r for r in recent}
    refused: dict[str, int] = {}
    for c in report.counts:
        refused[c.reason.source] = refused.get(c.reason.source, 0) + c.this_hour
    rows = []
    for source in sorted(by_source.keys() | {s for s, n in refused.items() if n}):
        found = by_source.get(source)
        rows.append(
            {
                "source": _source_label(view, source),
                "minute": found.last_minute if found else 0,
                "hour": found.last_hour if found else 0,
                "refused": refused.get(source, 0),
            }
        )
    return rows


# -- refusals ----------------------------------------------------------------------------------


def _refusals(view: View, report: RejectionReport) -> tuple[Table, Table]:
    _ = view.gettext
    since = view.fmt.datetime(report.started)
    reasons = Table(
        "refused",
        _("Refused events by reason, last 24 hours"),
        [
            Column("source", _("Source")),
            Column("reason", _("Reason")),
            Column("code", _("Rule")),
            Column("field", _("Field")),
            Column("hour", _("This hour"), "number"),
            Column("total", _("Last 24 hours"), "number"),
            Column("last", _("Last refused"), "datetime"),
        ],
        [
            {
                "source": _source_label(view, c.reason.source),
                "reason": _reason_text(view, c.reason.code),
                "code": c.reason.code,
                "field": c.reason.field,
                "hour": c.this_hour,
                "total": c.total,
                "last": c.last_seen,
            }
            for c in report.counts
        ],
        caption=_(
            "Counted by the server since it started (%(since)s), in memory: a restart starts "
            "again from zero. Only the rule and the field are kept, never the value."
        )
        % {"since": since},
        empty=EmptyState(
            _("Nothing refused since the server started (%(since)s).") % {"since": since}
        ),
    )
    examples = Table(
        "refused-latest",
        _("Latest refusals"),
        [
            Column("at", _("When"), "datetime"),
            Column("source", _("Source")),
            Column("reason", _("Reason")),
            Column("field", _("Field")),
        ],
        [
            {
                "at": e.at,
                "source": _source_label(view, e.reason.source),
                "reason": _reason_text(view, e.reason.code),
                "field": e.reason.field,
            }
            for e in report.examples
        ],
        page_size=10,
    )
    return reasons, examples


def _refused_per_hour(view: View, report: RejectionReport, now: datetime) -> Chart:
    """Refusals per hour over the last 24 hours, stacked by source."""
    _ = view.gettext
    last = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [last - timedelta(hours=i) for i in range(23, -1, -1)]
    sources = sorted({c.reason.source for c in report.counts})
    cell: dict[tuple[str, datetime], int] = {}
    for c in report.counts:
        for start, n in c.hours:
            key = (c.reason.source, start)
            cell[key] = cell.get(key, 0) + n
    labels = [h.strftime("%Hh") for h in hours]
    names = {s: _source_label(view, s) for s in sources}
    series = {names[s]: [cell.get((s, h), 0) for h in hours] for s in sources}
    rows = []
    for h, label in zip(hours, labels, strict=True):
        row: dict[str, Any] = {"hour": label}
        row.update({"source:" + s: cell.get((s, h), 0) for s in sources})
        rows.append(row)
    columns = [Column("hour", _("Hour (UTC)"))]
    columns += [Column("source:" + s, names[s], "number") for s in sources]
    return Chart(
        "refused-hours",
        _("Refused events per hour"),
        bars(labels, series, stacked=True),
        Table("refused-hours-data", _("Refused events per hour"), columns, rows if sources else []),
        caption=_("Per source, over the last 24 hours (UTC), since the server started."),
        height=260,
    )


# -- bots --------------------------------------------------------------------------------------


def _bots(view: View, shares: list[BotShare]) -> Chart:
    _ = view.gettext
    rows = [
        {
            "source": s.source,
            "events_7d": s.events_7d,
            "bots_7d": s.bots_7d,
            "share_7d": s.share_7d,
            "events_30d": s.events_30d,
            "bots_30d": s.bots_30d,
            "share_30d": s.share_30d,
        }
        for s in shares
    ]
    names = [s.source for s in shares]
    figure = bars(
        names,
        {
            _("last 7 days"): [s.share_7d or 0 for s in shares],
            _("last 30 days"): [s.share_30d or 0 for s in shares],
        },
        horizontal=True,
        percent_axis=True,
    )
    figure["layout"]["xaxis"]["tickformat"] = ".1%"
    for trace in figure["data"]:
        trace.update(texttemplate="%{x:.1%}", textposition="auto")
    return Chart(
        "bots",
        _("Bot share by source"),
        figure,
        Table(
            "bots-data",
            _("Bot share by source"),
            [
                Column("source", _("Source")),
                Column("events_7d", _("Events, 7 days"), "number"),
                Column("bots_7d", _("Bots, 7 days"), "number"),
                Column("share_7d", _("Bot share, 7 days"), "percent", 1),
                Column("events_30d", _("Events, 30 days"), "number"),
                Column("bots_30d", _("Bots, 30 days"), "number"),
                Column("share_30d", _("Bot share, 30 days"), "percent", 1),
            ],
            rows,
        ),
        caption=_(
            "Events flagged as bots at the door (crawler user agents), by time of arrival. "
            "They are kept in the log and left out of the reports."
        ),
        empty=EmptyState(
            _("No events received in the last 30 days. Send events with a write key:"),
            track_snippets(),
        ),
        height=max(160, 60 + 48 * len(shares)),
    )


# -- the page ----------------------------------------------------------------------------------


def build(view: View) -> Mapping[str, Any]:
    from empreinte.analytics.ingestion import bot_shares, per_minute, recent_counts

    now = _now()
    revoke = _revoke_request(view)
    with view.ws.analytics(LIVE_ENGINE) as log:
        counts = per_minute(log, now.replace(second=0, microsecond=0) - timedelta(minutes=59))
        recent = recent_counts(log, now)
        shares = bot_shares(log, now)
    report = view.ws.rejections.report()
    reasons, examples = _refusals(view, report)
    return {
        "keys": _keys_table(view),
        "revoke": revoke,
        "ingestion": _ingestion_chart(view, counts, now),
        "live_rows": _live_rows(view, recent, report),
        "updated": now,
        "refused": reasons,
        "refused_latest": examples,
        "refused_hours": _refused_per_hour(view, report, now),
        "bots": _bots(view, shares),
        "created": None,
        "create_error": None,
        "revoke_error": None,
        "source_value": "",
        "max_source_name": MAX_SOURCE_NAME,
    }


def build_live(view: View) -> Mapping[str, Any]:
    """The live counts alone (the fragment `static/sources.js` fetches every few seconds)."""
    from empreinte.analytics.ingestion import recent_counts

    now = _now()
    with view.ws.analytics(LIVE_ENGINE) as log:
        recent = recent_counts(log, now)
    return {"live_rows": _live_rows(view, recent, view.ws.rejections.report()), "updated": now}


SOURCES = Page(
    "sources",
    "/sources",
    N_("Sources"),
    "sources.html",
    build,
    ADMINS,
    notices={"revoked": N_("The write key is revoked: requests that send it are now refused.")},
)
SOURCES_LIVE = Page(
    "sources",
    "/sources/live",
    N_("Live ingestion"),
    "sources_live.html",
    build_live,
    ADMINS,
    fragment=True,
)
PAGES = [SOURCES, SOURCES_LIVE]
ACTIONS: list[Action] = [
    Action("/sources/keys", create_key, SOURCES, ADMINS),
    Action("/sources/keys/revoke", revoke_key, SOURCES, ADMINS),
]
