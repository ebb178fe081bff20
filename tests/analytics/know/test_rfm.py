"""RFM (analytics/know/rfm.py) on ten hand-built customers whose scores can be read off the
table below, at 2026-04-01 00:00 UTC."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import empreinte
from empreinte.analytics.know.purchases import purchases
from empreinte.analytics.know.rfm import (
    SEGMENT_NAMES,
    SEGMENTS,
    _score,
    rfm_report,
    rfm_scores,
    segment_expr,
    segment_of,
)
from empreinte.errors import AnalyticsError
from empreinte.workspace import Workspace

REFERENCE = datetime(2026, 4, 1, tzinfo=UTC)
GRANTED = datetime(2025, 1, 1, tzinfo=UTC)

# user: (days before the reference of the last order, orders, total value, country) and the
# scores that follow: R by recency (2 customers a quintile), F and M by value; the three
# one-order customers tie and share the lowest F score, 1.
PEOPLE: dict[str, tuple[int, int, float, str]] = {
    "c0": (1, 8, 800.0, "FR"),
    "c1": (2, 1, 10.0, "FR"),
    "c2": (5, 6, 600.0, "FR"),
    "c3": (8, 2, 50.0, "FR"),
    "c4": (20, 5, 500.0, "FR"),
    "c5": (30, 3, 100.0, "DE"),
    "c6": (60, 7, 700.0, "DE"),
    "c7": (90, 1, 20.0, "DE"),
    "c8": (200, 4, 400.0, "DE"),
    "c9": (300, 1, 5.0, "DE"),
}
EXPECTED: dict[str, tuple[int, int, int, str]] = {
    "c0": (5, 5, 5, "champions"),
    "c1": (5, 1, 1, "new customers"),
    "c2": (4, 4, 4, "champions"),
    "c3": (4, 2, 2, "potential loyalists"),
    "c4": (3, 4, 4, "loyal customers"),
    "c5": (3, 3, 3, "loyal customers"),
    "c6": (2, 5, 5, "at risk"),
    "c7": (2, 1, 2, "hibernating"),
    "c8": (1, 3, 3, "at risk"),
    "c9": (1, 1, 1, "lost"),
}


def _consent(user: str, purpose: str = "analytics") -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Consent Updated",
        "userId": user,
        "properties": {"purpose": purpose, "granted": True, "wording_version": "v1"},
        "timestamp": GRANTED.isoformat(),
    }


def _order(user: str, at: datetime, value: float, key: str = "revenue", **extra: Any) -> Any:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": user,
        "properties": {key: value, "currency": "EUR", **extra},
        "timestamp": at.isoformat(),
        "context": {"channel": "web"},
    }


def messages() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for user, (ago, orders, total, country) in PEOPLE.items():
        out.append(_consent(user))
        out.append({"type": "identify", "userId": user, "traits": {"country": country}})
        last = REFERENCE - timedelta(days=ago) + timedelta(hours=12)
        # c3's orders carry `total`, not `revenue`: the value falls back on it.
        key = "total" if user == "c3" else "revenue"
        for k in range(orders):
            out.append(_order(user, last - timedelta(days=k), total / orders, key))
    # A pound order of c0: another currency, left out and counted.
    out.append(_order("c0", REFERENCE - timedelta(days=3), 999.0, currency="GBP"))
    # zed never allowed analytics: not read at all.
    out.append(_order("zed", REFERENCE - timedelta(days=1), 5000.0))
    # An order after the reference is not counted.
    out.append(_order("c9", REFERENCE + timedelta(days=2), 70.0))
    return out


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with empreinte.open(Path(tmp_path_factory.mktemp("rfm"))) as ws:
        report = ws.ingest(messages(), source="web")
        assert not report.rejected, report.rejected
        ws.flush()
        yield ws


def _users(ws: Workspace) -> dict[str, str]:
    """profile id → user id."""
    with ws.analytics() as log:
        owned = log.with_owner(log.events().select("seq", "identifiers", "user_id"))
        rows = log.execute(owned.select("profile_id", "user_id").distinct())
    return {r.profile_id: r.user_id for r in rows.itertuples() if r.user_id}


def test_scores_and_segments_are_the_hand_computed_ones(shop: Workspace) -> None:
    report = shop.know.rfm(at=REFERENCE)
    users = _users(shop)
    got = {
        users[row.profile_id]: (row.r, row.f, row.m, row.segment)
        for row in report.customers.itertuples()
    }
    assert got == EXPECTED
    values = {
        users[row.profile_id]: (row.recency, row.frequency, row.monetary)
        for row in report.customers.itertuples()
    }
    assert values == {user: (ago, n, total) for user, (ago, n, total, _) in PEOPLE.items()}
    assert report.currency == "EUR" and report.excluded_orders == 1
    assert report.customers["rfm"].tolist() == [
        f"{r}{f}{m}" for r, f, m in report.customers[["r", "f", "m"]].itertuples(index=False)
    ]


def test_segment_sizes_shares_and_revenue(shop: Workspace) -> None:
    rows = {row["segment"]: row for row in shop.know.rfm(at=REFERENCE).to_rows()}
    assert list(rows) == list(SEGMENT_NAMES)
    sizes = {name: row["customers"] for name, row in rows.items() if row["customers"]}
    assert sizes == {
        "champions": 2,
        "loyal customers": 2,
        "potential loyalists": 1,
        "new customers": 1,
        "at risk": 2,
        "hibernating": 1,
        "lost": 1,
    }
    assert rows["champions"]["share"] == pytest.approx(0.2)
    assert rows["champions"]["revenue"] == pytest.approx(1400.0)
    assert rows["at risk"]["revenue_share"] == pytest.approx(1100.0 / 3185.0)
    assert rows["cannot lose them"]["mean_recency"] is None


def test_the_default_reference_is_the_day_after_the_latest_order(shop: Workspace) -> None:
    # The latest order is c9's of 2026-04-03 (00:00): the reference is the next midnight.
    report = shop.know.rfm()
    assert report.reference == datetime(2026, 4, 4, tzinfo=UTC)
    recency = dict(zip(report.customers["profile_id"], report.customers["recency"], strict=True))
    users = {v: k for k, v in _users(shop).items()}
    assert recency[users["c9"]] == 1  # that order counts now
    assert recency[users["c0"]] == 4


def test_breakdown_by_country(shop: Workspace) -> None:
    report = shop.know.rfm(at=REFERENCE, by="country")
    rows = {(r["group"], r["segment"]): r for r in report.to_rows()}
    assert rows[("FR", "champions")]["customers"] == 2
    assert rows[("FR", "champions")]["share"] == pytest.approx(2 / 5)
    assert rows[("DE", "at risk")]["customers"] == 2
    assert rows[("DE", "at risk")]["revenue"] == pytest.approx(1100.0)
    assert sum(r["customers"] for r in report.to_rows()) == 10
    with pytest.raises(AnalyticsError, match="profile attribute"):
        shop.know.rfm(at=REFERENCE, by="properties.currency")


def test_rfm_scores_for_the_computed_traits(shop: Workspace) -> None:
    with shop.analytics() as log:
        scores = rfm_scores(log, at=REFERENCE)
    assert list(scores.columns) == ["profile_id", "rfm_segment", "r", "f", "m"]
    users = _users(shop)
    assert {
        users[p]: s for p, s in zip(scores["profile_id"], scores["rfm_segment"], strict=True)
    } == {user: expected[3] for user, expected in EXPECTED.items()}


def test_a_chosen_currency_reads_only_its_orders(shop: Workspace) -> None:
    with shop.analytics() as log:
        pounds = purchases(log, currency="gbp")
        # Left out: every euro order of the log, zed's and c9's later one included (the
        # currencies are counted over all orders, a count that profiles nobody).
        assert pounds.currency == "GBP" and pounds.excluded_currencies == ("EUR",)
        assert pounds.excluded == sum(n for _, n, _, _ in PEOPLE.values()) + 2
        report = rfm_report(log, at=REFERENCE, currency="GBP")
    assert len(report.customers) == 1 and report.customers["monetary"].tolist() == [999.0]


def test_the_segment_map_names_every_cell_once() -> None:
    for r, f, m in itertools.product(range(1, 6), repeat=3):
        matches = [
            name
            for name, rules in SEGMENTS
            if any(lo <= r <= hi and fm_lo <= f + m <= fm_hi for (lo, hi), (fm_lo, fm_hi) in rules)
        ]
        assert len(matches) == 1, (r, f, m, matches)
        assert segment_of(r, f, m) == matches[0]


def test_the_engine_map_is_the_python_one() -> None:
    cells = list(itertools.product(range(1, 6), repeat=3))
    table = ibis.memtable(
        {"r": [c[0] for c in cells], "f": [c[1] for c in cells], "m": [c[2] for c in cells]}
    )
    named = table.mutate(segment=segment_expr(table.r, table.f, table.m)).execute()
    for row in named.itertuples():
        assert row.segment == segment_of(row.r, row.f, row.m)


@given(st.lists(st.integers(0, 6), min_size=1, max_size=40))
@settings(max_examples=40, deadline=None)
def test_scores_are_the_ntile_of_the_first_of_the_tied(values: list[int]) -> None:
    # The reference: positions split into 5 runs as SQL's NTILE does (np.array_split: the
    # first n mod 5 runs one longer), then each value takes the run of its first position.
    ordered = sorted(values)
    runs = np.array_split(np.arange(len(values)), 5)
    tile_at = {int(k): i + 1 for i, run in enumerate(runs) for k in run}
    first = {v: ordered.index(v) for v in set(values)}
    expected = [tile_at[first[v]] for v in values]
    table = ibis.memtable({"v": values, "i": list(range(len(values)))})
    table = table.mutate(_n=table.count().over(ibis.window()))
    scored = _score(table, "v", table._n).execute().sort_values("i")
    assert scored["_v"].tolist() == expected


def test_a_reference_within_a_day_reads_the_orders_before_it(shop: Workspace) -> None:
    # At 2026-04-02 06:00, c9's order of 2026-04-03 is not read yet, and 04-02 counts as
    # read (the reference day is 2026-04-03).
    report = shop.know.rfm(at=REFERENCE + timedelta(days=1, hours=6))
    users = {v: k for k, v in _users(shop).items()}
    recency = dict(zip(report.customers["profile_id"], report.customers["recency"], strict=True))
    assert recency[users["c9"]] == 300 + 2
    assert recency[users["c0"]] == 1 + 2
