"""The base of every journey analytic (analytics/journeys/touchpoints.py) on hand-built logs:
who owns a touchpoint, what is one, who is read, the scope, and sessions at the gap's edge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from empreinte.analytics.journeys.touchpoints import JourneyScope, sessions, touchpoints
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

from .paths_journeys import Message, at, consent, identify, journeys, page, screen, track

BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def _log() -> list[Message]:
    return [
        # anon-1 browses anonymously, then logs in as u1 and buys in the app
        track("anon-1", "Product Viewed", at(0)),
        page("anon-1", "Checkout", at(1)),
        identify("u1", "anon-1", at(2)),
        track("u1", "Order Completed", at(3), channel="app"),
        screen("u1", "Receipt", at(4)),
        {"type": "group", "userId": "u1", "groupId": "acme", "timestamp": at(5).isoformat()},
        {"type": "alias", "userId": "u1", "previousId": "anon-9", "timestamp": at(5).isoformat()},
        consent("u1", True, at(6)),
        # a crawler
        track("anon-bot", "Product Viewed", at(0), userAgent=BOT),
        # u2 says no to analytics
        consent("u2", False, at(0)),
        track("u2", "Product Viewed", at(1)),
        # u3: the scope's edges, two channels
        track("u3", "Product Viewed", at(days=1)),
        track("u3", "Store Visited", at(days=2), channel="store"),
        track("u3", "Product Viewed", at(days=3)),
    ]


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsLog]:
    with journeys(tmp_path_factory.mktemp("touchpoints"), _log()) as opened:
        yield opened


def rows(log: AnalyticsLog, scope: JourneyScope | None = None, **kw: Any) -> pd.DataFrame:
    table = touchpoints(log, scope, **kw)
    return log.execute(table.order_by(["at", "seq"]))  # type: ignore[no-any-return]


def test_one_profile_across_identities_and_channels(log: AnalyticsLog) -> None:
    frame = rows(log)
    first = frame[frame["at"] == at(0)]
    owner = first.profile_id.iloc[0]
    mine = frame[frame.profile_id == owner]
    assert list(mine.step) == ["Product Viewed", "Page Viewed", "Order Completed", "Screen Viewed"]
    assert list(mine.channel) == ["web", "web", "app", "app"]
    assert list(mine.name.fillna("")) == ["", "Checkout", "", "Receipt"]
    assert list(mine.type) == ["track", "page", "track", "screen"]


def test_identify_alias_group_and_consent_are_not_touchpoints(log: AnalyticsLog) -> None:
    frame = rows(log, JourneyScope(consented_only=False))
    assert set(frame.type) == {"track", "page", "screen"}
    assert "Consent Updated" not in set(frame.step)


def test_bots_are_left_out(log: AnalyticsLog) -> None:
    everyone = rows(log, JourneyScope(consented_only=False))
    at_zero = everyone[everyone["at"] == at(0)]
    assert len(at_zero) == 1  # anon-1's view; the crawler's, at the same time, is not read


def test_only_people_who_allow_analytics(log: AnalyticsLog) -> None:
    consenting = rows(log)
    everyone = rows(log, JourneyScope(consented_only=False))
    u2_view = at(1)
    # u2 refused analytics: their view is read only for aggregate checks
    assert (everyone["at"] == u2_view).sum() == 2  # anon-1's checkout page and u2's view
    assert (consenting["at"] == u2_view).sum() == 1
    assert consenting.profile_id.nunique() == everyone.profile_id.nunique() - 1


def test_silence_is_no_without_a_default(tmp_path: Path) -> None:
    messages = [track("u1", "Product Viewed", at(0)), consent("u2", True, at(0))]
    messages.append(track("u2", "Product Viewed", at(1)))
    with journeys(tmp_path, messages, config="") as log:
        frame = rows(log)
    assert list(frame["at"]) == [at(1)]  # only u2, who said yes


def test_scope_since_until_channels(log: AnalyticsLog) -> None:
    scope = JourneyScope(since=at(days=1), until=at(days=3))  # since included, until excluded
    assert list(rows(log, scope).step) == ["Product Viewed", "Store Visited"]
    scope = JourneyScope(since=at(days=1), channels=("store",))
    assert list(rows(log, scope).step) == ["Store Visited"]
    assert list(rows(log, JourneyScope(since=at(days=1)), steps=["Product Viewed"])["at"]) == [
        at(days=1),
        at(days=3),
    ]


def test_scope_refuses_naive_and_empty_windows() -> None:
    with pytest.raises(AnalyticsError, match="time zone"):
        JourneyScope(since=at(0).replace(tzinfo=None))
    with pytest.raises(AnalyticsError, match="before"):
        JourneyScope(since=at(1), until=at(1))


# -- sessions -------------------------------------------------------------------------------

GAP = timedelta(minutes=30)


def _session_log() -> list[Message]:
    s = at(0, days=10)
    m = timedelta(minutes=1)
    return [
        # u4 on the web: 29:59 then exactly 30:00 of silence
        track("u4", "A", s),
        track("u4", "B", s + GAP - timedelta(seconds=1)),
        track("u4", "C", s + 2 * GAP - timedelta(seconds=1)),
        # u5: web, app 10 min later, web 35 min after the first web event
        track("u5", "W1", s),
        track("u5", "P1", s + 10 * m, channel="app"),
        track("u5", "W2", s + 35 * m),
        # u6: three events at the same instant, then one a gap after
        track("u6", "First", s),
        track("u6", "Second", s, channel="app"),
        track("u6", "Third", s),
        track("u6", "Later", s + GAP),
        # u7: 29 min 59.2 s apart, across a second boundary
        track("u7", "X", s + timedelta(seconds=0.9)),
        track("u7", "Y", s + GAP + timedelta(seconds=0.1)),
    ]


@pytest.fixture(scope="module")
def session_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsLog]:
    with journeys(tmp_path_factory.mktemp("sessions"), _session_log()) as opened:
        yield opened


def session_of(log: AnalyticsLog, by_channel: bool = True) -> dict[str, str]:
    since = JourneyScope(since=at(0, days=10))
    table = sessions(touchpoints(log, since), GAP, by_channel=by_channel)
    frame = log.execute(table.select("step", "session_id"))
    return dict(zip(frame.step, frame.session_id, strict=True))


def _number(session_id: str) -> int:
    return int(session_id.rsplit("|", 1)[1])


def test_a_new_session_after_exactly_the_gap(session_log: AnalyticsLog) -> None:
    found = session_of(session_log)
    assert [_number(found[s]) for s in "ABC"] == [0, 0, 1]


def test_sessions_per_channel_or_across(session_log: AnalyticsLog) -> None:
    per_channel = session_of(session_log)
    # on the web W2 comes 35 min after W1: a new web session; the app has its own
    assert (_number(per_channel["W1"]), _number(per_channel["W2"])) == (0, 1)
    assert per_channel["P1"].split("|")[1:] == ["app", "0"]
    across = session_of(session_log, by_channel=False)
    # across channels the app event 10 min in keeps the session alive: one session
    assert across["W1"] == across["P1"] == across["W2"]
    assert across["W1"].split("|")[1:] == ["*", "0"]


def test_same_time_events_in_log_order(session_log: AnalyticsLog) -> None:
    since = JourneyScope(since=at(0, days=10))
    table = sessions(touchpoints(session_log, since), GAP, by_channel=False)
    frame = session_log.execute(table.order_by(["at", "seq"]))
    u6 = frame[frame.step.isin(["First", "Second", "Third", "Later"])]
    assert list(u6.step) == ["First", "Second", "Third", "Later"]  # the order they were sent
    assert list(u6.session) == [0, 0, 0, 1]
    # the same answer every time
    again = session_log.execute(table.order_by(["at", "seq"]))
    pd.testing.assert_frame_equal(frame, again)


def test_the_gap_is_measured_to_the_microsecond(session_log: AnalyticsLog) -> None:
    found = session_of(session_log)
    assert found["X"] == found["Y"]  # 29 min 59.2 s of silence: still one session


def test_a_gap_must_be_positive(session_log: AnalyticsLog) -> None:
    with pytest.raises(AnalyticsError, match="positive"):
        sessions(touchpoints(session_log), timedelta(0))
