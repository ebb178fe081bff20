"""The `[collector]` settings of a workspace: how long a request may take before the collector
refuses new work.

```toml
[collector]
latency_budget = 2.0   # seconds; half for the wait to be validated, half for the commit queue
```

Past the budget the collector answers 429 with `Retry-After` (the official clients retry with
backoff) rather than letting every request wait longer than its client does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from empreinte.errors import ConfigError


@dataclass(frozen=True)
class CollectorSettings:
    latency_budget: float = 2.0

    @property
    def validation_budget(self) -> float:
        """Seconds of parsing and validation the collector may hold admitted."""
        return self.latency_budget / 2

    @property
    def queue_budget(self) -> float:
        """Seconds of commits the writer may hold queued."""
        return self.latency_budget / 2

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> CollectorSettings:
        section = dict(section or {})
        unknown = sorted(set(section) - {"latency_budget"})
        if unknown:
            raise ConfigError(f"[collector] unknown setting(s) {', '.join(unknown)}")
        budget = section.get("latency_budget", cls.latency_budget)
        if isinstance(budget, bool) or not isinstance(budget, int | float) or not 0 < budget <= 60:
            raise ConfigError(
                f"[collector] latency_budget must be a number of seconds in (0, 60], got {budget!r}"
            )
        return cls(latency_budget=float(budget))
