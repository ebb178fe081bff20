"""The rebuild's integer coding of keys: hash collisions must never fuse two identifiers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from empreinte.identity.graph import Overrides
from empreinte.identity.rebuild import code_log, components
from empreinte.identity.rules import MergeRules
from empreinte.store.identity_store import Occurrences

KEYS = [f"anonymous_id:a{i}" for i in range(6)] + [f"user_id:u{i}" for i in range(4)]


def occurrences(
    events: list[list[str]], hash_of: dict[str, int], check_of: dict[str, int]
) -> Occurrences:
    seq = [s for s, keys in enumerate(events, start=1) for _ in keys]
    keys = [k for keys in events for k in keys]
    return Occurrences(
        seq=np.array(seq, dtype=np.int64),
        keys=pa.array(keys, pa.string()),
        hashes=np.array([hash_of[k] for k in keys], dtype=np.uint64),
        check=np.array([check_of[k] for k in keys], dtype=np.uint64),
    )


@settings(max_examples=settings.default.max_examples * 6 // 10)
@given(
    events=st.lists(st.lists(st.sampled_from(KEYS), min_size=1, max_size=3), min_size=1),
    hashes=st.lists(st.sampled_from([0, 1, 2**63, 2**64 - 1]), min_size=10, max_size=10),
    order=st.permutations(range(10)),
)
def test_colliding_hashes_still_give_one_code_per_key(
    events: list[list[str]], hashes: list[int], order: list[int]
) -> None:
    # First hashes collide all the time (four values for ten keys); second hashes differ.
    hash_of = dict(zip(KEYS, hashes, strict=True))
    check_of = {k: 1000 + order[i] for i, k in enumerate(KEYS)}
    log = code_log(occurrences(events, hash_of, check_of), MergeRules(), Overrides())

    texts = log.keys.to_pylist()
    seen = [k for keys in events for k in keys]
    assert texts == list(dict.fromkeys(seen))  # one code per key, in first-occurrence order
    assert [texts[c] for c in log.code.tolist()] == seen
    for code, key in enumerate(texts):
        carrying = [s for s, keys in enumerate(events, start=1) if key in keys]
        assert (log.first_seq[code], log.last_seq[code]) == (carrying[0], carrying[-1])
    count, labels = components(log)
    # Keys are in one component exactly when events chain them together.
    linked: dict[str, set[str]] = {k: {k} for k in texts}
    for keys in events:
        merged = set().union(*(linked[k] for k in keys))
        for k in merged:
            linked[k] = merged
    for a in texts:
        for b in texts:
            same = labels[texts.index(a)] == labels[texts.index(b)]
            assert same == (b in linked[a])
    assert count == len({frozenset(group) for group in linked.values()})


def test_blocked_and_unknown_keys_are_dropped_and_codes_stay_dense() -> None:
    events = [["fax:1", "user_id:u0"], ["user_id:u0", "email:pii_b"], ["email:pii_b"]]
    keys = {k for e in events for k in e}
    hash_of = {k: i for i, k in enumerate(sorted(keys))}
    log = code_log(
        occurrences(events, hash_of, hash_of),
        MergeRules(),
        Overrides(blocked=frozenset({"email:pii_b"})),
    )
    assert log.keys.to_pylist() == ["user_id:u0"]
    assert log.code.tolist() == [0, 0]
    assert log.seq.tolist() == [1, 2]
