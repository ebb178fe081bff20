"""The `[cx]` settings of a workspace: how survey answers are counted.

```toml
[cx]
min_n = 30           # below this many answers a figure is flagged as not reliable
answers = "latest"   # "latest": a person's latest answer per survey and period; "all"
viewer_min_group = 10  # viewers see no figure of fewer answers (analytics/cx/disclosure.py)
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from empreinte.errors import ConfigError

AnswerRule = Literal["latest", "all"]


@dataclass(frozen=True)
class CxSettings:
    min_n: int = 30
    answers: AnswerRule = "latest"
    viewer_min_group: int = 10

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> CxSettings:
        section = dict(section or {})
        unknown = sorted(set(section) - {"min_n", "answers", "viewer_min_group"})
        if unknown:
            raise ConfigError(f"[cx] unknown setting(s) {', '.join(unknown)}")
        min_n = section.get("min_n", 30)
        if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
            raise ConfigError(f"[cx] min_n must be a positive integer, got {min_n!r}")
        answers = section.get("answers", "latest")
        if answers not in ("latest", "all"):
            raise ConfigError(f'[cx] answers must be "latest" or "all", got {answers!r}')
        k = section.get("viewer_min_group", 10)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"[cx] viewer_min_group must be a positive integer, got {k!r}")
        return cls(min_n=min_n, answers=answers, viewer_min_group=k)
