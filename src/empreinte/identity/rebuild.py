"""Full rebuild: the identity graph recomputed from the log, vectorised where it is safe.

Why this gives exactly the result of the sequential resolver (`graph.py`) run on the whole log:

Let G be the *unrestricted* graph: its nodes are the identifier keys that the resolver uses
(blocked keys and keys of unknown types removed), and every event links all its keys. Call
n_t(C) the number of distinct keys of type t in a connected component C of G. Call C *clean*
when n_t(C) <= limit_t for every type t, n_t(C) <= 1 for every person-level type t, and C
holds no cut key.

1. *Components are independent.* Processing an event reads and writes only the profiles of its
   own keys, which all lie in one component; profiles never span two components (every link
   the resolver makes is an edge of G). So the sequential run over the whole log, restricted to
   one component, is the sequential run over that component's events alone (in the same
   order), and conflicts are recorded by the event that causes them, whatever else happens.
2. *A clean component ends as one profile, with no conflict.* Each profile is a subset of C,
   so a profile has at most n_t(C) keys of type t, and two disjoint profiles together at most
   n_t(C) too: every limit check passes. Two disjoint profiles cannot both hold a key of a
   person-level type t (n_t(C) <= 1), so no shared-type link is refused; there is no cut key,
   and an alias only lifts a limit that every check already passes. Every "join"
   and every "merge" therefore happens: no conflict is ever recorded, and after each
   event all its keys share one profile. "Same profile" then contains every edge of G within
   C and is transitive, so C ends as one profile.
3. *Its id.* With no conflict, a profile is founded only by an event whose most trusted key
   is unknown, at that event's seq, and a merge keeps the older profile. The first event of C
   (lowest seq) founds the oldest profile; every other profile is founded later, so this one
   survives every merge: C's id is `profile_id_for(f)` where f is that event's first key by
   priority, i.e. the key of C minimising (first seq, type rank, key text): the keys whose
   first occurrence is C's first event are exactly that event's keys.
4. *Other components* (shared devices, call-centre numbers, a person with two e-mails, cut
   keys, aliases between user ids) are replayed with the sequential resolver over their own
   events, which by (1) is exact; their conflicts come from these replays.

So the rebuild codes the keys as integers (grouping the occurrences by two independent 64-bit
hashes of the key, computed by the engine), computes G's components with
`scipy.sparse.csgraph.connected_components` (each event contributes a star of edges to its
smallest code), the counts per component and type with `bincount`, the founder of each
component with one `minimum.at` (ties on (first seq, rank) are settled on the key text), and
replays only the components that are not clean. In a replay, an event with a single key that is not
that key's first occurrence is skipped: the key is known, so such an event changes nothing and
cannot conflict. `tests/identity` check the result against the incremental path and a naive
reading of the rules on random event streams.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from empreinte.identity.coding import factorise, founders
from empreinte.identity.graph import IdentityGraph, Overrides, gc_paused
from empreinte.identity.model import PROFILE_PREFIX, ConflictRow, LogEvent, RebuildReport
from empreinte.identity.rules import MergeRules
from empreinte.store.identity_store import IdentityStore, Occurrences

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class _Clock:
    start: float = field(default_factory=time.perf_counter)
    last: float = field(default_factory=time.perf_counter)
    laps: list[tuple[str, float]] = field(default_factory=list)

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps.append((name, now - self.last))
        self.last = now


@dataclass(frozen=True)
class CodedLog:
    """The log's usable identifier occurrences, with keys coded 0..n-1.

    Occurrences (`seq`, `code`) are sorted by seq; per code: the key text (`keys`), its type
    rank, first and last seq, and whether it is cut (shared). Blocked keys and keys of
    unknown types are gone.
    """

    seq: IntArray
    code: IntArray
    keys: pa.Array
    rank: npt.NDArray[np.int8]
    first_seq: IntArray
    last_seq: IntArray
    cut: BoolArray

    @property
    def size(self) -> int:
        return len(self.rank)


def code_log(occ: Occurrences, rules: MergeRules, overrides: Overrides) -> CodedLog:
    """Code the occurrences' keys and drop what the resolver ignores."""
    if len(occ.seq) > 1 and not bool(np.all(occ.seq[1:] >= occ.seq[:-1])):
        order = np.argsort(occ.seq, kind="stable")
        take = pa.array(order)
        occ = Occurrences(occ.seq[order], occ.keys.take(take), occ.hashes[order], occ.check[order])
    codes, first, last = factorise(occ.hashes, occ.check)
    keys = occ.keys.filter(pa.array(first))
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()  # later takes are faster on one chunk
    first_seq = occ.seq[first]
    last_seq = occ.seq[last]
    rank = np.full(len(keys), -1, dtype=np.int8)
    for i, kind in enumerate(rules.priority):
        rank[np.asarray(pc.starts_with(keys, kind + ":"), dtype=np.bool_)] = i
    keep = rank >= 0
    if overrides.blocked:
        keep &= ~np.asarray(pc.is_in(keys, pa.array(sorted(overrides.blocked))), dtype=np.bool_)
    seq = occ.seq
    if not keep.all():
        renumber = np.cumsum(keep) - 1
        kept = keep[codes]
        seq, codes = seq[kept], renumber[codes[kept]]
        keys, rank = keys.filter(pa.array(keep)), rank[keep]
        first_seq, last_seq = first_seq[keep], last_seq[keep]
    cut = (
        np.asarray(pc.is_in(keys, pa.array(sorted(overrides.cut))), dtype=np.bool_)
        if overrides.cut
        else np.zeros(len(keys), dtype=np.bool_)
    )
    return CodedLog(seq, codes, keys, rank, first_seq, last_seq, cut)


def event_edges(log: CodedLog) -> tuple[IntArray, IntArray]:
    """The unrestricted graph's edges: each event links its keys in a path (consecutive
    occurrences of one event), which gives the same components as linking every pair."""
    seq, code = log.seq, log.code
    same = seq[1:] == seq[:-1]
    return code[:-1][same], code[1:][same]


def components(log: CodedLog) -> tuple[int, IntArray]:
    """(count, label per key code) of the connected components of the unrestricted graph."""
    n = log.size
    a, b = event_edges(log)
    index = np.int32 if n < 2**31 - 1 else np.int64
    matrix = csr_matrix(
        (np.ones(len(a), dtype=np.int8), (a.astype(index), b.astype(index))), shape=(n, n)
    )
    count, labels = connected_components(matrix, directed=False)
    return int(count), labels.astype(np.int64)


@dataclass(frozen=True)
class _Replay:
    """The events of the components over a limit, ready for `IdentityGraph.apply_ranked`."""

    seqs: list[int]
    ranks: list[list[int]]
    keys: list[list[str]]
    texts: list[str]  # the keys of these components, in priority order
    codes: IntArray  # their codes, in the same order


def _replay_events(log: CodedLog, in_dirty: BoolArray) -> _Replay:
    """The events to replay, each as its keys in priority order, no-ops left out: an event
    with one key that is not that key's first occurrence changes nothing."""
    dirty_codes = np.flatnonzero(in_dirty)
    if len(dirty_codes) == 0:
        return _Replay([], [], [], [], dirty_codes)
    # Priority order of these keys (rank, then text; UTF-8 byte order is code point order).
    texts = log.keys.take(pa.array(dirty_codes))
    ranks = log.rank[dirty_codes]
    order = np.asarray(
        pc.sort_indices(
            pa.table({"r": ranks, "k": texts}),
            sort_keys=[("r", "ascending"), ("k", "ascending")],
        ),
        dtype=np.int64,
    )
    codes = dirty_codes[order]
    ordinal = np.empty(log.size, dtype=np.int64)
    ordinal[codes] = np.arange(len(codes), dtype=np.int64)
    mask = in_dirty[log.code]
    seq, position = log.seq[mask], ordinal[log.code[mask]]
    pair = np.lexsort((position, seq))
    seq, position = seq[pair], position[pair]
    fresh = np.ones(len(seq), dtype=np.bool_)
    fresh[1:] = (seq[1:] != seq[:-1]) | (position[1:] != position[:-1])
    seq, position = seq[fresh], position[fresh]
    starts = np.flatnonzero(np.diff(seq, prepend=seq[0] - 1))
    sizes = np.diff(np.append(starts, len(seq)))
    single = np.repeat(sizes == 1, sizes)
    useful = ~single | (log.first_seq[codes[position]] == seq)
    seq, position = seq[useful], position[useful]
    starts = np.flatnonzero(np.diff(seq, prepend=seq[0] - 1)) if len(seq) else starts[:0]
    sorted_texts = texts.take(pa.array(order)).to_pylist()
    sorted_ranks = ranks[order].tolist()
    where = position.tolist()
    all_keys = [sorted_texts[i] for i in where]
    all_ranks = [sorted_ranks[i] for i in where]
    bounds = [*starts.tolist(), len(where)]
    pieces = range(len(bounds) - 1)
    return _Replay(
        seqs=seq[starts].tolist(),
        ranks=[all_ranks[bounds[i] : bounds[i + 1]] for i in pieces],
        keys=[all_keys[bounds[i] : bounds[i + 1]] for i in pieces],
        texts=sorted_texts,
        codes=codes,
    )


@dataclass(frozen=True)
class Replayed:
    """The sequential resolver's result on the components over a limit (`replay_components`)."""

    texts: list[str]  # the keys of these components, in priority order
    codes: IntArray  # their codes, in the same order
    owners: list[str]  # the profile id of each key
    profile_values: npt.NDArray[np.uint64]  # the 64 bits of each distinct profile id
    conflicts: list[ConflictRow]  # without message id and time (the caller reads them)
    events: int  # events replayed


def replay_components(
    log: CodedLog, in_dirty: BoolArray, rules: MergeRules, overrides: Overrides, salt: str
) -> Replayed:
    """Replay the events of the keys marked `in_dirty` (whole components) with the
    sequential resolver. Used by this rebuild and by the Spark one (store/spark/identity.py),
    which brings only these components' occurrences to the driver."""
    todo = _replay_events(log, in_dirty)
    graph = IdentityGraph(rules, overrides, salt=salt)
    apply = graph.apply_ranked
    for seq, ranks, keys in zip(todo.seqs, todo.ranks, todo.keys, strict=True):
        apply(LogEvent(seq, "", 0, keys), ranks, keys)
    owners = [graph.pid_of(k) or "" for k in todo.texts]
    values = np.array([int(pid[len(PROFILE_PREFIX) :], 16) for pid in set(owners)], dtype=np.uint64)
    return Replayed(todo.texts, todo.codes, owners, values, list(graph.conflicts), len(todo.seqs))


def rebuild(
    store: IdentityStore,
    rules: MergeRules,
    overrides: Overrides,
    *,
    salt: str,
    upto: int,
    state: dict[str, str],
) -> RebuildReport:
    """Recompute `identities` and `identity_conflicts` from the events up to `upto`, and
    store `state` with them (one transaction).

    The rows of the components within the limits are written while the others are replayed.
    """
    clock = _Clock()
    types = len(rules.priority)
    with gc_paused(), store.rebuild_session(upto) as work:
        occ = work.occurrences()
        clock.lap("read")
        events = int(np.count_nonzero(np.diff(occ.seq))) + 1 if len(occ.seq) else 0
        log = code_log(occ, rules, overrides)
        del occ
        clock.lap("code")
        count, labels = components(log)
        clock.lap("components")

        rank = log.rank.astype(np.int64)
        per_type = np.bincount(labels * types + rank, minlength=count * types)
        limits = np.asarray(rules.limit_vector(), dtype=np.int64)
        per_type = per_type.reshape(count, types)
        dirty: BoolArray = np.asarray((per_type > limits).any(axis=1))
        person = list(rules.person_ranks())
        if person:
            dirty |= np.asarray((per_type[:, person] > 1).any(axis=1))
        if log.cut.any():
            dirty |= np.bincount(labels[log.cut], minlength=count) > 0
        in_dirty = dirty[labels]
        founder = founders(log.first_seq, log.rank, labels, count, log.keys)
        clean = np.flatnonzero(~dirty)
        clean_ids, clean_values = work.seed_ids(log.keys.take(pa.array(founder[clean])), salt)
        clean_values = np.sort(clean_values)
        if bool(np.any(clean_values[1:] == clean_values[:-1])):
            raise RuntimeError("profile id collision; change the workspace salt")
        slot = np.full(count, -1, dtype=np.int32)
        slot[clean] = np.arange(len(clean), dtype=np.int32)
        keep = ~in_dirty
        ready = _identities(
            log.keys.filter(pa.array(keep)),
            log.rank[keep],
            clean_ids.take(pa.array(slot[labels[keep]])),
            log.first_seq[keep],
            log.last_seq[keep],
            rules.priority,
        )
        clock.lap("founders")
        outcome: dict[str, int] = {}

        def replay() -> tuple[pa.Table, list[ConflictRow]]:
            done = replay_components(log, in_dirty, rules, overrides, salt)
            if bool(np.isin(done.profile_values, clean_values).any()):
                raise RuntimeError("profile id collision; change the workspace salt")
            heads = work.event_heads(np.unique([c.seq for c in done.conflicts]))
            conflicts = [
                c._replace(message_id=heads[c.seq][0], recorded_at=heads[c.seq][1])
                for c in done.conflicts
            ]
            outcome["events"] = done.events
            outcome["profiles"] = len(done.profile_values)
            rows = _identities(
                pa.array(done.texts, pa.string()),
                log.rank[done.codes],
                pa.array(done.owners, pa.string()),
                log.first_seq[done.codes],
                log.last_seq[done.codes],
                rules.priority,
            )
            clock.lap("replay")
            return rows, conflicts

        conflicts = work.write(ready, replay, state)
        clock.lap("write")
    return RebuildReport(
        events=events,
        identifiers=log.size,
        profiles=len(clean) + outcome.get("profiles", 0),
        components=count,
        replayed_components=int(dirty.sum()),
        replayed_events=outcome.get("events", 0),
        conflicts=conflicts,
        cursor=upto,
        seconds=time.perf_counter() - clock.start,
        timings=tuple(clock.laps),
    )


def _identities(
    keys: pa.Array,
    rank: npt.NDArray[np.int8],
    profile_ids: pa.Array,
    first_seq: IntArray,
    last_seq: IntArray,
    types: Sequence[str],
) -> pa.Table:
    kinds = pa.DictionaryArray.from_arrays(pa.array(rank), pa.array(list(types)))
    return pa.table(
        {
            "id_key": keys,
            "id_type": kinds,
            "profile_id": profile_ids,
            "first_seq": pa.array(first_seq),
            "last_seq": pa.array(last_seq),
        }
    )
