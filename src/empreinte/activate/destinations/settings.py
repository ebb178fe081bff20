"""`[destinations]` of empreinte.toml: how hard the outbox tries, how much it sends at once,
how long it waits, and where it may send and write.

    [destinations]
    max_attempts = 8             # tries before a delivery goes to the dead-letter queue
    retry_base_seconds = 30      # back-off: a random wait up to base × 2^(tries−1) …
    retry_max_seconds = 3600     # … never more than this
    batch_size = 100             # messages per request (Segment's /v1/batch takes up to 2,500)
    timeout_seconds = 10         # connect + read, per request
    interval_seconds = 30        # the server's background round
    keep_days = 30               # sent and withheld deliveries kept (deletion requests: always)
    allow_private_networks = false   # true: URLs may name loopback/private addresses
    export_root = "exports"      # csv/parquet directories lie within (relative: to the workspace)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from empreinte.errors import ConfigError

_NUMBERS: dict[str, tuple[float, float, bool]] = {
    # name: (lowest, highest, whole)
    "max_attempts": (1, 50, True),
    "retry_base_seconds": (0, 86400, False),
    "retry_max_seconds": (0, 7 * 86400, False),
    "batch_size": (1, 1000, True),
    "timeout_seconds": (0.1, 120, False),
    "interval_seconds": (0.1, 86400, False),
    "keep_days": (1, 3650, True),
}


@dataclass(frozen=True)
class DestinationSettings:
    max_attempts: int = 8
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    batch_size: int = 100
    timeout_seconds: float = 10.0
    interval_seconds: float = 30.0
    keep_days: int = 30
    allow_private_networks: bool = False
    export_root: str = "exports"

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> DestinationSettings:
        unknown = sorted(set(section) - {*_NUMBERS, "allow_private_networks", "export_root"})
        if unknown:
            raise ConfigError(f"[destinations]: unknown setting(s) {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, (low, high, whole) in _NUMBERS.items():
            if name not in section:
                continue
            value = section[name]
            kind = "a whole number" if whole else "a number"
            if (
                isinstance(value, bool)
                or not isinstance(value, int if whole else (int, float))
                or not low <= value <= high
            ):
                raise ConfigError(f"[destinations] {name} must be {kind} from {low} to {high}")
            values[name] = value
        if "allow_private_networks" in section:
            if not isinstance(section["allow_private_networks"], bool):
                raise ConfigError("[destinations] allow_private_networks must be true or false")
            values["allow_private_networks"] = section["allow_private_networks"]
        if "export_root" in section:
            if not isinstance(section["export_root"], str) or not section["export_root"]:
                raise ConfigError("[destinations] export_root must be a directory path")
            values["export_root"] = section["export_root"]
        return cls(**values)

    def export_directory(self, workspace: Path) -> Path:
        """The directory csv/parquet destinations write within."""
        root = Path(self.export_root).expanduser()
        return (root if root.is_absolute() else workspace / root).resolve()
