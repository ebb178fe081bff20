"""Cohort retention (analytics/journeys/retention.py) on hand-built cohorts read by eye.

Week 2026-W10 begins on Monday 2 March 2026. In UTC:

    a: signs up Mon W10, orders in W11 and W13
    b: signs up Wed W10, orders later that Wednesday and in W12
    c: signs up Fri W10, never orders
    d: signs up Tue W11, orders in W12
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from empreinte.analytics.journeys.retention import ALL_COHORTS, RetentionReport, retention
from empreinte.analytics.journeys.touchpoints import JourneyScope
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

from .paths_journeys import Message, at, identify, journeys, track

SIGN_UP, ORDER = "Signed Up", "Order Completed"


def _log() -> list[Message]:
    return [
        track("a", SIGN_UP, at(0)),
        track("a", ORDER, at(0, days=7)),
        track("a", ORDER, at(0, days=21)),
        track("b", SIGN_UP, at(0, days=2)),
        track("b", ORDER, at(60, days=2)),
        track("b", ORDER, at(0, days=16)),
        track("c", SIGN_UP, at(0, days=4)),
        track("c", "Product Viewed", at(10, days=4)),
        track("d", SIGN_UP, at(0, days=8)),
        track("d", ORDER, at(0, days=14)),
        identify("a", "anon-a", at(0)),
        identify("b", "anon-b", at(0)),
        {**identify("c", "anon-c", at(0)), "traits": {"plan": "free"}},
        {**identify("d", "anon-d", at(0)), "traits": {"plan": "free"}},
    ]


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsLog]:
    with journeys(tmp_path_factory.mktemp("retention"), _log()) as opened:
        yield opened


def cells(
    report: RetentionReport, group: str | None = None
) -> dict[tuple[str, int], tuple[int, int, int]]:
    """(cohort, bucket) → (size, returned in the bucket, returned in it or later)."""
    return {
        (c.cohort, c.bucket): (c.size, c.returned, c.unbounded)
        for c in report.cells
        if c.group == group
    }


def test_weekly_retention_of_a_three_person_cohort(log: AnalyticsLog) -> None:
    report = retention(log, period="week", start=SIGN_UP, returning=ORDER, periods=4)
    found = cells(report)
    # the data ends in W13 (a's last order): W10 sees buckets 0-3, W11 buckets 0-2
    assert {k: v for k, v in found.items() if k[0] == "2026-W10"} == {
        ("2026-W10", 0): (3, 1, 2),  # b ordered the day they signed up; a and b come back
        ("2026-W10", 1): (3, 1, 2),  # a in W11; a (W13) and b (W12) later
        ("2026-W10", 2): (3, 1, 2),  # b in W12
        ("2026-W10", 3): (3, 1, 1),  # a in W13
    }
    assert {k: v for k, v in found.items() if k[0] == "2026-W11"} == {
        ("2026-W11", 0): (1, 0, 1),
        ("2026-W11", 1): (1, 1, 1),
        ("2026-W11", 2): (1, 0, 0),
    }
    # every cohort that has reached a bucket, pooled
    assert found[(ALL_COHORTS, 1)] == (4, 2, 3)
    assert found[(ALL_COHORTS, 3)] == (3, 1, 1)
    rate = next(c for c in report.cells if (c.cohort, c.bucket) == ("2026-W10", 0))
    assert (rate.rate, rate.unbounded_rate) == (1 / 3, 2 / 3)


def test_unbounded_counts_returns_beyond_the_last_bucket(log: AnalyticsLog) -> None:
    report = retention(log, period="week", start=SIGN_UP, returning=ORDER, periods=1)
    found = cells(report)
    assert found[("2026-W10", 1)] == (3, 1, 2)  # b's return in W12 is past bucket 1: still counted
    assert ("2026-W10", 2) not in found


def test_day_buckets_are_calendar_days(log: AnalyticsLog) -> None:
    report = retention(log, period="week", bucket="day", start=SIGN_UP, returning=ORDER, periods=7)
    found = cells(report)
    assert found[("2026-W10", 0)] == (3, 1, 2)  # b, an hour later
    assert found[("2026-W10", 7)] == (3, 1, 2)  # a, a week to the day
    assert found[("2026-W10", 6)] == (3, 0, 2)


def test_default_steps_are_any_touchpoint(log: AnalyticsLog) -> None:
    report = retention(log, period="month", periods=1)
    found = cells(report)
    # March: a, b, c, d start (their sign-up); all but c... c views a product 10 min later
    assert found[("2026-03", 0)] == (4, 4, 4)
    assert report.start == report.returning == "(any touchpoint)"


def test_breakdown_by_a_profile_attribute(log: AnalyticsLog) -> None:
    report = retention(
        log, period="week", start=SIGN_UP, returning=ORDER, periods=4, by="traits.plan"
    )
    assert cells(report, "pro")[("2026-W10", 1)] == (2, 1, 2)
    assert cells(report, "free")[("2026-W10", 1)] == (1, 0, 0)
    assert cells(report, "free")[("2026-W11", 1)] == (1, 1, 1)
    assert set(report.to_pandas().columns) >= {"cohort", "group", "rate", "unbounded_rate"}


def test_scope_until_ends_the_observation(log: AnalyticsLog) -> None:
    scope = JourneyScope(until=utc(2026, 3, 16))  # Monday of W12, midnight, excluded
    report = retention(log, period="week", start=SIGN_UP, returning=ORDER, scope=scope)
    found = cells(report)
    assert max(b for k, b in found if k == "2026-W10") == 1  # W12 has not begun
    assert found[("2026-W10", 1)] == (3, 1, 1)  # b's return in W12 is outside the scope


def test_rates_are_shares_and_unbounded_is_at_least_bounded(log: AnalyticsLog) -> None:
    for bucket in ("day", "week", "month"):
        report = retention(log, period="week", bucket=bucket, periods=30)
        assert report.cells
        for c in report.cells:
            assert 0 <= c.rate <= c.unbounded_rate <= 1
        by_cohort: dict[str, list[int]] = {}
        for c in report.cells:
            by_cohort.setdefault(c.cohort, []).append(c.unbounded)
        for counts in by_cohort.values():
            assert counts == sorted(counts, reverse=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"period": "day"}, "cohort period"),
        ({"bucket": "year"}, "bucket"),
        ({"periods": 0}, "periods"),
        ({"start": "Never Happened"}, "unknown step 'Never Happened'"),
        ({"returning": "Never Happened"}, "unknown step"),
        ({"by": "source"}, "source"),
        ({"by": "nonsense"}, "unknown attribute"),
    ],
)
def test_bad_input_names_what_is_wrong(
    log: AnalyticsLog, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(AnalyticsError, match=message):
        retention(log, **kwargs)  # type: ignore[arg-type]


# -- in a time zone with daylight saving time -----------------------------------------------


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_cohorts_and_buckets_in_the_workspace_time_zone(tmp_path: Path) -> None:
    # Paris is on summer time (UTC+2) from Sunday 29 March 2026, 02:00.
    messages = [
        # Tuesday 31 March 23:30 in Paris: a March cohort (UTC says the same day)
        track("m", SIGN_UP, utc(2026, 3, 31, 21, 30)),
        # Wednesday 1 April 00:30 in Paris, still 31 March in UTC: bucket 1 of the month
        track("m", ORDER, utc(2026, 3, 31, 22, 30)),
        # Sunday 29 March 23:30 in Paris (W13); Monday 30 March 00:30 in Paris (W14)
        track("w", SIGN_UP, utc(2026, 3, 29, 21, 30)),
        track("w", ORDER, utc(2026, 3, 29, 22, 30)),
    ]
    with journeys(tmp_path, messages, timezone="Europe/Paris") as log:
        monthly = cells(retention(log, period="month", start=SIGN_UP, returning=ORDER))
        weekly = cells(retention(log, period="week", start=SIGN_UP, returning=ORDER))
    assert monthly[("2026-03", 0)] == (2, 1, 2)  # w's order, on 30 March
    assert monthly[("2026-03", 1)] == (2, 1, 1)  # m's, on 1 April in Paris
    assert weekly[("2026-W13", 0)] == (1, 0, 1)
    assert weekly[("2026-W13", 1)] == (1, 1, 1)  # the next Paris week, an hour later
    assert weekly[("2026-W14", 0)] == (1, 1, 1)  # m: Tuesday and Wednesday of W14
