"""`[partners]` of empreinte.toml: the minimum cell size and which sources' orders count.

```toml
[partners]
k = 10                 # minimum people per published cell (never below 5)
sources = "trusted"    # orders from the trusted sources only (default); "any"; or a list
```

The floor of 5: below it, a cell narrows a group to a handful of people whose purchases a
partner can often guess from outside knowledge (a store's staff, a family); the statistical
offices' threshold rules use 3 to 10 for counts of people — 5 is the lowest we allow, 10 the
default, as the issue asks.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from empreinte.errors import ConfigError

DEFAULT_K = 10
K_FLOOR = 5
K_CEILING = 10_000
_KNOWN = {"k", "sources"}


@dataclass(frozen=True)
class PartnerSettings:
    """`k`: the smallest number of people a published cell may describe (the workspace's
    minimum: a report may ask for more, never less). `sources`: the sources whose orders
    count (None: any source; "trusted" is resolved by the workspace to its trusted sources)."""

    k: int = DEFAULT_K
    sources: str | tuple[str, ...] = "trusted"

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> PartnerSettings:
        unknown = sorted(set(section) - _KNOWN)
        if unknown:
            raise ConfigError(f"[partners]: unknown setting(s) {', '.join(unknown)}")
        k = section.get("k", DEFAULT_K)
        if not isinstance(k, int) or isinstance(k, bool) or not K_FLOOR <= k <= K_CEILING:
            raise ConfigError(
                f"[partners] k must be a whole number from {K_FLOOR} to {K_CEILING} "
                f"(the minimum number of people per published cell)"
            )
        sources = section.get("sources", "trusted")
        if isinstance(sources, list):
            if not sources or not all(isinstance(s, str) and s.strip() for s in sources):
                raise ConfigError('[partners] sources must be "trusted", "any" or a list of names')
            return cls(k=k, sources=tuple(sorted({s.strip() for s in sources})))
        if sources not in ("trusted", "any"):
            raise ConfigError('[partners] sources must be "trusted", "any" or a list of names')
        return cls(k=k, sources=sources)

    def source_names(self, trusted: Collection[str]) -> frozenset[str] | None:
        """The sources whose orders count, `trusted` being the workspace's trusted sources;
        None for any."""
        if self.sources == "any":
            return None
        if self.sources == "trusted":
            return frozenset(trusted)
        return frozenset(self.sources)
