"""`AnalyticsBackend` on Spark: the tables a DuckDB workspace exported to Parquet
(`DuckDBEngine.export_parquet`), as temporary views of a Spark session, queried through Ibis.

In Parquet the log's JSON columns are JSON text. Ibis' PySpark backend reads JSON with Python
UDFs (slow, and a Python worker per executor); this backend reads it with Spark's own VARIANT
functions instead (`try_parse_json`, `variant_get`, `to_json`, Spark 4), and wall-clock time
with `from_utc_timestamp`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

from empreinte.errors import StorageError
from empreinte.store.analytics import ANALYTICS_TABLES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


# The VARIANT values below never leave Spark: Ibis only needs a type to carry them by.
@ibis.udf.scalar.builtin(name="try_parse_json")  # type: ignore[untyped-decorator]
def _parse(text: str) -> dt.binary:
    """JSON text → VARIANT (NULL when not JSON)."""


@ibis.udf.scalar.builtin(name="variant_get")  # type: ignore[untyped-decorator]
def _get(value: dt.binary, path: str) -> dt.binary:
    """The VARIANT at a JSON path."""


@ibis.udf.scalar.builtin(name="variant_get")  # type: ignore[untyped-decorator]
def _get_as(value: dt.binary, path: str, kind: str) -> str:  # type: ignore[empty-body]
    """The value at a JSON path cast to `kind` (here: string)."""


@ibis.udf.scalar.builtin(name="try_variant_get")  # type: ignore[untyped-decorator]
def _get_array(value: dt.binary, path: str, kind: str) -> dt.Array(dt.binary):  # type: ignore[valid-type]
    """The VARIANT at a JSON path as an array of VARIANTs (NULL when not an array)."""


@ibis.udf.scalar.builtin(name="to_json")  # type: ignore[untyped-decorator]
def _to_json(value: dt.binary) -> str:  # type: ignore[empty-body]
    """VARIANT → minified JSON text."""


@ibis.udf.scalar.builtin(name="from_utc_timestamp")  # type: ignore[untyped-decorator]
def _from_utc(moment: dt.timestamp, zone: str) -> dt.timestamp:
    """The wall-clock time in `zone` of a UTC instant."""


def json_path(keys: Sequence[str]) -> str:
    """Spark's JSON path of `keys`, bracketed (so that a key may hold a dot)."""
    if any("'" in key or "]" in key for key in keys):
        raise StorageError(f"not a JSON key path: {list(keys)!r}")
    return "$" + "".join(f"['{key}']" for key in keys)


class SparkAnalytics:
    """Ibis over temporary views of `directory/<table>.parquet` in `session`; `close()` drops
    the views (their names are unique to this backend, so several can share a session), and
    deletes `directory` when the backend `owns` it (an export made for this backend alone).
    `personal_values`: False over a published snapshot, whose vault is empty."""

    def __init__(
        self,
        session: SparkSession,
        directory: Path,
        tables: Sequence[str] = ANALYTICS_TABLES,
        *,
        owns: bool = False,
        personal_values: bool = True,
    ):
        self._session = session
        self._personal_values = personal_values
        self._directory = directory if owns else None
        self._prefix = f"empreinte_{uuid.uuid4().hex[:12]}"
        self._views: dict[str, str] = {}
        for table in tables:
            path = directory / f"{table}.parquet"
            if not path.exists():
                raise StorageError(f"no export of table {table!r} in {directory}")
            view = f"{self._prefix}_{table}"
            session.read.parquet(str(path)).createOrReplaceTempView(view)
            self._views[table] = view
        self._ibis = ibis.pyspark.connect(session)

    @property
    def connection(self) -> BaseBackend:
        return self._ibis

    @property
    def personal_values(self) -> bool:
        return self._personal_values

    @property
    def in_process(self) -> bool:
        return False  # the rows are on the executors

    @property
    def threads(self) -> int:
        return os.cpu_count() or 1  # of the driver, for what it computes itself

    def register_arrow(self, name: str, rows: pa.Table) -> ir.Table:
        view = f"{name}_{uuid.uuid4().hex[:8]}"
        self._session.createDataFrame(rows.to_pandas()).createOrReplaceTempView(view)
        self._views[name] = view  # dropped with the others at close
        return self.table(name)

    def table(self, name: str) -> ir.Table:
        if name not in self._views:
            raise StorageError(f"table {name!r} was not exported for Spark")
        table = self._ibis.table(self._views[name])
        # Spark's TIMESTAMP is an instant shown in the session's zone (UTC); DuckDB's
        # TIMESTAMPTZ reads back as aware UTC: say so, so that both give the same datetimes.
        instants = {
            column: table[column].cast(dt.Timestamp(timezone="UTC"))
            for column, kind in table.schema().items()
            if kind.is_timestamp() and kind.timezone is None
        }
        return table.mutate(**instants) if instants else table

    def local_time(self, moment: ir.TimestampValue, zone: str) -> ir.TimestampValue:
        local: ir.TimestampValue = _from_utc(moment, zone)
        return local

    def json_at(self, document: ir.Value, keys: Sequence[str]) -> ir.StringValue:
        text: ir.StringValue = _to_json(_get(_parse(document), json_path(keys)))
        return text

    def json_string(self, document: ir.Value, keys: Sequence[str]) -> ir.StringValue:
        path = json_path(keys)
        variant = _parse(document)
        text: ir.StringValue = ibis.ifelse(
            _to_json(_get(variant, path)).startswith('"'),
            _get_as(variant, path, "string"),
            ibis.null("string"),
        )
        return text

    def json_items(self, document: ir.Value, keys: Sequence[str]) -> ir.ArrayValue:
        array = _get_array(_parse(document), json_path(keys), "array<variant>")
        items: ir.ArrayValue = array.map(_to_json)
        return items

    def execute(self, expr: ir.Expr, **kwargs: Any) -> Any:
        return self._ibis.execute(expr, **kwargs)

    def to_pyarrow(self, expr: ir.Expr) -> pa.Table:
        return self._ibis.to_pyarrow(expr)

    def to_pyarrow_batches(self, expr: ir.Expr, rows: int) -> pa.RecordBatchReader:
        table = self._ibis.to_pyarrow(expr)  # collected whole by the driver anyway
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(rows))

    def materialize(self, table: ir.Table) -> ir.Table:
        # Spark plans each query whole; the dashboard's pages do not run here.
        return table

    def close(self) -> None:
        for view in self._views.values():
            self._session.catalog.dropTempView(view)
        self._views.clear()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None
