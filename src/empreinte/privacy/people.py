"""Finding the person a privacy request is about, and reading back their raw identifiers.

A request names a person by a profile id or by one identifier (e-mail, phone, userId,
anonymousId, loyalty card), given raw: it is normalised and pseudonymised exactly as
ingestion does, then looked up in the identity graph (brought up to date first).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from empreinte.errors import PrivacyError, ProfileNotFound
from empreinte.identity.identifiers import (
    IdType,
    normalise_email,
    normalise_phone,
    region_of,
)
from empreinte.identity.model import IdentityRecord
from empreinte.privacy.pii import identifier_key
from empreinte.profiles.lookup import InvalidInput

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

#: How a request may name a person, under the names the HTTP API and the CLI use.
BY: tuple[str, ...] = ("profileId", "email", "phone", "userId", "anonymousId", "loyaltyCard")


@dataclass(frozen=True)
class Person:
    """A person the workspace knows: their current profile id and every identifier of it."""

    profile_id: str
    identifiers: tuple[IdentityRecord, ...]

    @property
    def keys(self) -> list[str]:
        return [r.id_key for r in self.identifiers]


def lookup_key(workspace: Workspace, by: str, value: str) -> str:
    """The identifier key of a raw value (`by` one of BY but profileId)."""
    try:
        return workspace.profiles.key(by, value)
    except InvalidInput as exc:
        raise PrivacyError(exc.reason, exc.field) from None


def locate(workspace: Workspace, by: str, value: str) -> Person:
    """The person named by `by`=`value`; `ProfileNotFound` when nobody is, `PrivacyError`
    for a value that can never name anyone (an e-mail without @)."""
    if by not in BY:
        raise PrivacyError(f"cannot name a person by {by!r}; use one of {', '.join(BY)}", by)
    if not isinstance(value, str) or not value.strip():
        raise PrivacyError("must not be empty", by)
    profiles = workspace.profiles
    if by == "profileId":
        current = profiles.current(value.strip())
    else:
        try:
            found = profiles.find(by, value)
        except InvalidInput as exc:
            raise PrivacyError(exc.reason, exc.field) from None
        if found is None:
            raise ProfileNotFound(f"no profile holds this {_label(by)}")
        current = found
    records = workspace.identity.identifiers(current)
    if not records:
        raise ProfileNotFound(f"no profile {value!r}")
    return Person(current, tuple(records))


def _label(by: str) -> str:
    return {
        "email": "e-mail address",
        "phone": "phone number",
        "userId": "userId",
        "anonymousId": "anonymousId",
        "loyaltyCard": "loyalty card",
    }.get(by, by)


def one_of(named: Mapping[str, Any]) -> tuple[str, str]:
    """The single (by, value) among `named`'s non-empty items; `PrivacyError` otherwise."""
    given = [(k, v) for k, v in named.items() if v not in (None, "")]
    if len(given) != 1:
        raise PrivacyError(
            f"name the person by exactly one of {', '.join(BY)}", given[1][0] if given else None
        )
    by, value = given[0]
    if not isinstance(value, str):
        raise PrivacyError("must be a string", by)
    return by, value


def raw_identifiers(
    workspace: Workspace, keys: Iterable[str], events: Iterable[Mapping[str, Any]]
) -> dict[str, str]:
    """Key → raw value of each identifier, as far as the log tells it: the value itself for
    userIds, anonymous ids, cards and devices; for e-mails and phones (kept as pseudonyms), the
    raw value read back from the vault of the person's `events` (records with "pii"): each raw
    text is normalised as ingestion does and kept when its pseudonymised key is one of `keys`
    (a keyed hash: nothing else can match)."""
    wanted = set(keys)
    out: dict[str, str] = {}
    pseudo = workspace.policy.pseudonymiser
    for key in wanted:
        kind, _, value = key.partition(":")
        if kind not in (IdType.EMAIL, IdType.PHONE):
            out[key] = value
    missing = {k for k in wanted if k not in out}
    default = workspace.policy.default_region
    for record in events:
        if not missing:
            break
        region = region_of(record.get("context"), record.get("traits"), default)
        for raw in _texts(record):
            if "@" in raw:
                candidates = [normalise_email(raw)]
            else:
                candidates = [normalise_phone(raw, region), normalise_phone(raw, default)]
            for ident in candidates:
                key = identifier_key(ident, pseudo)
                if key in missing:
                    out[key] = ident.value
                    missing.discard(key)
    return out


def _texts(record: Mapping[str, Any]) -> Iterable[str]:
    """The raw texts an event's e-mails and phones may be among: its vault's values, and the
    ids of `context.externalIds` (stored raw by events ingested before they were masked)."""
    vault = record.get("pii") or {}
    for raw in vault.values():
        if isinstance(raw, str) and raw.strip():
            yield raw
    context = record.get("context")
    external = context.get("externalIds") if isinstance(context, dict) else None
    for item in external if isinstance(external, list) else ():
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            yield item["id"]
