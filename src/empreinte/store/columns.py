"""The log's rows in columnar form (Arrow), the shape engines append.

The collector's worker processes encode each request's validated rows here, so that the
server's single writer receives them as an Arrow IPC buffer (read without a copy) instead of
hundreds of Python tuples to unpickle and convert under its interpreter lock. Beside the
buffer travel the few values the writer reads row by row: message ids (dedup) and identifiers
(suppression). No engine is named here; engines read the `pa.Table` these give.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from empreinte.store.records import EventRow

_TS = pa.timestamp("us", tz="UTC")


def _arrow_type(name: str) -> pa.DataType:
    if name in ("timestamp", "original_timestamp", "sent_at", "received_at"):
        return _TS
    if name == "is_bot":
        return pa.bool_()
    if name == "identifiers":
        return pa.list_(pa.string())
    return pa.string()


#: An EventRow's fields as Arrow columns, in field order.
ROW_SCHEMA = pa.schema([(name, _arrow_type(name)) for name in EventRow._fields])
# An EventRow is a tuple in field order, which Arrow reads as one struct value: a whole list
# is converted in one pass in C++, with no Python loop over rows or columns.
_ROW_STRUCT = pa.struct(list(ROW_SCHEMA))


def _batch(rows: Sequence[EventRow]) -> pa.RecordBatch:
    return pa.RecordBatch.from_struct_array(pa.array(rows, type=_ROW_STRUCT))


# Rows converted per batch: each conversion holds the GIL throughout (some 4 µs a row), and a
# large group converted at once would stall the collector's event loop (and /api/health) for
# tens of milliseconds.
_CHUNK_ROWS = 1_000


def to_table(rows: Sequence[EventRow]) -> pa.Table:
    """`rows` as an Arrow table of `ROW_SCHEMA`, converted `_CHUNK_ROWS` at a time."""
    batches = [_batch(rows[i : i + _CHUNK_ROWS]) for i in range(0, len(rows), _CHUNK_ROWS)]
    return pa.Table.from_batches(batches, schema=ROW_SCHEMA)


def concat(rows: Sequence[EventRow], tables: list[pa.Table]) -> pa.Table:
    """Python rows and columnar parts, in that order, as one table."""
    parts = [to_table(rows)] if rows else []
    return pa.concat_tables(parts + tables)


class ColumnarRows:
    """The validated rows of one request (one source, one arrival time), encoded.

    Built where the rows were validated (a worker process, or the server's validation
    thread), so that the writer only concatenates tables. Picklable and compact for the trip
    from a worker: an Arrow IPC buffer (made only when pickled) plus the message ids and
    identifier lists. `len()` is the number of rows.
    """

    __slots__ = ("_batch", "_data", "identifiers", "message_ids", "received_at", "source")

    def __init__(self, rows: Sequence[EventRow], source: str, received_at: int):
        self.source = source
        self.received_at = received_at
        self.message_ids = [row.message_id for row in rows]
        self.identifiers = [row.identifiers for row in rows]
        self._batch: pa.RecordBatch | None = _batch(rows)
        self._data: bytes | None = None

    def __len__(self) -> int:
        return len(self.message_ids)

    def __getstate__(self) -> tuple[bytes, list[list[str] | None], list[str], int, str]:
        data = self._data
        if data is None:
            assert self._batch is not None
            data = self._batch.serialize().to_pybytes()
        return (data, self.identifiers, self.message_ids, self.received_at, self.source)

    def __setstate__(
        self, state: tuple[bytes, list[list[str] | None], list[str], int, str]
    ) -> None:
        self._data, self.identifiers, self.message_ids, self.received_at, self.source = state
        self._batch = None

    def table(self, keep: list[bool] | None = None) -> pa.Table:
        """The rows as a table (read from the buffer without a copy); only those marked in
        `keep`, when given."""
        batch = self._batch
        if batch is None:
            assert self._data is not None
            batch = pa.ipc.read_record_batch(pa.py_buffer(self._data), ROW_SCHEMA)
        if keep is not None:
            batch = batch.filter(pa.array(keep, type=pa.bool_()))
        return pa.Table.from_batches([batch], schema=ROW_SCHEMA)


__all__ = ["ROW_SCHEMA", "ColumnarRows", "concat", "to_table"]
