"""The ledger's invariants for any sequence of operations (Hypothesis): a balance is the sum
of an account's rows and matches a model kept by hand, the whole ledger sums to zero, a
member's account never goes below zero, a source posts once; and expiry takes the oldest
points first, compared with a unit-by-unit model."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import empreinte
from empreinte.activate.loyalty import ledger as accounts
from empreinte.store.loyalty_store import Entry, LoyaltyStore, Posted, Transaction

T0 = datetime(2025, 1, 1, tzinfo=UTC)
_examples = itertools.count()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoyaltyStore]:
    ws = empreinte.open(tmp_path_factory.mktemp("ledger") / "ws")
    yield ws.engine.loyalty_store()
    ws.close()


operation = st.one_of(
    st.tuples(st.just("earn"), st.integers(0, 2), st.integers(1, 500), st.integers(0, 400)),
    st.tuples(st.just("redeem"), st.integers(0, 2), st.integers(1, 700), st.just(0)),
    st.tuples(st.just("expire"), st.integers(0, 2), st.just(0), st.integers(0, 800)),
    st.tuples(st.just("repeat"), st.integers(0, 2), st.just(0), st.just(0)),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(operation, max_size=25))
def test_balances_are_sums_and_never_negative(
    store: LoyaltyStore, ops: list[tuple[str, int, int, int]]
) -> None:
    run = next(_examples)
    people = [f"p{run}-{i}" for i in range(3)]
    model = dict.fromkeys(people, 0)
    last: Transaction | None = None
    for n, (kind, who, points, day) in enumerate(ops):
        pid = people[who]
        account = accounts.member(pid)
        if kind == "earn":
            lot = T0 + timedelta(days=day)
            txn = Transaction(
                f"t{run}-{n}",
                "earn",
                "purchase",
                "test",
                lot,
                (Entry(account, points, pid, lot), Entry(accounts.ISSUED, -points)),
            )
            assert store.post(txn) is Posted.POSTED
            model[pid] += points
            last = txn
        elif kind == "redeem":
            txn = Transaction(
                f"t{run}-{n}",
                "redeem",
                "redemption",
                "test",
                T0,
                (Entry(account, -points, pid), Entry(accounts.REDEEMED, points)),
            )
            posted = store.post(txn, [account])
            assert posted is (Posted.POSTED if points <= model[pid] else Posted.INSUFFICIENT)
            if posted is Posted.POSTED:
                model[pid] -= points
        elif kind == "expire":
            now = T0 + timedelta(days=day)
            balance = store.balances([account])[account]
            lots = accounts.lapsed(store.credits(account), balance, now, timedelta(days=365))
            if lots:
                gone = sum(n for _, n in lots)
                txn = Transaction(
                    f"x{run}-{n}",
                    "expire",
                    "expiry",
                    "test",
                    now,
                    (Entry(account, -gone, pid, lots[-1][0]), Entry(accounts.EXPIRED, gone)),
                )
                assert store.post(txn, [account]) is Posted.POSTED
                model[pid] -= gone
        elif last is not None:  # the same source again: nothing moves
            assert store.post(last) is Posted.DUPLICATE
    balances = store.balances([accounts.member(p) for p in people])
    assert balances == {accounts.member(p): model[p] for p in people}
    assert all(v >= 0 for v in balances.values())
    assert store.sum_all() == 0


def _unit_model(credits: list[tuple[int, int]], debits: int, cutoff: int) -> list[tuple[int, int]]:
    """One point at a time: debits take the oldest points, what is left of old lots lapses."""
    units = [lot for lot, points in credits for _ in range(points)]
    left = units[debits:]
    lapsed: dict[int, int] = {}
    for lot in left:
        if lot <= cutoff:
            lapsed[lot] = lapsed.get(lot, 0) + 1
    return sorted(lapsed.items())


@given(
    st.lists(st.tuples(st.integers(0, 30), st.integers(1, 20)), max_size=12),
    st.integers(0, 200),
    st.integers(0, 40),
)
def test_expiry_takes_the_oldest_points_first(
    raw: list[tuple[int, int]], debits: int, cutoff: int
) -> None:
    credits = sorted(raw)
    debits = min(debits, sum(p for _, p in credits))
    dated = [(T0 + timedelta(days=d), p) for d, p in credits]
    balance = sum(p for _, p in credits) - debits
    now = T0 + timedelta(days=cutoff + 10)
    got = accounts.lapsed(dated, balance, now, timedelta(days=10))
    merged: dict[int, int] = {}
    for lot, points in got:
        day = (lot - T0).days
        merged[day] = merged.get(day, 0) + points
    assert sorted(merged.items()) == _unit_model(credits, debits, cutoff)


@given(st.integers(0, 10_000), st.floats(0, 1))
def test_a_reward_split_sums_to_the_reward(reward: int, share: float) -> None:
    retailer, brand = accounts.split(reward, share)
    assert retailer + brand == reward and retailer >= 0 and brand >= 0
    assert abs(brand - reward * share) <= 0.5
