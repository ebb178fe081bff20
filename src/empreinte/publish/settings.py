"""The `[publish]` settings of a workspace: where its collector publishes (docs/publish.md).

```toml
[publish]
url = "s3://bucket/empreinte"   # any fsspec URL; a local path or file:// too
collector_id = "eu-1"           # default: the host name and the workspace's directory name
leader = false                  # true: this collector also runs the publisher
interval = "10s"                # how often the server stages (and publishes, if leader)
compact_files = 16              # compact a closed hour holding more files (0: never)
compact_rows = 1000000          # at most this many rows per compacted file
compact_grace = "1h"            # compacted-away files are deleted after this

[publish.storage_options]       # optional: passed to the URL's fsspec file system
endpoint_url = "https://s3.example.net"   # s3fs: an S3-compatible store
```

Credentials are best left to the store's own chain (AWS_ACCESS_KEY_ID… in the environment,
~/.aws, an instance role): `storage_options` may hold them, but they are kept out of every
message and `repr` (the names of the options are shown, never their values).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from empreinte.durations import parse_duration
from empreinte.errors import AnalyticsError, ConfigError

#: What a collector id may hold: it names a directory of the published log.
COLLECTOR_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_collector_id(value: str, where: str = "collector id") -> str:
    if not isinstance(value, str) or not COLLECTOR_ID.fullmatch(value):
        raise ConfigError(
            f"{where} must be 1-100 letters, digits, '.', '_' or '-' "
            f"(it names a directory of the published log), got {value!r}"
        )
    return value


def default_collector_id(directory: Path) -> str:
    """The host name and the workspace's directory name, made safe for a path."""
    raw = f"{socket.gethostname()}-{directory.resolve().name}"
    return re.sub(r"[^A-Za-z0-9._-]", "_", raw).lstrip("._-")[:100] or "collector"


@dataclass(frozen=True)
class PublishSettings:
    url: str | None = None
    collector_id: str | None = None  # None: `default_collector_id` of the workspace
    leader: bool = False
    interval: timedelta = timedelta(seconds=10)
    compact_files: int = 16
    compact_rows: int = 1_000_000
    compact_grace: timedelta = timedelta(hours=1)
    #: Keyword arguments of the URL's fsspec file system (s3fs: endpoint_url, key, secret,
    #: client_kwargs…). Out of `repr`: they may hold a secret.
    storage_options: Mapping[str, Any] = field(default_factory=dict, repr=False, hash=False)

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> PublishSettings:
        section = dict(section or {})
        known = {"url", "collector_id", "leader", "interval", "storage_options", *_COMPACT}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ConfigError(f"[publish] unknown setting(s) {', '.join(unknown)}")
        url = section.get("url")
        if url is not None and (not isinstance(url, str) or not url.strip()):
            raise ConfigError(f"[publish] url must be a non-empty string, got {url!r}")
        collector = section.get("collector_id")
        if collector is not None:
            check_collector_id(collector, "[publish] collector_id")
        leader = section.get("leader", False)
        if not isinstance(leader, bool):
            raise ConfigError(f"[publish] leader must be true or false, got {leader!r}")
        try:
            interval = parse_duration(str(section.get("interval", "10s")), "[publish] interval")
        except AnalyticsError as exc:
            raise ConfigError(str(exc)) from None
        options = section.get("storage_options", {})
        if not isinstance(options, Mapping) or not all(isinstance(k, str) for k in options):
            # The type only: the value may be a secret.
            raise ConfigError(
                "[publish] storage_options must be a table (keyword arguments of the URL's "
                f"file system), got a {type(options).__name__}"
            )
        if "use_listings_cache" in options:
            raise ConfigError(
                "[publish] storage_options: use_listings_cache cannot be set (the published "
                "log always lists afresh: other processes write to it)"
            )
        return cls(
            url=url,
            collector_id=collector,
            leader=leader,
            interval=interval,
            storage_options=dict(options),
            **_compact(section),
        )

    def compaction(self) -> Compaction:
        return Compaction(self.compact_files, self.compact_rows, self.compact_grace)

    def collector(self, directory: Path) -> str:
        return self.collector_id or default_collector_id(directory)


_COMPACT = ("compact_files", "compact_rows", "compact_grace")


@dataclass(frozen=True)
class Compaction:
    """When the publisher compacts an hour partition (docs/publish.md, "Compaction"): a closed
    hour holding more than `files` files (0: never) is rewritten as files of at most `rows`
    rows; the files it replaced are deleted `grace` later (readers of older versions)."""

    files: int = 16
    rows: int = 1_000_000
    grace: timedelta = timedelta(hours=1)


def _compact(section: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, least in (("compact_files", 0), ("compact_rows", 1)):
        value = section.get(name, getattr(PublishSettings, name))
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ConfigError(f"[publish] {name} must be a whole number >= {least}, got {value!r}")
        out[name] = value
    grace = section.get("compact_grace", "1h")
    try:
        out["compact_grace"] = parse_duration(str(grace), "[publish] compact_grace")
    except AnalyticsError as exc:
        raise ConfigError(str(exc)) from None
    return out
