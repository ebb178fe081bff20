"""Omnichannel classes and the channel mix (journeys/channels.py) on hand-built people whose
answers can be read off the messages below."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from empreinte.analytics.journeys.channels import (
    ChannelRules,
    channel_classes,
    channel_mix,
    classes_table,
)
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

from .channel_messages import T0, Message, analytics_of, consent, identify, page, track

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def people() -> list[Message]:
    m: list[Message] = []
    # dan: the app only → mono.
    m += [consent("dan"), track("dan", "Product Viewed", T0, "app", product_id="P9")]
    m += [page("dan", "Home", T0 + DAY, "app")]
    # cleo: the web in January, a shop in June; a brand e-mail in between does not chain them
    # → multi (two channels, never in one journey).
    m += [consent("cleo"), track("cleo", "Product Viewed", T0 - 60 * DAY, "web", product_id="P1")]
    m += [track("cleo", "Email Delivered", T0 - 57 * DAY, "email")]
    m += [track("cleo", "Order Completed", T0 + 90 * DAY, "store", order_id="O-cleo")]
    # ann: a product on the web, two days later a purchase in a shop, nothing shared → cross.
    m += [consent("ann"), track("ann", "Product Viewed", T0, "web", product_id="P1")]
    m += [track("ann", "Order Completed", T0 + 2 * DAY, "store", order_id="O-ann")]
    # bob: cart c1 filled in the app, checked out on the web the next day → omni.
    m += [consent("bob"), track("bob", "Product Added", T0, "app", cart_id="c1")]
    m += [track("bob", "Checkout Started", T0 + DAY, "web", cart_id="c1")]
    # eve: anonymous on the web, identified (same browser), then a purchase in a shop by her
    # user id: one person across channels → cross.
    m += [consent(anon="anon-eve"), track(None, "Product Viewed", T0, "web", anon="anon-eve")]
    m += [identify("eve", T0 + SECOND, anon="anon-eve")]
    m += [track("eve", "Order Completed", T0 + 2 * DAY, "store", order_id="O-eve")]
    # fay: clicks a link in an e-mail, lands on the web (a click is her action) → cross.
    m += [consent("fay"), track("fay", "Email Link Clicked", T0, "email")]
    m += [page("fay", "Home", T0 + SECOND)]
    # gus: only received messages: no touchpoint of his own, not classified.
    m += [consent("gus"), track("gus", "Email Delivered", T0, "email")]
    m += [track("gus", "Email Opened", T0 + DAY, "email")]
    # hal: cart c2 in the app, the same cart on the web 7 days and a second later; visits every
    # 3 days keep one journey → cross, not omni (beyond the continuity window).
    m += [consent("hal"), track("hal", "Product Added", T0, "app", cart_id="c2")]
    m += [page("hal", "Home", T0 + 3 * DAY), page("hal", "Home", T0 + 6 * DAY)]
    m += [track("hal", "Checkout Started", T0 + 7 * DAY + SECOND, "web", cart_id="c2")]
    return m


EXPECTED = {
    "dan": "mono",
    "cleo": "multi",
    "ann": "cross",
    "eve": "cross",
    "fay": "cross",
    "hal": "cross",
    "bob": "omni",
}


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsLog]:
    with analytics_of(Path(tmp_path_factory.mktemp("channels")), people()) as opened:
        yield opened


def _classes_by_user(log: AnalyticsLog, rules: ChannelRules | None = None) -> dict[str, str]:
    """Each person's class, named by a user id they used."""
    table = classes_table(log, rules=rules)
    ids = log.table("identities")
    users = ids.filter(ids.id_type == "user_id")
    joined = table.join(users, table.profile_id == users.profile_id)
    frame = log.execute(joined.select("id_key", "channel_class"))
    return {
        key.removeprefix("user_id:"): c
        for key, c in zip(frame.id_key, frame.channel_class, strict=True)
    }


def test_each_person_has_the_class_read_off_their_messages(log: AnalyticsLog) -> None:
    found = _classes_by_user(log)
    assert found == EXPECTED  # gus has no class; eve's web visits are hers


def test_class_counts_and_people_without_touchpoints_of_their_own(log: AnalyticsLog) -> None:
    report = channel_classes(log)
    counts = {r.channel_class: r.people for r in report.rows}
    assert counts == {"mono": 1, "multi": 1, "cross": 4, "omni": 1}
    assert report.people == 7 == sum(counts.values())
    assert report.without_own_touchpoints == 1  # gus
    assert sum(r.share for r in report.rows) == pytest.approx(1.0)
    assert [r["channel_class"] for r in report.to_rows()] == ["mono", "multi", "cross", "omni"]


def test_a_longer_continuity_window_makes_hal_omnichannel(log: AnalyticsLog) -> None:
    report = channel_classes(log, rules=ChannelRules(continuity_window=7 * DAY + SECOND))
    assert report.count("omni") == 2 and report.count("cross") == 3


def test_a_short_journey_gap_splits_journeys(log: AnalyticsLog) -> None:
    # Under one day: ann's and eve's two-day-apart touchpoints are two journeys, bob's cart
    # (one day later) too: they become multi-channel; fay stays cross (one second apart).
    report = channel_classes(log, rules=ChannelRules(journey_gap=DAY))
    counts = {r.channel_class: r.people for r in report.rows}
    assert counts == {"mono": 1, "multi": 5, "cross": 1, "omni": 0}


def test_without_thread_keys_nobody_is_omnichannel(log: AnalyticsLog) -> None:
    report = channel_classes(log, rules=ChannelRules(thread_keys=()))
    assert report.count("omni") == 0 and report.count("cross") == 5


def test_messages_count_when_their_channel_is_not_a_messaging_one(log: AnalyticsLog) -> None:
    # With no messaging channel, gus's e-mails and cleo's e-mail are their own: gus becomes
    # mono-channel and cleo's e-mail chains nothing (57 days from either side).
    report = channel_classes(log, rules=ChannelRules(messaging_channels=()))
    assert report.without_own_touchpoints == 0 and report.count("mono") == 2


def test_channel_mix_per_channel_and_combination(log: AnalyticsLog) -> None:
    mix = channel_mix(log)
    assert mix.people == 7
    per_channel = {c.channel: (c.people, c.touchpoints) for c in mix.channels}
    # web: cleo 1, ann 1, bob 1, eve 1, fay 1, hal 3; app: dan 2, bob 1, hal 1; store: 3.
    assert per_channel == {"web": (6, 8), "app": (3, 4), "store": (3, 3), "email": (1, 1)}
    assert mix.touchpoints == 16
    shares = {c.channel: c.people_share for c in mix.channels}
    assert shares["web"] == pytest.approx(6 / 7)
    combinations = {c.combination: c.people for c in mix.combinations}
    assert combinations == {"store + web": 3, "app + web": 2, "app": 1, "email + web": 1}
    assert sum(c.share for c in mix.combinations) == pytest.approx(1.0)
    assert mix.combinations[0].combination == "store + web"  # most people first


def test_breakdown_by_a_profile_attribute(log: AnalyticsLog) -> None:
    # Nobody has a country: one group, "(none)", holding everyone.
    report = channel_classes(log, by="country")
    assert {r.group for r in report.rows} == {"(none)"}
    assert sum(r.people for r in report.rows) == 7
    mix = channel_mix(log, by="country")
    assert {c.group for c in mix.channels} == {"(none)"}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda log: channel_classes(log, by="channel"), "profile attribute"),
        (lambda log: channel_mix(log, by="properties.x"), "profile attribute"),
        (lambda log: channel_classes(log, by="traits.email"), "personal"),
        (lambda log: channel_classes(log, by="traits.comment"), "free text"),
    ],
)
def test_bad_breakdowns_are_refused(log: AnalyticsLog, call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AnalyticsError, match=message):
        call(log)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"journey_gap": timedelta(0)}, "journey_gap"),
        ({"continuity_window": -DAY}, "continuity_window"),
        ({"thread_keys": ("",)}, "thread key"),
    ],
)
def test_bad_rules_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(AnalyticsError, match=message):
        ChannelRules(**options)  # type: ignore[arg-type]
