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

    def event(self, seq: int, keys: Sequence[str]) -> None:
        usable = [k for k in set(keys) if ":" in k and k.split(":", 1)[0] in self.priority]
        for k in sorted(usable):
            if k in self.cut and k not in self.profile:
                self.found(k, seq)
        s = sorted(
            (k for k in usable if k not in self.blocked and k not in self.cut),
            key=lambda k: (self.priority.index(k.split(":", 1)[0]), k),
        )
        if not s:
            return
        # The event belongs to its most trusted key: that key's profile, or a new one.
        current = self.profile[s[0]] if s[0] in self.profile else self.found(s[0], seq)
        for k in s:
            kind = k.split(":", 1)[0]
            other = self.profile.get(k)
            if other == current:
                continue
            mine = self.members(current)
            if other is None:
                if self.count(mine, kind) + 1 <= self.limits[kind]:
                    self.profile[k] = current
                else:
                    own = self.found(k, seq)
                    self.conflicts.append(
                        (seq, k, current, own, f"{kind} limit {self.limits[kind]}")
                    )
                continue
            theirs = self.members(other)
            broken = [
                t
                for t in self.priority
                if self.count(mine, t) + self.count(theirs, t) > self.limits[t]
            ]
            if broken:
                rule = f"{broken[0]} limit {self.limits[broken[0]]}"
                self.conflicts.append((seq, k, current, other, rule))
                continue
            survivor, gone = sorted((current, other), key=lambda p: self.born[p])
            for key in mine | theirs:
                self.profile[key] = survivor
            current = survivor
            del gone

    def partition(self) -> dict[str, frozenset[str]]:
        out: dict[str, set[str]] = {}
        for k, p in self.profile.items():
            out.setdefault(p, set()).add(k)
        return {p: frozenset(ks) for p, ks in out.items()}
