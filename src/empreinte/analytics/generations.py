"""Generations by birth year. Sources disagree on the boundaries, so they are settings.

The default is Pew Research Center's ("Defining generations: where Millennials end and
Generation Z begins", 2019), extended with Generation Alpha from 2013. A workspace can set its
own in `empreinte.toml`, as the first birth year of each generation:

```toml
[generations]
"Baby Boomers" = 1946
"Gen X" = 1965
"Gen Y (Millennials)" = 1981
"Gen Z" = 1997
"Gen Alpha" = 2013
```
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from empreinte.errors import ConfigError

PEW: dict[str, int] = {
    "Silent Generation": 1928,
    "Baby Boomers": 1946,
    "Gen X": 1965,
    "Gen Y (Millennials)": 1981,
    "Gen Z": 1997,
    "Gen Alpha": 2013,
}


@dataclass(frozen=True)
class Generations:
    """Generation names by first birth year, oldest first."""

    starts: tuple[tuple[int, str], ...]

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> Generations:
        table = dict(section) if section else PEW
        starts = []
        for name, year in table.items():
            if isinstance(year, bool) or not isinstance(year, int) or not 1800 <= year <= 2200:
                raise ConfigError(
                    f"[generations] {name!r} must be a first birth year (an integer), got {year!r}"
                )
            starts.append((year, str(name)))
        if not starts:
            raise ConfigError("[generations] needs at least one generation")
        years = [year for year, _ in starts]
        if len(set(years)) != len(years):
            raise ConfigError("[generations] two generations start the same year")
        return cls(tuple(sorted(starts)))

    def of(self, birth_year: int | None) -> str | None:
        """The generation of someone born in `birth_year`; None when unknown or before the
        first generation."""
        if birth_year is None:
            return None
        index = bisect.bisect_right([year for year, _ in self.starts], birth_year) - 1
        return self.starts[index][1] if index >= 0 else None
