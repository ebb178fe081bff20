"""The `[storage]` settings of a workspace: what the embedded engine may use of the machine.

```toml
[storage]
memory_limit = "1GB"   # DuckDB's buffer pool (its own default is 80% of the RAM); KB, MB, GB, TB
threads = 2            # DuckDB's worker threads (default: one per core)
```

Past the limit DuckDB spills to a temporary directory beside the database instead of growing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from empreinte.errors import ConfigError

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]i?B)", re.IGNORECASE)
_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
# Below this DuckDB cannot hold one 100,000-row group commit with its indexes.
_MIN_BYTES = 64 << 20


@dataclass(frozen=True)
class StorageSettings:
    memory_limit: str = "1GB"
    threads: int | None = None

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> StorageSettings:
        section = dict(section or {})
        unknown = sorted(set(section) - {"memory_limit", "threads"})
        if unknown:
            raise ConfigError(f"[storage] unknown setting(s) {', '.join(unknown)}")
        memory = section.get("memory_limit", cls.memory_limit)
        match = _SIZE.fullmatch(memory.strip()) if isinstance(memory, str) else None
        if match is None:
            raise ConfigError(
                f'[storage] memory_limit must be a size such as "1GB" or "512MB", got {memory!r}'
            )
        if float(match[1]) * _UNITS[match[2][0].lower()] < _MIN_BYTES:
            raise ConfigError(f"[storage] memory_limit must be at least 64MB, got {memory!r}")
        threads = section.get("threads")
        if threads is not None and (
            isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
        ):
            raise ConfigError(f"[storage] threads must be a positive integer, got {threads!r}")
        return cls(memory_limit=f"{match[1]}{match[2].upper().replace('I', 'i')}", threads=threads)
