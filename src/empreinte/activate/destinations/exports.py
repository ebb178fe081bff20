"""CSV and Parquet exports: the destination's audience now, one row per person and segment,
written to `<directory>/<destination>.csv` (or `.parquet`) atomically — a temporary file in
the same directory, flushed, then renamed over the previous export — so that a reader sees
the previous file or the new one, never half of one. Each export replaces the last: a person
who left, withdrew consent or was erased is absent from the next one."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

COLUMNS = ("profile_id", "user_id", "segment")


def write(
    directory: Path, name: str, kind: str, columns: Sequence[str], rows: list[dict[str, Any]]
) -> Path:
    """Write `rows` (dicts over `columns`) as `name`.csv or .parquet in `directory`; the path."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = directory / f"{name}.{kind}"
    fd, temporary = tempfile.mkstemp(prefix=f".{name}-", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(_encode(kind, columns, rows))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _encode(kind: str, columns: Sequence[str], rows: list[dict[str, Any]]) -> bytes:
    if kind == "csv":
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            # A cell starting with = + - @ would be a formula in a spreadsheet.
            writer.writerow({k: _cell(row.get(k)) for k in columns})
        return text.getvalue().encode()
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = (
        pa.Table.from_pylist(rows)
        if rows
        else pa.table({c: pa.array([], pa.string()) for c in columns})
    )
    table = table.select([c for c in columns if c in table.column_names])
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
