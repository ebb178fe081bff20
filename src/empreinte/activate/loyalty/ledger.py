"""The accounts of the points ledger and the pure rules over them (no storage here).

Accounts (every movement moves points between two or more of them, summing to zero):

    member:<profile_id>            a member's points (never below zero)
    programme:issued               the counterpart of points earned (the programme's liability)
    programme:redeemed             points spent by members
    programme:expired              points that lapsed
    member:erased                  the points of erased people, with no one named
    pot:<campaign>:retailer        what the retailer put into a campaign (never below zero)
    pot:<campaign>:brand:<brand>   what a brand put into it (never below zero)
    sponsor:retailer, sponsor:brand:<brand>   where the pots' money came from

Expiry takes the oldest points first: every debit of a member (redemption, expiry, transfer)
consumes their credits in the order they were earned, and a credit left unconsumed when its
lot is older than the expiry period lapses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

ISSUED = "programme:issued"
REDEEMED = "programme:redeemed"
EXPIRED = "programme:expired"
ERASED = "member:erased"
RETAILER = "retailer"
MEMBER_PREFIX = "member:"


def member(profile_id: str) -> str:
    return MEMBER_PREFIX + profile_id


def pot(campaign: str, funder: str) -> str:
    """A campaign's pot of one funder ("retailer" or "brand:<name>")."""
    return f"pot:{campaign}:{funder}"


def sponsor(funder: str) -> str:
    return f"sponsor:{funder}"


def brand_funder(brand: str) -> str:
    return f"brand:{brand}"


def remaining(credits: Sequence[tuple[datetime, int]], balance: int) -> list[tuple[datetime, int]]:
    """What is left of each lot (lot time, points; oldest first) once every debit so far has
    consumed the credits oldest first, leaving `balance`. Linear in the credits."""
    consumed = sum(points for _, points in credits) - balance
    out: list[tuple[datetime, int]] = []
    for lot, points in credits:
        used = min(points, max(consumed, 0))
        consumed -= used
        if points - used > 0:
            out.append((lot, points - used))
    return out


def lapsed(
    credits: Sequence[tuple[datetime, int]], balance: int, now: datetime, expiry: timedelta
) -> list[tuple[datetime, int]]:
    """The (lot, points) that lapse at `now`: what is `remaining` of lots earned at or before
    `now - expiry`."""
    cutoff = now - expiry
    return [(lot, left) for lot, left in remaining(credits, balance) if lot <= cutoff]


def split(reward: int, brand_share: float) -> tuple[int, int]:
    """A reward's (retailer, brand) parts: the brand pays its share rounded to the nearest
    point (half up), the retailer the rest, so the parts always sum to the reward."""
    brand = int(reward * brand_share + 0.5)
    brand = min(max(brand, 0), reward)
    return reward - brand, brand
