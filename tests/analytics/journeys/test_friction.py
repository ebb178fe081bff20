"""Friction (journeys/friction.py) on hand-built people: a call 23 h 59 after a web session and
one 24 h 01 after, an outbound callback, pages ranked with their lift; repeated payment
failures in one session vs in two; a week whose cart drop-off jumps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from statsmodels.stats.proportion import proportions_ztest

from empreinte.analytics.journeys.friction import called_after_web, drop_off, repeated_errors
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

from .channel_messages import T0, Message, analytics_of, consent, page, track

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = 7 * DAY


def people() -> list[Message]:
    m: list[Message] = []
    users = ("carl", "cora", "cole", "cid", "cal", "walt", "wynn", "pat", "pia", "pam", "chet")
    m += [consent(user) for user in users]
    # carl: Home, Checkout, a failed payment, and a call 23 h 59 after → after the web.
    m += [page("carl", "Home", T0), page("carl", "Checkout", T0 + MINUTE)]
    m += [track("carl", "Payment Failed", T0 + 2 * MINUTE, "web")]
    m += [track("carl", "Call Started", T0 + 2 * MINUTE + 23 * HOUR + 59 * MINUTE, "phone")]
    # cora: a delivery page, a call 24 h 01 after → not after the web.
    m += [page("cora", "Delivery", T0), track("cora", "Call Started", T0 + DAY + MINUTE, "phone")]
    # cole: the app's Orders screen, a call an hour later → after the app.
    m += [page("cole", "Orders", T0, "app"), track("cole", "Call Started", T0 + HOUR, "phone")]
    # cid: the centre calls him back after his web visit: not a contact.
    m += [page("cid", "Help", T0)]
    m += [track("cid", "Call Started", T0 + HOUR, "phone", direction="outbound")]
    # cal: calls without having been on the web or the app.
    m += [track("cal", "Call Started", T0, "phone", direction="inbound")]
    # chet: the help page, then the chat ten minutes later (a contact only when chats count).
    m += [page("chet", "Help", T0), track("chet", "Chat Started", T0 + 10 * MINUTE, "chat")]
    # walt and wynn: sessions without a call (the base of the lifts).
    m += [page("walt", "Home", T0), page("walt", "Checkout", T0 + MINUTE)]
    m += [page("wynn", "Home", T0)]
    # pat: two failed payments five minutes apart on the checkout page: repeated.
    m += [page("pat", "Checkout", T0)]
    m += [track("pat", "Payment Failed", T0 + MINUTE, "web")]
    m += [track("pat", "Payment Failed", T0 + 6 * MINUTE, "web")]
    # pia: two failed payments two hours apart: two sessions, not repeated.
    m += [
        track("pia", "Payment Failed", T0, "web"),
        track("pia", "Payment Failed", T0 + 2 * HOUR, "web"),
    ]
    # pam: an error and a failed payment on the app's Cart screen: repeated (any error step).
    m += [page("pam", "Cart", T0, "app"), track("pam", "Error Shown", T0 + MINUTE, "app")]
    m += [track("pam", "Payment Failed", T0 + 2 * MINUTE, "app")]
    return m


def funnel_weeks() -> list[Message]:
    """Four weeks of 40 carts each; 10 leave before the checkout, 30 in the fourth week."""
    m: list[Message] = []
    for week in range(4):
        for i in range(40):
            user, start = f"w{week}-{i}", T0 + week * WEEK + i * HOUR
            m += [consent(user), track(user, "Cart Viewed", start, "web")]
            if i >= (30 if week == 3 else 10):
                m += [track(user, "Checkout Started", start + MINUTE, "web")]
                m += [track(user, "Order Completed", start + 2 * MINUTE, "web")]
    return m


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsLog]:
    with analytics_of(Path(tmp_path_factory.mktemp("friction")), people()) as opened:
        yield opened


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsLog]:
    with analytics_of(Path(tmp_path_factory.mktemp("weeks")), funnel_weeks()) as opened:
        yield opened


# -- called after the web -----------------------------------------------------------------------


def test_share_of_calls_after_a_web_or_app_session(log: AnalyticsLog) -> None:
    report = called_after_web(log)
    # Contacts: carl, cora, cole, cal (cid's is outbound); after the web: carl (23 h 59), cole.
    assert (report.contacts, report.after_web, report.share) == (4, 2, 0.5)
    assert (report.people, report.people_after_web) == (4, 2)
    assert 0 <= report.share_low <= 0.5 <= report.share_high <= 1


def test_pages_and_steps_before_the_calls_with_their_lift(log: AnalyticsLog) -> None:
    report = called_after_web(log)
    # Web/app sessions (30 min): carl, cora, cole, cid, chet, walt, wynn, pat, pia ×2, pam.
    assert report.sessions == 11
    pages = {r.value: (r.calls, r.share, r.sessions) for r in report.pages()}
    # Exit pages: Checkout (carl, walt, pat), Orders (cole), Delivery, Help ×2, Home (wynn),
    # Cart (pam), (no page) (pia's two sessions).
    assert pages == {"Checkout": (1, 0.5, 3), "Orders": (1, 0.5, 1)}
    lifts = {r.value: r.lift for r in report.pages()}
    assert lifts["Checkout"] == pytest.approx(0.5 / (3 / 11))
    assert lifts["Orders"] == pytest.approx(0.5 / (1 / 11))
    steps = {r.value: (r.calls, r.sessions) for r in report.steps()}
    # Sessions ending on Payment Failed: carl, pat, pia ×2, pam.
    assert steps == {"Payment Failed": (1, 5), "Screen Viewed": (1, 1)}


def test_the_24_hour_limit_is_configurable(log: AnalyticsLog) -> None:
    assert called_after_web(log, within=DAY + 2 * MINUTE).after_web == 3  # cora too
    assert called_after_web(log, within=HOUR - MINUTE).after_web == 0


def test_chat_can_count_as_a_contact(log: AnalyticsLog) -> None:
    report = called_after_web(
        log, contact_steps=("Call Started", "Chat Started"), contact_channels=("phone", "chat")
    )
    # chet's chat, 10 minutes after the help page, joins the contacts after the web.
    assert (report.contacts, report.after_web) == (5, 3)
    assert {r.value: r.calls for r in report.pages()} == {"Checkout": 1, "Orders": 1, "Help": 1}


def test_bad_contact_options_are_refused(log: AnalyticsLog) -> None:
    with pytest.raises(AnalyticsError, match="both"):
        called_after_web(log, contact_channels=("web",))
    with pytest.raises(AnalyticsError, match="negative"):
        called_after_web(log, within=-MINUTE)


# -- repeated errors -----------------------------------------------------------------------------


def test_repeated_errors_in_one_session_not_across_two(log: AnalyticsLog) -> None:
    report = repeated_errors(log)
    # With errors: carl, pat, pia, pam; in one session twice or more: pat, pam.
    assert (report.people_with_errors, report.people_repeated) == (4, 2)
    assert (report.sessions_with_errors, report.sessions_repeated) == (5, 2)
    rows = {(r.channel, r.step, r.page): (r.errors, r.sessions, r.people) for r in report.rows}
    assert rows == {
        ("web", "Payment Failed", "Checkout"): (2, 1, 1),
        ("app", "Error Shown", "Cart"): (1, 1, 1),
        ("app", "Payment Failed", "Cart"): (1, 1, 1),
    }


def test_error_steps_and_threshold_are_configurable(log: AnalyticsLog) -> None:
    only_payments = repeated_errors(log, error_steps=("Payment Failed",))
    assert only_payments.people_repeated == 1  # pat; pam's are one of each
    once = repeated_errors(log, min_errors=1)
    assert once.sessions_repeated == once.sessions_with_errors == 5
    three_hours = repeated_errors(log, session_gap=3 * HOUR)
    assert three_hours.people_repeated == 3  # pia's failures are now one session


# -- abnormal drop-off ---------------------------------------------------------------------------


def test_the_week_whose_cart_drop_off_jumps_is_abnormal(weeks: AnalyticsLog) -> None:
    report = drop_off(weeks, funnel=["Cart Viewed", "Checkout Started", "Order Completed"])
    cart = {r.period: r for r in report.rows if r.step == "Cart Viewed"}
    assert sorted(cart) == ["2026-W10", "2026-W11", "2026-W12", "2026-W13"]
    last = cart["2026-W13"]
    assert (last.sessions, last.dropped, last.baseline_sessions, last.baseline_dropped) == (
        40,
        30,
        120,
        30,
    )
    z, p_two_sided = proportions_ztest([30, 30], [40, 120])
    assert last.z == pytest.approx(z) and last.p_value == pytest.approx(p_two_sided / 2)
    assert [r.period for r in report.abnormal()] == ["2026-W13"]
    assert all(r.next_step == "Checkout Started" for r in cart.values())
    checkout = [r for r in report.rows if r.step == "Checkout Started"]
    assert all(r.dropped == 0 and not r.abnormal for r in checkout)


def test_against_the_previous_week(weeks: AnalyticsLog) -> None:
    report = drop_off(weeks, funnel=["Cart Viewed", "Checkout Started"], baseline="previous")
    rows = {r.period: r for r in report.rows}
    assert rows["2026-W10"].baseline_sessions == 0 and not rows["2026-W10"].abnormal
    assert rows["2026-W13"].baseline_dropped == 10 and rows["2026-W13"].abnormal


def test_exit_rates_without_a_funnel(weeks: AnalyticsLog) -> None:
    report = drop_off(weeks)
    cart = {r.period: (r.sessions, r.dropped) for r in report.rows if r.step == "Cart Viewed"}
    assert cart["2026-W10"] == (40, 10) and cart["2026-W13"] == (40, 30)
    assert [(r.period, r.step) for r in report.abnormal()] == [("2026-W13", "Cart Viewed")]
    done = [r for r in report.rows if r.step == "Order Completed"]
    assert all(r.rate == 1.0 and not r.abnormal for r in done)


def test_rates_and_q_values_are_proportions(weeks: AnalyticsLog) -> None:
    for r in drop_off(weeks, period="month").rows:
        assert 0 <= r.rate <= 1
        assert r.q_value != r.q_value or 0 <= r.p_value <= r.q_value <= 1  # NaN when untested


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"funnel": ["Cart Viewed"]}, "two steps"),
        ({"funnel": ["Cart Viewed", "Nope"]}, "unknown funnel step 'Nope'"),
        ({"funnel": ["Cart Viewed", "Cart Viewed"]}, "twice"),
        ({"period": "fortnight"}, "unknown period"),
        ({"baseline": "median"}, "unknown baseline"),
        ({"alpha": 1.5}, "alpha"),
    ],
)
def test_bad_drop_off_input_is_refused(
    weeks: AnalyticsLog, options: dict[str, object], message: str
) -> None:
    with pytest.raises(AnalyticsError, match=message):
        drop_off(weeks, **options)  # type: ignore[arg-type]
