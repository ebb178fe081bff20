"""The interface analytics run on: Ibis tables plus the few functions engines spell differently.

Analytics build Ibis expressions over the tables `events`, `identities`, `pii_vault` (and the
derived tables the syncs write) and never see SQL. What Ibis does not compile the same way on
every engine is asked of the backend instead, the way Ibis itself draws backends: the wall-clock
time in an IANA zone, and the JSON of the log (`properties`, `context`, `traits`, the vault's
`values`: a JSON type on DuckDB, JSON text in Parquet on Spark). Implementations:
store/duckdb/analytics.py (the workspace's file) and store/spark/backend.py (the same tables
exported to Parquet, read by a Spark session).

JSON values cross this interface as *JSON text*: minified, `null` for a JSON null, a SQL NULL
when the key is absent. `empreinte.analytics.json` reads kinds, strings and numbers from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

#: The tables analytics read, and so the ones an export to another engine must carry.
ANALYTICS_TABLES = (
    "events",
    "identities",
    "pii_vault",
    "consent_state",
    "profile_facts",
    "segment_members",
    "computed_traits",
    "products",
    "voc_texts",
)


class AnalyticsBackend(Protocol):
    """An Ibis backend over a workspace's tables, with the engine-specific functions."""

    @property
    def connection(self) -> BaseBackend:
        """The Ibis backend itself."""
        ...

    @property
    def personal_values(self) -> bool:
        """Whether `pii_vault` holds the log's raw personal values (a workspace's file, or its
        export), so that what is derived from them (a birth year) can be reported; not over
        the published log, which is pseudonymised (store/spark/published.py)."""
        ...

    @property
    def in_process(self) -> bool:
        """Whether the engine runs in this process, so that a result moves to numpy at no
        transfer cost (DuckDB; not a Spark cluster): analyses may then compute a step there
        (analytics/journeys/funnels_walk.py)."""
        ...

    @property
    def threads(self) -> int:
        """How many threads such a step in this process may take: as many as the engine's
        own (its setting: `[storage] threads` for DuckDB), so that a report keeps to the
        cores the workspace gave its engine."""
        ...

    def table(self, name: str) -> ir.Table: ...

    def register_arrow(self, name: str, rows: pa.Table) -> ir.Table:
        """`rows`, computed in this process, as a table the next queries of this backend
        can read (until it closes)."""
        ...

    def local_time(self, moment: ir.TimestampValue, zone: str) -> ir.TimestampValue:
        """The wall-clock time in `zone` (an IANA name) of an instant, as a naive timestamp."""
        ...

    def json_at(self, document: ir.Value, keys: Sequence[str]) -> ir.StringValue:
        """The JSON text of the value at `keys` in `document` (a JSON column; keys may
        contain dots), NULL when absent."""
        ...

    def json_string(self, document: ir.Value, keys: Sequence[str]) -> ir.StringValue:
        """The string at `keys` in `document` (unquoted), NULL when absent or not a string."""
        ...

    def json_items(self, document: ir.Value, keys: Sequence[str]) -> ir.ArrayValue:
        """The elements of the array at `keys` in `document`, each as its JSON text; an empty
        array or NULL when the value is absent or not an array (unnesting drops both)."""
        ...

    def execute(self, expr: ir.Expr, **kwargs: Any) -> Any: ...

    def to_pyarrow(self, expr: ir.Expr) -> pa.Table: ...

    def to_pyarrow_batches(self, expr: ir.Expr, rows: int) -> pa.RecordBatchReader:
        """The result in batches of about `rows` rows, in order, read while the engine
        still produces the next ones."""
        ...

    def materialize(self, table: ir.Table) -> ir.Table:
        """`table`, computed once for the next queries of this backend when the engine keeps
        results cheaply (DuckDB: a temporary table of the cursor); else `table` itself."""
        ...

    def close(self) -> None: ...
