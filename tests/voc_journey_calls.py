"""Hand-built people who browse and then call, for the before-calls tests, the parity case and
the API, CLI and dashboard tests: Segment messages, times as datetimes, consent once each.

- marie: Home, the checkout (/checkout), a failed payment; calls 2 hours later from her phone,
  identified by her phone only (`callerNumber`): linked, checkout abandoned. A visit two days
  before (the delivery help page) and one after the call (Orders) are not attached.
- paul: the delivery help page, then calls (userId) an hour later: delivery, not avoidable.
- lea: Home and the tracking page, then calls 30 minutes later by `caller_number`, reason
  delivery: avoidable (she never reached an answer page); calls again 3 days later (repeat).
- theo: the app's Orders screen, an order, calls 20 minutes later: checkout not abandoned.
- a call from a number nobody gave: linked to nothing.
- walt: a web session with the checkout and no call (the base of the page rates).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import empreinte

Message = dict[str, Any]
T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)  # a Monday
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
MARIE_PHONE = "+33 6 12 34 56 78"
LEA_PHONE = "06 98 76 54 32"
UNKNOWN_PHONE = "+33 7 00 00 00 01"
ANSWERS = {"delivery": ["/help/delivery", "/suivi"], "refund": ["/help/returns"]}


def _at(moment: datetime) -> str:
    return moment.isoformat()


def consent(user: str) -> Message:
    return {
        "type": "track",
        "event": "Consent Updated",
        "userId": user,
        "properties": {"purpose": "analytics", "granted": True, "wording_version": "v1"},
        "timestamp": _at(T0 - 30 * DAY),
        "context": {"channel": "web"},
    }


def identify(user: str, phone: str) -> Message:
    return {
        "type": "identify",
        "userId": user,
        "traits": {"phone": phone},
        "timestamp": _at(T0 - 20 * DAY),
        "context": {"channel": "web"},
    }


def page(user: str, name: str, path: str, at: datetime) -> Message:
    return {
        "type": "page",
        "userId": user,
        "name": name,
        "properties": {"path": path, "url": f"https://shop.example{path}"},
        "timestamp": _at(at),
        "context": {"channel": "web"},
    }


def screen(user: str, name: str, at: datetime) -> Message:
    return {
        "type": "screen",
        "userId": user,
        "name": name,
        "properties": {},
        "timestamp": _at(at),
        "context": {"channel": "app"},
    }


def track(user: str, event: str, at: datetime, channel: str = "web", **props: Any) -> Message:
    return {
        "type": "track",
        "event": event,
        "userId": user,
        "properties": props,
        "timestamp": _at(at),
        "context": {"channel": channel},
    }


def call(
    at: datetime,
    call_id: str,
    *,
    user: str | None = None,
    caller: tuple[str, str] | None = None,
    event: str = "Call Completed",
) -> Message:
    """A call as the call centre sends it: its own anonymous id, the caller's number under
    `caller = (key, number)`, a redacted transcript."""
    props: Message = {
        "transcript": [
            {"speaker": "agent", "text": "Bonjour, que puis-je faire ?", "start": 0, "end": 2},
            {"speaker": "customer", "text": "Ma commande.", "start": 2, "end": 4},
        ],
        "language": "fr",
        "duration": 240,
        "queue": "orders",
        "agent_id": "agent-7",
    }
    if caller is not None:
        props[caller[0]] = caller[1]
    message: Message = {
        "type": "track",
        "event": event,
        "anonymousId": call_id,
        "properties": props,
        "timestamp": _at(at),
        "context": {"channel": "phone"},
    }
    if user is not None:
        message["userId"] = user
    return message


#: call id -> its reason (voc_texts.reason, as the understanding would write it).
REASONS = {
    "call-marie": "payment",
    "call-paul": "delivery",
    "call-lea": "delivery",
    "call-lea-2": "delivery",
    "call-theo": "refund",
}


def messages(
    prefix: str = "", phones: tuple[str, str, str] = (MARIE_PHONE, LEA_PHONE, UNKNOWN_PHONE)
) -> list[Message]:
    """The people above; `prefix` before every user and call id, `phones` for marie, lea and
    the unknown caller (to add them to a shared workspace)."""
    marie_phone, lea_phone, unknown_phone = phones
    marie, paul, lea, theo, walt = (prefix + n for n in ("marie", "paul", "lea", "theo", "walt"))
    m: list[Message] = [consent(u) for u in (marie, paul, lea, theo, walt)]
    m += [identify(marie, marie_phone), identify(lea, lea_phone)]
    # marie
    m += [page(marie, "Delivery help", "/help/delivery", T0 - 2 * DAY)]
    m += [page(marie, "Home", "/", T0), page(marie, "Checkout", "/checkout", T0 + MINUTE)]
    m += [track(marie, "Payment Failed", T0 + 2 * MINUTE)]
    m += [
        call(
            T0 + 2 * MINUTE + 2 * HOUR, prefix + "call-marie", caller=("callerNumber", marie_phone)
        )
    ]
    m += [page(marie, "Orders", "/account/orders", T0 + 3 * HOUR)]
    # paul
    m += [page(paul, "Delivery help", "/help/delivery", T0)]
    m += [call(T0 + HOUR, prefix + "call-paul", user=paul)]
    # lea
    m += [page(lea, "Home", "/", T0), page(lea, "Tracking", "/tracking", T0 + MINUTE)]
    m += [call(T0 + 31 * MINUTE, prefix + "call-lea", caller=("caller_number", lea_phone))]
    m += [call(T0 + 3 * DAY, prefix + "call-lea-2", caller=("caller_number", lea_phone))]
    # theo: the app, a checkout and its order, then a call
    m += [screen(theo, "Orders", T0), track(theo, "Checkout Started", T0 + MINUTE, "app")]
    m += [track(theo, "Order Completed", T0 + 2 * MINUTE, "app", order_id=prefix + "O-1")]
    m += [call(T0 + 22 * MINUTE, prefix + "call-theo", user=theo)]
    # a number nobody gave
    m += [call(T0 + HOUR, prefix + "call-unknown", caller=("callerNumber", unknown_phone))]
    # walt: a checkout visit, no call
    m += [page(walt, "Checkout", "/checkout", T0), page(walt, "Home", "/", T0 + MINUTE)]
    return m


def set_reasons(ws: Any, reasons: dict[str, str] = REASONS) -> None:
    """Write `voc_texts` rows for the calls of `reasons` (the understanding's table; its
    service fills it in production)."""
    cursor = ws.engine.cursor()
    rows = cursor.execute(
        "SELECT seq, anonymous_id, timestamp FROM events WHERE event = 'Call Completed'"
    ).fetchall()
    for seq, call_id, at in rows:
        if call_id in reasons:
            cursor.execute(
                "INSERT INTO voc_texts (seq, kind, occurred_at, turns, words, reason,"
                " analysed_at) VALUES (?, 'call', ?, 2, 4, ?, now())",
                [seq, at, reasons[call_id]],
            )
    cursor.close()


def build(path: Path, extra: list[Message] | None = None) -> Any:
    """A workspace at `path` holding these people (and `extra`), with the reasons written."""
    ws = empreinte.open(path)
    report = ws.ingest([*messages(), *(extra or [])], source="web")
    assert not report.rejected, report.rejected
    ws.flush()
    set_reasons(ws)
    return ws
