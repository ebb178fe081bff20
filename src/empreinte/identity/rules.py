"""Merge-protection rules: how many identifiers of each type one profile may hold, and which
type is trusted first.

A limit stops one shared identifier from fusing people: a profile holds at most one `user_id`,
so a family tablet (one `device_id`, four logins) or a call-centre number (one `phone`, fifty
callers) cannot pull four or fifty people into one profile. The priority orders the identifiers
of an event: the event joins the profile of its most trusted known identifier, and a new
profile is founded (and named) by its most trusted identifier.

Counts alone do not protect people known only by e-mail: three e-mails are within the limit of
five, so a family tablet would still fuse three e-mail-only people. So the limits also hold for
the *people* a link would join. The person-level types (`person_level`: user id, e-mail and
external ids such as CRM or record ids by default) each name one person; the others (phone,
loyalty card, device, anonymous id) may be shared. A shared-type identifier never brings
together two profiles that both hold an identifier of the same person-level type: the tablet
or the switchboard number is the link refused (a conflict "shared device_id: email on both
sides"), the people stay apart. Only a person-level identifier carried by both (the same
e-mail, the same user id) or an `alias` joins two people.

In a workspace's TOML configuration::

    [identity]
    priority = ["user_id", "email", "phone"]   # the types not listed follow, in default order
    limits = { email = 3, device_id = 20 }     # the types not listed keep their default
    person_level = ["user_id", "email"]        # default: user_id, email, external
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import orjson

from empreinte.errors import ConfigError
from empreinte.identity.identifiers import IdType

#: Default priority: the `IdType` order, most trusted first.
DEFAULT_PRIORITY: tuple[str, ...] = tuple(t.value for t in IdType)

#: Default limit per identifier type (how many of that type one profile may hold).
DEFAULT_LIMITS: Mapping[str, int] = MappingProxyType(
    {
        IdType.USER_ID.value: 1,
        IdType.EMAIL.value: 5,
        IdType.PHONE.value: 5,
        IdType.LOYALTY_CARD.value: 3,
        IdType.EXTERNAL.value: 5,
        IdType.DEVICE_ID.value: 10,
        IdType.ANONYMOUS_ID.value: 1000,
        # Records joined by record matching: bounded (a chain of matches cannot grow without
        # end) but far above one person's records in a file; see docs/matching.md.
        IdType.MATCHED_RECORD.value: 50,
    }
)

#: Default person-level types: an identifier of these names one person (see the module doc).
DEFAULT_PERSON_LEVEL: tuple[str, ...] = (
    IdType.USER_ID.value,
    IdType.EMAIL.value,
    IdType.EXTERNAL.value,
)

# Bump when the resolution algorithm changes meaning: stored results are then rebuilt.
# 2: shared-type links refused between people (person_level), cut keys stay with their holder,
# an alias may join two user ids.
_ALGORITHM_VERSION = 2


def _limits(given: Mapping[str, Any]) -> Mapping[str, int]:
    unknown = sorted(set(given) - set(DEFAULT_LIMITS))
    if unknown:
        raise ConfigError(
            f"identity limits: unknown identifier type(s) {', '.join(unknown)}; "
            f"the types are {', '.join(DEFAULT_PRIORITY)}"
        )
    out = dict(DEFAULT_LIMITS)
    for kind, value in given.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(
                f"identity limits: {kind} must be a whole number of at least 1, got {value!r}"
            )
        out[kind] = value
    return MappingProxyType(out)


def _types(given: Any, setting: str) -> list[str]:
    """A list of identifier types from the `[identity]` `setting`; `ConfigError` else."""
    if isinstance(given, str) or not isinstance(given, list | tuple):
        raise ConfigError(f"identity {setting} must be a list of identifier types")
    listed = [str(kind) for kind in given]
    unknown = sorted(set(listed) - set(DEFAULT_PRIORITY))
    if unknown:
        raise ConfigError(
            f"identity {setting}: unknown identifier type(s) {', '.join(unknown)}; "
            f"the types are {', '.join(DEFAULT_PRIORITY)}"
        )
    return listed


def _priority(given: Any) -> tuple[str, ...]:
    listed = _types(given, "priority")
    if len(set(listed)) != len(listed):
        raise ConfigError("identity priority lists a type twice")
    return (*listed, *(kind for kind in DEFAULT_PRIORITY if kind not in listed))


def _person_level(given: Any) -> tuple[str, ...]:
    listed = _types(given, "person_level")
    return tuple(kind for kind in DEFAULT_PRIORITY if kind in listed)


@dataclass(frozen=True)
class MergeRules:
    """Per identifier type, a limit per profile and a rank (0 = most trusted).

    `limits` may name only some types (the others keep `DEFAULT_LIMITS`); `priority` may list
    only the first types (the others follow in default order). Identifiers of a type outside
    `DEFAULT_PRIORITY` are never used to merge. `person_level`: the types that name one person
    (see the module doc).
    """

    limits: Mapping[str, int] = field(default_factory=lambda: DEFAULT_LIMITS)
    priority: tuple[str, ...] = DEFAULT_PRIORITY
    person_level: tuple[str, ...] = DEFAULT_PERSON_LEVEL

    def __post_init__(self) -> None:
        object.__setattr__(self, "limits", _limits(self.limits))
        object.__setattr__(self, "priority", _priority(self.priority))
        object.__setattr__(self, "person_level", _person_level(self.person_level))

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> MergeRules:
        """Rules from the `[identity]` section of a workspace's TOML configuration."""
        section = section or {}
        unknown = sorted(set(section) - {"limits", "priority", "person_level"})
        if unknown:
            raise ConfigError(
                f"[identity]: unknown setting(s) {', '.join(unknown)}; "
                "expected `limits`, `priority` and `person_level`"
            )
        limits = section.get("limits", {})
        if not isinstance(limits, Mapping):
            raise ConfigError("[identity] limits must be a table, e.g. { email = 3 }")
        return cls(
            limits=limits,
            priority=_priority(section.get("priority", DEFAULT_PRIORITY)),
            person_level=_person_level(section.get("person_level", DEFAULT_PERSON_LEVEL)),
        )

    @property
    def types(self) -> tuple[str, ...]:
        """The identifier types, most trusted first."""
        return self.priority

    def limit_vector(self) -> tuple[int, ...]:
        """Limits in priority order (index = rank)."""
        return tuple(self.limits[kind] for kind in self.priority)

    def rule_name(self, kind: str) -> str:
        """How a conflict names the rule that refused it, e.g. "user_id limit 1"."""
        return f"{kind} limit {self.limits[kind]}"

    def shared_rule_name(self, link: str, kind: str) -> str:
        """How a conflict names a shared-type link refused between two holders of a
        person-level type, e.g. "shared device_id: email on both sides"."""
        return f"shared {link}: {kind} on both sides"

    def person_ranks(self) -> tuple[int, ...]:
        """The ranks of the person-level types, most trusted first."""
        return tuple(i for i, kind in enumerate(self.priority) if kind in self.person_level)

    def fingerprint(self) -> str:
        """A digest of everything that changes the result of a resolution."""
        doc = {
            "version": _ALGORITHM_VERSION,
            "priority": list(self.priority),
            "limits": dict(sorted(self.limits.items())),
            "person_level": list(self.person_level),
        }
        return hashlib.sha256(orjson.dumps(doc)).hexdigest()[:32]
