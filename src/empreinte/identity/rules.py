"""Merge-protection rules: how many identifiers of each type one profile may hold, and which
type is trusted first.

A limit stops one shared identifier from fusing people: a profile holds at most one `user_id`,
so a family tablet (one `device_id`, four logins) or a call-centre number (one `phone`, fifty
callers) cannot pull four or fifty people into one profile. The priority orders the identifiers
of an event: the event joins the profile of its most trusted known identifier, and a new
profile is founded (and named) by its most trusted identifier.

In a workspace's TOML configuration::

    [identity]
    priority = ["user_id", "email", "phone"]   # the types not listed follow, in default order
    limits = { email = 3, device_id = 20 }     # the types not listed keep their default
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

# Bump when the resolution algorithm changes meaning: stored results are then rebuilt.
_ALGORITHM_VERSION = 1


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


def _priority(given: Any) -> tuple[str, ...]:
    if isinstance(given, str) or not isinstance(given, list | tuple):
        raise ConfigError("identity priority must be a list of identifier types")
    listed = [str(kind) for kind in given]
    unknown = sorted(set(listed) - set(DEFAULT_PRIORITY))
    if unknown:
        raise ConfigError(
            f"identity priority: unknown identifier type(s) {', '.join(unknown)}; "
            f"the types are {', '.join(DEFAULT_PRIORITY)}"
        )
    if len(set(listed)) != len(listed):
        raise ConfigError("identity priority lists a type twice")
    return (*listed, *(kind for kind in DEFAULT_PRIORITY if kind not in listed))


@dataclass(frozen=True)
class MergeRules:
    """Per identifier type, a limit per profile and a rank (0 = most trusted).

    `limits` may name only some types (the others keep `DEFAULT_LIMITS`); `priority` may list
    only the first types (the others follow in default order). Identifiers of a type outside
    `DEFAULT_PRIORITY` are never used to merge.
    """

    limits: Mapping[str, int] = field(default_factory=lambda: DEFAULT_LIMITS)
    priority: tuple[str, ...] = DEFAULT_PRIORITY

    def __post_init__(self) -> None:
        object.__setattr__(self, "limits", _limits(self.limits))
        object.__setattr__(self, "priority", _priority(self.priority))

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> MergeRules:
        """Rules from the `[identity]` section of a workspace's TOML configuration."""
        section = section or {}
        unknown = sorted(set(section) - {"limits", "priority"})
        if unknown:
            raise ConfigError(
                f"[identity]: unknown setting(s) {', '.join(unknown)}; "
                "expected `limits` and `priority`"
            )
        limits = section.get("limits", {})
        if not isinstance(limits, Mapping):
            raise ConfigError("[identity] limits must be a table, e.g. { email = 3 }")
        return cls(limits=limits, priority=_priority(section.get("priority", DEFAULT_PRIORITY)))

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

    def fingerprint(self) -> str:
        """A digest of everything that changes the result of a resolution."""
        doc = {
            "version": _ALGORITHM_VERSION,
            "priority": list(self.priority),
            "limits": dict(sorted(self.limits.items())),
        }
        return hashlib.sha256(orjson.dumps(doc)).hexdigest()[:32]
