"""From what a person gives (an e-mail, a phone number, a card…) to the identifier key that the
identity graph knows, normalised and pseudonymised exactly as ingestion does."""

from __future__ import annotations

from dataclasses import dataclass

from empreinte.errors import InvalidInput as InvalidInput  # re-exported: it was defined here
from empreinte.identity.identifiers import (
    Identifier,
    IdType,
    normalise_email,
    normalise_phone,
)
from empreinte.privacy.pii import IngestPolicy, identifier_key, stored_user_id
from empreinte.privacy.pseudonym import PREFIX as PSEUDONYM_PREFIX

# What a lookup can be by, under the names the HTTP API and the CLI use.
LOOKUPS: dict[str, IdType] = {
    "email": IdType.EMAIL,
    "phone": IdType.PHONE,
    "userId": IdType.USER_ID,
    "anonymousId": IdType.ANONYMOUS_ID,
    "loyaltyCard": IdType.LOYALTY_CARD,
}
# Lookups that take raw personal data: they confirm whether a person is known.
PERSONAL_LOOKUPS = frozenset({"email", "phone"})


@dataclass(frozen=True)
class KeyMaker:
    """Identifier keys from raw values, with the workspace's pseudonymiser and region."""

    policy: IngestPolicy

    def key(self, kind: IdType | str, value: str, field: str | None = None) -> str:
        """The graph key of a raw value of type `kind`; `InvalidInput` names `field` (or the
        type) when the value could never be an identifier."""
        kind = IdType(kind)
        name = field or kind.value
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(name, "must not be empty")
        ident: Identifier
        if kind is IdType.EMAIL:
            ident = normalise_email(value)
            if not ident.valid:
                raise InvalidInput(name, f"{value!r} is not a valid e-mail address")
        elif kind is IdType.PHONE:
            ident = normalise_phone(value, self.policy.default_region)
            if not ident.valid:
                raise InvalidInput(
                    name,
                    f"{value!r} is not a valid phone number (numbers without +country are "
                    f"read as {self.policy.default_region})",
                )
        elif kind is IdType.LOYALTY_CARD:
            ident = Identifier(kind, value.strip())
        elif kind is IdType.USER_ID:
            # As sent, unless it is an e-mail address: then as the log keeps it (its pseudonym).
            ident = Identifier(kind, stored_user_id(value, self.policy.pseudonymiser))
        else:
            # anonymousId is kept exactly as sent.
            ident = Identifier(kind, value)
        return identifier_key(ident, self.policy.pseudonymiser)

    def parse(self, text: str, field: str = "idKey") -> str:
        """An identifier key written `TYPE:VALUE`. An e-mail or phone written raw
        (`email:Jane@Example.com`) is normalised and pseudonymised; one given as its pseudonym
        (`email:pii_…`, as profiles show it) is kept."""
        kind, sep, value = text.partition(":") if isinstance(text, str) else ("", "", "")
        types = ", ".join(t.value for t in IdType)
        if not sep or not value:
            raise InvalidInput(field, f"{text!r} is not TYPE:VALUE with TYPE one of {types}")
        try:
            id_type = IdType(kind.strip().lower())
        except ValueError:
            raise InvalidInput(
                field, f"unknown identifier type {kind!r}; the types are {types}"
            ) from None
        if id_type in (IdType.EMAIL, IdType.PHONE) and value.startswith(PSEUDONYM_PREFIX):
            return f"{id_type.value}:{value}"
        if id_type is IdType.EXTERNAL:
            return f"{id_type.value}:{value}"
        return self.key(id_type, value, field)
