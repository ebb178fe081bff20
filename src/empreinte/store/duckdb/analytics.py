"""`AnalyticsBackend` on the workspace's DuckDB file; its Parquet export for other engines."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend
from ibis.backends.duckdb import Backend as IbisDuckDB

from empreinte.errors import StorageError
from empreinte.store.analytics import ANALYTICS_TABLES
from empreinte.store.duckdb.results import first_row


@ibis.udf.scalar.builtin(name="timezone")  # type: ignore[untyped-decorator]
def _timezone(zone: str, moment: dt.Timestamp(timezone="UTC")) -> dt.timestamp:  # type: ignore[valid-type]
    """The wall-clock time in `zone` (DuckDB's `timezone`)."""


@ibis.udf.scalar.builtin(name="json_extract")  # type: ignore[untyped-decorator]
def _extract(value: dt.JSON, path: str) -> dt.JSON:
    """The JSON at a JSONPath (quoted keys may contain dots)."""


@ibis.udf.scalar.builtin(name="json_extract")  # type: ignore[untyped-decorator]
def _extract_all(value: dt.JSON, path: str) -> dt.Array(dt.JSON):  # type: ignore[valid-type]
    """The values a JSONPath with a wildcard selects, as a list (empty when none)."""


@ibis.udf.scalar.builtin(name="json_extract_string")  # type: ignore[untyped-decorator]
def _extract_string(value: dt.JSON, path: str) -> str:  # type: ignore[empty-body]
    """The value at a JSONPath as text (a string unquoted)."""


@ibis.udf.scalar.builtin(name="json_type")  # type: ignore[untyped-decorator]
def _json_type(value: dt.JSON) -> str:  # type: ignore[empty-body]
    """OBJECT, ARRAY, VARCHAR, BIGINT…, NULL for a JSON null."""


def json_path(keys: Sequence[str]) -> str:
    """DuckDB's JSONPath of `keys`, each quoted (so that a key may hold a dot)."""
    if any('"' in key for key in keys):
        raise StorageError(f"not a JSON key path: {list(keys)!r}")
    return "$" + "".join(f'."{key}"' for key in keys)


class CompiledSql:
    """SQL compiled from Ibis expressions, kept by the expression's structure.

    Compiling is most of a report's time (Ibis rewrites and sqlglot: ~0.3 s for a CX score
    on the demo, against ~0.1 s for DuckDB to run it), and a dashboard runs the same few
    shapes again and again. Ibis operations compare structurally (equal arguments, equal
    node), and the tables are unbound (a name and a schema, not a cursor), so an expression
    built anew for the next request finds the SQL of the last one. Expressions over
    in-memory tables are not kept: their names are unique, and they hold people's data.
    """

    def __init__(self, max_entries: int = 512):
        self._max_entries = max_entries
        self._entries: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, op: ops.Node, limit: object, compile_: Callable[[], str]) -> str:
        if op.find(ops.InMemoryTable):
            return compile_()
        key = (op, limit)
        with self._lock:
            sql = self._entries.get(key)
            if sql is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return sql
        sql = compile_()
        with self._lock:
            self.misses += 1
            self._entries[key] = sql
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return sql


#: One per process: the SQL of an expression depends on nothing but the expression.
COMPILED = CompiledSql()


class _Ibis(IbisDuckDB):  # type: ignore[misc]
    """Ibis's DuckDB backend, compiling each shape of expression once (`COMPILED`)."""

    def compile(
        self,
        expr: ir.Expr,
        /,
        *,
        limit: int | str | None = None,
        params: Mapping[ir.Expr, Any] | None = None,
        pretty: bool = False,
    ) -> str:
        if params or pretty:
            return str(super().compile(expr, limit=limit, params=params, pretty=pretty))
        return COMPILED.get(
            expr.op(), limit, lambda: str(super(_Ibis, self).compile(expr, limit=limit))
        )


class DuckDBAnalytics:
    """Ibis over a cursor of its own on the workspace's database (so a report runs beside the
    collector's writes); close it when done."""

    def __init__(
        self, cursor: duckdb.DuckDBPyConnection, schemas: dict[str, ibis.Schema] | None = None
    ):
        """`schemas` keeps the tables' schemas between reports (the engine's: they change
        only by a migration, at open)."""
        self._cursor = cursor
        self._ibis = _Ibis.from_connection(cursor)
        self._schemas = {} if schemas is None else schemas

    @property
    def connection(self) -> BaseBackend:
        return self._ibis

    @property
    def personal_values(self) -> bool:
        return True

    @property
    def in_process(self) -> bool:
        return True

    @property
    def threads(self) -> int:
        row = first_row(self._cursor.execute("SELECT current_setting('threads')"))
        return max(1, int(row[0])) if row else 1

    def register_arrow(self, name: str, rows: pa.Table) -> ir.Table:
        self._cursor.register(name, rows)  # a view of the Arrow buffers: no copy
        return ibis.table(ibis.Schema.from_pyarrow(rows.schema), name=name)

    def table(self, name: str) -> ir.Table:
        # Unbound (a name and a schema): the same table for every report, so that equal
        # expressions are equal operations (see `CompiledSql`).
        schema = self._schemas.get(name)
        if schema is None:
            schema = self._schemas[name] = self._ibis.get_schema(name)
        return ibis.table(schema, name=name)

    def local_time(self, moment: ir.TimestampValue, zone: str) -> ir.TimestampValue:
        local: ir.TimestampValue = _timezone(zone, moment)
        return local

    def json_at(self, document: ir.Value, keys: Sequence[str]) -> ir.StringValue:
        text: ir.StringValue = _extract(document, json_path(keys)).cast("string")
        return text

    def json_string(self, document: ir.Value, keys: Sequence[str]) -> ir.StringValue:
        # The small value at the path is read twice, not the document.
        value = _extract(document, json_path(keys))
        text: ir.StringValue = ibis.ifelse(
            _json_type(value) == "VARCHAR", _extract_string(value, "$"), ibis.null("string")
        )
        return text

    def json_items(self, document: ir.Value, keys: Sequence[str]) -> ir.ArrayValue:
        # `[*]` selects an array's elements; on any other value it selects nothing.
        items: ir.ArrayValue = _extract_all(document, json_path(keys) + "[*]").cast("array<string>")
        return items

    def execute(self, expr: ir.Expr, **kwargs: Any) -> Any:
        return self._ibis.execute(expr, **kwargs)

    def to_pyarrow(self, expr: ir.Expr) -> pa.Table:
        return self._ibis.to_pyarrow(expr)

    def to_pyarrow_batches(self, expr: ir.Expr, rows: int) -> pa.RecordBatchReader:
        # The cursor's own reader (Ibis's asks the connection for `fetch_record_batch`, which
        # this DuckDB no longer has); the cursor runs nothing else until it is read to the end
        # or closed.
        self._ibis._run_pre_execute_hooks(expr)  # registers in-memory tables, as Ibis's reads do
        sql = self._ibis.compile(expr)
        try:
            reader: pa.RecordBatchReader = self._cursor.sql(sql).to_arrow_reader(rows)
        except duckdb.Error as exc:
            raise StorageError(f"could not read the result in batches: {exc}") from exc
        return reader

    def materialize(self, table: ir.Table) -> ir.Table:
        """`table` as a temporary table of this cursor (gone when it closes), named after its
        SQL: the same shape gets the same name, so the queries reading it keep their
        compiled SQL (see `CompiledSql`)."""
        sql = self._ibis.compile(table)
        name = "_materialized_" + hashlib.sha256(sql.encode()).hexdigest()[:16]
        try:
            self._cursor.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        except duckdb.Error as exc:
            raise StorageError(f"could not compute {name}: {exc}") from exc
        return ibis.table(table.schema(), name=name)

    def close(self) -> None:
        self._cursor.close()


def export_parquet(
    cursor: duckdb.DuckDBPyConnection,
    directory: Path,
    tables: Sequence[str] = ANALYTICS_TABLES,
    *,
    empty: bool = False,
) -> dict[str, Path]:
    """Write each of `tables` to `directory/<table>.parquet` (JSON columns as JSON text), or
    only their columns when `empty`; table name → file."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for table in tables:
        if not table.replace("_", "").isalnum():
            raise StorageError(f"not a table name: {table!r}")
        path = directory / f"{table}.parquet"
        quoted = str(path).replace("'", "''")
        try:
            rows = f"(SELECT * FROM {table} LIMIT 0)" if empty else table
            cursor.execute(f"COPY {rows} TO '{quoted}' (FORMAT parquet)")
        except duckdb.Error as exc:
            raise StorageError(f"could not export {table}: {exc}") from exc
        files[table] = path
    return files
