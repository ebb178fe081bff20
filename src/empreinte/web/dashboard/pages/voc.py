"""Voice of the customer: why people call and what they talk about (`/voc`: reasons and topics
with their trends, quality of service; per agent for admins), and the conversations
themselves (`/voc/conversations`: redacted as stored, with sentiment, reason and topics,
filtered; one conversation turn by turn). Every role sees the aggregates; the texts and the
quality figures are for staff (the API's roles, web/voc_api.py); agents for admins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from empreinte.credentials import Role
from empreinte.errors import EmpreinteError, InvalidInput
from empreinte.web.dashboard.components import Chart, Column, EmptyState, Table, lines
from empreinte.web.dashboard.page import EVERYONE, N_, STAFF, Action, Page, Redirect, View

PERIODS = ("week", "month", "quarter")
KINDS = ("call", "chat", "survey", "review")
SENTIMENTS = ("negative", "neutral", "positive")
ROWS = 200
_TOP_TOPICS = 8


def _empty(view: View) -> EmptyState:
    _ = view.gettext
    return EmptyState(
        _(
            "No conversation analysed yet. Calls and chats arrive as `Call Completed` and "
            "`Chat Completed` events (or `empreinte import --kind transcripts`); the server "
            "analyses new ones every minute, `empreinte voc refresh` at once."
        )
    )


def _reasons(view: View, period: str) -> tuple[Table, Chart]:
    _ = view.gettext
    report = view.report(("voc-reasons", period), lambda: view.ws.voc.reasons(period))
    table = Table(
        "voc-reasons",
        _("Why people call"),
        [
            Column("reason", _("Reason"), "badge"),
            Column("texts", _("Conversations"), "number"),
            Column("share", _("Share"), "percent", 1),
        ],
        [{**r, "reason": _(r["reason"])} for r in report["reasons"]],
        caption=_(
            "The reason of each call or chat: by a keyword rule when one is sure, by a model "
            "trained on labelled examples otherwise."
        ),
        empty=_empty(view),
    )
    periods = sorted({r["period"] for r in report["trend"]})
    names = [r["reason"] for r in report["reasons"]]
    counts = {(r["reason"], r["period"]): r["texts"] for r in report["trend"]}
    series = {_(n): [counts.get((n, p), 0) for p in periods] for n in names}
    rows = [{"period": p, **{_(n): counts.get((n, p), 0) for n in names}} for p in periods]
    chart = Chart(
        "voc-reason-trend",
        _("Reasons per %(period)s") % {"period": _(period)},
        lines(periods, series),
        Table(
            "voc-reason-trend-data",
            _("Reasons per period"),
            [Column("period", _("Period")), *(Column(_(n), _(n), "number") for n in names)],
            rows,
        ),
        empty=_empty(view),
    )
    return table, chart


def _topics(view: View, period: str) -> tuple[Table, Chart]:
    _ = view.gettext
    topics = view.report(("voc-topics",), view.ws.voc.topics)
    shown = [t for t in topics if t["merged_into"] is None]
    table = Table(
        "voc-topics",
        _("What they talk about"),
        [
            Column("topic_id", _("Topic")),
            Column("label", _("Name"), "link", href="href"),
            Column("terms", _("Top terms")),
            Column("texts", _("Texts"), "number"),
        ],
        [
            {
                **t,
                "terms": ", ".join(t["terms"][:8]),
                "href": f"/voc/conversations?topic={t['topic_id']}",
            }
            for t in sorted(shown, key=lambda t: -t["texts"])
        ],
        caption=_(
            "Topics found in the texts by non-negative matrix factorisation; a topic merged "
            "into another counts as that one. Rename and merge them with `empreinte voc "
            "topics` or the API."
        ),
        empty=_empty(view),
    )
    trend = view.report(("voc-topic-trend", period), lambda: view.ws.voc.topic_trend(period))
    top = [t for t in sorted(shown, key=lambda t: -t["texts"])][:_TOP_TOPICS]
    periods = sorted({r["period"] for r in trend})
    counts = {(r["topic_id"], r["period"]): r["texts"] for r in trend}
    series = {t["label"]: [counts.get((t["topic_id"], p), 0) for p in periods] for t in top}
    rows = [{"period": p, **{k: v[i] for k, v in series.items()}} for i, p in enumerate(periods)]
    chart = Chart(
        "voc-topic-trend",
        _("Topics per %(period)s") % {"period": _(period)},
        lines(periods, series),
        Table(
            "voc-topic-trend-data",
            _("Topics per period"),
            [Column("period", _("Period")), *(Column(k, k, "number") for k in series)],
            rows,
        ),
        empty=_empty(view),
    )
    return table, chart


def _quality(view: View) -> Table:
    _ = view.gettext
    rows = view.report(("voc-quality",), view.ws.voc.quality)
    return Table(
        "voc-quality",
        _("Quality of service per reason"),
        [
            Column("reason", _("Reason"), "badge"),
            Column("contacts", _("Contacts"), "number"),
            Column("fcr", _("Resolved at first contact"), "percent", 1),
            Column("mean_duration_s", _("Mean length (s)"), "number"),
            Column("silence_ratio", _("Silence"), "percent", 1),
            Column("overtalk_ratio", _("Overtalk"), "percent", 1),
            Column("sentiment_change", _("Sentiment, end − start"), "number", 2),
        ],
        [{**r, "reason": _("all") if r["reason"] == "*" else _(r["reason"])} for r in rows],
        caption=_(
            "Resolved at first contact: the caller did not call or chat again within 7 days. "
            "Silence and overtalk: shares of the call's length."
        ),
        empty=_empty(view),
    )


def _agents(view: View) -> Table:
    _ = view.gettext
    return Table(
        "voc-agents",
        _("Per agent (for coaching)"),
        [
            Column("agent_id", _("Agent")),
            Column("contacts", _("Contacts"), "number"),
            Column("mean_duration_s", _("Mean length (s)"), "number"),
            Column("sentiment_change", _("Sentiment, end − start"), "number", 2),
            Column("fcr", _("Resolved at first contact"), "percent", 1),
            Column("silence_ratio", _("Silence"), "percent", 1),
        ],
        view.ws.voc.agents(),
        caption=_("Visible to admins only."),
        empty=_empty(view),
    )


def build(view: View) -> Mapping[str, Any]:
    period = view.choice("period", PERIODS, "week")
    reasons, reason_trend = _reasons(view, period)
    topics, topic_trend = _topics(view, period)
    staff = view.viewer.role in STAFF
    return {
        "period": period,
        "periods": PERIODS,
        "reasons": reasons,
        "reason_trend": reason_trend,
        "topics": topics,
        "topic_trend": topic_trend,
        "quality": _quality(view) if staff else None,
        "agents": _agents(view) if view.viewer.role == Role.ADMIN else None,
        # The topics a staff member may rename or merge (the form under the topics).
        "topic_choices": view.ws.voc.topics() if staff else [],
        "form_error": None,
    }


def _topic_id(form: Mapping[str, str], name: str, required: bool) -> int | None:
    text = (form.get(name) or "").strip()
    if not text:
        if required:
            raise InvalidInput(name, "choose a topic")
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise InvalidInput(name, "must be a topic id")
    return int(text)


def change_topic(view: View, form: Mapping[str, str]) -> Redirect | Mapping[str, Any]:
    """Rename a topic and say what it is merged into ("" keeps it its own)."""
    try:
        topic_id = _topic_id(form, "topic_id", True)
        assert topic_id is not None
        into = _topic_id(form, "merged_into", False)
        label = (form.get("label") or "").strip()
        if label:
            view.ws.voc.rename_topic(topic_id, label)
        view.ws.voc.merge_topics(topic_id, into)
    except EmpreinteError as exc:
        return {"form_error": view.problem(exc)}
    return Redirect("/voc", "topic_changed")


def _label(value: float | None) -> str:
    if value is None:
        return "neutral"
    return "positive" if value >= 0.05 else "negative" if value <= -0.05 else "neutral"


def conversations(view: View) -> Mapping[str, Any]:
    from empreinte.store.voc_store import TextFilter

    _ = view.gettext
    kind = view.arg("kind") or None
    if kind is not None:
        kind = view.choice("kind", KINDS, "call")
    sentiment = view.arg("sentiment") or None
    if sentiment is not None:
        sentiment = view.choice("sentiment", SENTIMENTS, "neutral")
    reason = view.arg("reason") or None
    topic = view.int_arg("topic", -1, 0, 2**62)
    flt = TextFilter(
        kind=kind, reason=reason, topic_id=None if topic < 0 else topic, sentiment=sentiment
    )
    seq = view.int_arg("seq", -1, 0, 2**62)
    opened = view.ws.voc.conversation(seq) if seq >= 0 else None
    if opened is not None:
        for turn in opened["turns"]:
            turn["mood"] = _label(turn.get("sentiment"))
    found = view.ws.voc.conversations(flt, limit=ROWS)
    rows = [
        {
            "seq": r["seq"],
            "href": view.path + "?" + _query(view, seq=r["seq"]),
            "occurred_at": r["occurred_at"],
            "kind": _(r["kind"]),
            "language": r["language"],
            "sentiment": r["sentiment"],
            "start": r["sentiment_start"],
            "end": r["sentiment_end"],
            "reason": _(r["reason"]) if r["reason"] else None,
            "topics": ", ".join(t["label"] for t in r["topics"]),
        }
        for r in found
    ]
    table = Table(
        "voc-texts",
        _("Conversations and verbatims"),
        [
            Column("seq", _("Text"), "link", href="href"),
            Column("occurred_at", _("When"), "datetime"),
            Column("kind", _("Kind of text"), "badge"),
            Column("language", _("Language")),
            Column("sentiment", _("Sentiment"), "number", 2),
            Column("start", _("Start"), "number", 2),
            Column("end", _("End"), "number", 2),
            Column("reason", _("Reason"), "badge"),
            Column("topics", _("Topics")),
        ],
        rows,
        caption=_(
            "Newest first, at most %(n)s. Sentiment from −1 (negative) to 1 (positive), the "
            "customer's words only; start and end: the first and last third of them. Texts "
            "are shown as stored: personal data was removed before they were written."
        )
        % {"n": ROWS},
        empty=_empty(view),
    )
    topics = [t for t in view.ws.voc.topics() if t["merged_into"] is None]
    return {
        "texts": table,
        "opened": opened,
        "filters": {"kind": kind, "sentiment": sentiment, "reason": reason, "topic": topic},
        "kinds": KINDS,
        "sentiments": SENTIMENTS,
        "reasons": view.ws.voc.settings.reasons,
        "topic_choices": topics,
    }


def _query(view: View, **changes: Any) -> str:
    from urllib.parse import urlencode

    kept = {k: v for k, v in view.query.items() if k not in ("seq", "download", "notice")}
    return urlencode({**kept, **changes})


VOC = Page(
    "voc",
    "/voc",
    N_("Voice of the customer"),
    "voc.html",
    build,
    EVERYONE,
    notices={"topic_changed": N_("The topic was changed; every report counts it so from now.")},
)
CONVERSATIONS = Page(
    "voc", "/voc/conversations", N_("Conversations"), "voc_conversations.html", conversations, STAFF
)
PAGES = [VOC, CONVERSATIONS]
ACTIONS = [Action("/voc/topics", change_topic, VOC, STAFF)]

# Words shown from data: kinds, reasons (the defaults), sentiments, periods.
WORDS = (
    N_("call"),
    N_("chat"),
    N_("survey"),
    N_("review"),
    N_("delivery"),
    N_("refund"),
    N_("payment"),
    N_("product_question"),
    N_("complaint"),
    N_("account"),
    N_("other"),
    N_("negative"),
    N_("neutral"),
    N_("positive"),
    N_("all"),
    N_("agent"),
    N_("customer"),
)
