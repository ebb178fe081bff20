"""The figures of a person's year and of the community (plain values: the web layer and
the texts read them without loading analytics)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Community:
    """The year of every buyer together (aggregates only)."""

    year: int
    buyers: int
    co2_avoided_kg: float
    refurbished_items: int
    refurbished_buyers: int

    def to_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "buyers": self.buyers,
            "co2_avoided_kg": round(self.co2_avoided_kg, 3),
            "refurbished_items": self.refurbished_items,
            "refurbished_buyers": self.refurbished_buyers,
        }


@dataclass(frozen=True)
class YearFigures:
    """One person's year."""

    profile_id: str
    year: int
    orders: int
    items: int
    products: int
    categories: tuple[str, ...]
    channel: str | None
    channel_orders: int
    month: int | None  # 1-12
    month_orders: int
    saved: float  # by choosing refurbished
    currency: str | None
    refurbished_items: int
    co2_avoided_kg: float
    #: (buyers who avoided more + 1) ÷ buyers, in (0, 1]; None when nothing was avoided
    rank_share: float | None
    country: str | None
    locale: str | None
    promotions: float = 0.0  # order discounts, in `currency`

    @property
    def top_percent(self) -> int | None:
        """The rank as a whole "top N %" (rounded up, at least 1), None without impact."""
        if self.rank_share is None:
            return None
        return max(1, min(100, -int(-self.rank_share * 100 // 1)))

    def to_json(self) -> dict[str, Any]:
        return {
            "profile_id": self.profile_id,
            "year": self.year,
            "orders": self.orders,
            "items": self.items,
            "products": self.products,
            "categories": list(self.categories),
            "favourite_channel": self.channel,
            "favourite_channel_orders": self.channel_orders,
            "busiest_month": self.month,
            "busiest_month_orders": self.month_orders,
            "money_saved": round(self.saved + self.promotions, 2),
            "saved_refurbished": round(self.saved, 2),
            "saved_promotions": round(self.promotions, 2),
            "currency": self.currency,
            "refurbished_items": self.refurbished_items,
            "co2_avoided_kg": round(self.co2_avoided_kg, 3),
            "top_percent": self.top_percent,
        }


@dataclass(frozen=True)
class YearReport:
    community: Community
    people: dict[str, YearFigures]
