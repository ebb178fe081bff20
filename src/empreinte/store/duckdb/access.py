"""What every store over the workspace's DuckDB file shares: a cursor per thread, transactions."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import duckdb

from empreinte.errors import StorageError
from empreinte.store.duckdb.engine import DuckDBEngine


class DuckDBTables:
    """Base of the stores beside the event log (identity, profiles, privacy).

    Each store keeps its own cursor per thread: a cursor is not safe across threads, and one
    store's unfinished result must not block another's statement on a shared cursor.
    """

    def __init__(self, engine: DuckDBEngine):
        self._engine = engine
        self._local = threading.local()

    def _cur(self) -> duckdb.DuckDBPyConnection:
        cur: duckdb.DuckDBPyConnection | None = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._engine.cursor()
            self._local.cur = cur
        return cur

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """BEGIN … COMMIT on this thread's cursor; a DuckDB error becomes a `StorageError`
        saying what could not be done, after a ROLLBACK."""
        cur = self._cur()
        cur.execute("BEGIN")
        try:
            yield cur
            cur.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise StorageError(f"could not {what}: {exc}") from exc
            raise
        self._engine.checkpoint_if_large()
