"""Which engine runs a workspace's analytics: the embedded DuckDB file (the default) or Spark.

```toml
[analytics]
engine = "spark"             # "duckdb" (default) or "spark"
spark_master = "local[2]"    # any Spark master URL: local[N], spark://host:7077, yarn…
source = "published"         # Spark reads the published log ([publish] url), not this
                             # workspace's export (the default, "workspace")
```

`EMPREINTE_ENGINE` (or the CLI's `--engine`) overrides the file for one run, e.g.
`EMPREINTE_ENGINE=spark://host:7077` or `--engine spark`. On Spark the analytics read a
Parquet export of the tables analytics need (`Workspace.export_analytics`), refreshed when a
report opens; the same Ibis expressions then run on the Spark session (store/spark/). With
`source = "published"` (the CLI's `--source published`) they read the log every collector
published instead (store/spark/published.py).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from empreinte.errors import ConfigError

ENGINE_VARIABLE = "EMPREINTE_ENGINE"
DEFAULT_MASTER = "local[2]"
EngineKind = Literal["duckdb", "spark"]
Source = Literal["workspace", "published"]
SOURCES: tuple[Source, ...] = ("workspace", "published")


@dataclass(frozen=True)
class AnalyticsEngine:
    kind: EngineKind = "duckdb"
    spark_master: str = DEFAULT_MASTER
    source: Source = "workspace"

    @classmethod
    def parse(cls, text: str) -> AnalyticsEngine:
        """`duckdb`, `spark` (local), `spark:<master>` or a master URL `spark://host:port`."""
        value = text.strip()
        if value == "duckdb":
            return cls()
        if value == "spark":
            return cls("spark")
        if value.startswith("spark://"):
            return cls("spark", value)
        if value.startswith("spark:") and len(value) > len("spark:"):
            return cls("spark", value[len("spark:") :])
        raise ConfigError(
            f"unknown analytics engine {text!r}: use duckdb, spark, spark:<master URL> or"
            " spark://host:port"
        )

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> AnalyticsEngine:
        section = dict(section or {})
        unknown = sorted(set(section) - {"engine", "spark_master", "source"})
        if unknown:
            raise ConfigError(f"[analytics] unknown setting(s) {', '.join(unknown)}")
        kind = section.get("engine", "duckdb")
        if kind not in ("duckdb", "spark"):
            raise ConfigError(f'[analytics] engine must be "duckdb" or "spark", got {kind!r}')
        master = section.get("spark_master", DEFAULT_MASTER)
        if not isinstance(master, str) or not master.strip():
            raise ConfigError(
                f"[analytics] spark_master must be a Spark master URL, got {master!r}"
            )
        return cls(kind, master.strip(), check_source(section.get("source", "workspace")))

    @classmethod
    def chosen(cls, section: Mapping[str, Any] | None) -> AnalyticsEngine:
        """The engine of the workspace's `[analytics]` section, unless `EMPREINTE_ENGINE`
        says otherwise (the source read stays the section's)."""
        configured = cls.from_mapping(section)
        override = os.environ.get(ENGINE_VARIABLE, "").strip()
        if not override:
            return configured
        return dataclasses.replace(cls.parse(override), source=configured.source)


def check_source(value: object) -> Source:
    """`value` as the log reports read: "workspace" or "published"."""
    for source in SOURCES:
        if value == source:
            return source
    raise ConfigError(f'[analytics] source must be "workspace" or "published", got {value!r}')
