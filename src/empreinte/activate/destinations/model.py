"""What a destination is, and the checks of what an operator gives to make one."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from empreinte.errors import InvalidInput
from empreinte.store.destination_store import SHOWN, STATUSES, Delivery, DestinationRecord

KINDS = ("webhook", "segment", "csv", "parquet")
HTTP_KINDS = frozenset({"webhook", "segment"})
FILE_KINDS = frozenset({"csv", "parquet"})
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
#: Traits a destination may send: the profile facts and the traits model runs compute.
FACTS = ("country", "birth_year", "preferred_channel")
MODEL_TRAITS = (
    "churn_risk",
    "clv",
    "p_alive",
    "expected_purchases",
    "rfm_segment",
    "rfm_r",
    "rfm_f",
    "rfm_m",
    "persona",
)
TRAITS = (*FACTS, *MODEL_TRAITS)
MAX_LIST = 50
EVENT_NAME = re.compile(r"[^\x00-\x1f]{1,200}")


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InvalidInput(
            "name", "1-63 lower-case letters, digits, - and _, starting with a letter or digit"
        )
    return name


def check_kind(kind: Any) -> str:
    if kind not in KINDS:
        raise InvalidInput("kind", f"{kind!r}: use one of {', '.join(KINDS)}")
    return str(kind)


def check_status(status: Any) -> str:
    if status not in STATUSES:
        raise InvalidInput("status", f"{status!r}: use one of {', '.join(STATUSES)}")
    return str(status)


def check_list(values: Any, field: str, pattern: re.Pattern[str] | None = None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InvalidInput(field, "give a list of names")
    if len(values) > MAX_LIST:
        raise InvalidInput(field, f"at most {MAX_LIST}")
    out = []
    for value in values:
        if not isinstance(value, str) or not value or (pattern and not pattern.fullmatch(value)):
            raise InvalidInput(field, f"{value!r} is not a name")
        if value not in out:
            out.append(value)
    return tuple(out)


def check_traits(values: Any) -> tuple[str, ...]:
    traits = check_list(values, "traits")
    unknown = [t for t in traits if t not in TRAITS]
    if unknown:
        raise InvalidInput(
            "traits", f"unknown trait(s) {', '.join(unknown)}; use {', '.join(TRAITS)}"
        )
    return traits


@dataclass(frozen=True)
class Destination:
    """A destination with its delivery counts per status."""

    record: DestinationRecord
    counts: Mapping[str, int]

    @property
    def name(self) -> str:
        return self.record.name

    def to_json(self, full: bool = True) -> dict[str, Any]:
        """`full`: the whole URL (admins); else only its scheme and host — a webhook URL often
        carries a token in its path or query (chat and automation tools' hooks)."""
        r = self.record
        return {
            "name": r.name,
            "kind": r.kind,
            "target": r.target if full else masked(r.kind, r.target),
            "purpose": r.purpose,
            "segments": list(r.segments),
            "traits": list(r.traits),
            "events": list(r.events),
            "created_at": r.created_at.isoformat(),
            "created_by": r.created_by,
            "last_round": {
                "at": r.round_at.isoformat() if r.round_at else None,
                "error": r.round_error,
            },
            "deliveries": {s: int(self.counts.get(s, 0)) for s in SHOWN},
        }


def masked(kind: str, target: str) -> str:
    """A URL as non-admins see it: `https://crm.example.com/…`."""
    if kind not in HTTP_KINDS:
        return target
    from urllib.parse import urlsplit

    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.netloc}/…"


@dataclass(frozen=True)
class Created:
    """A destination just made, with its signing secret (a webhook's), shown this once."""

    destination: Destination
    secret: str | None

    def to_json(self) -> dict[str, Any]:
        out = self.destination.to_json()
        if self.secret is not None:
            out["secret"] = self.secret
        return out


@dataclass(frozen=True)
class RoundReport:
    """What one round did for one destination."""

    destination: str
    queued: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    withheld: int = 0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "queued": self.queued,
            "sent": self.sent,
            "failed": self.failed,
            "dead": self.dead,
            "withheld": self.withheld,
            "error": self.error,
        }


def delivery_json(d: Delivery) -> dict[str, Any]:
    """A delivery as the API and the CLI show it: no payload (it holds who was sent)."""
    return {
        "delivery_id": d.delivery_id,
        "destination": d.destination,
        "type": d.type,
        "status": d.status,
        "attempts": d.attempts,
        "next_at": d.next_at.isoformat() if d.next_at else None,
        "last_error": d.last_error,
        "created_at": d.created_at.isoformat(),
        "sent_at": d.sent_at.isoformat() if d.sent_at else None,
        "erasure_id": d.erasure_id,
    }
