"""Churn risk (analytics/know/churn.py, churn_features.py) on hand-built customers: features
read off the messages, no feature reading past its cutoff, a planted churn the model finds,
and the refusals."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import empreinte
from empreinte.analytics.know.churn import ChurnReport, churn_report
from empreinte.analytics.know.churn_features import FEATURES, churn_features
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

from .predictions_messages import Message, customer, order, orders, track

DAY = timedelta(days=1)
CUTOFF = datetime(2025, 6, 1, tzinfo=UTC)


def _before_and_after() -> list[Message]:
    c = CUTOFF
    m: list[Message] = []
    # ann: three orders, a chat, two NPS answers (the latest counts), a screen in the app.
    m += customer("ann")
    m += [order("ann", c - 100 * DAY, 30.0), order("ann", c - 40 * DAY, 20.0)]
    m += [order("ann", c - 10 * DAY, 50.0)]
    m += [track("ann", "NPS Answered", c - 20 * DAY, "email", score=3, survey_id="s")]
    m += [track("ann", "NPS Answered", c - 5 * DAY, "email", score=9, survey_id="s")]
    m += [track("ann", "Chat Started", c - 15 * DAY, "chat")]
    m += [
        {
            "type": "screen",
            "name": "Home",
            "userId": "ann",
            "timestamp": (c - 3 * DAY).isoformat(),
            "context": {"channel": "app"},
        }
    ]
    # After the cutoff: none of this may change ann's features.
    m += [order("ann", c, 999.0), order("ann", c + DAY, 5.0)]
    m += [track("ann", "NPS Answered", c + timedelta(seconds=1), "email", score=0, survey_id="s")]
    m += [track("ann", "Payment Failed", c + 2 * DAY), track("ann", "Call Started", c + DAY)]
    # bob: a customer only after the cutoff.
    m += [*customer("bob"), order("bob", c + 3 * DAY, 15.0)]
    # cy: a customer before, who does not allow profiling: never read.
    m += [*customer("cy", profiling=False), order("cy", c - 30 * DAY, 40.0)]
    # dee: one order a millisecond before the cutoff.
    m += [*customer("dee"), order("dee", c - timedelta(milliseconds=1), 12.5, "store")]
    return m


def _features(path: Path, messages: list[Message], at: datetime) -> pd.DataFrame:
    with empreinte.open(path) as ws:
        report = ws.ingest(messages, source="web")
        assert not report.rejected, report.rejected
        ws.flush()
        with ws.analytics() as log:
            frame = log.execute(churn_features(log, at))
    return frame.sort_values("profile_id", ignore_index=True)


@pytest.fixture(scope="module")
def features(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The features at the cutoff of the whole log, and of the log cut at the cutoff."""
    root = tmp_path_factory.mktemp("churn-features")
    everything = _before_and_after()
    past = [m for m in everything if datetime.fromisoformat(m["timestamp"]) < CUTOFF]
    return _features(root / "all", everything, CUTOFF), _features(root / "past", past, CUTOFF)


def test_features_read_off_the_messages(features: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    frame = features[0]
    assert list(frame.columns) == ["profile_id", *FEATURES]
    assert len(frame) == 2  # ann and dee: bob bought later, cy does not allow profiling
    ann = frame.loc[frame["frequency"] == 3].iloc[0]
    assert ann["monetary"] == 100.0
    assert ann["recency_days"] == 10.0
    assert ann["tenure_days"] == 100.0
    assert (ann["orders_30d"], ann["orders_90d"], ann["orders_365d"]) == (1, 2, 3)
    assert ann["last_nps"] == 9.0
    assert ann["service_contacts"] == 1 and ann["payment_failures"] == 0
    assert ann["channels"] == 4  # web (orders), email (answers), chat, app
    assert ann["app_share"] == round(1 / 7, 6)
    assert ann["touchpoints_90d"] == 6  # all but the order 100 days before
    dee = frame.loc[frame["frequency"] == 1].iloc[0]
    assert dee["monetary"] == 12.5 and dee["recency_days"] == 0.0
    assert pd.isna(dee["last_nps"]) and dee["store_visits"] == 0


def test_no_feature_reads_an_event_at_or_after_its_cutoff(
    features: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """The same people, the same features, whether the log goes on past the cutoff or not:
    a feature that read an order, an answer or a contact at or after the cutoff differs."""
    # Profile ids are salted per workspace: the rows are compared by their features.
    everything, past = (
        frame.drop(columns="profile_id").sort_values(list(FEATURES[:4]), ignore_index=True)
        for frame in features
    )
    assert len(everything) == 2
    pd.testing.assert_frame_equal(everything, past, check_exact=True)


def test_a_cutoff_without_time_zone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AnalyticsError, match="time zone"):
        _features(tmp_path, customer("x"), CUTOFF.replace(tzinfo=None))


# -- the model ----------------------------------------------------------------------------

START = datetime(2025, 1, 1, tzinfo=UTC)
NOW = START + 360 * DAY
HORIZON = timedelta(days=90)


def _schedule() -> dict[str, list[float]]:
    """Order days per customer (seeded): 40 who keep buying, every 20 days on average
    (exponential gaps), and 40 who buy the same way until a day drawn in [60, 330)."""
    rng = random.Random(13)

    def buying(until: float) -> list[float]:
        days, day = [], rng.uniform(0, 20)
        while day < until:
            days.append(day)
            day += rng.expovariate(1 / 20)
        return days

    days = {f"loyal{i}": buying(360) for i in range(40)}
    days |= {f"leaver{j}": buying(rng.uniform(60, 330)) for j in range(40)}
    return days


def _planted() -> list[Message]:
    m: list[Message] = []
    for user, days in _schedule().items():
        m += customer(user) + orders(user, (START + d * DAY for d in days))
    # Someone who does not allow profiling is neither trained on nor scored.
    m += customer("private", profiling=False) + orders("private", [START + 5 * DAY])
    return m


PROFILES: dict[str, str] = {}  # user id → profile id, filled by the fixture


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsLog]:
    path = tmp_path_factory.mktemp("churn-planted")
    with empreinte.open(path) as ws:
        assert not ws.ingest(_planted(), source="web").rejected
        ws.flush()
        for user in _schedule():
            found = ws.profiles.find("userId", user)
            assert found is not None
            PROFILES[user] = found
        with ws.analytics() as log:
            yield log


def _churned(days: list[float], start: int, end: int) -> bool:
    return not any(start <= d < end for d in days)


@pytest.fixture(scope="module")
def report(planted: AnalyticsLog) -> ChurnReport:
    return churn_report(planted, HORIZON, now=NOW)


def test_the_model_finds_the_planted_churn(report: ChurnReport) -> None:
    schedule = _schedule()
    # Customers of a period: an order before its cutoff ("private" never counts).
    train = [_churned(d, 180, 270) for d in schedule.values() if min(d, default=999) < 180]
    test = [_churned(d, 270, 360) for d in schedule.values() if min(d, default=999) < 270]
    assert (report.n_train, report.n_test) == (len(train), len(test))
    assert report.base_rate_train == pytest.approx(sum(train) / len(train))
    assert report.base_rate == pytest.approx(sum(test) / len(test))
    assert report.auc > 0.8 and report.baseline_auc > 0.7
    # Beats the forecast one could make without the model: the training base rate for
    # everyone (its Brier score on the test rows: the test's variance plus the shift).
    no_skill = report.base_rate * (1 - report.base_rate)
    no_skill += (report.base_rate - report.base_rate_train) ** 2
    assert report.brier < no_skill
    assert sum(b.people for b in report.calibration) == len(test)
    scores = {s.profile_id: s.churn_risk for s in report.scores}
    assert len(scores) == sum(1 for d in schedule.values() if d)
    with pytest.raises(AssertionError):  # scores are probabilities, not all alike
        assert len(set(scores.values())) == 1
    assert all(0.0 <= r <= 1.0 for r in scores.values())


def test_leavers_score_higher_than_loyal_customers(report: ChurnReport) -> None:
    risk = {s.profile_id: s.churn_risk for s in report.scores}
    schedule = _schedule()
    loyal = [risk[PROFILES[user]] for user in schedule if user.startswith("loyal")]
    # Leavers whose last order is over 60 days before the end.
    gone = [risk[PROFILES[u]] for u, d in schedule.items() if d and max(d) < 300]
    assert len(gone) >= 10
    assert sum(gone) / len(gone) > 2 * sum(loyal) / len(loyal)


def test_too_little_history_is_refused(planted: AnalyticsLog) -> None:
    with pytest.raises(AnalyticsError, match="too little history"):
        # Cutoffs on days 2 and 11: a few customers had ordered by then.
        churn_report(planted, timedelta(days=9), now=START + 20 * DAY)


def test_one_class_only_is_refused(planted: AnalyticsLog) -> None:
    # Over an hour nearly everyone "churns": one class, or nearly.
    with pytest.raises(AnalyticsError, match="one class"):
        churn_report(planted, timedelta(hours=1), now=NOW)


def test_bad_horizon_and_naive_now_are_refused(planted: AnalyticsLog) -> None:
    with pytest.raises(AnalyticsError, match="positive"):
        churn_report(planted, timedelta(0), now=NOW)
    with pytest.raises(AnalyticsError, match="time zone"):
        churn_report(planted, HORIZON, now=NOW.replace(tzinfo=None))
