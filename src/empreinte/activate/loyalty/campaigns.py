"""Campaigns of brand-funded challenges: their definition (a JSON or TOML document), checked
field by field, and the pure rules of offering (habits, holdout) and of incrementality.

```json
{"name": "spring-2025", "starts": "2025-03-01", "ends": "2025-05-31",
 "budget": 500, "brands": {"Fairphone": 300, "Patagonia": 200},
 "eligibility": "did(\\"Order Completed\\", within=\\"365d\\")",
 "holdout": 0.1, "offers_per_person": 3, "seed": 7,
 "challenges": [{"id": "fp-3", "brand": "Fairphone", "count": 3, "within": "42d",
                 "reward": 4, "brand_share": 0.5, "category": null}]}
```

`budget` is the retailer's money and `brands` each brand's (in the currency of
`[loyalty] point_value`); a reward is paid `brand_share` by its brand's pot and the rest by
the retailer's pot, and never when either pot is short.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from empreinte.errors import AnalyticsError, InvalidInput

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,79}$")
_FIELDS = {
    "name",
    "starts",
    "ends",
    "budget",
    "brands",
    "eligibility",
    "holdout",
    "offers_per_person",
    "seed",
    "challenges",
    "description",
}
# "description" is derived (`Challenge.describe`): accepted and ignored, so that a document
# read back from `to_json` imports again.
_CHALLENGE_FIELDS = {"id", "brand", "category", "count", "within", "reward", "brand_share"}
_CHALLENGE_FIELDS |= {"description"}
MAX_CHALLENGES = 50
MAX_MONEY = 10_000_000


@dataclass(frozen=True)
class Challenge:
    """ "Buy `count` products of `brand` (of `category`, when set) within `within` of accepting
    → `reward`" (money, paid as points)."""

    id: str
    brand: str
    category: str | None
    count: int
    within: timedelta
    within_text: str
    reward: float
    brand_share: float

    def describe(self) -> str:
        what = f"{self.brand} {self.category}" if self.category else self.brand
        return f"buy {self.count} {what} product(s) within {self.within_text} → {self.reward:g}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "brand": self.brand,
            "category": self.category,
            "count": self.count,
            "within": self.within_text,
            "reward": self.reward,
            "brand_share": self.brand_share,
            "description": self.describe(),
        }


@dataclass(frozen=True)
class Campaign:
    name: str
    starts: datetime
    ends: datetime
    budget: float
    brands: Mapping[str, float]
    eligibility: str
    holdout: float
    offers_per_person: int
    seed: int
    challenges: tuple[Challenge, ...]
    description: str | None = None

    def challenge(self, challenge_id: str) -> Challenge | None:
        return next((c for c in self.challenges if c.id == challenge_id), None)

    def active(self, now: datetime) -> bool:
        return self.starts <= now < self.ends

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "starts": self.starts.date().isoformat(),
            "ends": (self.ends - timedelta(days=1)).date().isoformat(),
            "budget": self.budget,
            "brands": dict(self.brands),
            "eligibility": self.eligibility,
            "holdout": self.holdout,
            "offers_per_person": self.offers_per_person,
            "seed": self.seed,
            "description": self.description,
            "challenges": [c.to_json() for c in self.challenges],
        }


def _money(value: Any, field: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= MAX_MONEY
    ):
        raise InvalidInput(field, f"must be an amount from 0 to {MAX_MONEY}")
    return float(value)


def _text(value: Any, field: str, pattern: re.Pattern[str] | None = _NAME) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must be a non-empty string")
    if pattern is not None and not pattern.match(value):
        raise InvalidInput(field, "1-80 letters, digits, spaces, _ . - (starting with one)")
    return value


def _day(value: Any, field: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a date YYYY-MM-DD") from None


def parse_campaign(doc: Any, timezone: str = "UTC") -> Campaign:
    """A campaign from its document; `InvalidInput` naming the first wrong field."""
    from zoneinfo import ZoneInfo

    from empreinte.durations import parse_duration

    if not isinstance(doc, Mapping):
        raise InvalidInput("campaign", "must be an object")
    unknown = sorted(set(doc) - _FIELDS)
    if unknown:
        raise InvalidInput(unknown[0], f"unknown field; use {', '.join(sorted(_FIELDS))}")
    name = _text(doc.get("name"), "name")
    zone = ZoneInfo(timezone)
    starts_day, ends_day = _day(doc.get("starts"), "starts"), _day(doc.get("ends"), "ends")
    if ends_day < starts_day:
        raise InvalidInput("ends", "must not be before starts")
    starts = datetime.combine(starts_day, datetime.min.time(), zone).astimezone(UTC)
    ends = datetime.combine(ends_day + timedelta(days=1), datetime.min.time(), zone)
    budget = _money(doc.get("budget", 0), "budget")
    brands_doc = doc.get("brands", {})
    if not isinstance(brands_doc, Mapping):
        raise InvalidInput("brands", 'must be an object, e.g. {"Fairphone": 300}')
    brands = {_text(b, "brands", None): _money(v, f"brands.{b}") for b, v in brands_doc.items()}
    eligibility = doc.get("eligibility", "")
    if not isinstance(eligibility, str):
        raise InvalidInput("eligibility", "must be a segment expression (a string)")
    holdout = doc.get("holdout", 0.1)
    if isinstance(holdout, bool) or not isinstance(holdout, int | float) or not 0 <= holdout <= 0.5:
        raise InvalidInput("holdout", "must be a share from 0 to 0.5")
    per_person = doc.get("offers_per_person", 3)
    if isinstance(per_person, bool) or not isinstance(per_person, int) or not 1 <= per_person <= 5:
        raise InvalidInput("offers_per_person", "must be a whole number from 1 to 5")
    seed = doc.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise InvalidInput("seed", "must be a whole number from 0 to 2^31-1")
    items = doc.get("challenges")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_CHALLENGES:
        raise InvalidInput("challenges", f"must be a list of 1 to {MAX_CHALLENGES} challenges")
    challenges: list[Challenge] = []
    for i, item in enumerate(items):
        where = f"challenges[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidInput(where, "must be an object")
        extra = sorted(set(item) - _CHALLENGE_FIELDS)
        if extra:
            raise InvalidInput(f"{where}.{extra[0]}", "unknown field")
        cid = _text(item.get("id"), f"{where}.id")
        if any(c.id == cid for c in challenges):
            raise InvalidInput(f"{where}.id", f"{cid!r} is used twice")
        brand = _text(item.get("brand"), f"{where}.brand", None)
        if brand not in brands:
            raise InvalidInput(f"{where}.brand", f"{brand!r} does not fund the campaign (brands)")
        category = item.get("category")
        if category is not None:
            category = _text(category, f"{where}.category", None)
        count = item.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100:
            raise InvalidInput(f"{where}.count", "must be a whole number from 1 to 100")
        within_text = item.get("within", "42d")
        if not isinstance(within_text, str):
            raise InvalidInput(f"{where}.within", 'must be a duration such as "42d"')
        try:
            within = parse_duration(within_text, f"{where}.within")
        except AnalyticsError as exc:
            raise InvalidInput(f"{where}.within", str(exc)) from None
        reward = _money(item.get("reward"), f"{where}.reward")
        if reward <= 0:
            raise InvalidInput(f"{where}.reward", "must be above 0")
        share = item.get("brand_share", 0.5)
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise InvalidInput(f"{where}.brand_share", "must be a share from 0 to 1")
        challenges.append(
            Challenge(cid, brand, category, count, within, within_text, reward, float(share))
        )
    description = doc.get("description")
    if description is not None and not isinstance(description, str):
        raise InvalidInput("description", "must be a string")
    return Campaign(
        name=name,
        starts=starts,
        ends=ends.astimezone(UTC),
        budget=budget,
        brands=brands,
        eligibility=eligibility,
        holdout=float(holdout),
        offers_per_person=per_person,
        seed=seed,
        challenges=tuple(challenges),
        description=description,
    )


def _unit(*parts: object) -> float:
    """A reproducible number in [0, 1) for `parts` (SHA-256: the same on every machine)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_holdout(campaign: Campaign, profile_id: str) -> bool:
    """Whether an eligible person is held out (seeded by the campaign's seed and name)."""
    return _unit(campaign.seed, campaign.name, "holdout", profile_id) < campaign.holdout


@dataclass(frozen=True)
class Habits:
    """Units a person bought per brand and per (brand, category)."""

    brands: Mapping[str, float]
    categories: Mapping[tuple[str, str], float]


def choose(
    campaign: Campaign, profile_id: str, habits: Habits | None
) -> list[tuple[Challenge, str]]:
    """The challenges to offer `profile_id`, best first, each with its reason: the ones whose
    brand (and category) they buy most, then, to fill the `offers_per_person`, the others in a
    seeded order (a discovery offer)."""

    def units(c: Challenge) -> float:
        if habits is None:
            return 0.0
        if c.category is not None:
            return habits.categories.get((c.brand, c.category), 0.0)
        return habits.brands.get(c.brand, 0.0)

    ranked = sorted(
        campaign.challenges,
        key=lambda c: (-units(c), _unit(campaign.seed, campaign.name, profile_id, c.id)),
    )
    out = []
    for c in ranked[: campaign.offers_per_person]:
        bought = units(c)
        what = f"{c.brand} {c.category}" if c.category else c.brand
        reason = (
            f"bought {bought:g} {what} product(s) before"
            if bought > 0
            else f"discovery: {what} is new to them"
        )
        out.append((c, reason))
    return out


@dataclass(frozen=True)
class Lift:
    """Mean spend per person on a brand, offered group against holdout, with the difference
    and its 95% interval (Welch: unequal variances, normal approximation)."""

    offered_n: int
    holdout_n: int
    offered_mean: float
    holdout_mean: float
    difference: float
    low: float | None
    high: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "offered_people": self.offered_n,
            "holdout_people": self.holdout_n,
            "offered_mean_spend": round(self.offered_mean, 2),
            "holdout_mean_spend": round(self.holdout_mean, 2),
            "incremental_spend_per_person": round(self.difference, 2),
            "interval_95": None
            if self.low is None or self.high is None
            else [round(self.low, 2), round(self.high, 2)],
        }


def _moments(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n if n else 0.0
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return mean, var


def lift(offered: Sequence[float], holdout: Sequence[float]) -> Lift:
    """`Lift` of two samples of spend per person (zeros included)."""
    m1, v1 = _moments(offered)
    m0, v0 = _moments(holdout)
    diff = m1 - m0
    if len(offered) < 2 or len(holdout) < 2:
        return Lift(len(offered), len(holdout), m1, m0, diff, None, None)
    se = math.sqrt(v1 / len(offered) + v0 / len(holdout))
    return Lift(len(offered), len(holdout), m1, m0, diff, diff - 1.96 * se, diff + 1.96 * se)
