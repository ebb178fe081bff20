"""A workspace's settings, from the optional `empreinte.toml` in its directory.

```toml
default_region = "FR"        # how national phone numbers are read when nothing else says

[identity]                   # merge-protection rules, per identifier type
limits = { user_id = 1, email = 5 }
priority = ["user_id", "email", "phone", "loyalty_card", "external", "device_id", "anonymous_id"]
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers

from empreinte.errors import ConfigError

CONFIG_FILE = "empreinte.toml"
_KNOWN = {"default_region", "identity"}


@dataclass(frozen=True)
class WorkspaceConfig:
    default_region: str = "FR"
    identity: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path) -> WorkspaceConfig:
        path = directory / CONFIG_FILE
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
        unknown = sorted(set(data) - _KNOWN)
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
        region = str(data.get("default_region", "FR")).upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError(f"{path}: default_region {region!r} is not an ISO country code")
        identity = data.get("identity", {})
        if not isinstance(identity, dict):
            raise ConfigError(f"{path}: [identity] must be a table")
        return cls(default_region=region, identity=identity)
