"""The `[collector]` settings of a workspace: how long a request may take before the collector
refuses new work.

```toml
[collector]
latency_budget = 2.0   # seconds; half for the wait to be validated, half for the commit queue
read_threads = 1       # reports and other reads computed at once (default: cores - 1, >= 1)
```

Past the budget the collector answers 429 with `Retry-After` (the official clients retry with
backoff) rather than letting every request wait longer than its client does.

`read_threads` bounds the server's pool for blocking reads (reports, dashboard pages, the
query API): ingestion has its own threads and processes, and heavy reports beside it slowed
its p99 several times on 2 cores (bench/load.py --reports, docs/load.md). Kept below the core
count, at least one core is left to ingestion.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from empreinte.errors import ConfigError


def default_read_threads() -> int:
    """One fewer than the cores, at least one."""
    return max(1, (os.cpu_count() or 1) - 1)


@dataclass(frozen=True)
class CollectorSettings:
    latency_budget: float = 2.0
    read_threads: int = field(default_factory=default_read_threads)

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
        unknown = sorted(set(section) - {"latency_budget", "read_threads"})
        if unknown:
            raise ConfigError(f"[collector] unknown setting(s) {', '.join(unknown)}")
        budget = section.get("latency_budget", cls.latency_budget)
        if isinstance(budget, bool) or not isinstance(budget, int | float) or not 0 < budget <= 60:
            raise ConfigError(
                f"[collector] latency_budget must be a number of seconds in (0, 60], got {budget!r}"
            )
        threads = section.get("read_threads", default_read_threads())
        if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 256:
            raise ConfigError(
                f"[collector] read_threads must be an integer in [1, 256], got {threads!r}"
            )
        return cls(latency_budget=float(budget), read_threads=threads)
