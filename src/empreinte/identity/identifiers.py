"""The identifiers a message carries, normalised so that the same person matches herself.

E-mails are trimmed and lower-cased; phone numbers go to E.164 with `phonenumbers`, read in
the region the message suggests (its locale, the address) or the workspace's default. A value
that does not normalise (an e-mail without @, an impossible number) is still returned, marked
invalid: it is kept as a trait but never used to merge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

import phonenumbers


class IdType(StrEnum):
    """Kinds of identifier, from the most to the least trusted (the default priority)."""

    USER_ID = "user_id"
    EMAIL = "email"
    PHONE = "phone"
    LOYALTY_CARD = "loyalty_card"
    EXTERNAL = "external"
    DEVICE_ID = "device_id"
    ANONYMOUS_ID = "anonymous_id"
    # A record of a file that record matching linked (`context.externalIds` item with
    # `"matched": true`, written by matching/jobs.py): its own kind, so that its limit is not
    # the one meant for live external ids (docs/matching.md, "Matched records in the graph").
    MATCHED_RECORD = "matched_record"


# Identifier kinds that are personal data in themselves: stored as keyed pseudonyms.
PII_TYPES = frozenset({IdType.EMAIL, IdType.PHONE})

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
# Longer values are kept, marked invalid, without being read: an address has at most 254
# characters (RFC 5321) and `phonenumbers` refuses more than 250. The checks above backtrack
# on long text, and the cache below must not hold 32 KB keys.
MAX_EMAIL_LENGTH = 254
MAX_PHONE_LENGTH = 250


@dataclass(frozen=True, order=True)
class Identifier:
    """One normalised identifier. `value` is the normalised text (before pseudonymisation)."""

    type: str
    value: str
    valid: bool = True

    @property
    def key(self) -> str:
        return f"{self.type}:{self.value}"


def normalise_email(raw: str) -> Identifier:
    value = raw.strip().lower()
    valid = len(value) <= MAX_EMAIL_LENGTH and _EMAIL.fullmatch(value) is not None
    return Identifier(IdType.EMAIL, value, valid)


def normalise_phone(raw: str, region: str) -> Identifier:
    """E.164 when `raw` is a possible and valid number (read in `region` unless it has a +)."""
    text = raw.strip()
    if len(text) > MAX_PHONE_LENGTH:
        return Identifier(IdType.PHONE, text, False)
    return _parse_phone(text, region)


@lru_cache(maxsize=262_144)
def _parse_phone(text: str, region: str) -> Identifier:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return Identifier(IdType.PHONE, text, False)
    if not phonenumbers.is_valid_number(number):
        return Identifier(IdType.PHONE, text, False)
    return Identifier(
        IdType.PHONE, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    )


def region_of(context: dict[str, Any] | None, traits: dict[str, Any] | None, default: str) -> str:
    """The country a phone number is most likely written for (ISO 3166 alpha-2)."""
    for holder in (traits, (context or {}).get("traits")):
        if isinstance(holder, dict):
            address = holder.get("address")
            country = address.get("country") if isinstance(address, dict) else None
            country = country or holder.get("country")
            if isinstance(country, str) and len(country) == 2 and country.isalpha():
                return country.upper()
    locale = (context or {}).get("locale")
    if isinstance(locale, str) and len(locale) >= 5 and locale[2] in "-_":
        return locale[3:5].upper()
    return default


def previous_ids(
    previous_id: str | None, anonymous_id: str | None, user_ids: bool = False
) -> list[Identifier]:
    """What an `alias` message's previousId identifies, by a rule on the message alone (so
    that the incremental graph and a rebuild, which read the keys stored with each event,
    always agree). Segment: previousId is "the existing ID you've referred to the user by",
    an anonymous id or an earlier user id.

    - previousId equal to the message's anonymousId: that anonymous id (nothing more).
    - the message has another anonymousId: previousId is an earlier **user id** (analytics.js
      sends the current anonymousId with every alias, and its previousId is the user id it
      knew, or that same anonymousId).
    - no anonymousId (a server library): both readings, the user id and the anonymous id
      with that value; the one that never occurs elsewhere links nothing.

    An alias then carries two user ids, which the graph merges despite the limit of one user
    id per profile (graph.py, step 7): the profile keeps the old user id as an alias of the
    new one. Only a trusted source may say that (`user_ids`, decided at the door: the public
    write key could otherwise fuse any two accounts, and one's data would follow the other's
    access request); from any other source previousId is an anonymous id.
    """
    if not previous_id or previous_id == anonymous_id:
        return []
    if not user_ids:
        return [Identifier(IdType.ANONYMOUS_ID, previous_id)]
    if anonymous_id:
        return [Identifier(IdType.USER_ID, previous_id)]
    return [Identifier(IdType.USER_ID, previous_id), Identifier(IdType.ANONYMOUS_ID, previous_id)]


# externalIds types read as identifiers of their own kind (a `matched` flag does not change it).
_OWN_KINDS = frozenset({"loyalty_card", "loyaltycard", "loyalty", "email", "phone", "phone_number"})


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text or None


def extract(
    *,
    user_id: str | None,
    anonymous_id: str | None,
    previous_id: str | None,
    traits: dict[str, Any] | None,
    properties: dict[str, Any] | None,
    context: dict[str, Any] | None,
    channel: str | None,
    default_region: str,
    alias_user_ids: bool = False,
) -> list[Identifier]:
    """Every identifier of one message, normalised, without duplicates, in a stable order.

    Sources: userId, anonymousId, alias' previousId (`previous_ids`), e-mail and phone
    in traits and context.traits, the caller's number on phone events (`caller_number` or
    `callerNumber`), context.device.id,
    loyalty cards (traits or context.externalIds) and other context.externalIds.
    """
    found: set[Identifier] = set(previous_ids(previous_id, anonymous_id, alias_user_ids))
    if user_id:
        found.add(Identifier(IdType.USER_ID, user_id))
    if anonymous_id:
        found.add(Identifier(IdType.ANONYMOUS_ID, anonymous_id))
    ctx = context or {}
    region = region_of(ctx, traits, default_region)
    holders = [h for h in (traits, ctx.get("traits")) if isinstance(h, dict)]
    for holder in holders:
        if email := _text(holder.get("email")):
            found.add(normalise_email(email))
        if phone := _text(holder.get("phone")):
            found.add(normalise_phone(phone, region))
        if card := _text(holder.get("loyalty_card")):
            found.add(Identifier(IdType.LOYALTY_CARD, card))
    caller = (
        _text(properties.get("caller_number") or properties.get("callerNumber"))
        if isinstance(properties, dict)
        else None
    )
    if channel == "phone" and caller:
        found.add(normalise_phone(caller, region))
    device = ctx.get("device")
    if isinstance(device, dict) and (device_id := _text(device.get("id"))):
        found.add(Identifier(IdType.DEVICE_ID, device_id))
    external = ctx.get("externalIds")
    if isinstance(external, list):
        for item in external:
            if not isinstance(item, dict) or not (value := _text(item.get("id"))):
                continue
            kind = str(item.get("type") or "").strip().lower()
            if kind and item.get("matched") is True and kind not in _OWN_KINDS:
                found.add(Identifier(IdType.MATCHED_RECORD, f"{kind}={value}"))
            elif kind in ("loyalty_card", "loyaltycard", "loyalty"):
                found.add(Identifier(IdType.LOYALTY_CARD, value))
            elif kind == "email":
                found.add(normalise_email(value))
            elif kind in ("phone", "phone_number"):
                found.add(normalise_phone(value, region))
            elif kind:
                found.add(Identifier(IdType.EXTERNAL, f"{kind}={value}"))
    return sorted(found)
