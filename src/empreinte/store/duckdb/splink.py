"""Splink's database API on an in-memory DuckDB: record matching runs its SQL there."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from splink import DuckDBAPI


@contextlib.contextmanager
def splink_database() -> Iterator[DuckDBAPI]:
    """A Splink `DuckDBAPI` over a fresh in-memory database, closed on exit."""
    from splink import DuckDBAPI

    with contextlib.closing(duckdb.connect()) as connection:
        connection.execute("SET enable_progress_bar = false")
        yield DuckDBAPI(connection)
