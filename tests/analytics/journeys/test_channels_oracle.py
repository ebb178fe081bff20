"""The engine against plain-Python oracles on a seeded random log: each person's omnichannel
class, ROPO per purchase, and calls after the web, written again from the rules of
docs/channels.md with lists and loops."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from empreinte.analytics.journeys.channels import classes_table
from empreinte.analytics.journeys.friction import contacts_after_web
from empreinte.analytics.journeys.ropo import purchases_table, ropo_rule
from empreinte.analytics.log import AnalyticsLog

from .channel_messages import T0, Message, analytics_of, consent, track

PEOPLE = 60
CHANNELS = ("web", "app", "store", "phone", "email")
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Touch:
    at: datetime
    channel: str
    event: str
    cart: str | None


def random_people(seed: int = 12) -> dict[str, list[Touch]]:
    rng = random.Random(seed)
    people: dict[str, list[Touch]] = {}
    for i in range(PEOPLE):
        seconds = rng.sample(range(0, 40 * 86_400), rng.randint(1, 9))
        touches = []
        for s in sorted(seconds):
            channel = rng.choice(CHANNELS)
            event = {
                "web": rng.choice(("Product Viewed", "Products Searched", "Cart Viewed")),
                "app": rng.choice(("Product Viewed", "Cart Viewed")),
                "store": rng.choice(("Order Completed", "Store Visited")),
                "phone": rng.choice(("Order Completed", "Call Started")),
                "email": rng.choice(("Email Delivered", "Email Link Clicked")),
            }[channel]
            cart = rng.choice((None, "a", "b")) if channel != "email" else None
            touches.append(Touch(T0 + timedelta(seconds=s), channel, event, cart))
        people[f"r{i}"] = touches
    return people


PEOPLE_TOUCHES = random_people()


def messages() -> list[Message]:
    out: list[Message] = []
    for user, touches in PEOPLE_TOUCHES.items():
        out.append(consent(user))
        for t in touches:
            props = {"cart_id": t.cart} if t.cart else {}
            out.append(track(user, t.event, t.at, t.channel, **props))
    return out


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsLog]:
    with analytics_of(Path(tmp_path_factory.mktemp("oracle")), messages()) as opened:
        yield opened


def _user_of(log: AnalyticsLog) -> dict[str, str]:
    ids = log.table("identities")
    frame = log.execute(ids.filter(ids.id_type == "user_id").select("id_key", "profile_id"))
    return {
        p: k.removeprefix("user_id:") for k, p in zip(frame.id_key, frame.profile_id, strict=True)
    }


def oracle_class(touches: list[Touch]) -> str | None:
    own = [t for t in touches if t.channel != "email" or t.event == "Email Link Clicked"]
    if not own:
        return None
    journeys: list[list[Touch]] = [[own[0]]]
    for before, t in itertools.pairwise(own):
        if t.at - before.at >= WEEK:
            journeys.append([])
        journeys[-1].append(t)
    omni = any(
        a.cart is not None
        and a.cart == b.cart
        and a.channel != b.channel
        and abs(b.at - a.at) <= WEEK
        for journey in journeys
        for a in journey
        for b in journey
    )
    if omni:
        return "omni"
    if any(len({t.channel for t in journey}) > 1 for journey in journeys):
        return "cross"
    return "multi" if len({t.channel for t in own}) > 1 else "mono"


def test_classes_match_the_oracle(log: AnalyticsLog) -> None:
    users = _user_of(log)
    frame = log.execute(classes_table(log).select("profile_id", "channel_class"))
    found = {users[p]: c for p, c in zip(frame.profile_id, frame.channel_class, strict=True)}
    expected = {u: oracle_class(t) for u, t in PEOPLE_TOUCHES.items()}
    assert found == {u: c for u, c in expected.items() if c is not None}
    assert len(set(found.values())) == 4  # the random log exercises every class


def test_ropo_purchases_match_the_oracle(log: AnalyticsLog) -> None:
    users = _user_of(log)
    frame = log.execute(purchases_table(log, ropo_rule()).select("profile_id", "at", "crossed"))
    found = sorted(
        (users[p], at.to_pydatetime(), bool(c)) for p, at, c in frame.itertuples(index=False)
    )
    expected = []
    for user, touches in PEOPLE_TOUCHES.items():
        for t in touches:
            if t.event == "Order Completed":
                researched = any(
                    r.channel in ("web", "app")
                    and r.event in ("Product Viewed", "Products Searched")
                    and timedelta(0) <= t.at - r.at <= WEEK
                    for r in touches
                )
                expected.append((user, t.at, researched))
    assert found == sorted(expected)
    assert {c for _, _, c in found} == {True, False}


def test_calls_after_the_web_match_the_oracle(log: AnalyticsLog) -> None:
    users = _user_of(log)
    calls, _ = contacts_after_web(log)
    frame = log.execute(calls.select("profile_id", "at", "after_web"))
    found = sorted(
        (users[p], at.to_pydatetime(), bool(a)) for p, at, a in frame.itertuples(index=False)
    )
    expected = []
    for user, touches in PEOPLE_TOUCHES.items():
        for t in touches:
            if t.event == "Call Started":
                before = [d.at for d in touches if d.channel in ("web", "app") and d.at <= t.at]
                after = bool(before) and t.at - max(before) <= timedelta(hours=24)
                expected.append((user, t.at, after))
    assert found == sorted(expected)
