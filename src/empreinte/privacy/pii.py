"""Personal data is split from behaviour at ingestion.

The event log keeps behaviour with keyed pseudonyms in place of e-mails, phone numbers, names,
street addresses, birthdays and IP addresses; the raw values go to a separate vault row of the
same event, which only admins read and which erasure deletes with the event. Free texts (survey
comments, reviews, transcripts) are redacted before they reach here (collect/text_redaction.py):
their originals are never in the vault in clear (sealed, only when an admin opted in).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from empreinte.errors import ConfigError
from empreinte.identity.identifiers import (
    PII_TYPES,
    Identifier,
    extract,
    normalise_email,
    normalise_phone,
    previous_ids,
    region_of,
)
from empreinte.privacy.pseudonym import Pseudonymiser
from empreinte.privacy.text_originals import OriginalsVault
from empreinte.voc.model import VERBATIM_KEYS

# Personal data is recognised by its key, whatever its spelling (`Email`, `email_address`,
# `emailAddress`, `customer-email` are one key: lower case, without `_`, `-`, spaces), and by
# its value (`personal_value`). Keys by kind, in that canonical form:
_EMAIL, _PHONE, _NAME, _OTHER = "email", "phone", "name", "other"
_NAMES = frozenset(
    {"firstname", "lastname", "fullname", "givenname", "familyname", "surname", "middlename"}
)
_OTHERS = frozenset(
    {"birthday", "birthdate", "dateofbirth", "dob", "username", "ip", "ipaddress", "ssn"}
)
_PHONES = frozenset({"mobile", "cell", "tel", "telephone", "msisdn", "fax"})
# Keys of an address that locate a person; city, state and country stay for analytics.
_ADDRESS_KEYS = frozenset({"street", "line1", "line2", "postalcode", "zip", "zipcode"})
# Free text in the customer's own words (survey comments, reviews): redacted before the split
# (collect/text_redaction.py), never read here as one personal value.
_FREE_TEXT_KEYS = frozenset(VERBATIM_KEYS)


def canonical(key: str) -> str:
    """`key` as personal keys are compared: lower case, without `_`, `-`, `.` and spaces."""
    return key.lower().replace("_", "").replace("-", "").replace(" ", "").replace(".", "")


def key_kind(key: str, in_traits: bool, extra: frozenset[str] = frozenset()) -> str | None:
    """The kind of personal data held under `key` (email, phone, name, other), or None.
    `name` alone is personal in a person's traits only (a product has a name too). `extra`:
    the workspace's own personal keys (`[privacy] personal_keys`, canonical)."""
    c = canonical(key)
    if c in extra:
        return _OTHER
    if c in ("email", "mail", "emailaddress") or c.endswith(("email", "emailaddress")):
        return _EMAIL
    if "phone" in c or c in _PHONES or c.endswith(("mobile", "callernumber", "calleenumber")):
        return _PHONE
    if (
        c in _NAMES
        or c.endswith(("firstname", "lastname", "fullname"))
        or (in_traits and c == "name")
    ):
        return _NAME
    if c in _OTHERS:
        return _OTHER
    return None


# Characters a phone number is written with; a value of only these, with 8 to 15 digits and
# a sign of phone formatting, is read as a phone number (a bare run of digits is an id).
_PHONE_CHARS = frozenset("+0123456789 ().-/")


def personal_value(value: str, region: str) -> str | None:
    """`email` or `phone` when the whole of `value` is a valid e-mail address or phone number
    (whatever its key); None otherwise. Cheap checks first: most values are neither."""
    if "@" in value:
        return _EMAIL if normalise_email(value).valid else None
    if not 8 <= len(value) <= 24 or not _PHONE_CHARS.issuperset(value):
        return None
    formatted = value.startswith(("+", "00", "(")) or any(sep in value for sep in " .-/")
    digits = sum(c.isdigit() for c in value)
    if formatted and 8 <= digits <= 15 and normalise_phone(value, region).valid:
        return _PHONE
    return None


def stored_user_id(user_id: str, pseudo: Pseudonymiser) -> str:
    """The userId as the log keeps it: a userId that is an e-mail address is personal data,
    kept as that address's pseudonym (the same one `traits.email` gets); any other as sent.
    Ingestion, lookups and filters all go through here, so they agree."""
    if "@" not in user_id:
        return user_id
    email = normalise_email(user_id)
    return pseudo.pseudonym(email.type, email.value) if email.valid else user_id


def is_personal_trait(path: str) -> bool:
    """Whether the trait at dotted `path` holds personal data (pseudonymised in the log)."""
    head, _, rest = path.partition(".")
    if canonical(head) == "address":
        return canonical(rest.split(".")[0]) in _ADDRESS_KEYS
    return key_kind(head, True) is not None


@dataclass(frozen=True)
class IngestPolicy:
    """What ingestion needs to know about the workspace to protect personal data:
    `personal_keys`, its own keys of personal data besides the usual ones (canonical)."""

    pseudonymiser: Pseudonymiser
    default_region: str = "FR"
    personal_keys: frozenset[str] = frozenset()
    # Sources whose alias may join two user ids (the workspace's own and `[consent]
    # trusted_sources`: the same trust as for marketing consent).
    trusted_sources: frozenset[str] = frozenset()
    # key → kind, for properties [0] and traits [1] (see `_personal`)
    kinds: tuple[dict[str, str | None], dict[str, str | None]] = field(
        default_factory=lambda: ({}, {}), compare=False, repr=False
    )
    # Property keys personal by no rule of theirs (kind None, not free text): see
    # `_scan_properties`. Filled as `kinds` is, within the same limit.
    plain_keys: set[str] = field(default_factory=set, compare=False, repr=False)
    # Where the originals of redacted texts are sealed when an admin opted in (None: never).
    originals: OriginalsVault | None = field(default=None, compare=False, repr=False)


def personal_keys(section: Mapping[str, Any] | None) -> frozenset[str]:
    """`[privacy] personal_keys = ["iban", "loyalty number"]`, canonical; `ConfigError` else."""
    section = section or {}
    unknown = sorted(set(section) - {"personal_keys"})
    if unknown:
        raise ConfigError(f"[privacy]: unknown setting(s) {', '.join(unknown)}")
    keys = section.get("personal_keys", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) and k.strip() for k in keys):
        raise ConfigError('[privacy] personal_keys must be a list of key names, e.g. ["iban"]')
    return frozenset(canonical(k) for k in keys)


class Split(NamedTuple):
    """A message's payloads with personal data replaced, the vault, and its identifiers.
    A NamedTuple: one is made per message, in half the time of a frozen dataclass."""

    traits: dict[str, Any] | None
    properties: dict[str, Any] | None
    context: dict[str, Any] | None
    vault: dict[str, Any] | None
    identifiers: list[str] | None


# Keys whose kind is remembered per policy, for traits and for properties: real traffic repeats
# a few hundred keys. Past the limit a key's kind is computed each time (made-up keys must not
# fill memory).
_MAX_KINDS = 8_192


def _personal(
    holder: dict[str, Any], traits: bool, region: str, policy: IngestPolicy
) -> list[tuple[str, str]]:
    """The (key, kind) of `holder`'s personal values: by key, or by value for text. On the
    path of every event: a dict lookup per key, and a look at short or "@" text only."""
    kinds = policy.kinds[traits]
    found = []
    for key, raw in holder.items():
        kind = kinds.get(key, "")
        if kind == "":
            kind = key_kind(key, traits, policy.personal_keys)
            if len(kinds) < _MAX_KINDS:
                kinds[key] = kind
                if kind is None and not traits and key not in _FREE_TEXT_KEYS:
                    policy.plain_keys.add(key)
        if kind is None:
            if raw.__class__ is not str or not ("@" in raw or 8 <= len(raw) <= 24):
                continue
            if key in _FREE_TEXT_KEYS or (kind := personal_value(raw, region)) is None:
                continue
        elif raw is None or raw == "" or key in _FREE_TEXT_KEYS:
            continue
        found.append((key, kind))
    return found


def _mask(
    holder: dict[str, Any],
    path: str,
    group: bool,
    vault: dict[str, Any],
    policy: IngestPolicy,
    region: str,
) -> dict[str, Any]:
    """A copy of `holder` with personal values replaced; raw values recorded in `vault`.
    A group's traits describe a company (`group`): its name is not personal data."""
    out = dict(holder)
    pseudo = policy.pseudonymiser
    traits = path.endswith("traits")
    for key, kind in _personal(holder, traits and not group, region, policy):
        raw = holder[key]
        vault[f"{path}.{key}"] = raw
        out[key] = _pseudonym_of(key, kind, raw, pseudo, region)
    address = holder.get("address")
    if traits and isinstance(address, dict):
        parts = [k for k in address if canonical(k) in _ADDRESS_KEYS]
        if parts:
            masked = dict(address)
            for key in parts:
                vault[f"{path}.address.{key}"] = address[key]
                masked[key] = pseudo.pseudonym("address", str(address[key]))
            out["address"] = masked
    return out


def _pseudonym_of(key: str, kind: str, raw: Any, pseudo: Pseudonymiser, region: str) -> str:
    """E-mails and phones are normalised first, so the pseudonym equals the identifier's
    whatever the key; other values are pseudonymised under their key."""
    text = raw if isinstance(raw, str) else orjson.dumps(raw).decode()
    if kind == _EMAIL:
        ident = normalise_email(text)
    elif kind == _PHONE:
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
                "id": _pseudonym_of(kind, _PERSONAL_ID_TYPES[kind], item["id"], pseudo, region),
            }
    return out


def identifier_key(ident: Identifier, pseudo: Pseudonymiser) -> str:
    """The key an identifier has in the graph: personal kinds by pseudonym only."""
    if ident.type in PII_TYPES:
        return f"{ident.type}:{pseudo.pseudonym(ident.type, ident.value)}"
    return ident.key


def _plain_keys(
    user_id: str | None,
    anonymous_id: str | None,
    previous_id: str | None,
    ctx: dict[str, Any],
    alias_user_ids: bool,
) -> list[str] | None:
    """The identifier keys of a message without personal data, as `extract` would give.
    (Literal prefixes: formatting a StrEnum member costs more than the rest of this function.)"""
    keys = []
    if user_id:
        keys.append("user_id:" + user_id)
    if anonymous_id:
        keys.append("anonymous_id:" + anonymous_id)
    if previous_id:  # an alias
        keys.extend(ident.key for ident in previous_ids(previous_id, anonymous_id, alias_user_ids))
    device = ctx.get("device")
    if isinstance(device, dict):
        device_id = device.get("id")
        if isinstance(device_id, str | int) and not isinstance(device_id, bool):
            text = str(device_id).strip()
            if text:
                keys.append("device_id:" + text)
    keys.sort()
    return keys or None


def _scan_properties(properties: dict[str, Any], policy: IngestPolicy) -> bool:
    """Whether `properties` may hold personal data: a personal key or value."""
    # Most events' keys are all plain ones (one set comparison, in C); then only a text value
    # with "@" or a phone's characters can be personal (as `personal_value` first checks), and
    # without one the answer is known without `_personal`'s per-key work (some 4 µs an event).
    if properties.keys() <= policy.plain_keys:
        for raw in properties.values():
            if raw.__class__ is str and (
                "@" in raw or (8 <= len(raw) <= 24 and _PHONE_CHARS.issuperset(raw))
            ):
                break
        else:
            return False
    return bool(_personal(properties, False, policy.default_region, policy))


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
    trusted_source: bool = False,
) -> Split:
    """Identifiers of the message (valid ones only, pseudonymised), and its payloads with
    personal data moved to the vault. Only a `trusted_source`'s alias joins two user ids."""
    pseudo = policy.pseudonymiser
    ctx = context or {}
    if (
        not traits
        and not ctx.get("traits")
        and not ctx.get("externalIds")
        and not ctx.get("ip")
        and channel != "phone"
        and not (properties and _scan_properties(properties, policy))
    ):
        # Most events (page views, product views…) carry no personal data and only plain
        # ids: skip the general extraction, which costs several microseconds a message.
        return Split(
            traits,
            properties,
            context,
            None,
            _plain_keys(user_id, anonymous_id, previous_id, ctx, trusted_source),
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
        alias_user_ids=trusted_source,
    )
    keys = sorted(identifier_key(i, pseudo) for i in found if i.valid)
    vault: dict[str, Any] = {}
    region = region_of(context, traits, policy.default_region)
    group = kind == "group"
    if traits:
        traits = _mask(traits, "traits", group, vault, policy, region)
    if properties:
        properties = _mask(properties, "properties", False, vault, policy, region)
    if context:
        ctx_traits = context.get("traits")
        masked_traits = (
            _mask(ctx_traits, "context.traits", False, vault, policy, region)
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
        if not steps and column in out:  # a column of its own (a userId that is an e-mail)
            out[column] = raw
        elif steps and isinstance(out.get(column), dict | list):
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
