"""Storage: the engine interface, its factory and the log's row types (engines: store/duckdb/,
store/spark/ for analytics)."""

from empreinte.store.engine import Engine, open_engine
from empreinte.store.records import COLUMNS, ApiToken, EventFilter, EventRow, SourceKey

__all__ = ["COLUMNS", "ApiToken", "Engine", "EventFilter", "EventRow", "SourceKey", "open_engine"]
