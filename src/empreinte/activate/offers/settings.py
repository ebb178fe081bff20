"""`[offers]` in empreinte.toml: how many impressions without a click retire an offer for a
person, and how often the server refreshes eligibility (segments) and reloads a newer model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from empreinte.errors import ConfigError

_BOUNDS = {"ignore_after": (1, 100), "refresh_seconds": (1, 86_400)}


@dataclass(frozen=True)
class OfferSettings:
    """`ignore_after`: impressions of an offer without a click after which that person never
    sees it again (3). `refresh_seconds`: how long an offer's eligible people (its segment)
    are reused, and how often the server looks for a newer model (300)."""

    ignore_after: int = 3
    refresh_seconds: int = 300

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> OfferSettings:
        section = section or {}
        unknown = sorted(set(section) - set(_BOUNDS))
        if unknown:
            raise ConfigError(f"[offers]: unknown setting(s) {', '.join(unknown)}")
        values: dict[str, int] = {}
        for key, (low, high) in _BOUNDS.items():
            if key not in section:
                continue
            value = section[key]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ConfigError(f"[offers] {key} must be a whole number from {low} to {high}")
            values[key] = value
        return cls(**values)
