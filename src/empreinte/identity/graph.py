"""The deterministic resolver: events, in log order, turned into profiles under merge protection.

Sequential semantics (the definition that the incremental path, the full rebuild and
`explain` all follow). For each event, in `seq` order, with S its identifier keys:

1. Ignored keys are dropped from S: a key of an unknown type, a *blocked* key (as if the event
   did not carry it). A *cut* key is set aside and attached at the end (step 6).
2. S is sorted by priority (the rules' type rank, then the key text).
3. The event belongs to its most trusted identifier, the first key of S: it starts from that
   key's profile or, if the key is unknown, from a new profile that key *founds*. (An earlier
   version started from the first key that had a profile; then, when a shared tablet's ids
   were known and a second user's new userId was refused, her new e-mail in the same event
   joined the first user's profile. Starting from the most trusted key keeps it with her.)
4. Every other key x of S, in order:
   - x unknown: it joins the profile if that profile's count of x's type stays within the
     limit; otherwise a conflict is recorded (rule "<type> limit <n>") and x founds a profile
     of its own.
   - x in another profile P: the two merge unless
     a. for some type both hold identifiers of it and their summed count would break its
        limit (a conflict names the first such type by priority: "<type> limit <n>"); a count
        already beyond its limit (only an alias makes one, see 7) does not stop a merge that
        adds nothing to it; or
     b. x is of a shared type (not `person_level`: a phone, a device, an anonymous id…) and
        both profiles hold an identifier of the same person-level type (rule "shared <x's
        type>: <type> on both sides", the first such type by priority). A tablet or a
        switchboard number therefore never joins two people known by their e-mails, however
        far below the e-mail limit they are; a person-level key carried by both (the same
        e-mail) still joins them.
     Nothing merges on a conflict. After a merge the event goes on with the merged profile.
5. A merge keeps the id of the *older* profile: founded at the lower seq, then (same event)
   by the founder of higher priority. Within one event the founders are distinct keys, so
   there is never a tie.
6. Each cut key c of the event (an admin said it names no one: `IdentityService.cut`), in
   priority order, after steps 3–4, with E the profile the event ended in (none if the event
   had no other key):
   - c unknown: it joins E (within E's limit; else it founds its own profile, a conflict as
     in 4), or founds a profile if there is no E;
   - c in E, or no E: nothing;
   - c in another profile P: P and E merge only as in 4a and if at most one of them holds a
     person-level identifier (cut keys not counted); otherwise a conflict (rule "cut: people
     on both sides"). So a cut key stays with the profile that first held it, still brings
     that person's anonymous activity to her, and never joins two people again, whatever the
     other keys of its events.
7. An `alias` event carries two user ids (see identifiers.py): in an event with two or more
   user ids the user id limit is not applied (4a and 6) — the alias says they are one person,
   and the profile keeps both. Other limits hold, and a profile holding two user ids still
   refuses a third from any other event.

Profile ids are `profile_id_for(founding key)`. A key founds at most one profile (once it
has a profile it always has one), so an id names its founder for good, and any id ever issued
resolves to the profile that holds its founder now: nothing else is stored for redirects.

Counts only grow, so a refused link stays refused: once a merge breaks a limit, or would join
two holders of a person-level type, every later profile holding both sides would too.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from empreinte.identity.coding import factorise, founders
from empreinte.identity.model import (
    BLOCK,
    CUT,
    UNBLOCK,
    ConflictRow,
    LogEvent,
    Override,
    profile_id_for,
)
from empreinte.identity.rules import MergeRules
from empreinte.store.identity_store import StoredIdentities


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while building many long-lived objects.

    The graph holds millions of small objects and no reference cycle: a collection triggered
    every few hundred allocations would walk all of them, again and again, for nothing
    (measured: 5 µs per restored profile with the collector on, 0.5 µs with it paused).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class Overrides:
    """The admin decisions in force: keys ignored everywhere, keys cut (shared by people).

    Folded from the append-only `identity_overrides` in order: the last action on a key wins;
    "unblock" lifts a block or a cut.
    """

    blocked: frozenset[str] = frozenset()
    cut: frozenset[str] = frozenset()

    @classmethod
    def fold(cls, log: Iterable[Override]) -> Overrides:
        state: dict[str, str] = {}
        for item in log:
            if item.action == UNBLOCK:
                state.pop(item.id_key, None)
            elif item.action in (BLOCK, CUT):
                state[item.id_key] = item.action
        return cls(
            frozenset(k for k, a in state.items() if a == BLOCK),
            frozenset(k for k, a in state.items() if a == CUT),
        )

    def state_of(self, key: str) -> str | None:
        if key in self.blocked:
            return BLOCK
        if key in self.cut:
            return CUT
        return None

    def fingerprint(self) -> str:
        text = "\n".join(
            sorted(f"b {k}" for k in self.blocked) + sorted(f"c {k}" for k in self.cut)
        )
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class _Stored:
    """A loaded state's profiles, by index: profile i holds keys[bounds[i]:bounds[i + 1]]."""

    keys: list[str]
    bounds: list[int]
    profile_ids: list[str]
    founders: list[str]
    founder_seq: list[int]
    founder_rank: list[int]
    counts: npt.NDArray[np.int64]


class Profile:
    """One profile of the in-memory graph. `order` is (founding seq, founder rank, founder).

    `comp` is None until the profile meets another one in an event (a merge that carries a
    component along, or a refused link). The structures hold no reference cycle, so that the
    state can be frozen out of the cyclic garbage collector's sight (`gc.freeze`) and still
    be freed by reference counting.
    """

    __slots__ = ("comp", "counts", "members", "order", "pid")

    def __init__(
        self, pid: str, order: tuple[int, int, str], counts: list[int], members: list[str]
    ):
        self.pid = pid
        self.order = order
        self.counts = counts
        self.members = members
        self.comp: Component | None = None


class Component:
    """Union-find over profiles linked by events (merged or refused): the connected
    components of the unrestricted graph, which `explain` and unmerging replay. A root holds
    the member lists of its profiles (a merged-away profile's list is left empty)."""

    __slots__ = ("lists", "parent")

    def __init__(self, members: list[str]):
        self.parent: Component | None = None
        self.lists: list[list[str]] = [members]

    def root(self) -> Component:
        node = self
        while node.parent is not None:
            if node.parent.parent is not None:
                node.parent = node.parent.parent
            node = node.parent
        return node

    @staticmethod
    def of(profile: Profile) -> Component:
        if profile.comp is None:
            profile.comp = Component(profile.members)
            return profile.comp
        return profile.comp.root()


#: The rule of a conflict refused because a cut key would join two people.
CUT_RULE = "cut: people on both sides"

#: A step of the trace `explain` records: (action, event, key, profile, other, rule).
Trace = Callable[[str, LogEvent, str, str, "str | None", "str | None"], None]


class IdentityGraph:
    """The resolver's state: which profile every known identifier belongs to.

    Conflicts are collected in `conflicts`. `track=True` also records what changed since the
    last `take_changes()` (for the incremental path to persist); `trace` receives every step
    (for `explain`).
    """

    def __init__(
        self,
        rules: MergeRules,
        overrides: Overrides | None = None,
        *,
        salt: str = "",
        track: bool = False,
        trace: Trace | None = None,
    ):
        self.rules = rules
        self.overrides = overrides or Overrides()
        self.salt = salt
        # Key → its profile; profile id → profile. A loaded state starts with profile indexes
        # (ints) in both, turned into `Profile` objects the first time they are needed.
        self.owner: dict[str, Profile | int] = {}
        self.by_pid: dict[str, Profile | int] = {}
        self._stored: _Stored | None = None
        self._rank = {kind: i for i, kind in enumerate(rules.priority)}
        self._limits = rules.limit_vector()
        self._rules = tuple(rules.rule_name(kind) for kind in rules.priority)
        self._types = len(rules.priority)
        # Person-level ranks; per rank, whether a key of that type is a shared-type link, and
        # the rule names of a refused shared link (link rank, person rank).
        self._person = rules.person_ranks()
        self._shared = tuple(i not in self._person for i in range(self._types))
        self._shared_rules = {
            (link, kind): rules.shared_rule_name(rules.priority[link], rules.priority[kind])
            for link in range(self._types)
            for kind in self._person
        }
        self._user_rank = self._rank.get("user_id", -1)
        self._blocked = self.overrides.blocked
        self._cut = self.overrides.cut
        self._excluded = self._blocked
        self._track = track
        self._trace = trace
        # Changes since the last take_changes() (only when tracking).
        self.first_seen: dict[str, int] = {}
        self.last_seen: dict[str, int] = {}
        self.moved: list[str] = []
        self.conflicts: list[ConflictRow] = []
        # Ids merged away while tracking, with their founders (resolved without a scan).
        self.retired: dict[str, str] = {}

    # -- building blocks ------------------------------------------------------------------

    def _found(self, key: str, rank: int, ev: LogEvent) -> Profile:
        pid = profile_id_for(key, self.salt)
        if pid in self.by_pid:  # a 64-bit digest collision: never silently fuse two people
            raise RuntimeError(f"profile id collision on {pid}; change the workspace salt")
        counts = [0] * self._types
        counts[rank] = 1
        profile = Profile(pid, (ev.seq, rank, key), counts, [key])
        self.owner[key] = profile
        self.by_pid[pid] = profile
        if self._track:
            self.first_seen[key] = ev.seq
        if self._trace is not None:
            self._trace("found", ev, key, pid, None, None)
        return profile

    def _join(self, profile: Profile, key: str, rank: int, ev: LogEvent) -> None:
        profile.members.append(key)
        profile.counts[rank] += 1
        self.owner[key] = profile
        if self._track:
            self.first_seen[key] = ev.seq
        if self._trace is not None:
            self._trace("join", ev, key, profile.pid, None, None)

    def _violation(self, a: Profile, b: Profile, exempt: int = -1) -> int:
        """The first type (rank) whose summed count would break its limit, or -1. A count
        adds to the other only if both hold the type (an alias may leave a count beyond its
        limit); the type of rank `exempt` (the user id in an alias) is not checked."""
        ca, cb, limits = a.counts, b.counts, self._limits
        for i in range(self._types):
            if ca[i] + cb[i] > limits[i] and ca[i] and cb[i] and i != exempt:
                return i
        return -1

    def _shared_link(self, a: Profile, b: Profile, link: int) -> str | None:
        """The rule refusing a link of rank `link` between `a` and `b`, if it is a shared-type
        key and both hold an identifier of the same person-level type (cut keys uncounted)."""
        if not self._shared[link]:
            return None
        ca, cb = a.counts, b.counts
        for kind in self._person:
            if ca[kind] and cb[kind]:
                if self._cut and not (self._holds(a, kind) and self._holds(b, kind)):
                    continue
                return self._shared_rules[link, kind]
        return None

    def _holds(self, profile: Profile, kind: int) -> bool:
        """Whether `profile` holds a key of rank `kind` that is not cut."""
        cut = sum(
            1 for key in self._cut if self._rank_of(key) == kind and self.profile(key) is profile
        )
        return profile.counts[kind] > cut

    def _person_holder(self, profile: Profile) -> bool:
        """Whether `profile` holds a person-level identifier that is not cut."""
        return any(profile.counts[kind] and self._holds(profile, kind) for kind in self._person)

    def _rank_of(self, key: str) -> int:
        return self._rank.get(key.partition(":")[0], -1)

    def _merge(self, a: Profile, b: Profile, via: str, ev: LogEvent) -> Profile:
        older, younger = (a, b) if a.order < b.order else (b, a)
        if self._track:
            self.moved.extend(younger.members)
            self.retired[younger.pid] = younger.order[2]
        if self._trace is not None:
            self._trace("merge", ev, via, older.pid, younger.pid, None)
        del self.by_pid[younger.pid]
        # Move the smaller member list into the larger object; the survivor takes the older id.
        big, small = (a, b) if len(a.members) >= len(b.members) else (b, a)
        owner = self.owner
        for key in small.members:
            owner[key] = big
        big.members.extend(small.members)
        counts, other = big.counts, small.counts
        for i in range(self._types):
            counts[i] += other[i]
        big.pid, big.order = older.pid, older.order
        self.by_pid[big.pid] = big
        small.members.clear()
        if small.comp is not None:
            self.link(big, small)
        return big

    def _conflict(
        self, ev: LogEvent, key: str, current: Profile, other: Profile, rule: str
    ) -> None:
        self.conflicts.append(
            ConflictRow(ev.seq, ev.message_id, key, current.pid, other.pid, rule, ev.timestamp)
        )
        if self._trace is not None:
            self._trace("conflict", ev, key, current.pid, other.pid, rule)
        self.link(current, other)

    @staticmethod
    def link(a: Profile, b: Profile) -> None:
        """Put two profiles in the same component."""
        ra, rb = Component.of(a), Component.of(b)
        if ra is rb:
            return
        if len(ra.lists) < len(rb.lists):
            ra, rb = rb, ra
        rb.parent = ra
        ra.lists.extend(rb.lists)
        rb.lists = []
        a.comp = b.comp = ra

    # -- one event ------------------------------------------------------------------------

    def apply(self, ev: LogEvent) -> None:
        """Resolve one event (events must come in increasing `seq`)."""
        rank_of = self._rank
        excluded = self._excluded
        items: list[tuple[int, str]] = []
        for key in ev.identifiers:
            kind, sep, _ = key.partition(":")
            rank = rank_of.get(kind)
            if rank is None or not sep:
                continue
            if excluded and key in excluded:
                continue
            items.append((rank, key))
        if len(items) > 1:
            items = sorted(set(items))
            self.apply_ranked(ev, [r for r, _ in items], [k for _, k in items])
        elif items:
            self.apply_ranked(ev, [items[0][0]], [items[0][1]])

    def apply_ranked(self, ev: LogEvent, ranks: list[int], keys: list[str]) -> None:
        """Resolve one event given its usable keys, distinct and sorted by (rank, key), and
        their ranks (ignored and blocked keys already left out; cut keys in place)."""
        if self._track:
            last = self.last_seen
            for key in keys:
                last[key] = ev.seq
        cut = self._cut
        if cut and not cut.isdisjoint(keys):
            linked = [i for i, key in enumerate(keys) if key not in cut]
            current = self._resolve(
                ev, [ranks[i] for i in linked], [keys[i] for i in linked], want=True
            )
            for rank, key in zip(ranks, keys, strict=True):
                if key in cut:
                    current = self._attach(key, rank, ev, current)
            return
        self._resolve(ev, ranks, keys)

    def _resolve(
        self, ev: LogEvent, ranks: list[int], keys: list[str], want: bool = False
    ) -> Profile | None:
        """Steps 3–4 of the module doc. The profile the event ends in (None without keys);
        for an event with one known key, only if `want` (loading a stored profile costs)."""
        owner = self.owner
        if len(keys) <= 1:
            if not keys:
                return None
            if keys[0] not in owner:
                return self._found(keys[0], ranks[0], ev)
            return self.profile(keys[0]) if want else None
        found: list[Profile | None] = []
        for key in keys:
            held = owner.get(key)
            found.append(held if held is None or isinstance(held, Profile) else self._load(held))
        current = found[0]
        if current is None:
            current = found[0] = self._found(keys[0], ranks[0], ev)
        limits = self._limits
        user = self._user_rank
        # An alias names two user ids: their limit is not applied in this event (step 7).
        exempt = user if user >= 0 and ranks.count(user) > 1 else -1
        stale = False  # a merge re-pointed keys: look owners up again
        for i, key in enumerate(keys):
            profile = self.profile(key) if stale else found[i]
            if profile is current:
                continue
            rank = ranks[i]
            if profile is None:
                if current.counts[rank] < limits[rank] or rank == exempt:
                    self._join(current, key, rank, ev)
                else:
                    own = self._found(key, rank, ev)
                    self._conflict(ev, key, current, own, self._rules[rank])
                continue
            broken = self._violation(current, profile, exempt)
            if broken >= 0:
                self._conflict(ev, key, current, profile, self._rules[broken])
            elif (shared := self._shared_link(current, profile, rank)) is not None:
                self._conflict(ev, key, current, profile, shared)
            else:
                current = self._merge(current, profile, key, ev)
                stale = True
        return current

    def _attach(self, key: str, rank: int, ev: LogEvent, current: Profile | None) -> Profile:
        """Step 6 of the module doc: a cut key after the rest of its event."""
        held = self.profile(key)
        if held is None:
            if current is None:
                return self._found(key, rank, ev)
            if current.counts[rank] < self._limits[rank]:
                self._join(current, key, rank, ev)
            else:
                own = self._found(key, rank, ev)
                self._conflict(ev, key, current, own, self._rules[rank])
            return current
        if current is None or held is current:
            return held
        broken = self._violation(current, held)
        if broken >= 0:
            self._conflict(ev, key, current, held, self._rules[broken])
        elif self._person_holder(current) and self._person_holder(held):
            self._conflict(ev, key, current, held, CUT_RULE)
        else:
            current = self._merge(current, held, key, ev)
        return current

    def apply_all(self, events: Iterable[LogEvent]) -> None:
        apply = self.apply
        with gc_paused():
            for ev in events:
                apply(ev)

    def set_overrides(self, overrides: Overrides) -> None:
        """Change the overrides in force (the caller recomputes what they affect)."""
        self.overrides = overrides
        self._blocked = overrides.blocked
        self._cut = overrides.cut
        self._excluded = self._blocked

    def replace(self, keys: Collection[str], other: IdentityGraph) -> None:
        """Replace the profiles of `keys` (whole components) by those `other` gives them."""
        for key in keys:
            profile = self.profile(key)
            self.owner.pop(key, None)
            if profile is not None and self.by_pid.get(profile.pid) is profile:
                del self.by_pid[profile.pid]
        for key in keys:
            profile = other.profile(key)
            if profile is not None:
                self.owner[key] = profile
                self.by_pid[profile.pid] = profile

    # -- restoring a stored state ---------------------------------------------------------

    def restore(self, stored: StoredIdentities) -> None:
        """Load the identities as stored (into an empty graph).

        Rows are grouped by profile in numpy; a profile's founder is its smallest key by
        (first seq, rank, key) (see `rebuild.py`). Only the key → profile index and profile
        id → index maps are built now: a `Profile` object is made when first needed.
        """
        with gc_paused():
            codes, first, _ = factorise(stored.hashes, stored.check)
            count = int(first.sum())
            order = np.argsort(codes, kind="stable")
            bounds = np.zeros(count + 1, dtype=np.int64)
            np.cumsum(np.bincount(codes, minlength=count), out=bounds[1:])
            keys = stored.keys.take(pa.array(order)).to_pylist()
            founder = founders(stored.first_seq, stored.rank, codes, count, stored.keys)
            types = self._types
            counts = np.bincount(
                codes * types + stored.rank.astype(np.int64), minlength=count * types
            ).reshape(count, types)
            pids = stored.profile_ids.filter(pa.array(first)).to_pylist()
            self._stored = _Stored(
                keys=keys,
                bounds=bounds.tolist(),
                profile_ids=pids,
                founders=stored.keys.take(pa.array(founder)).to_pylist(),
                founder_seq=stored.first_seq[founder].tolist(),
                founder_rank=stored.rank[founder].tolist(),
                counts=counts,
            )
            self.owner = dict(zip(keys, codes[order].tolist(), strict=True))
            self.by_pid = dict(zip(pids, range(count), strict=True))

    def _load(self, index: int) -> Profile:
        """The `Profile` of a stored profile index, made once; its keys then point to it."""
        stored = self._stored
        assert stored is not None
        members = stored.keys[stored.bounds[index] : stored.bounds[index + 1]]
        profile = Profile(
            stored.profile_ids[index],
            (stored.founder_seq[index], stored.founder_rank[index], stored.founders[index]),
            stored.counts[index].tolist(),
            members,
        )
        self.owner.update(dict.fromkeys(members, profile))
        self.by_pid[profile.pid] = profile
        return profile

    def profile(self, key: str) -> Profile | None:
        """The profile holding `key`, if any."""
        held = self.owner.get(key)
        return held if held is None or isinstance(held, Profile) else self._load(held)

    def pid_of(self, key: str) -> str | None:
        """The id of the profile holding `key`, if any."""
        held = self.owner.get(key)
        if held is None:
            return None
        if isinstance(held, Profile):
            return held.pid
        assert self._stored is not None
        return self._stored.profile_ids[held]

    def items(self) -> Iterator[tuple[str, Profile]]:
        """Every (key, profile) pair (making every stored profile: for small graphs)."""
        for key in list(self.owner):
            profile = self.profile(key)
            assert profile is not None
            yield key, profile

    def profile_by_id(self, pid: str) -> Profile | None:
        """The current profile with id `pid`, if any."""
        held = self.by_pid.get(pid)
        return held if held is None or isinstance(held, Profile) else self._load(held)

    def link_keys(self, keys: Iterable[str]) -> None:
        """Put the profiles of `keys` in one component (they met in one event)."""
        first: Profile | None = None
        for key in keys:
            profile = self.profile(key)
            if profile is None:
                continue
            if first is None:
                first = profile
            elif profile is not first:
                self.link(first, profile)

    # -- reading --------------------------------------------------------------------------

    def take_changes(self) -> tuple[dict[str, int], dict[str, int], list[str], list[ConflictRow]]:
        """(first seen, last seen, moved keys, conflicts) since the last call; then reset."""
        out = (self.first_seen, self.last_seen, self.moved, self.conflicts)
        self.first_seen, self.last_seen, self.moved, self.conflicts = {}, {}, [], []
        return out

    def component_keys(self, keys: Iterable[str]) -> set[str]:
        """Every key of the components holding `keys` (unknown keys are skipped)."""
        roots: dict[int, Component] = {}
        out: set[str] = set()
        for key in keys:
            profile = self.profile(key)
            if profile is None:
                continue
            if profile.comp is None:
                out.update(profile.members)
            else:
                root = profile.comp.root()
                roots[id(root)] = root
        for root in roots.values():
            for members in root.lists:
                out.update(members)
        return out

    def partition(self) -> dict[str, frozenset[str]]:
        """Profile id → its keys (for tests and small graphs)."""
        return {
            pid: frozenset(p.members) for pid in list(self.by_pid) if (p := self.profile_by_id(pid))
        }
