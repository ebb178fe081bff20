"""Personal data is split from behaviour at ingestion.

The event log keeps behaviour with keyed pseudonyms in place of e-mails, phone numbers, names,
street addresses, birthdays and IP addresses, and with the personal data in survey comments
masked; the raw values go to a separate vault row of the same event, which only admins read
and which erasure deletes with the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from empreinte.identity.identifiers import (
    PII_TYPES,
    Identifier,
    extract,
    normalise_email,
    normalise_phone,
    region_of,
)
from empreinte.privacy.pseudonym import Pseudonymiser
from empreinte.privacy.redaction import redact

# Keys of traits (identify, context.traits) that hold personal data.
_TRAIT_KEYS = frozenset(
    {
        "email",
        "phone",
        "mobile",
        "name",
        "first_name",
        "last_name",
        "firstName",
        "lastName",
        "birthday",
        "date_of_birth",
        "username",
    }
)
# Keys of an address that locate a person; city, state and country stay for analytics.
_ADDRESS_KEYS = frozenset(
    {"street", "line1", "line2", "postal_code", "postalCode", "zip", "zipcode"}
)


def is_personal_trait(path: str) -> bool:
    """Whether the trait at dotted `path` holds personal data (pseudonymised in the log)."""
    head, _, rest = path.partition(".")
    return head in _TRAIT_KEYS or (head == "address" and rest.split(".")[0] in _ADDRESS_KEYS)


# Keys of properties that hold personal data (call-centre and e-mail events).
_PROPERTY_KEYS = frozenset({"caller_number", "callee_number", "email", "phone"})
# Free text in the customer's own words (survey comments): the e-mails, phones and card
# numbers in it are masked, the text as written kept in the vault.
_FREE_TEXT_KEYS = frozenset({"comment", "feedback"})
_SCANNED_PROPERTY_KEYS = _PROPERTY_KEYS | _FREE_TEXT_KEYS


@dataclass(frozen=True)
class IngestPolicy:
    """What ingestion needs to know about the workspace to protect personal data."""

    pseudonymiser: Pseudonymiser
    default_region: str = "FR"


class Split(NamedTuple):
    """A message's payloads with personal data replaced, the vault, and its identifiers.
    A NamedTuple: one is made per message, in half the time of a frozen dataclass."""

    traits: dict[str, Any] | None
    properties: dict[str, Any] | None
    context: dict[str, Any] | None
    vault: dict[str, Any] | None
    identifiers: list[str] | None


def _mask(
    holder: dict[str, Any],
    path: str,
    keys: frozenset[str],
    vault: dict[str, Any],
    pseudo: Pseudonymiser,
    region: str,
) -> dict[str, Any]:
    """A copy of `holder` with personal values replaced; raw values recorded in `vault`."""
    out = dict(holder)
    for key in keys & holder.keys():
        raw = holder[key]
        if raw is None or raw == "":
            continue
        vault[f"{path}.{key}"] = raw
        out[key] = _pseudonym_of(key, raw, pseudo, region)
    address = holder.get("address")
    if path.endswith("traits") and isinstance(address, dict) and _ADDRESS_KEYS & address.keys():
        masked = dict(address)
        for key in _ADDRESS_KEYS & address.keys():
            vault[f"{path}.address.{key}"] = address[key]
            masked[key] = pseudo.pseudonym("address", str(address[key]))
        out["address"] = masked
    return out


def _redact_free_text(
    properties: dict[str, Any], vault: dict[str, Any], region: str
) -> dict[str, Any]:
    """`properties` with personal data in its free text masked; the text as written in
    `vault` (for the person's export and admins, and erased with them)."""
    out = dict(properties)
    for key in _FREE_TEXT_KEYS & properties.keys():
        raw = properties[key]
        if isinstance(raw, str) and (masked := redact(raw, region)) != raw:
            vault[f"properties.{key}"] = raw
            out[key] = masked
    return out


def _pseudonym_of(key: str, raw: Any, pseudo: Pseudonymiser, region: str) -> str:
    """E-mails and phones are normalised first, so the pseudonym equals the identifier's."""
    text = raw if isinstance(raw, str) else orjson.dumps(raw).decode()
    if key == "email":
        ident = normalise_email(text)
    elif key in ("phone", "mobile", "caller_number", "callee_number"):
        ident = normalise_phone(text, region)
    else:
        return pseudo.pseudonym(key, text)
    return pseudo.pseudonym(ident.type, ident.value)


_PERSONAL_ID_TYPES = {"email": "email", "phone": "phone", "phone_number": "phone"}


def _mask_external_ids(
    items: Any, vault: dict[str, Any], pseudo: Pseudonymiser, region: str
) -> list[Any] | None:
    """context.externalIds with e-mail and phone entries pseudonymised; None if none were."""
    if not isinstance(items, list):
        return None
    out: list[Any] | None = None
    for index, item in enumerate(items):
        kind = str(item.get("type") or "").strip().lower() if isinstance(item, dict) else ""
        if kind in _PERSONAL_ID_TYPES and item.get("id") not in (None, ""):
            out = out if out is not None else list(items)
            vault[f"context.externalIds.{index}.id"] = item["id"]
            out[index] = {
                **item,
                "id": _pseudonym_of(_PERSONAL_ID_TYPES[kind], item["id"], pseudo, region),
            }
    return out


def identifier_key(ident: Identifier, pseudo: Pseudonymiser) -> str:
    """The key an identifier has in the graph: personal kinds by pseudonym only."""
    if ident.type in PII_TYPES:
        return f"{ident.type}:{pseudo.pseudonym(ident.type, ident.value)}"
    return ident.key


def _plain_keys(
    user_id: str | None, anonymous_id: str | None, previous_id: str | None, ctx: dict[str, Any]
) -> list[str] | None:
    """The identifier keys of a message without personal data, as `extract` would give.
    (Literal prefixes: formatting a StrEnum member costs more than the rest of this function.)"""
    keys = []
    if user_id:
        keys.append("user_id:" + user_id)
    if anonymous_id:
        keys.append("anonymous_id:" + anonymous_id)
    if previous_id and previous_id != anonymous_id:
        keys.append("anonymous_id:" + previous_id)
    device = ctx.get("device")
    if isinstance(device, dict):
        device_id = device.get("id")
        if isinstance(device_id, str | int) and not isinstance(device_id, bool):
            text = str(device_id).strip()
            if text:
                keys.append("device_id:" + text)
    keys.sort()
    return keys or None


def split(
    *,
    kind: str,
    user_id: str | None,
    anonymous_id: str | None,
    previous_id: str | None,
    traits: dict[str, Any] | None,
    properties: dict[str, Any] | None,
    context: dict[str, Any] | None,
    channel: str | None,
    policy: IngestPolicy,
) -> Split:
    """Identifiers of the message (valid ones only, pseudonymised), and its payloads with
    personal data moved to the vault."""
    pseudo = policy.pseudonymiser
    ctx = context or {}
    if (
        not traits
        and not ctx.get("traits")
        and not ctx.get("externalIds")
        and not ctx.get("ip")
        and channel != "phone"
        and not (properties and _SCANNED_PROPERTY_KEYS & properties.keys())
    ):
        # Most events (page views, product views…) carry no personal data and only plain
        # ids: skip the general extraction, which costs several microseconds a message.
        return Split(
            traits, properties, context, None, _plain_keys(user_id, anonymous_id, previous_id, ctx)
        )
    found = extract(
        user_id=user_id,
        anonymous_id=anonymous_id,
        previous_id=previous_id,
        traits=traits,
        properties=properties,
        context=context,
        channel=channel,
        default_region=policy.default_region,
    )
    keys = sorted(identifier_key(i, pseudo) for i in found if i.valid)
    vault: dict[str, Any] = {}
    region = region_of(context, traits, policy.default_region)
    # A group's traits describe a company: its name is not personal data.
    trait_keys = _TRAIT_KEYS - {"name"} if kind == "group" else _TRAIT_KEYS
    if traits:
        traits = _mask(traits, "traits", trait_keys, vault, pseudo, region)
    if properties and _PROPERTY_KEYS & properties.keys():
        properties = _mask(properties, "properties", _PROPERTY_KEYS, vault, pseudo, region)
    if properties and _FREE_TEXT_KEYS & properties.keys():
        properties = _redact_free_text(properties, vault, region)
    if context:
        ctx_traits = context.get("traits")
        masked_traits = (
            _mask(ctx_traits, "context.traits", _TRAIT_KEYS, vault, pseudo, region)
            if isinstance(ctx_traits, dict)
            else None
        )
        external = _mask_external_ids(context.get("externalIds"), vault, pseudo, region)
        if masked_traits is not None or external is not None or "ip" in context:
            context = dict(context)
            if masked_traits is not None:
                context["traits"] = masked_traits
            if external is not None:
                context["externalIds"] = external
            if context.get("ip"):
                vault["context.ip"] = context["ip"]
                context["ip"] = pseudo.pseudonym("ip", str(context["ip"]))
    return Split(traits, properties, context, vault or None, keys or None)


def rehydrate(record: dict[str, Any]) -> dict[str, Any]:
    """A stored event (as `Engine.find_events` returns it) with its raw personal values put
    back where they were. For admins, and for the person's own export only."""
    vault = record.get("pii")
    if not vault:
        return record
    out = dict(record)
    for path, raw in vault.items():
        column, *steps = path.split(".")
        if steps and isinstance(out.get(column), dict | list):
            out[column] = _put(out[column], steps, raw)
    return out


def _put(node: Any, steps: list[str], raw: Any) -> Any:
    """A copy of `node` with `raw` at `steps` (dict keys, or list indexes given as digits);
    unchanged where the path no longer exists."""
    step, rest = steps[0], steps[1:]
    if isinstance(node, dict):
        if rest and step not in node:
            return node
        copy: Any = dict(node)
        copy[step] = _put(node[step], rest, raw) if rest else raw
        return copy
    if isinstance(node, list) and step.isdigit() and int(step) < len(node):
        items = list(node)
        items[int(step)] = _put(node[int(step)], rest, raw) if rest else raw
        return items
    return node


def without_vault(record: dict[str, Any]) -> dict[str, Any]:
    """The record without its raw personal values (the `pii` key)."""
    return {k: v for k, v in record.items() if k != "pii"}
