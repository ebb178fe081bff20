"""`IdentityService`: the identity graph of one workspace, kept up to date from the log.

- `sync()` resolves the events appended since the stored cursor, in batches, and persists the
  changed identities, the new conflicts and the cursor in one transaction per batch. The
  server calls it after commits or from a background thread; the CLI and Python callers call
  it before reading. It is thread-safe (one lock).
- `rebuild()` recomputes everything from the log (`rebuild.py`); it runs by itself when the
  stored results were made with other rules or overrides (a fingerprint in `identity_state`).
- Lookups: `profile_of(key)`, `identity(key)`, `identifiers(profile_id)`,
  `resolve(profile_id)`, `conflicts(profile_id)`, `explain(profile_id)`.
- Unmerging: `block`, `cut`, `unblock` append an admin decision to `identity_overrides` and
  recompute the components they touch, from the log, in the same transaction.

Override semantics (see also `graph.py`):
- **block(key)**: the key is ignored everywhere, as if no event had carried it: it belongs to
  no profile, links nothing, and is never counted against a limit. For garbage values
  ("undefined", a shop's shared card) and numbers that must never identify anyone.
- **cut(key, profile)**: the key is shared by several people (a family tablet, a switchboard
  number, a household address) and joined two of them wrongly. It stays with the profile that
  first held it, still brings that person's anonymous activity to her, and never joins two
  people again: in every event it is attached last, after the event's other identifiers, and
  a link it would make between two profiles that each hold a person-level identifier (cut
  keys not counted) is refused (a conflict "cut: people on both sides"). So cutting the key
  that caused a wrong merge gives back the people as they were before it, each with her own
  identifiers and events. (It used to live alone, linking nothing: everything only it had
  linked fell apart, and a person who used the tablet anonymously ended split in two.) A key
  that names no one — anonymous activity of unknown people, a shop's card — is for `block`:
  nobody known can be told apart from its first holder's anonymous visits.
- **unblock(key)**: lifts the block or the cut on the key; the next recomputation links it
  again under the ordinary rules.
Each is one appended row (who, when, why); the recomputation replays the events of the
affected components with the new overrides, exactly as a full rebuild would.

Redirects: nothing is stored for them. A merged-away id is the id its founding identifier
gave it; `resolve` finds that identifier (`profile_id_for(key) == id`) and answers the profile
that holds it now. Current ids and ids merged away since this service loaded its state
resolve in memory; older ones cost one scan of `identities` (then cached).
"""

from __future__ import annotations

import gc
import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from empreinte.errors import IdentityError, ProfileNotFound
from empreinte.identity.graph import IdentityGraph, Overrides, gc_paused
from empreinte.identity.model import (
    BLOCK,
    CUT,
    PROFILE_PREFIX,
    UNBLOCK,
    Conflict,
    Explanation,
    IdentityChange,
    IdentityRecord,
    LogEvent,
    MergeStep,
    Override,
    RebuildReport,
    SyncReport,
    id_type_of,
    profile_id_for,
    to_datetime,
)
from empreinte.identity.rebuild import rebuild
from empreinte.identity.rules import MergeRules
from empreinte.store.engine import Engine
from empreinte.store.identity_store import (
    CURSOR,
    FINGERPRINT,
    IdentityStore,
)

DEFAULT_BATCH = 50_000


def _now() -> datetime:
    return datetime.now(UTC)


class IdentityService:
    """The identity graph of a workspace: incremental resolution, rebuild, lookups, unmerge."""

    def __init__(
        self,
        store: IdentityStore,
        rules: MergeRules | None = None,
        *,
        salt: str = "",
        batch_size: int = DEFAULT_BATCH,
        clock: Callable[[], datetime] = _now,
    ):
        self.store = store
        self.rules = rules or MergeRules()
        self.salt = salt
        self.batch_size = batch_size
        self._clock = clock
        self._lock = threading.RLock()
        self._graph: IdentityGraph | None = None
        self._log: list[Override] = store.overrides()
        self._overrides = Overrides.fold(self._log)
        self._seeds: dict[str, str] = {}  # profile id → founding key, once looked up
        self._cursor: int | None = None  # the stored cursor, once known to be current

    @classmethod
    def open(
        cls,
        engine: Engine,
        rules: MergeRules | None = None,
        *,
        salt: str = "",
        batch_size: int = DEFAULT_BATCH,
    ) -> IdentityService:
        """The service over a workspace's engine."""
        return cls(engine.identity_store(), rules, salt=salt, batch_size=batch_size)

    # -- consistency ----------------------------------------------------------------------

    @property
    def folded_overrides(self) -> Overrides:
        """The administrators' decisions (blocks, cuts) as every resolution applies them."""
        return self._overrides

    def fingerprint(self) -> str:
        """What every profile id depends on: the rules, the salt and the overrides (hashed)."""
        return self._fingerprint()

    def _fingerprint(self, overrides: Overrides | None = None) -> str:
        parts = (
            self.rules.fingerprint(),
            hashlib.sha256(self.salt.encode()).hexdigest(),
            (overrides or self._overrides).fingerprint(),
        )
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]

    def _state(self, cursor: int, overrides: Overrides | None = None) -> dict[str, str]:
        return {CURSOR: str(cursor), FINGERPRINT: self._fingerprint(overrides)}

    def _current_cursor(self) -> int:
        """The stored cursor, after a rebuild if the stored results are stale."""
        if self._cursor is None:
            state = self.store.read_state()
            if state.get(FINGERPRINT) != self._fingerprint() or CURSOR not in state:
                self._stale_rebuild = self._rebuild_locked()
            else:
                self._cursor = int(state[CURSOR])
        assert self._cursor is not None
        return self._cursor

    _stale_rebuild: RebuildReport | None = None

    def _loaded(self) -> IdentityGraph:
        """The in-memory graph, loaded from the stored identities on first use."""
        if self._graph is None:
            self._current_cursor()
            graph = IdentityGraph(self.rules, self._overrides, salt=self.salt, track=True)
            graph.restore(self.store.load_state(self.rules.priority))
            with gc_paused():
                for keys in self.store.conflict_event_identifiers():
                    graph.link_keys(keys)
            # The graph is long-lived and free of reference cycles: keep the collector's full
            # collections from walking its millions of objects.
            gc.freeze()
            self._graph = graph
        return self._graph

    # -- keeping up with the log ----------------------------------------------------------

    def sync(self) -> SyncReport:
        """Resolve every event appended since the last sync; persist as it goes."""
        started = time.perf_counter()
        with self._lock:
            upto = self.store.max_seq()
            self._stale_rebuild = None
            cursor = self._current_cursor()
            events = changed = conflicts = 0
            spent = {"read": 0.0, "resolve": 0.0, "write": 0.0}
            while cursor < upto:
                clock = time.perf_counter()
                batch = self.store.read_events(cursor, upto, self.batch_size)
                graph = self._loaded()
                spent["read"] += time.perf_counter() - clock
                new_cursor = batch[-1].seq if len(batch) == self.batch_size else upto
                try:
                    clock = time.perf_counter()
                    graph.apply_all(batch)
                    spent["resolve"] += time.perf_counter() - clock
                    clock = time.perf_counter()
                    batch_changes, batch_conflicts = self._persist(graph, new_cursor)
                    spent["write"] += time.perf_counter() - clock
                except BaseException:
                    self._graph = None  # memory is ahead of storage: reload next time
                    self._cursor = None
                    raise
                events += len(batch)
                changed += batch_changes
                conflicts += batch_conflicts
                cursor = self._cursor = new_cursor
            return SyncReport(
                events,
                changed,
                conflicts,
                cursor,
                time.perf_counter() - started,
                self._stale_rebuild,
                tuple(spent.items()),
            )

    def _persist(self, graph: IdentityGraph, cursor: int) -> tuple[int, int]:
        """Store what the graph changed since the last call; (identifiers, conflicts)."""
        first, last, moved, conflicts = graph.take_changes()
        changes = []
        for key in set(last).union(moved):
            profile = graph.profile(key)
            assert profile is not None
            changes.append(
                IdentityChange(key, id_type_of(key), profile.pid, first.get(key), last.get(key))
            )
        self.store.save_increment(changes, conflicts, self._state(cursor))
        return len(changes), len(conflicts)

    def rebuild(self) -> RebuildReport:
        """Recompute identities and conflicts from the whole log (up to its end)."""
        with self._lock:
            return self._rebuild_locked()

    def _rebuild_locked(self) -> RebuildReport:
        upto = self.store.max_seq()
        self._graph = None
        report = rebuild(
            self.store,
            self.rules,
            self._overrides,
            salt=self.salt,
            upto=upto,
            state=self._state(upto),
        )
        self._cursor = upto
        return report

    # -- lookups --------------------------------------------------------------------------

    def profile_of(self, key: str) -> str | None:
        """The id of the profile holding identifier `key` ("type:value"), if any."""
        with self._lock:
            if self._graph is not None:
                return self._graph.pid_of(key)
            record = self.store.identity(key)
            return record.profile_id if record is not None else None

    def identity(self, key: str) -> IdentityRecord | None:
        """Where `key` lives and when it was first and last seen."""
        with self._lock:
            return self.store.identity(key)

    def resolve(self, profile_id: str) -> str | None:
        """The current id of the profile `profile_id` became (itself when not merged away);
        None for an id no profile ever had, or whose founding identifier is blocked."""
        if not profile_id.startswith(PROFILE_PREFIX):
            return None
        with self._lock:
            graph = self._graph
            if graph is not None:
                if profile_id in graph.by_pid:
                    return profile_id
            elif self.store.profile_exists(profile_id):
                return profile_id
            key = self._seeds.get(profile_id)
            if key is None and graph is not None:
                key = graph.retired.get(profile_id)
            if key is None:
                key = self.store.seed_key(profile_id, self.salt)
                if key is None:
                    return None
                self._seeds[profile_id] = key
            return self.profile_of(key)

    def _require(self, profile_id: str) -> str:
        current = self.resolve(profile_id)
        if current is None:
            raise ProfileNotFound(f"no profile {profile_id!r}")
        return current

    def identifiers(self, profile_id: str) -> list[IdentityRecord]:
        """The identifiers of the profile (following merges), oldest first."""
        with self._lock:
            return self.store.identities_of(self._require(profile_id))

    def conflicts(self, profile_id: str) -> list[Conflict]:
        """Refused links that touched the profile: on one of its identifiers, or naming one
        of the ids it ever had (the ids its identifiers founded)."""
        with self._lock:
            keys = [r.id_key for r in self.identifiers(profile_id)]
            ids = {profile_id_for(k, self.salt) for k in keys}
            return self.store.conflicts_for(keys, ids)

    def overrides(self) -> list[Override]:
        """Every admin decision, oldest first."""
        with self._lock:
            return list(self._log)

    # -- explaining -----------------------------------------------------------------------

    def _component_events(self, keys: Iterable[str]) -> tuple[set[str], list[LogEvent]]:
        """The keys of the components of `keys` and their events, each stripped to them."""
        graph = self._loaded()
        keys = set(keys)
        closure = graph.component_keys(keys) | keys
        events = self.store.events_with_keys(closure, self._current_cursor())
        stripped = [
            ev._replace(identifiers=[k for k in ev.identifiers if k in closure]) for ev in events
        ]
        return closure, stripped

    def explain(self, profile_id: str) -> Explanation:
        """Replay the profile's component from the log and tell how the profile was built:
        every identifier that founded or joined it, every merge into it (which event, when,
        through which identifier), every refused link, and the overrides involved."""
        with self._lock:
            self.sync()
            current = self._require(profile_id)
            graph = self._loaded()
            profile = graph.profile_by_id(current)
            assert profile is not None
            members = profile.members
            closure, events = self._component_events(members)
            steps: list[MergeStep] = []

            def trace(
                action: str,
                ev: LogEvent,
                key: str,
                pid: str,
                other: str | None,
                rule: str | None,
            ) -> None:
                steps.append(
                    MergeStep(
                        ev.seq,
                        ev.message_id,
                        to_datetime(ev.timestamp),
                        action,
                        key,
                        pid,
                        other,
                        rule,
                    )
                )

            replay = IdentityGraph(self.rules, self._overrides, salt=self.salt, trace=trace)
            replay.apply_all(events)
            lineage = {
                s.profile_id
                for s in steps
                if s.action == "found" and replay.pid_of(s.id_key) == current
            }
            mine = tuple(
                s for s in steps if s.profile_id in lineage or s.other_profile_id in lineage
            )
            conflicts = tuple(
                Conflict.of(c)
                for c in replay.conflicts
                if c.profile_id in lineage or c.other_profile_id in lineage
            )
            overrides = tuple(o for o in self._log if o.id_key in closure)
            return Explanation(
                requested=profile_id,
                profile_id=current,
                identifiers=tuple(self.store.identities_of(current)),
                steps=mine,
                conflicts=conflicts,
                overrides=overrides,
            )

    # -- unmerging ------------------------------------------------------------------------

    def block(self, id_key: str, actor: str, reason: str | None = None) -> list[str]:
        """Ignore `id_key` everywhere from now on (and in every rebuild); recompute.
        Returns the ids of the profiles of the affected components afterwards."""
        self._check_key(id_key)
        return self._override(BLOCK, id_key, None, actor, reason)

    def cut(self, id_key: str, profile_id: str, actor: str, reason: str | None = None) -> list[str]:
        """Take `id_key` out of `profile_id`: it lives alone from now on; recompute.
        Returns the ids of the profiles of the affected components afterwards."""
        self._check_key(id_key)
        with self._lock:
            self.sync()
            current = self._require(profile_id)
            holder = self.profile_of(id_key)
            if holder != current:
                raise IdentityError(
                    f"{id_key} is not in profile {profile_id}"
                    + (f" (it is in {holder})" if holder else " (it is in no profile)")
                )
            return self._override(CUT, id_key, current, actor, reason)

    def unblock(self, id_key: str, actor: str, reason: str | None = None) -> list[str]:
        """Lift a block or a cut on `id_key`; recompute."""
        with self._lock:
            if self._overrides.state_of(id_key) is None:
                raise IdentityError(f"{id_key} is neither blocked nor cut")
            return self._override(UNBLOCK, id_key, None, actor, reason)

    def _check_key(self, key: str) -> None:
        kind, sep, value = key.partition(":")
        if not sep or not value or kind not in self.rules.priority:
            raise IdentityError(
                f"{key!r} is not an identifier key: expected TYPE:VALUE with TYPE one of "
                + ", ".join(self.rules.priority)
            )

    def _override(
        self, action: str, key: str, profile_id: str | None, actor: str, reason: str | None
    ) -> list[str]:
        with self._lock:
            self.sync()
            cursor = self._current_cursor()
            graph = self._loaded()
            decision = Override(self._clock(), actor, action, key, profile_id, reason)
            overrides = Overrides.fold([*self._log, decision])
            # The components the decision can change: those of `key` and of every key met
            # in an event with it, before and after (the old and new graphs only differ there).
            met = self.store.events_with_keys([key], cursor)
            neighbours = {k for ev in met for k in ev.identifiers}
            closure, events = self._component_events(neighbours | {key})
            replay = IdentityGraph(self.rules, overrides, salt=self.salt, track=True)
            replay.apply_all(events)
            first, last, _, conflicts = replay.take_changes()
            records = [
                IdentityRecord(k, id_type_of(k), p.pid, first[k], last[k])
                for k, p in replay.items()
            ]
            self.store.replace_keys(
                closure,
                records,
                {ev.seq for ev in events},
                conflicts,
                decision,
                self._state(cursor, overrides),
            )
            graph.set_overrides(overrides)
            graph.replace(closure, replay)
            self._log.append(decision)
            self._overrides = overrides
            return sorted({p.pid for _, p in replay.items()})
