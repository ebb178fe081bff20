"""The known people, as reference records for probabilistic matching (`empreinte match`).

One record per profile that has a name, an e-mail or a phone number: its merged traits with
raw values from the vault (matching runs locally, as an admin), in the columns Splink
compares. Building them reads every event with traits once, grouped by profile.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import groupby
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from empreinte.profiles.traits import MergedTraits, merge_records

if TYPE_CHECKING:
    from empreinte.profiles.profile import Profiles

COLUMNS = (
    "profile_id",
    "user_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "city",
    "postcode",
)
_PERSONAL = ("first_name", "last_name", "email", "phone")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    return text or None


def _names(traits: MergedTraits) -> tuple[str | None, str | None]:
    first = _text(traits.raw("first_name", "firstName"))
    last = _text(traits.raw("last_name", "lastName"))
    if first is None and last is None and (full := _text(traits.raw("name"))):
        given, _, family = full.partition(" ")
        return given or None, family.strip() or None
    return first, last


def record_of(profile_id: str, user_id: str | None, traits: MergedTraits) -> dict[str, Any]:
    """The reference record of one profile (raw values)."""
    first, last = _names(traits)
    return {
        "profile_id": profile_id,
        "user_id": user_id,
        "first_name": first,
        "last_name": last,
        "email": _text(traits.raw("email")),
        "phone": _text(traits.raw("phone", "mobile")),
        "birth_date": _text(traits.raw("birthday", "date_of_birth", "birthdate", "birth_year")),
        "city": _text(traits.raw("address.city", "city")),
        "postcode": _text(
            traits.raw(
                "address.postal_code",
                "address.postalCode",
                "address.zip",
                "address.zipcode",
                "postcode",
                "postal_code",
                "zip",
            )
        ),
    }


def reference_records(profiles: Profiles) -> Iterator[dict[str, Any]]:
    """One reference record per profile with a name, an e-mail or a phone."""
    identity = profiles.identity
    identity.sync()
    prefix = "user_id:"
    users = {
        pid: key.removeprefix(prefix) for pid, key in profiles.store.first_keys("user_id").items()
    }
    events = profiles.store.trait_events(profiles.ownership())

    def owner(record: Mapping[str, Any]) -> str:
        return str(record["profile_id"])

    for profile_id, records in groupby(events, key=owner):
        record = record_of(
            profile_id, users.get(profile_id), merge_records(records, profiles.policy)
        )
        if any(record[c] for c in _PERSONAL):
            yield record


def reference_table(profiles: Profiles) -> pa.Table:
    """`reference_records` as a table of strings, in `COLUMNS` order."""
    rows = list(reference_records(profiles))
    return pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in COLUMNS})
