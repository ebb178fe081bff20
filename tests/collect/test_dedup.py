"""The dedup window (`RecentIds`): the same verdicts as a plain set of keys, whatever the
fingerprints collide on, across failed appends, hour expiry and a load from the log."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from empreinte.collect.dedup import FRESH_LIMIT, HOUR_MICROS, RecentIds
from empreinte.errors import StorageError

WINDOW = 3  # hours: small, so that examples cross it


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")


class FakeLog:
    """A log of message keys and their arrival times, with a fingerprint that collides as
    often as a test wants (`modulus`), and lookups a test can make fail."""

    def __init__(self, modulus: int):
        self.modulus = modulus
        self.stored: dict[str, int] = {}  # key -> received_at (µs)
        self.failing = False
        self.lookups = 0

    def message_fingerprints(self, keys: Sequence[str]) -> np.ndarray:
        if self.failing:
            raise StorageError("injected")
        return np.array([_digest(k) % self.modulus for k in keys], dtype=np.uint64)

    def stored_messages(self, keys: Sequence[str], since: datetime, until: datetime) -> set[str]:
        if self.failing:
            raise StorageError("injected")
        self.lookups += 1
        low, high = (int(t.timestamp() * 1_000_000) for t in (since, until))
        return {k for k in keys if k in self.stored and low <= self.stored[k] < high}

    def recent(self) -> tuple[np.ndarray, np.ndarray]:
        keys = list(self.stored)
        return (
            self.message_fingerprints(keys),
            np.array([self.stored[k] for k in keys], dtype=np.int64),
        )


class PlainWindow:
    """The definition: a key is a retry if stored within `WINDOW` hours of the newest hour."""

    def __init__(self) -> None:
        self.hour_of: dict[str, int] = {}
        self.newest = -1

    def judge(self, keys: Sequence[str], hours: Sequence[int]) -> list[bool]:
        self.newest = max(self.newest, *hours)
        verdicts, judged = [], set()
        for key in keys:
            known = key in self.hour_of and self.hour_of[key] > self.newest - WINDOW
            verdicts.append(not known and key not in judged)
            judged.add(key)
        return verdicts


KEYS = st.sampled_from([f"web\x00m{i}" for i in range(12)] + [f"app\x00m{i}" for i in range(4)])
# (hours to move forward, keys of one group, what happens to its append)
STEPS = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.lists(KEYS, min_size=1, max_size=8),
        st.sampled_from(["commit", "commit", "append fails", "lookup fails"]),
    ),
    max_size=25,
)


@pytest.mark.parametrize("modulus", [3, 2**64], ids=["colliding", "distinct"])
@given(preloaded=st.lists(st.tuples(KEYS, st.integers(0, 4)), max_size=10), steps=STEPS)
def test_same_verdicts_as_a_plain_set(
    modulus: int, preloaded: list[tuple[str, int]], steps: list[tuple[int, list[str], str]]
) -> None:
    log, model = FakeLog(modulus), PlainWindow()
    for key, hour in preloaded:  # what an earlier process stored
        if key not in log.stored:
            log.stored[key] = hour * HOUR_MICROS + 7
            model.hour_of[key] = hour
    window = RecentIds(log, WINDOW)
    window.load(*log.recent())
    model.newest = max((h for h in model.hour_of.values()), default=-1)
    hour = max(model.newest, 0)
    for forward, keys, outcome in steps:
        hour += forward
        # Several arrival times in one group, in order (a group spans requests).
        arrivals = [hour * HOUR_MICROS + i for i in range(len(keys))]
        if outcome == "lookup fails":
            log.failing = True
            with pytest.raises(StorageError):
                window.claim(keys, arrivals)
            log.failing = False
            continue
        expected = model.judge(keys, [hour] * len(keys))
        assert window.claim(keys, arrivals) == expected
        if outcome == "append fails":
            window.forget()
            continue
        for key, arrival, new in zip(keys, arrivals, expected, strict=True):
            if new:
                log.stored[key] = arrival
                model.hour_of[key] = hour


def test_a_retry_is_confirmed_against_the_log_and_a_miss_is_not() -> None:
    log = FakeLog(2**64)
    window = RecentIds(log, WINDOW)
    assert window.claim(["web\x00a", "web\x00b"], [0, 0]) == [True, True]
    log.stored.update({"web\x00a": 0, "web\x00b": 0})
    assert window.claim(["web\x00c"], [1]) == [True]
    assert log.lookups == 0  # no fingerprint matched: nothing to confirm
    assert window.claim(["web\x00a", "web\x00d"], [2, 2]) == [False, True]
    assert log.lookups == 1


def test_a_collision_never_drops_a_new_message() -> None:
    log = FakeLog(1)  # every key has the same fingerprint
    window = RecentIds(log, WINDOW)
    for i in range(5):
        assert window.claim([f"web\x00m{i}"], [i * 1000]) == [True]
        log.stored[f"web\x00m{i}"] = i * 1000
    assert window.claim(["web\x00m2", "web\x00m9"], [9_000, 9_000]) == [False, True]


def test_memory_is_about_8_bytes_an_id_once_loaded_or_compacted() -> None:
    rng = np.random.default_rng(1)
    n = 200_000
    log = FakeLog(2**64)
    window = RecentIds(log, 25)
    window.load(
        rng.integers(0, 2**64 - 1, n, dtype=np.uint64),
        rng.integers(0, 25 * HOUR_MICROS, n, dtype=np.int64),
    )
    assert len(window) == n
    assert window.nbytes <= 8.5 * n
    # New ids arrive in sets, turned into sorted arrays past FRESH_LIMIT or the hour.
    hour = 24 * HOUR_MICROS
    keys = [f"web\x00new-{i}" for i in range(FRESH_LIMIT + 10)]
    assert all(window.claim(keys, [hour] * len(keys)))
    assert window.claim(["web\x00one-more"], [hour]) == [True]  # compacts first
    assert len(window) == n + len(keys) + 1
    assert window.nbytes <= 8.5 * (n + len(keys)) + 70 * 1


def test_forget_after_a_failed_append_spares_the_retry_a_lookup() -> None:
    log = FakeLog(2**64)
    window = RecentIds(log, WINDOW)
    assert window.claim(["web\x00a", "web\x00b"], [0, 0]) == [True, True]
    window.forget()  # the append failed: nothing was stored
    assert window.claim(["web\x00a", "web\x00b"], [1, 1]) == [True, True]
    assert log.lookups == 0  # a miss, not a hit the log had to refute


def test_an_hour_emptied_by_forget_is_not_saved_and_an_empty_run_is_ignored() -> None:
    log = FakeLog(2**64)
    window = RecentIds(log, WINDOW)
    assert window.claim(["web\x00a"], [0]) == [True]
    window.forget()
    assert window.hours() == {}
    window.restore(1, np.empty(0, np.uint64))  # e.g. read back from an empty file
    assert window.claim(["web\x00a"], [HOUR_MICROS]) == [True]
    assert list(window.hours()) == [1]
