"""A deliberately naive re-statement of the resolver's sequential semantics, for tests.

Sets and full recounts, no union-find, no vectorisation: slow, short, and written from the
specification (the docstring of `empreinte.identity.graph`), not from the resolver's code, so
that the tests compare two independent readings of the same rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


def pid(key: str, salt: str = "") -> str:
    return "p_" + hashlib.sha256((salt + key).encode()).hexdigest()[:16]


@dataclass
class Oracle:
    limits: Mapping[str, int]
    priority: Sequence[str]
    blocked: frozenset[str] = frozenset()
    cut: frozenset[str] = frozenset()
    salt: str = ""
    person_level: Sequence[str] = ("user_id", "email", "external")
    profile: dict[str, str] = field(default_factory=dict)  # key → profile id
    born: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # id → founding order
    conflicts: list[tuple[int, str, str, str, str]] = field(default_factory=list)

    def members(self, p: str) -> set[str]:
        return {k for k, q in self.profile.items() if q == p}

    def count(self, keys: Iterable[str], kind: str) -> int:
        return sum(1 for k in keys if k.split(":", 1)[0] == kind)

    def found(self, key: str, seq: int) -> str:
        p = pid(key, self.salt)
        self.profile[key] = p
        self.born[p] = (seq, self.priority.index(key.split(":", 1)[0]), key)
        return p

    def run(self, events: Iterable[tuple[int, Sequence[str]]]) -> Oracle:
        for seq, keys in events:
            self.event(seq, keys)
        return self

    def kind(self, key: str) -> str:
        return key.split(":", 1)[0]

    def rank(self, key: str) -> tuple[int, str]:
        return (self.priority.index(self.kind(key)), key)

    def holds(self, keys: Iterable[str], kind: str) -> bool:
        """Whether `keys` hold a key of `kind` that is not cut."""
        return any(self.kind(k) == kind and k not in self.cut for k in keys)

    def attach(self, k: str, kind: str, current: str, seq: int, exempt: str | None) -> None:
        """A new key joins `current` within its limit (`exempt`: the user id of an alias), or
        founds a profile of its own and the refusal is recorded."""
        if self.count(self.members(current), kind) + 1 <= self.limits[kind] or kind == exempt:
            self.profile[k] = current
        else:
            own = self.found(k, seq)
            self.conflicts.append((seq, k, current, own, f"{kind} limit {self.limits[kind]}"))

    def broken(self, mine: set[str], theirs: set[str], exempt: str | None) -> str | None:
        for t in self.priority:
            a, b = self.count(mine, t), self.count(theirs, t)
            if a and b and a + b > self.limits[t] and t != exempt:
                return f"{t} limit {self.limits[t]}"
        return None

    def merge(self, current: str, other: str) -> str:
        survivor = min((current, other), key=lambda p: self.born[p])
        for key in self.members(current) | self.members(other):
            self.profile[key] = survivor
        return survivor

    def event(self, seq: int, keys: Sequence[str]) -> None:
        usable = [k for k in set(keys) if ":" in k and self.kind(k) in self.priority]
        usable = sorted((k for k in usable if k not in self.blocked), key=self.rank)
        s = [k for k in usable if k not in self.cut]
        # An alias carries two user ids: their limit does not apply to this event.
        exempt = "user_id" if self.count(s, "user_id") > 1 else None
        current: str | None = None
        if s:
            # The event belongs to its most trusted key: that key's profile, or a new one.
            current = self.profile[s[0]] if s[0] in self.profile else self.found(s[0], seq)
        for k in s:
            assert current is not None
            kind = self.kind(k)
            other = self.profile.get(k)
            if other == current:
                continue
            mine = self.members(current)
            if other is None:
                self.attach(k, kind, current, seq, exempt)
                continue
            theirs = self.members(other)
            rule = self.broken(mine, theirs, exempt)
            if rule is None and kind not in self.person_level:
                # A shared-type key never joins two holders of one person-level type.
                for t in self.priority:
                    if t in self.person_level and self.holds(mine, t) and self.holds(theirs, t):
                        rule = f"shared {kind}: {t} on both sides"
                        break
            if rule is not None:
                self.conflicts.append((seq, k, current, other, rule))
                continue
            current = self.merge(current, other)
        # Cut keys come last: they stay where they first were, and never join two people.
        for k in usable:
            if k not in self.cut:
                continue
            kind = self.kind(k)
            other = self.profile.get(k)
            if other is None:
                if current is None:
                    current = self.found(k, seq)
                else:
                    self.attach(k, kind, current, seq, None)
                continue
            if current is None or other == current:
                current = other
                continue
            mine, theirs = self.members(current), self.members(other)
            rule = self.broken(mine, theirs, None)
            people = [any(self.holds(x, t) for t in self.person_level) for x in (mine, theirs)]
            if rule is None and all(people):
                rule = "cut: people on both sides"
            if rule is not None:
                self.conflicts.append((seq, k, current, other, rule))
                continue
            current = self.merge(current, other)

    def partition(self) -> dict[str, frozenset[str]]:
        out: dict[str, set[str]] = {}
        for k, p in self.profile.items():
            out.setdefault(p, set()).add(k)
        return {p: frozenset(ks) for p, ks in out.items()}
