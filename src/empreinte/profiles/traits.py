"""Traits merged across every identity of a profile, with the history of each.

Traits come from `identify` traits and from `context.traits` of any event (a `group`'s
traits describe a company, not the person, and are left out). Nested objects are merged
field by field: `address.city` from one event and `address.country` from another both stay.

Which value wins, per trait:

1. the value from the most trusted source, when the workspace lists sources in
   `[profiles] source_priority` (e.g. `["crm", "store", "web"]`): an event's rank is the place
   of its source (the write key's source name) in that list, else the place of its channel,
   else after every listed one;
2. among equally trusted values, the latest (event time, then arrival order); in one event,
   `traits` over `context.traits`.

Each observation keeps both its raw value (read back from the vault) and the value as stored
(a pseudonym for personal data), so that one merge serves admins and analysts alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from empreinte.errors import ConfigError
from empreinte.privacy.pii import rehydrate


@dataclass(frozen=True)
class TraitPolicy:
    """How a profile's traits are merged (the `[profiles]` section of `empreinte.toml`)."""

    source_priority: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> TraitPolicy:
        section = section or {}
        unknown = sorted(set(section) - {"source_priority"})
        if unknown:
            raise ConfigError(
                f"[profiles]: unknown setting(s) {', '.join(unknown)}; expected `source_priority`"
            )
        given = section.get("source_priority", [])
        if isinstance(given, str) or not isinstance(given, list | tuple):
            raise ConfigError(
                '[profiles] source_priority must be a list of source names, e.g. ["crm", "web"]'
            )
        names = [str(name).strip() for name in given]
        if any(not name for name in names):
            raise ConfigError("[profiles] source_priority lists an empty name")
        if len(set(names)) != len(names):
            raise ConfigError("[profiles] source_priority lists a name twice")
        return cls(tuple(names))

    def rank(self, source: str | None, channel: str | None) -> int:
        """0 for the most trusted source; unlisted sources come after every listed one."""
        for name in (source, channel):
            if name is not None and name in self.source_priority:
                return self.source_priority.index(name)
        return len(self.source_priority)


@dataclass(frozen=True)
class Observation:
    """One trait value as one event stated it."""

    path: str  # dotted: "email", "address.city"
    value: Any  # raw (from the vault when the event had personal data)
    shown: Any  # as stored: a pseudonym for personal data
    timestamp: datetime
    seq: int
    order: int  # 0: context.traits, 1: traits (explicit traits win within one event)
    source: str
    channel: str | None
    message_id: str
    rank: int

    def beats(self, other: Observation) -> bool:
        """Whether this value wins over `other` (more trusted source, then more recent)."""
        if self.rank != other.rank:
            return self.rank < other.rank
        return (self.timestamp, self.seq, self.order) > (other.timestamp, other.seq, other.order)

    @property
    def when(self) -> tuple[datetime, int, int]:
        return (self.timestamp, self.seq, self.order)


@dataclass(frozen=True)
class Change:
    """One step of a trait's history: a run of observations of the same value from the same
    source, shown by its last observation (and `since`, its first)."""

    last: Observation
    since: datetime


@dataclass
class MergedTraits:
    """The winning observation of every trait, and each trait's history (oldest first)."""

    current: dict[str, Observation] = field(default_factory=dict)
    history: dict[str, list[Change]] = field(default_factory=dict)

    def raw(self, *paths: str) -> Any:
        """The raw value of the first of `paths` that the profile has, else None."""
        for path in paths:
            if path in self.current:
                return self.current[path].value
        return None

    def flat(self, pii: bool) -> dict[str, Any]:
        """Trait path → current value (raw when `pii`, as stored otherwise)."""
        return {
            path: (obs.value if pii else obs.shown) for path, obs in sorted(self.current.items())
        }

    def nested(self, pii: bool) -> dict[str, Any]:
        """The current values as one object, dotted paths nested again."""
        return nest(self.flat(pii))


def _flatten(prefix: str, holder: Mapping[str, Any], out: dict[str, Any]) -> None:
    for key, value in holder.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(f"{path}.", value, out)
        elif value is not None:
            out[path] = value


def flatten(holder: Mapping[str, Any]) -> dict[str, Any]:
    """Nested objects as dotted paths; null values dropped (they say nothing)."""
    out: dict[str, Any] = {}
    _flatten("", holder, out)
    return out


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted paths back into nested objects. A path that would nest under a plain value (a
    trait that was once text and later an object) stays flat, under its dotted name."""
    out: dict[str, Any] = {}
    # Sorted, a path comes before the paths it prefixes: a value is placed before anything
    # could nest under it.
    for path, value in sorted(flat.items()):
        *parents, leaf = path.split(".")
        node = out
        for part in parents:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                node = out
                leaf = path
                break
            node = child
        node[leaf] = value
    return out


def _holders(record: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    context = record.get("context")
    if isinstance(context, Mapping) and isinstance(context.get("traits"), Mapping):
        yield 0, context["traits"]
    traits = record.get("traits")
    if record.get("type") == "identify" and isinstance(traits, Mapping):
        yield 1, traits


def observations(record: Mapping[str, Any], policy: TraitPolicy) -> Iterator[Observation]:
    """The trait values one stored event states (its vault values under "pii")."""
    raw_record = rehydrate(dict(record))
    rank = policy.rank(record.get("source"), record.get("channel"))
    raw_holders = dict(_holders(raw_record))
    for order, stored in _holders(record):
        shown = flatten(stored)
        raw = flatten(raw_holders.get(order, stored))
        for path, value in raw.items():
            yield Observation(
                path=path,
                value=value,
                shown=shown.get(path, value),
                timestamp=record["timestamp"],
                seq=record["seq"],
                order=order,
                source=record["source"],
                channel=record.get("channel"),
                message_id=record["message_id"],
                rank=rank,
            )


def merge(found: Iterable[Observation]) -> MergedTraits:
    """Every trait's winning value and its history."""
    merged = MergedTraits()
    by_path: dict[str, list[Observation]] = {}
    for obs in found:
        by_path.setdefault(obs.path, []).append(obs)
        best = merged.current.get(obs.path)
        if best is None or obs.beats(best):
            merged.current[obs.path] = obs
    for path, items in sorted(by_path.items()):
        items.sort(key=lambda o: o.when)
        changes: list[Change] = []
        for obs in items:
            previous = changes[-1].last if changes else None
            if (
                previous is not None
                and previous.value == obs.value
                and previous.source == obs.source
            ):
                changes[-1] = Change(obs, changes[-1].since)
            else:
                changes.append(Change(obs, obs.timestamp))
        merged.history[path] = changes
    return merged


def merge_records(records: Iterable[Mapping[str, Any]], policy: TraitPolicy) -> MergedTraits:
    """The merged traits of a profile's events (stored records, vault values under "pii")."""
    return merge(obs for record in records for obs in observations(record, policy))
