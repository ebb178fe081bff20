"""Reading a result to its end."""

from __future__ import annotations

from typing import Any

import duckdb


def first_row(cursor: duckdb.DuckDBPyConnection) -> Any:
    """The first row of `cursor`'s result (None without one), the result read to its end.

    Not `fetchone()`: a result left open keeps its transaction, and on a cursor that waits for
    its next statement (a store's cursor per thread) that transaction stays open; once another
    cursor updates or deletes a row, DuckDB can checkpoint no more until it ends ("other write
    transactions are active"), and the write-ahead log grows without end
    (tests/store/test_checkpoints.py)."""
    rows = cursor.fetchall()
    return rows[0] if rows else None
