"""`[loyalty]` in empreinte.toml: the programme's earning rules, checked when a workspace opens.

```toml
[loyalty]
purpose = "analytics"                       # the consent a member's points need
trusted_sources = ["pos", "backoffice"]     # besides api, python and [consent] trusted_sources
points_per_currency = { EUR = 1, USD = 1 }  # points per unit of money, trusted orders only
category_multipliers = { Electronics = 2 }  # × the points of a line of that category
visit_points = { "Store Visited" = 20, "Application Opened" = 5, "Page Viewed" = 2 }
survey_points = 10                          # an NPS/CSAT/CES answer
daily_engagement_cap = 30                   # visits and answers, per person and day
expiry = "365d"                             # points lapse this long after they were earned
point_value = 0.01                          # what a point is worth (rewards, budgets)
run_every = "1m"                            # how often `empreinte serve` runs the programme
```
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from empreinte.errors import AnalyticsError, ConfigError

#: The events a survey answer earns points for (collect/surveys.py checks them at ingestion).
SURVEY_EVENTS = ("NPS Answered", "CSAT Answered", "CES Answered")
#: The step of a `page` call (a site visit), as journeys name it.
PAGE_STEP = "Page Viewed"

_KEYS = {
    "purpose",
    "trusted_sources",
    "points_per_currency",
    "category_multipliers",
    "visit_points",
    "survey_points",
    "daily_engagement_cap",
    "expiry",
    "point_value",
    "run_every",
}
_DEFAULT_VISITS = {"Store Visited": 20, "Application Opened": 5, PAGE_STEP: 2}


def _whole(section: Mapping[str, Any], key: str, default: int, upper: int) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= upper:
        raise ConfigError(f"[loyalty] {key} must be a whole number from 0 to {upper}")
    return value


def _table(section: Mapping[str, Any], key: str, default: Mapping[str, float]) -> dict[str, float]:
    value = section.get(key, default)
    if not isinstance(value, Mapping):
        raise ConfigError(f"[loyalty] {key} must be a table, e.g. {key} = {{ EUR = 1 }}")
    out: dict[str, float] = {}
    for name, number in value.items():
        if (
            isinstance(number, bool)
            or not isinstance(number, int | float)
            or not math.isfinite(number)
            or not 0 <= number <= 1000
        ):
            raise ConfigError(f"[loyalty] {key}.{name} must be a number from 0 to 1000")
        out[str(name)] = float(number)
    return out


@dataclass(frozen=True)
class LoyaltySettings:
    """The programme's rules (see the module docstring for each key)."""

    purpose: str = "analytics"
    trusted_sources: frozenset[str] = frozenset()
    points_per_currency: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({"EUR": 1.0})
    )
    category_multipliers: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    visit_points: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType(dict(_DEFAULT_VISITS))
    )
    survey_points: int = 10
    daily_engagement_cap: int = 30
    expiry: timedelta = timedelta(days=365)
    point_value: float = 0.01
    run_every: timedelta = timedelta(minutes=1)

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> LoyaltySettings:
        from empreinte.durations import parse_duration
        from empreinte.privacy.consent import PURPOSES

        section = dict(section or {})
        unknown = sorted(set(section) - _KEYS)
        if unknown:
            raise ConfigError(f"[loyalty] unknown setting(s) {', '.join(unknown)}")
        purpose = section.get("purpose", "analytics")
        if purpose not in PURPOSES:
            raise ConfigError(f"[loyalty] purpose must be one of {', '.join(sorted(PURPOSES))}")
        trusted = section.get("trusted_sources", [])
        if not isinstance(trusted, list) or not all(isinstance(s, str) and s for s in trusted):
            raise ConfigError('[loyalty] trusted_sources must be a list of sources, e.g. ["pos"]')
        currencies = {
            k.upper(): v for k, v in _table(section, "points_per_currency", {"EUR": 1.0}).items()
        }
        visits = _table(section, "visit_points", _DEFAULT_VISITS)
        if any(v != int(v) for v in visits.values()):
            raise ConfigError("[loyalty] visit_points must be whole numbers of points")
        expiry_text = section.get("expiry", "365d")
        if not isinstance(expiry_text, str):
            raise ConfigError('[loyalty] expiry must be a duration such as "365d"')
        try:
            expiry = parse_duration(expiry_text, "[loyalty] expiry")
        except AnalyticsError as exc:
            raise ConfigError(str(exc)) from None
        every_text = section.get("run_every", "1m")
        try:
            if not isinstance(every_text, str):
                raise AnalyticsError("a duration")
            every = parse_duration(every_text, "[loyalty] run_every")
        except AnalyticsError:
            raise ConfigError(
                '[loyalty] run_every must be a duration such as "1m" or "30s"'
            ) from None
        value = section.get("point_value", 0.01)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 100:
            raise ConfigError("[loyalty] point_value must be a number above 0, at most 100")
        return cls(
            purpose=purpose,
            trusted_sources=frozenset(trusted),
            points_per_currency=MappingProxyType(currencies),
            category_multipliers=MappingProxyType(_table(section, "category_multipliers", {})),
            visit_points=MappingProxyType({k: int(v) for k, v in visits.items()}),
            survey_points=_whole(section, "survey_points", 10, 100_000),
            daily_engagement_cap=_whole(section, "daily_engagement_cap", 30, 1_000_000),
            expiry=expiry,
            point_value=float(value),
            run_every=every,
        )

    def points_of(self, money: float) -> int:
        """Points worth `money` (euros or the workspace's currency), rounded down."""
        return math.floor(money / self.point_value + 1e-9)
