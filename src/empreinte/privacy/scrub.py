"""Taking an erased person's identifiers out of data that stays: other people's events, their
vault rows, and new events that carry them next to someone else's identifiers.

An identifier of a *personal* kind (a userId, an e-mail, a phone number, a loyalty card, an
external id) names a person: once its person is erased it must not be kept anywhere, even in
an event that also names someone else (a family member's purchase with the shared card, a
colleague's call from the switchboard number, an event an attacker sent with the victim's
e-mail to shield it). Such an event stays, without that identifier: its key leaves the
identifier list, its value (a pseudonym, or a raw card number) is replaced by `ERASED` in the
payloads, the userId column is emptied if it was that, and the raw value leaves the vault
(whole values, and the address or number inside free text). Device and anonymous ids name a
device, not a person: see docs/privacy.md, "Erasure".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

import orjson
import phonenumbers

from empreinte.identity.identifiers import IdType, normalise_email, normalise_phone
from empreinte.privacy.pii import identifier_key
from empreinte.privacy.pseudonym import PREFIX, Pseudonymiser
from empreinte.privacy.redaction import mask_where
from empreinte.store.privacy_store import ERASED
from empreinte.store.records import EventRow

_ERASED_JSON = orjson.dumps(ERASED).decode()

#: Identifier types that name a person (suppressed and scrubbed even when shared).
PERSONAL_TYPES = frozenset(
    {IdType.USER_ID, IdType.EMAIL, IdType.PHONE, IdType.LOYALTY_CARD, IdType.EXTERNAL}
)
_PERSONAL_PREFIXES = tuple(f"{t}:" for t in PERSONAL_TYPES)
# A pseudonym as a JSON string in a payload (pseudonym.py: `pii_` + 32 hex digits).
PSEUDONYM_JSON = re.compile(rf'"({PREFIX}[0-9a-f]{{32}})"')


def is_personal(key: str) -> bool:
    """Whether identifier `key` ("type:value") is of a kind that names a person."""
    return key.startswith(_PERSONAL_PREFIXES)


def value_of(key: str) -> str:
    """The value part of an identifier key, as it appears in the log."""
    return key.partition(":")[2]


def pseudonym_keys(pseudonym: str) -> tuple[str, str]:
    """The identifier keys a pseudonym found in a payload may be (an e-mail's or a phone's)."""
    return "email:" + pseudonym, "phone:" + pseudonym


def json_token(value: str) -> str:
    """`value` as a JSON string, the way it sits in a payload's text."""
    return orjson.dumps(value).decode()


class VaultScrubber:
    """Takes the raw values of erased e-mails and phones out of vault rows: a whole value that
    normalises to an erased identifier goes; in free text, only the address or number is
    masked. `erased(key)` says whether an identifier key is erased; phone numbers are read in
    each of `regions`."""

    def __init__(
        self,
        pseudonymiser: Pseudonymiser,
        erased: Callable[[str], bool],
        regions: Iterable[str],
    ):
        self._pseudo = pseudonymiser
        self._erased = erased
        self._regions = tuple(dict.fromkeys(regions))

    def _is_erased(self, kind: str, text: str) -> bool:
        if kind == "email":
            candidates = [normalise_email(text)]
        else:
            candidates = [normalise_phone(text, region) for region in self._regions]
        return any(i.valid and self._erased(identifier_key(i, self._pseudo)) for i in candidates)

    def values(self, vault: Mapping[str, Any]) -> dict[str, Any]:
        """`vault` (path → raw value) without the erased values."""
        out: dict[str, Any] = {}
        for path, raw in vault.items():
            if isinstance(raw, str):
                kind = "email" if "@" in raw else "phone"
                if self._is_erased(kind, raw):
                    continue
                masked = raw
                for region in self._regions:
                    masked = mask_where(masked, region, self._is_erased, ERASED)
                raw = masked
            out[path] = raw
        return out


def regions_of_numbers(keys_and_numbers: Iterable[str]) -> list[str]:
    """The regions of E.164 numbers (where a phone's other spellings are to be read)."""
    out = []
    for number in keys_and_numbers:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(number))
        except phonenumbers.NumberParseException:
            continue
        if region:
            out.append(region)
    return out


def strip_row(row: EventRow, keys: Collection[str], vault: VaultScrubber) -> EventRow:
    """`row` without the identifiers `keys` (erased, shared with someone else the row names):
    out of its identifier list, its payloads (as `ERASED`), its userId column and its vault."""
    values = {value_of(k) for k in keys}
    tokens = [json_token(value) for value in values]

    def scrubbed(text: str | None) -> str | None:
        for token in tokens:
            if text is not None and token in text:
                text = text.replace(token, _ERASED_JSON)
        return text

    pii = row.pii
    if pii is not None:
        kept = vault.values(orjson.loads(pii))
        if row.user_id in values:
            kept.pop("user_id", None)  # a userId that was an e-mail: its raw address
        pii = orjson.dumps(kept).decode() if kept else None
    return row._replace(
        identifiers=[k for k in row.identifiers or () if k not in keys] or None,
        user_id=None if row.user_id in values else row.user_id,
        pii=pii,
        properties=scrubbed(row.properties),
        traits=scrubbed(row.traits),
        context=scrubbed(row.context),
        integrations=scrubbed(row.integrations),
        extra=scrubbed(row.extra),
    )


# Seven digits, with what phone numbers are written with between them.
_PHONE_LIKE = re.compile(r"\d(?:[ .()/+-]*\d){6}")


def may_hold_contact(vault: str) -> bool:
    """Whether the JSON of a vault may hold an e-mail address or a phone number (cheap)."""
    return "@" in vault or _PHONE_LIKE.search(vault) is not None


def payload_pseudonyms(row: EventRow) -> set[str]:
    """The pseudonyms in the payloads of a row whose vault may hold an e-mail or a phone."""
    if row.pii is None or not may_hold_contact(row.pii):
        return set()
    found: set[str] = set()
    for text in (row.properties, row.traits, row.context):
        if text is not None and PREFIX in text:
            found.update(PSEUDONYM_JSON.findall(text))
    return found


__all__ = [
    "ERASED",
    "PERSONAL_TYPES",
    "VaultScrubber",
    "is_personal",
    "json_token",
    "may_hold_contact",
    "payload_pseudonyms",
    "pseudonym_keys",
    "regions_of_numbers",
    "strip_row",
    "value_of",
]
