"""Storage: the engine interface, the embedded DuckDB engine and the log's row types."""

from empreinte.store.duckdb_engine import DuckDBEngine
from empreinte.store.engine import Engine
from empreinte.store.records import COLUMNS, ApiToken, EventFilter, EventRow, SourceKey

__all__ = ["COLUMNS", "ApiToken", "DuckDBEngine", "Engine", "EventFilter", "EventRow", "SourceKey"]
