"""ROPO and showrooming (journeys/ropo.py) on hand-built people: the window's edge (exactly
7 days counts, a second more does not), research after the purchase, phone purchases, matching
on a product, breakdowns, and the two denominators."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from statsmodels.stats.proportion import proportion_confint

from empreinte.analytics.journeys.ropo import CrossRule, ropo, showrooming
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

from .channel_messages import T0, Message, analytics_of, consent, identify, track

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
WEEK = 7 * DAY


def people() -> list[Message]:
    m: list[Message] = []
    for user in ("rita", "rolf", "rosa", "sam", "ursula", "mia", "max", "sue", "sid"):
        m.append(consent(user))
    for user, country in (("rita", "FR"), ("rosa", "FR"), ("rolf", "US"), ("sam", "US")):
        m.append(identify(user, T0 - DAY, country=country))
    # rita: researched on the web, bought in a shop exactly 7 days later → ROPO.
    m += [track("rita", "Product Viewed", T0, "web")]
    m += [track("rita", "Order Completed", T0 + WEEK, "store", order_id="O1")]
    # rolf: the same, one second too late → not ROPO.
    m += [track("rolf", "Product Viewed", T0, "web")]
    m += [track("rolf", "Order Completed", T0 + WEEK + SECOND, "store", order_id="O2")]
    # rosa: searched in the app, ordered by phone the next day (ROPO); a shop purchase a month
    # later with no research before it (not ROPO).
    m += [track("rosa", "Products Searched", T0, "app", query="kettle")]
    m += [track("rosa", "Order Completed", T0 + DAY, "phone", order_id="O3")]
    m += [track("rosa", "Order Completed", T0 + 30 * DAY, "store", order_id="O4")]
    # sam: a shop purchase, no research at all.
    m += [track("sam", "Order Completed", T0, "store", order_id="O5")]
    # ursula: researched an hour *after* buying in the shop → not ROPO.
    m += [track("ursula", "Order Completed", T0, "store", order_id="O6")]
    m += [track("ursula", "Product Viewed", T0 + timedelta(hours=1), "web")]
    # mia: viewed P1, bought P2 in a shop: ROPO, but not when matching on the product.
    m += [track("mia", "Product Viewed", T0, "web", product_id="P1")]
    m += [track("mia", "Order Completed", T0 + DAY, "store", order_id="O7", product_id="P2")]
    # max: viewed P3, bought P3 in a shop: ROPO either way.
    m += [track("max", "Product Viewed", T0, "web", product_id="P3")]
    m += [track("max", "Order Completed", T0 + DAY, "store", order_id="O8", product_id="P3")]
    # sue: visited a shop, bought on the web 3 days later → showrooming.
    m += [track("sue", "Store Visited", T0, "store", store_id="S1")]
    m += [track("sue", "Order Completed", T0 + 3 * DAY, "web", order_id="O9")]
    # sid: bought in the app without a shop visit.
    m += [track("sid", "Order Completed", T0, "app", order_id="O10")]
    return m


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsLog]:
    with analytics_of(Path(tmp_path_factory.mktemp("ropo")), people()) as opened:
        yield opened


def test_ropo_per_purchase_and_per_person(log: AnalyticsLog) -> None:
    row = ropo(log).row()
    # Offline purchases: O1-O8 (8); ROPO: O1 (rita, at 7 days), O3 (rosa), O7 (mia), O8 (max).
    assert (row.purchases, row.crossed_purchases) == (8, 4)
    assert row.purchase_rate == 0.5
    # Offline buyers: rita, rolf, rosa, sam, ursula, mia, max; ROPO: rita, rosa, mia, max.
    assert (row.buyers, row.crossed_buyers) == (7, 4)
    low, high = proportion_confint(4, 7, method="wilson")
    assert (row.person_low, row.person_high) == (pytest.approx(low), pytest.approx(high))


def test_the_window_edge_is_inclusive(log: AnalyticsLog) -> None:
    # One second more of window takes rolf in; one second less leaves rita out.
    assert ropo(log, window=WEEK + SECOND).row().crossed_purchases == 5
    assert ropo(log, window=WEEK - SECOND).row().crossed_purchases == 3


def test_matching_on_the_product(log: AnalyticsLog) -> None:
    row = ropo(log, match="product_id").row()
    # Only max's purchase carries the product he viewed; purchases without the property stay
    # in the denominator.
    assert (row.purchases, row.crossed_purchases, row.crossed_buyers) == (8, 1, 1)


def test_ropo_by_country_and_by_purchase_channel(log: AnalyticsLog) -> None:
    by_country = {
        r.group: (r.purchases, r.crossed_purchases, r.buyers, r.crossed_buyers)
        for r in ropo(log, by="country").rows
    }
    assert by_country == {"FR": (3, 2, 2, 2), "US": (2, 0, 2, 0), "(none)": (3, 2, 3, 2)}
    by_channel = {r.group: (r.purchases, r.crossed_purchases) for r in ropo(log, by="channel").rows}
    assert by_channel == {"phone": (1, 1), "store": (7, 3)}


def test_showrooming(log: AnalyticsLog) -> None:
    row = showrooming(log).row()
    # Online purchases: sue's (after a shop visit 3 days before) and sid's.
    assert (row.purchases, row.crossed_purchases, row.buyers, row.crossed_buyers) == (2, 1, 2, 1)


def test_rates_are_proportions(log: AnalyticsLog) -> None:
    for report in (ropo(log, by="country"), showrooming(log), ropo(log, match="product_id")):
        for r in report.rows:
            assert 0 <= r.purchase_low <= r.purchase_rate <= r.purchase_high <= 1
            assert 0 <= r.person_low <= r.person_rate <= r.person_high <= 1
            assert r.crossed_buyers <= r.buyers <= r.purchases


def test_a_custom_rule(log: AnalyticsLog) -> None:
    # Research counted on the web only: rosa's app search no longer makes her phone order ROPO.
    rule = CrossRule(
        ("Product Viewed", "Products Searched"), ("web",), ("Order Completed",), ("store", "phone")
    )
    assert ropo(log, rule=rule).row().crossed_purchases == 3


def test_an_empty_scope_has_no_rows(log: AnalyticsLog) -> None:
    from datetime import UTC, datetime

    from empreinte.analytics.journeys.touchpoints import JourneyScope

    scope = JourneyScope(since=datetime(2030, 1, 1, tzinfo=UTC))
    assert ropo(log, scope=scope).rows == ()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"window": -SECOND}, "negative"),
        ({"match": "a..b"}, "property path"),
        ({"by": "traits.email"}, "personal"),
        ({"by": " "}, "attribute"),
    ],
)
def test_bad_input_is_refused(log: AnalyticsLog, options: dict[str, object], message: str) -> None:
    with pytest.raises(AnalyticsError, match=message):
        ropo(log, **options)


def test_unknown_direction() -> None:
    from empreinte.analytics.journeys.ropo import rule_for

    with pytest.raises(AnalyticsError, match="direction"):
        rule_for("sideways", WEEK, None)
    with pytest.raises(AnalyticsError, match="empty"):
        CrossRule((), ("web",), ("Order Completed",), ("store",))
