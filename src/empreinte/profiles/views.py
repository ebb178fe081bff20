"""JSON documents of events, profiles, timelines and the identity graph, shared by the HTTP API,
the CLI and the personal-data export.

Keys are camelCase like the rest of the API; times are ISO-8601 in UTC with a `Z`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from empreinte.identity.model import (
    Conflict,
    Explanation,
    IdentityRecord,
    MergeStep,
    Override,
    RebuildReport,
)
from empreinte.profiles.computed import Computed
from empreinte.profiles.profile import Profile, TimelinePage
from empreinte.profiles.traits import MergedTraits


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def identifier_json(record: IdentityRecord) -> dict[str, Any]:
    return {
        "key": record.id_key,
        "type": record.id_type,
        "firstSeq": record.first_seq,
        "lastSeq": record.last_seq,
    }


def computed_json(computed: Computed) -> dict[str, Any]:
    purchase = computed.last_purchase
    return {
        "firstSeen": iso(computed.first_seen),
        "lastSeen": iso(computed.last_seen),
        "events": computed.events,
        "botEvents": computed.bot_events,
        "channels": computed.channels,
        "preferredChannel": computed.preferred_channel,
        "orders": computed.orders,
        "revenue": computed.revenue,
        "lastPurchase": None
        if purchase is None
        else {
            "time": iso(purchase.time),
            "orderId": purchase.order_id,
            "amount": purchase.amount,
            "currency": purchase.currency,
            "messageId": purchase.message_id,
        },
        "birthYear": computed.birth_year,
        "age": computed.age,
        "country": computed.country,
        "identifiers": computed.identifiers,
    }


def history_json(traits: MergedTraits, pii: bool) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for path, changes in traits.history.items():
        winner = traits.current.get(path)
        out[path] = [
            {
                "value": change.last.value if pii else change.last.shown,
                "timestamp": iso(change.last.timestamp),
                "since": iso(change.since),
                "source": change.last.source,
                "messageId": change.last.message_id,
                "current": change.last is winner,
            }
            for change in changes
        ]
    return out


def profile_json(profile: Profile, *, history: bool = True) -> dict[str, Any]:
    """A profile as the API shows it: raw personal values only when `profile.pii`."""
    doc: dict[str, Any] = {
        "profileId": profile.profile_id,
        "redirectedFrom": profile.redirected_from,
        "personalData": "raw" if profile.pii else "pseudonymised",
        "traits": profile.traits.nested(profile.pii),
        "computed": computed_json(profile.computed) | {"generation": profile.generation},
        "predicted": {t.trait: t.to_json() for t in profile.predicted},
        "identifiers": [identifier_json(r) for r in profile.identifiers],
    }
    if history:
        doc["traitHistory"] = history_json(profile.traits, profile.pii)
    return doc


def conflict_json(conflict: Conflict) -> dict[str, Any]:
    return {
        "seq": conflict.seq,
        "messageId": conflict.message_id,
        "idKey": conflict.id_key,
        "profileId": conflict.profile_id,
        "otherProfileId": conflict.other_profile_id,
        "rule": conflict.rule,
        "recordedAt": iso(conflict.recorded_at),
    }


def override_json(override: Override) -> dict[str, Any]:
    return {
        "recordedAt": iso(override.recorded_at),
        "actor": override.actor,
        "action": override.action,
        "idKey": override.id_key,
        "profileId": override.profile_id,
        "reason": override.reason,
    }


def step_json(step: MergeStep) -> dict[str, Any]:
    return {
        "seq": step.seq,
        "messageId": step.message_id,
        "at": iso(step.at),
        "action": step.action,
        "idKey": step.id_key,
        "profileId": step.profile_id,
        "otherProfileId": step.other_profile_id,
        "rule": step.rule,
    }


def explanation_json(explanation: Explanation) -> dict[str, Any]:
    """How a profile was built: merge history, refused links, admin decisions."""
    return {
        "profileId": explanation.profile_id,
        "redirectedFrom": explanation.requested
        if explanation.requested != explanation.profile_id
        else None,
        "identifiers": [identifier_json(r) for r in explanation.identifiers],
        "steps": [step_json(s) for s in explanation.steps],
        "conflicts": [conflict_json(c) for c in explanation.conflicts],
        "overrides": [override_json(o) for o in explanation.overrides],
    }


def rebuild_json(report: RebuildReport) -> dict[str, Any]:
    return {
        "events": report.events,
        "identifiers": report.identifiers,
        "profiles": report.profiles,
        "conflicts": report.conflicts,
        "cursor": report.cursor,
        "seconds": round(report.seconds, 3),
    }


def event_json(record: dict[str, Any]) -> dict[str, Any]:
    """A stored event in the shape of a Segment message, plus where and how it was stored."""
    out: dict[str, Any] = {
        "seq": record["seq"],
        "messageId": record["message_id"],
        "type": record["type"],
        "source": record["source"],
        "channel": record["channel"],
        "isBot": record["is_bot"],
        "identifiers": record["identifiers"] or [],
    }
    for column, key in (
        ("event", "event"),
        ("name", "name"),
        ("user_id", "userId"),
        ("anonymous_id", "anonymousId"),
        ("group_id", "groupId"),
        ("previous_id", "previousId"),
        ("properties", "properties"),
        ("traits", "traits"),
        ("context", "context"),
        ("integrations", "integrations"),
    ):
        if record[column] is not None:
            out[key] = record[column]
    for column, key in (
        ("timestamp", "timestamp"),
        ("original_timestamp", "originalTimestamp"),
        ("sent_at", "sentAt"),
        ("received_at", "receivedAt"),
    ):
        value = record[column]
        if isinstance(value, datetime):
            out[key] = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        elif value is not None:
            # A time beyond Python's years 1–9999 (a skew correction of a wild device clock)
            # comes back as the engine's text: show it rather than fail the whole listing.
            out[key] = str(value)
    if record["extra"]:
        out["extra"] = record["extra"]
    return out


def timeline_json(page: TimelinePage) -> dict[str, Any]:
    return {
        "profileId": page.profile_id,
        "redirectedFrom": page.redirected_from,
        "personalData": "raw" if page.pii else "pseudonymised",
        "events": [event_json(e) for e in page.events],
        "count": len(page.events),
        "next": page.next,
        "previous": page.previous,
    }
