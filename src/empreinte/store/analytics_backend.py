"""The Ibis backend analytics run on: today the workspace's DuckDB file.

Analytics build Ibis expressions and never see SQL; this is the one place that knows which
engine executes them. A distributed engine (Spark) plugs in here.
"""

from __future__ import annotations

from typing import cast

import duckdb
import ibis
from ibis.backends.duckdb import Backend

from empreinte.store.duckdb_engine import DuckDBEngine
from empreinte.store.engine import Engine


def ibis_backend(engine: Engine) -> tuple[duckdb.DuckDBPyConnection, Backend]:
    """A cursor of its own on the workspace database and an Ibis backend over it (the cursor
    is returned so the caller closes it when done)."""
    cursor = cast(DuckDBEngine, engine).cursor()
    return cursor, ibis.duckdb.from_connection(cursor)
