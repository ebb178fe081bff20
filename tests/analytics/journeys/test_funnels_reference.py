"""The funnel engine (funnels_core.attempts on DuckDB, and funnels_walk, the in-process walk
the reports use on DuckDB) against a plain-Python reference on random small journeys, every
mode, people and entries; and the consistency properties: a
prefix of the steps never converts less than the whole funnel, and unordered ≥ ordered ≥
strict at every step."""

from __future__ import annotations

import itertools
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import ibis
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from empreinte.analytics.journeys import funnels_walk
from empreinte.analytics.journeys.funnels_core import add_entries, attempts
from empreinte.analytics.journeys.funnels_walk import sorted_rows, walk, walked_attempts
from empreinte.store.duckdb.analytics import DuckDBAnalytics

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NAMES = ("A", "B", "C", "D")  # funnel steps; "N" is any other touchpoint


@dataclass(frozen=True)
class Touch:
    person: str
    seconds: int
    seq: int
    name: str


# -- the reference: every attempt enumerated -------------------------------------------------


def _chains(
    touches: list[Touch], steps: tuple[str, ...], window: int, strict: bool
) -> list[tuple[int, ...]]:
    """Every valid chain (indices into the person's touchpoints in time order) reaching at
    least step 1, of every length."""
    found: list[tuple[int, ...]] = []
    for length in range(1, len(steps) + 1):
        for chain in itertools.combinations(range(len(touches)), length):
            if any(touches[i].name != steps[k] for k, i in enumerate(chain)):
                continue
            if strict and any(b != a + 1 for a, b in itertools.pairwise(chain)):
                continue
            if touches[chain[-1]].seconds - touches[chain[0]].seconds > window:
                continue
            found.append(chain)
    return found


def reference_ordered(
    touches: list[Touch], steps: tuple[str, ...], window: int, strict: bool
) -> tuple[int, list[int]]:
    """(furthest step, times of its steps): the chain that reaches the furthest step first;
    then, backwards, the latest touchpoint of each earlier step that still makes a chain."""
    chains = _chains(touches, steps, window, strict)
    if not chains:
        return 0, []
    depth = max(len(c) for c in chains)
    deepest = [c for c in chains if len(c) == depth]
    # first to reach the last step, then the latest earlier steps (lexicographic, backwards)
    chosen = min(deepest, key=lambda c: (c[-1], *[-i for i in reversed(c[:-1])]))
    return depth, [touches[i].seconds for i in chosen]


def reference_unordered(touches: list[Touch], steps: tuple[str, ...], window: int) -> int:
    """The most leading steps 1..k all done (in any order) within one window."""
    best = 0
    for start in touches:
        if start.name not in steps:
            continue
        inside = {t.name for t in touches if 0 <= t.seconds - start.seconds <= window}
        inside &= {t.name for t in touches if (t.seconds, t.seq) >= (start.seconds, start.seq)}
        level = 0
        while level < len(steps) and steps[level] in inside:
            level += 1
        best = max(best, level)
    return best


def reference_entries(
    touches: list[Touch], steps: tuple[str, ...], window: int
) -> list[list[Touch]]:
    """A person's touchpoints cut into entries (ordered mode): a step-1 touchpoint more than
    `window` after the previous step-1 touchpoint starts the next entry."""
    entries: list[list[Touch]] = []
    last: int | None = None
    for touch in touches:
        if touch.name == steps[0] and (last is None or touch.seconds > last + window):
            entries.append([])
        if touch.name == steps[0]:
            last = touch.seconds
        if entries:
            entries[-1].append(touch)
    return entries


# -- the engine on the same touchpoints ------------------------------------------------------


def table_of(touches: list[Touch], steps: tuple[str, ...]) -> ibis.Table:
    frame = pd.DataFrame(
        {
            "profile_id": [t.person for t in touches],
            "at": [T0 + timedelta(seconds=t.seconds) for t in touches],
            "seq": [t.seq for t in touches],
            "step": [t.name for t in touches],
        }
    )
    table = ibis.memtable(frame)
    return table.mutate(**{f"m{k}": table.step == s for k, s in enumerate(steps, start=1)})


def engine(
    touches: list[Touch],
    steps: tuple[str, ...],
    window: int,
    mode: str,
    entries: bool = False,
    plan: str = "auto",
) -> pd.DataFrame:
    table = table_of(touches, steps)
    if mode != "strict":
        table = table.filter(table.step.isin(list(steps)))
    if entries:
        table = add_entries(table, timedelta(seconds=window), first_step_only=mode != "unordered")
    if plan == "walk":
        assert mode == "ordered" and not entries, "the walk counts people in ordered mode"
        walked = walked_attempts(WALK, table, len(steps), timedelta(seconds=window))
        return WALK.to_pyarrow(walked).to_pandas()
    found = attempts(
        table, len(steps), timedelta(seconds=window), mode=mode, entries=entries, plan=plan
    )
    frame: pd.DataFrame = CON.execute(found)
    return frame


CON = ibis.duckdb.connect()
WALK = DuckDBAnalytics(duckdb.connect())  # as a workspace's reports have it


def seconds_of(value: Any) -> int:
    moment = pd.Timestamp(value)
    if moment.tzinfo is None:
        moment = moment.tz_localize("UTC")
    return int((moment - pd.Timestamp(T0)).total_seconds())


def by_person(touches: list[Touch]) -> dict[str, list[Touch]]:
    people: dict[str, list[Touch]] = {}
    for touch in sorted(touches, key=lambda t: (t.person, t.seconds, t.seq)):
        people.setdefault(touch.person, []).append(touch)
    return people


def reach(depths: list[int], steps: int) -> list[int]:
    return [sum(1 for d in depths if d >= k) for k in range(1, steps + 1)]


# -- random journeys ---------------------------------------------------------------------------

journeys = st.lists(
    st.tuples(
        st.integers(0, 29),  # the person
        st.integers(0, 40),
        st.sampled_from([*NAMES, "N"]),
    ),
    min_size=1,
    max_size=120,
).map(lambda rows: [Touch(f"p{p}", s, i, n) for i, (p, s, n) in enumerate(rows)])
windows = st.sampled_from([5, 10, 20, 60])
# Each example runs a few queries on many small journeys at once: few examples suffice.
FAST = settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_journeys(seed: int, people: int = 300) -> list[Touch]:
    rng = random.Random(seed)
    touches: list[Touch] = []
    for p in range(people):
        for _ in range(rng.randint(1, 8)):
            name = rng.choice([*NAMES[:3], "N"])
            touches.append(Touch(f"p{p}", rng.randint(0, 40), len(touches), name))
    return touches


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(
    ("mode", "plan"),
    [
        ("ordered", "walk"),
        ("ordered", "asof"),
        ("ordered", "layered"),
        ("ordered", "chained"),
        ("strict", "auto"),
    ],
)
def test_ordered_and_strict_match_the_reference(seed: int, mode: str, plan: str) -> None:
    touches, window = random_journeys(seed), 10 * seed
    steps = NAMES[:3]
    got = engine(touches, steps, window, mode, plan=plan).set_index("profile_id")
    for person, mine in by_person(touches).items():
        depth, times = reference_ordered(mine, steps, window, strict=mode == "strict")
        if depth == 0:
            assert person not in got.index
            continue
        row = got.loc[person]
        assert row["depth"] == depth
        engine_times = [seconds_of(row[f"t{j}"]) for j in range(1, depth + 1)]
        assert engine_times == times


@pytest.mark.parametrize("seed", [3, 4])
def test_unordered_matches_the_reference(seed: int) -> None:
    touches, window = random_journeys(seed), 5 * seed
    steps = NAMES[:3]
    got = engine(touches, steps, window, "unordered").set_index("profile_id")
    for person, mine in by_person(touches).items():
        depth = reference_unordered(mine, steps, window)
        assert (got.loc[person, "depth"] if person in got.index else 0) == depth


@pytest.mark.parametrize("seed", [5, 6])
@pytest.mark.parametrize("plan", ["asof", "layered", "chained"])
def test_entries_match_the_reference(seed: int, plan: str) -> None:
    touches, window = random_journeys(seed), 2 * seed
    steps = NAMES[:3]
    got = engine(touches, steps, window, "ordered", entries=True, plan=plan)
    expected: list[int] = []
    for mine in by_person(touches).values():
        for entry in reference_entries(mine, steps, window):
            expected.append(reference_ordered(entry, steps, window, strict=False)[0])
    assert reach(list(got["depth"]), 3) == reach(expected, 3)


@pytest.mark.parametrize("plan", ["asof", "walk"])
@pytest.mark.parametrize("steps", [NAMES, ("A", "A", "B"), ("A", "B", "A", "C")])
@FAST
@given(touches=journeys, window=windows)
def test_the_asof_plan_and_the_walk_match_the_reference(
    plan: str, steps: tuple[str, ...], touches: list[Touch], window: int
) -> None:
    # Many touchpoints share a second here, and a repeated step makes one touchpoint match
    # two steps: the strict (at, seq) order of the ASOF key and of the walk's sort is
    # exercised, and a touchpoint never extends its own attempt.
    got = engine(touches, steps, window, "ordered", plan=plan).set_index("profile_id")
    for person, mine in by_person(touches).items():
        depth, times = reference_ordered(mine, steps, window, strict=False)
        if depth == 0:
            assert person not in got.index
            continue
        row = got.loc[person]
        assert row["depth"] == depth
        assert [seconds_of(row[f"t{j}"]) for j in range(1, depth + 1)] == times


@FAST
@given(journeys, windows)
def test_the_asof_plan_carries_entries_and_positions_as_the_layered_one(
    touches: list[Touch], window: int
) -> None:
    table = table_of(touches, NAMES)
    table = table.filter(table.step.isin(list(NAMES)))
    order = ibis.window(group_by=table.profile_id, order_by=[table.at, table.seq])
    table = table.mutate(pos=ibis.row_number().over(order))
    table = add_entries(table, timedelta(seconds=window), first_step_only=True)
    found = {}
    for plan in ("asof", "layered"):
        expr = attempts(
            table,
            len(NAMES),
            timedelta(seconds=window),
            mode="ordered",
            entries=True,
            positions=True,
            plan=plan,
        )
        frame = CON.execute(expr).sort_values(["profile_id", "entry"]).reset_index(drop=True)
        found[plan] = frame
    pd.testing.assert_frame_equal(found["asof"], found["layered"])


def test_the_walk_takes_the_longest_window_a_timedelta_holds() -> None:
    # 999,999,999 days is 8.6e19 µs, beyond 64 bits: a start plus it must not wrap around.
    touches, window = random_journeys(7), 86_400 * 999_999_999
    got = engine(touches, NAMES[:3], window, "ordered", plan="walk").set_index("profile_id")
    for person, mine in by_person(touches).items():
        depth, _ = reference_ordered(mine, NAMES[:3], window, strict=False)
        assert (got.loc[person, "depth"] if person in got.index else 0) == depth


@FAST
@given(journeys, windows)
@example([Touch("p0", 0, 0, "A"), Touch("p0", 1, 1, "B"), Touch("p1", 0, 2, "A")], 10)
def test_the_walk_carries_positions_as_the_asof_plan(touches: list[Touch], window: int) -> None:
    table = table_of(touches, NAMES)
    table = table.filter(table.step.isin(list(NAMES)))
    order = ibis.window(group_by=table.profile_id, order_by=[table.at, table.seq])
    table = table.mutate(pos=ibis.row_number().over(order))
    span = timedelta(seconds=window)
    asof = attempts(table, len(NAMES), span, mode="ordered", positions=True, plan="asof")
    walked = walked_attempts(WALK, table, len(NAMES), span, positions=True)
    expected = CON.execute(asof).sort_values("profile_id").reset_index(drop=True)
    got = WALK.to_pyarrow(walked).to_pandas().sort_values("profile_id").reset_index(drop=True)
    # The same instants in the same unit: Arrow keeps microseconds, Ibis's pandas nanoseconds
    # (compared unconverted, a column with a NaT compared the raw integers).
    got = got[expected.columns].astype(expected.dtypes.to_dict())
    pd.testing.assert_frame_equal(got, expected)


@FAST
@given(journeys, windows)
@example([Touch("p0", 0, 0, "A"), Touch("p0", 1, 1, "B"), Touch("p1", 0, 2, "A")], 10)
def test_the_walk_in_parts_is_the_walk_in_one(touches: list[Touch], window: int) -> None:
    # The rows come in batches, and are cut at people's boundaries into parts walked in
    # threads: batches that end inside a person's rows, a person over several batches, more
    # parts than people — nothing may change.
    table = table_of(touches, NAMES)
    order = ibis.window(group_by=table.profile_id, order_by=[table.at, table.seq])
    table = table.mutate(pos=ibis.row_number().over(order))
    rows = WALK.to_pyarrow(sorted_rows(table, len(NAMES), positions=True))
    span = timedelta(seconds=window)

    def walked(batch: int, part: int) -> pa.Table:
        reader = pa.RecordBatchReader.from_batches(rows.schema, rows.to_batches(batch))
        return walk(reader, len(NAMES), span, positions=True, part_rows=part)

    whole = walked(len(touches), len(touches))
    for batch, part in [(1, 1), (1, 5), (3, 2), (7, 20), (len(touches), 3)]:
        assert walked(batch, part).equals(whole)


def test_people_sharing_a_sort_key_are_walked_by_their_ids() -> None:
    # Text ids are sorted by a hash; two people with one hash would have their rows mixed.
    # A key that many ids share ("p0" … "p299" by length) must be caught, and the walk
    # then sorts by the ids themselves and still matches the reference.
    touches, window = random_journeys(11), 20
    table = table_of(touches, NAMES)
    by_length = sorted_rows(table, len(NAMES), person_key=lambda p: p.length())
    reader = WALK.to_pyarrow_batches(by_length, 64)
    assert walk(reader, len(NAMES), timedelta(seconds=window)) is None
    reader.close()
    walked = walked_attempts(
        WALK, table, len(NAMES), timedelta(seconds=window), person_key=lambda p: p.length()
    )
    got = WALK.to_pyarrow(walked).to_pandas().set_index("profile_id")
    for person, mine in by_person(touches).items():
        depth, times = reference_ordered(mine, NAMES, window, strict=False)
        assert (got.loc[person, "depth"] if person in got.index else 0) == depth
        if depth:
            assert [seconds_of(got.loc[person, f"t{j}"]) for j in range(1, depth + 1)] == times


@FAST
@given(journeys, windows)
def test_prefixes_and_modes_are_consistent(touches: list[Touch], window: int) -> None:
    counts: dict[str, list[int]] = {}
    for mode in ("strict", "ordered", "unordered"):
        found = engine(touches, NAMES, window, mode)
        counts[mode] = reach(list(found["depth"]), len(NAMES))
        full = counts[mode][-1] / counts[mode][0] if counts[mode][0] else 0.0
        for k in (2, 3):
            prefix = reach(list(engine(touches, NAMES[:k], window, mode)["depth"]), k)
            assert prefix == counts[mode][:k]  # the first steps do not depend on later ones
            assert (prefix[-1] / prefix[0] if prefix[0] else 0.0) >= full
    for k in range(len(NAMES)):
        assert counts["unordered"][k] >= counts["ordered"][k] >= counts["strict"][k]


def test_reference_on_a_journey_checked_by_eye() -> None:
    # A at 0 and 3, B at 5, C at 30: window 20 → A(3) → B(5), C too late; window 30 → all
    # three, from the latest A.
    mine = [
        Touch("p", s, i, n) for i, (s, n) in enumerate([(0, "A"), (3, "A"), (5, "B"), (30, "C")])
    ]
    assert reference_ordered(mine, ("A", "B", "C"), 20, strict=False) == (2, [3, 5])
    assert reference_ordered(mine, ("A", "B", "C"), 30, strict=False) == (3, [3, 5, 30])
    assert reference_ordered(mine, ("A", "B", "C"), 30, strict=True) == (3, [3, 5, 30])
    assert reference_unordered(mine, ("C", "B"), 25) == 2


@pytest.mark.parametrize("threads", [1, 2])
def test_the_walk_keeps_to_the_threads_of_the_engine(
    threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A workspace may give its engine fewer threads than the machine has cores
    # (`[storage] threads`): the walk in this process must not take more.
    pools: list[int] = []

    class Pool(ThreadPoolExecutor):
        def __init__(self, max_workers: int) -> None:
            pools.append(max_workers)
            super().__init__(max_workers)

    monkeypatch.setattr(funnels_walk, "ThreadPoolExecutor", Pool)
    cursor = duckdb.connect()
    cursor.execute(f"SET threads = {threads}")
    engine = DuckDBAnalytics(cursor)
    touches, window = random_journeys(12), 20
    walked = walked_attempts(
        engine, table_of(touches, NAMES), len(NAMES), timedelta(seconds=window)
    )
    assert pools == [threads]
    got = engine.to_pyarrow(walked).to_pandas().set_index("profile_id")
    for person, mine in by_person(touches).items():
        depth, _ = reference_ordered(mine, NAMES, window, strict=False)
        assert (got.loc[person, "depth"] if person in got.index else 0) == depth
