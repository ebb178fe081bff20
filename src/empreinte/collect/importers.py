"""File imports: Segment JSONL, and CSV exports (store tills, surveys) through a column map.

A bad line is reported with its number and reason; the good lines beside it are stored.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from empreinte.collect.limits import MAX_MESSAGE_BYTES
from empreinte.collect.validate import normalise, now_micros
from empreinte.collect.writer import WriteResult
from empreinte.errors import ImportFailed, InvalidMessage
from empreinte.privacy.pii import IngestPolicy
from empreinte.store.records import EventRow

CHUNK = 10_000
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
# Fields that are identifiers: never turned into numbers, whatever they look like.
_ID_FIELDS = frozenset({"userId", "anonymousId", "messageId", "groupId", "previousId"})
_TYPES = ("auto", "str", "int", "float", "bool", "json")


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did: stored, skipped as already stored, refused (with line numbers)."""

    lines: int = 0
    stored: int = 0
    duplicates: int = 0
    errors: list[LineError] = field(default_factory=list)


@dataclass(frozen=True)
class CsvMapping:
    """How the columns of a CSV file become Segment messages.

    `columns` maps a message field path (`userId`, `properties.total`, `context.traits.email`)
    to a CSV column; `constants` sets a field to a fixed value; `types` forces a field's type
    (`str`, `int`, `float`, `bool`, `json`; by default numbers without leading zeros become
    numbers, `true`/`false` booleans). `time_format` is a `strptime` format for `timestamp`
    when the file does not use ISO-8601.
    """

    type: str = "track"
    event: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    time_format: str | None = None

    @classmethod
    def from_file(cls, path: Path) -> CsvMapping:
        """A mapping from a TOML file with keys type, event, time_format and tables
        [columns], [constants], [types]."""
        import tomllib

        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ImportFailed(f"cannot read the mapping {path}: {exc}") from None
        unknown = set(data) - {"type", "event", "columns", "constants", "types", "time_format"}
        if unknown:
            raise ImportFailed(f"{path}: unknown mapping key(s): {', '.join(sorted(unknown))}")
        return cls(**data)

    def check(self, header: list[str]) -> None:
        """Refuse, before any work, a mapping that names columns the file does not have."""
        missing = sorted({c for c in self.columns.values() if c not in header})
        if missing:
            raise ImportFailed(
                f"the CSV file has no column(s) {', '.join(missing)}; "
                f"its columns are: {', '.join(header)}"
            )
        bad = {f: t for f, t in self.types.items() if t not in _TYPES}
        if bad:
            raise ImportFailed(f"unknown type(s) {bad}; choose among {', '.join(_TYPES)}")
        if self.type == "track" and not self.event and "event" not in self.columns:
            raise ImportFailed("a track import needs an event name (--event) or an event column")


def _convert(path: str, value: str, forced: str | None) -> Any:
    kind = forced or "auto"
    if kind == "str" or (kind == "auto" and path in _ID_FIELDS):
        return value
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"{value!r} is not a boolean")
        return value.lower() in ("true", "1", "yes")
    if kind == "json":
        return orjson.loads(value)
    if _NUMBER.fullmatch(value):
        return float(value) if "." in value else int(value)
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _set(message: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = message
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _csv_message(mapping: CsvMapping, record: dict[str, str], source: str) -> dict[str, Any]:
    message: dict[str, Any] = {"type": mapping.type}
    if mapping.event:
        message["event"] = mapping.event
    for path, constant in mapping.constants.items():
        _set(message, path, constant)
    for path, column in mapping.columns.items():
        raw = (record.get(column) or "").strip()
        if raw == "":
            continue
        try:
            if path == "timestamp" and mapping.time_format:
                value: Any = (
                    datetime.strptime(raw, mapping.time_format).replace(tzinfo=UTC).isoformat()
                )
            else:
                value = _convert(path, raw, mapping.types.get(path))
        except (ValueError, orjson.JSONDecodeError) as exc:
            raise InvalidMessage(f"column {column!r}: {exc}", path, "invalid_field") from None
        _set(message, path, value)
    if "messageId" not in message:
        # Deterministic: importing the same row again is recognised as a retry.
        digest = hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()
        message["messageId"] = f"csv-{source}-{digest[:32]}"
    return message


def _jsonl_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed message or the error) for each non-empty line."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield number, InvalidMessage(f"malformed JSON at column {exc.colno}: {exc.msg}")


def _csv_lines(path: Path, mapping: CsvMapping, source: str) -> Iterator[tuple[int, Any]]:
    """(line number, message or the error) for each CSV record."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        mapping.check(list(reader.fieldnames or []))
        for record in reader:
            try:
                yield reader.line_num, _csv_message(mapping, record, source)
            except InvalidMessage as exc:
                yield reader.line_num, exc


def import_file(
    path: Path,
    *,
    write: Callable[[list[EventRow]], WriteResult],
    policy: IngestPolicy,
    source: str,
    mapping: CsvMapping | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a `.jsonl` file (Segment messages, one per line) or, with a mapping, a CSV file.

    Each line is validated with `policy` (as the collector does) and the valid ones are given
    to `write` in chunks (a workspace's `writer.write`: durable on return). `progress` is
    called with the number of lines read so far, every chunk.
    """
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    lines = _csv_lines(path, mapping, source) if mapping else _jsonl_lines(path)
    return import_lines(lines, write=write, policy=policy, source=source, progress=progress)


def import_lines(
    lines: Iterable[tuple[int, Any]],
    *,
    write: Callable[[list[EventRow]], WriteResult],
    policy: IngestPolicy,
    source: str,
    progress: Callable[[int], None] | None = None,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> ImportReport:
    """Validate (line number, message or its `InvalidMessage`) pairs and write the valid
    messages in chunks; each refusal reported with its line number."""
    report = ImportReport()
    rows: list[EventRow] = []
    received_at = now_micros()

    def flush() -> None:
        nonlocal rows, received_at
        if rows:
            result = write(rows)
            report.stored += result.stored
            report.duplicates += result.duplicates
            rows = []
        received_at = now_micros()
        if progress:
            progress(report.lines)

    for number, item in lines:
        report.lines += 1
        if isinstance(item, InvalidMessage):
            report.errors.append(LineError(number, str(item)))
            continue
        try:
            rows.append(
                normalise(
                    item,
                    source=source,
                    received_at=received_at,
                    policy=policy,
                    max_bytes=max_bytes,
                )
            )
        except InvalidMessage as exc:
            report.errors.append(LineError(number, str(exc)))
        if len(rows) >= CHUNK:
            flush()
    flush()
    return report
