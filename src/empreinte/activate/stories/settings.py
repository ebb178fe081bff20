"""`[stories]` of empreinte.toml: the order of a story's sections per country, and the
language of people whose own is unknown.

```toml
[stories]
language = "en"                       # for people with no locale (default "en")
order = ["products", "categories", "channel", "month", "savings", "impact"]   # the default
emphasis = { FR = ["impact"], US = ["savings", "products"] }   # these lead, per country
```

A country's emphasis names the sections that lead its stories, in that order; the others
follow in `order`. By default French stories lead with impact, US ones with money saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from empreinte.errors import ConfigError

SECTIONS = ("products", "categories", "channel", "month", "savings", "impact")
LANGUAGES = ("en", "fr")
DEFAULT_EMPHASIS: Mapping[str, tuple[str, ...]] = {"FR": ("impact",), "US": ("savings",)}
_KEYS = {"language", "order", "emphasis"}


def _sections(value: Any, where: str, complete: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[stories] {where} must be a list of section names")
    unknown = [v for v in value if v not in SECTIONS]
    if unknown:
        raise ConfigError(
            f"[stories] {where}: unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}"
        )
    if len(set(value)) != len(value):
        raise ConfigError(f"[stories] {where} names a section twice")
    if complete and set(value) != set(SECTIONS):
        missing = ", ".join(s for s in SECTIONS if s not in value)
        raise ConfigError(f"[stories] {where} must name every section (missing: {missing})")
    return tuple(value)


@dataclass(frozen=True)
class StorySettings:
    language: str = "en"
    order: tuple[str, ...] = SECTIONS
    emphasis: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: DEFAULT_EMPHASIS)

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> StorySettings:
        section = section or {}
        unknown = sorted(set(section) - _KEYS)
        if unknown:
            raise ConfigError(f"[stories]: unknown setting(s) {', '.join(unknown)}")
        language = section.get("language", "en")
        if language not in LANGUAGES:
            raise ConfigError(f"[stories] language must be one of {', '.join(LANGUAGES)}")
        order = _sections(section["order"], "order", True) if "order" in section else SECTIONS
        emphasis = dict(DEFAULT_EMPHASIS)
        given = section.get("emphasis", {})
        if not isinstance(given, dict):
            raise ConfigError('[stories] emphasis must be a table such as { FR = ["impact"] }')
        for country, leading in given.items():
            if not (isinstance(country, str) and len(country) == 2 and country.isalpha()):
                raise ConfigError(f"[stories] emphasis: {country!r} is not a two-letter country")
            emphasis[country.upper()] = _sections(leading, f"emphasis.{country}", False)
        return cls(language=language, order=order, emphasis=emphasis)

    def sections_for(self, country: str | None) -> tuple[str, ...]:
        """The sections of a story for a person of `country`, in the order they are told."""
        leading = self.emphasis.get((country or "").upper(), ())
        return (*leading, *(s for s in self.order if s not in leading))
