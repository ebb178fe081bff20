"""Product reviews (`Review Submitted`): a rating from 1 to 5 and a few words, after delivery.

What people write follows what happened to the order — a late parcel, a return — so the
voice of the customer has true topics to find in verbatims as well as in calls. Each review
is drawn from the order's own generator: the rest of the demo does not move when reviews do.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from empreinte.demo import phrases
from empreinte.demo.clock import DAY_MS, HOUR_MS
from empreinte.demo.sampling import between

if TYPE_CHECKING:
    from empreinte.demo.journeys import Order, Simulation

REVIEW_RATE = 0.12  # share of delivered online orders reviewed (more after a bad experience)


def _kind_and_rating(rng: random.Random, order: Order) -> tuple[str, int]:
    if order.friction.returned:
        return "returned", rng.choice((1, 1, 2, 2, 3))
    if order.friction.delay_days > 0:
        return "late", rng.choice((2, 2, 3, 3, 4))
    if rng.random() < 0.8:
        return "good", rng.choice((4, 5, 5, 5))
    return "average", 3


def review(sim: Simulation, order: Order, delivered: int) -> None:
    """Maybe a review of the order's first product, written on the site days after delivery."""
    from empreinte.demo.journeys import Session  # the simulator imports this module

    rng = random.Random(f"voc-review-{sim.world.seed}-{order.order_id}")
    bad = order.friction.returned or order.friction.delay_days > 0
    if order.channel == "store" or rng.random() >= REVIEW_RATE * (2.0 if bad else 1.0):
        return
    line = order.lines[0]
    kind, rating = _kind_and_rating(rng, order)
    lang = sim.profile.lang
    text = rng.choice(phrases.REVIEWS[kind][lang]).format(
        days=max(1, order.friction.delay_days), product=line["name"]
    )
    ms = delivered + between(rng, 2 * HOUR_MS, 10 * DAY_MS)
    if ms >= sim.world.end_ms:
        return
    session = Session(sim, rng.choice(sim.profile.browsers), ms)
    path = f"{sim.world.paths[line['product_id']]}/review"
    session.view("Write a Review", path, f"Review {line['name']} | Empreinte")
    session.ms += between(rng, 30_000, 300_000)
    props = {
        "product_id": line["product_id"],
        "order_id": order.order_id,
        "rating": rating,
        "review": text,
        "language": lang,
    }
    session.track("Review Submitted", props, essential=True)
