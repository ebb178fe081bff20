"""The published log at a URL: its layout, its manifest, and the two kinds of atomic write.

```
<url>/staged/<collector>/<first_seq:020d>-<last_seq:020d>.parquet   each collector's segments
<url>/events/date=YYYY-MM-DD/hour=HH/<version:012d>-<token>.parquet  published, by arrival hour
<url>/_manifest/<version:012d>.json                                   one per version
<url>/collectors/<collector>.json                                     the id's owner (collector.py)
```

Readers trust the manifest only: the newest version lists every published file. A file no
manifest lists (a publisher killed before its commit) is invisible, and removed by the next
publisher's clean-up. A version is created exclusively (a hard link on a file system, which
fails if the name exists; `open(..., "xb")`, a conditional put, elsewhere), so two publishers
cannot both commit version n: the loser re-reads and retries.

Files are written whole or not at all: on a file system to a temporary name, fsynced, then
renamed; on an object store (no rename there) a put of the final name, which appears whole.
Temporary names end in `.tmp`: listings skip them, and the publisher's clean-up removes those
a killed writer left (after an hour).
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import fsspec
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from empreinte.errors import ManifestConflict, PublishError
from empreinte.publish.settings import check_collector_id
from empreinte.store.columns import ROW_SCHEMA
from empreinte.store.records import COLUMNS

#: A published file's columns: the log's event columns (pseudonymised as stored; no vault
#: value), the collector's sequence number and the collector's id.
FILE_SCHEMA = pa.schema(
    [
        pa.field("seq", pa.int64()),
        *(f for f in ROW_SCHEMA if f.name in COLUMNS),
        pa.field("collector", pa.string()),
    ]
)
HOUR_MICROS = 3_600_000_000
#: fsspec protocols of object stores: no directories to make (see `PublishedLog`).
OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az"})


@dataclass(frozen=True)
class Manifest:
    """One version of the manifest. `files`: every published file (path under the URL → rows);
    `consumed`: per collector, the last seq published; the rest says what this version did."""

    version: int = 0
    files: dict[str, int] = field(default_factory=dict)
    consumed: dict[str, int] = field(default_factory=dict)
    erasures: tuple[str, ...] = ()  # every erasure applied so far
    suppressed: tuple[str, ...] = ()  # `erased_key_hash` of the erased people's exclusive keys
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    duplicates_dropped: int = 0
    erased_dropped: int = 0  # rows this version dropped as carrying a `suppressed` key
    erasure: str | None = None
    created_at: str = ""
    # Files a compaction removed (path → when, epoch seconds): their rows are in the
    # compacted files; the clean-up deletes them after the grace (publish/compaction.py).
    retired: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "version": self.version,
                "created_at": self.created_at,
                "files": self.files,
                "consumed": self.consumed,
                "erasures": list(self.erasures),
                "suppressed": list(self.suppressed),
                "added": list(self.added),
                "removed": list(self.removed),
                "segments": list(self.segments),
                "duplicates_dropped": self.duplicates_dropped,
                "erased_dropped": self.erased_dropped,
                "erasure": self.erasure,
                "retired": self.retired,
            },
            option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS,
        )

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        d = orjson.loads(data)
        return cls(
            version=int(d["version"]),
            files={str(k): int(v) for k, v in d["files"].items()},
            consumed={str(k): int(v) for k, v in d["consumed"].items()},
            erasures=tuple(d.get("erasures", ())),
            suppressed=tuple(d.get("suppressed", ())),
            added=tuple(d.get("added", ())),
            removed=tuple(d.get("removed", ())),
            segments=tuple(d.get("segments", ())),
            duplicates_dropped=int(d.get("duplicates_dropped", 0)),
            erased_dropped=int(d.get("erased_dropped", 0)),
            erasure=d.get("erasure"),
            created_at=str(d.get("created_at", "")),
            retired={str(k): int(v) for k, v in d.get("retired", {}).items()},
        )

    def next(self, **changes: Any) -> Manifest:
        """The next version: this one's state with `changes` (the per-version fields reset)."""
        base: dict[str, Any] = {
            "version": self.version + 1,
            "files": dict(self.files),
            "consumed": dict(self.consumed),
            "erasures": self.erasures,
            "suppressed": self.suppressed,
            "retired": dict(self.retired),
            "created_at": datetime.now(UTC).isoformat(),
        }
        base.update(changes)
        return Manifest(**base)


@dataclass(frozen=True)
class Segment:
    collector: str
    first_seq: int
    last_seq: int
    path: str  # under the URL


def erased_key_hash(key: str) -> str:
    """How the manifest names an erased person's identifier key: a hash of the key (itself a
    pseudonym for personal values), so that the log's files name no erased person."""
    return hashlib.sha256(b"empreinte-erased\x00" + key.encode()).hexdigest()


def segment_name(first_seq: int, last_seq: int) -> str:
    return f"{first_seq:020d}-{last_seq:020d}.parquet"


def partition_of(hour: int) -> str:
    """`date=YYYY-MM-DD/hour=HH` of an hour counted from the epoch (UTC)."""
    moment = datetime.fromtimestamp(hour * 3600, UTC)
    return f"date={moment:%Y-%m-%d}/hour={moment:%H}"


def hour_of_partition(path: str) -> int | None:
    """The epoch hour of `events/date=…/hour=…/file`, None for another path."""
    parts = path.split("/")
    if len(parts) != 4 or not parts[1].startswith("date=") or not parts[2].startswith("hour="):
        return None
    try:
        moment = datetime.strptime(f"{parts[1][5:]} {parts[2][5:]}", "%Y-%m-%d %H")
    except ValueError:
        return None
    return int(moment.replace(tzinfo=UTC).timestamp()) // 3600


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


class PublishedLog:
    """The published log at `url` (any fsspec URL; `storage_options` for its file system)."""

    def __init__(self, url: str, **storage_options: Any):
        # No listings cache: s3fs and gcsfs keep every listing for the life of the file
        # system object, so a long-running collector would never see another process's
        # manifest versions, segments or files (s3fs even answers FileNotFoundError when
        # reading a file its cached listing of the directory lacks).
        options = {**storage_options, "use_listings_cache": False}
        try:
            self.fs, root = fsspec.core.url_to_fs(url, **options)
        except (ImportError, ValueError, TypeError) as exc:
            # The exception names the option, never its value (a secret, perhaps).
            raise PublishError(f"cannot open the published log {url!r}: {exc}") from exc
        self.url = url
        self.root = root.rstrip("/")
        self._local = isinstance(self.fs, LocalFileSystem)
        protocols = {self.fs.protocol} if isinstance(self.fs.protocol, str) else self.fs.protocol
        # Object stores have no directories: s3fs's and gcsfs's makedirs would only ask
        # whether the bucket exists, one request per write, and create it if it did not.
        self._directories = not OBJECT_STORES.intersection(protocols)

    # -- paths ----------------------------------------------------------------------------

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def _relative(self, full: str) -> str:
        full = full.rstrip("/")
        prefix = self.root + "/"
        # fsspec lists some file systems without the leading "/" of the root.
        if not full.startswith(prefix) and full.startswith(prefix.lstrip("/")):
            full = "/" + full
        return full[len(prefix) :] if full.startswith(prefix) else full

    def _list(self, relative: str) -> list[str]:
        try:
            return [self._relative(p) for p in self.fs.ls(self.path(relative), detail=False)]
        except FileNotFoundError:
            return []

    def list_files(self, relative: str) -> list[str]:
        """The files directly under `relative` (relative paths), none when it does not exist."""
        return sorted(p for p in self._list(relative) if not p.endswith(".tmp"))

    # -- atomic writes --------------------------------------------------------------------

    def write_file(self, relative: str, data: bytes) -> None:
        """`data` at `relative`, whole or not at all (replacing what is there)."""
        full = self.path(relative)
        self._parent(full)
        if not self._local:
            self.fs.pipe_file(full, data)  # an object store's put: visible whole
            return
        temporary = f"{full}.{secrets.token_hex(4)}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, full)
        _sync_directory(full)

    def create_exclusive(self, relative: str, data: bytes) -> bool:
        """Create `relative` holding `data` unless it exists (then False), atomically."""
        full = self.path(relative)
        self._parent(full)
        if not self._local:
            # s3fs sends the put with `If-None-Match: *` (gcsfs `ifGenerationMatch=0`): the
            # store refuses it (412, FileExistsError) when the name exists.
            try:
                with self.fs.open(full, "xb") as handle:
                    handle.write(data)
            except FileExistsError:
                return False
            except OSError as exc:
                # S3's 409 ConditionalRequestConflict: another conditional put of this name
                # was in flight, this one did not happen. Lost as far as the caller knows:
                # a publisher re-reads the manifest and tries again.
                if _error_code(exc) == "ConditionalRequestConflict":
                    return False
                raise
            return True
        # O_EXCL alone would let a reader see the file empty, or a crash leave it so: write a
        # temporary file, then link it to the name, which fails if the name exists.
        temporary = f"{full}.{secrets.token_hex(4)}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, full)
        except FileExistsError:
            return False
        finally:
            os.unlink(temporary)
        _sync_directory(full)
        return True

    def _parent(self, full: str) -> None:
        if self._directories:
            self.fs.makedirs(full.rsplit("/", 1)[0], exist_ok=True)

    def read_table(self, relative: str, columns: Sequence[str] | None = None) -> pa.Table:
        # One read of the whole file: Parquet's many small reads through an fsspec file
        # object cost more than the decoding (and one request each on an object store).
        data = self.fs.cat_file(self.path(relative))
        return pq.read_table(pa.BufferReader(data), columns=list(columns) if columns else None)

    def read_bytes(self, relative: str) -> bytes:
        data: bytes = self.fs.cat_file(self.path(relative))
        return data

    def remove(self, relatives: Iterable[str]) -> None:
        for relative in relatives:
            try:
                self.fs.rm_file(self.path(relative))
            except FileNotFoundError:
                continue

    # -- the manifest ---------------------------------------------------------------------

    def manifest(self) -> Manifest:
        """The newest version (an empty version 0 before the first commit)."""
        versions = sorted(
            int(name.rsplit("/", 1)[-1][:12])
            for name in self._list("_manifest")
            if name.endswith(".json") and name.rsplit("/", 1)[-1][:12].isdigit()
        )
        if not versions:
            return Manifest()
        with self.fs.open(self.path(f"_manifest/{versions[-1]:012d}.json"), "rb") as handle:
            return Manifest.from_json(handle.read())

    def commit(self, manifest: Manifest) -> None:
        """Create `manifest`'s version; `ManifestConflict` if another publisher did first."""
        if not self.create_exclusive(f"_manifest/{manifest.version:012d}.json", manifest.to_json()):
            raise ManifestConflict(
                f"manifest version {manifest.version} exists: another publisher committed it"
            )

    def files(self, manifest: Manifest | None = None) -> list[str]:
        """The URL of every published file (`file:///…`, `s3://…`), for readers (Spark):
        only what the newest manifest (or `manifest`, one read before) lists."""
        listed = (manifest or self.manifest()).files
        return [self.fs.unstrip_protocol(self.path(p)) for p in sorted(listed)]

    def read(self) -> pa.Table:
        """Every published row (small logs and tests)."""
        tables = [self.read_table(p) for p in sorted(self.manifest().files)]
        return pa.concat_tables(tables) if tables else FILE_SCHEMA.empty_table()

    # -- staged segments ------------------------------------------------------------------

    def segments(self, collector: str | None = None) -> list[Segment]:
        """Staged segments (of `collector`, or every one), by collector and first seq."""
        collectors = (
            [collector] if collector else sorted(p.rsplit("/", 1)[-1] for p in self._list("staged"))
        )
        out = []
        for name in collectors:
            for path in self._list(f"staged/{name}"):
                base = path.rsplit("/", 1)[-1]
                first, _, rest = base.partition("-")
                last = rest.removesuffix(".parquet")
                if rest.endswith(".parquet") and first.isdigit() and last.isdigit():
                    out.append(Segment(name, int(first), int(last), path))
        return sorted(out, key=lambda s: (s.collector, s.first_seq))

    def watermark(self, collector: str) -> int:
        """The last seq of `collector` staged or published: staging resumes after it."""
        check_collector_id(collector)
        # Listed before the manifest is read: a publisher consuming (and deleting) segments in
        # between then shows in the manifest, and nothing is staged again.
        staged = [s.last_seq for s in self.segments(collector)]
        published = self.manifest().consumed.get(collector, 0)
        return max([published, *staged])

    def write_segment(self, collector: str, table: pa.Table) -> Segment:
        seqs = table.column("seq")
        first, last = int(seqs[0].as_py()), int(seqs[-1].as_py())
        relative = f"staged/{collector}/{segment_name(first, last)}"
        self.write_file(relative, parquet_bytes(table))
        return Segment(collector, first, last, relative)

    def stale_temporaries(self, age_seconds: float = 3600) -> list[str]:
        """Temporary files (on a file system) a process killed mid-write left, over an hour
        old: a live writer renames its own within seconds."""
        if not self._local:
            return []
        out = []
        now = time.time()
        for base in ("staged", "events", "_manifest"):
            try:
                found = self.fs.find(self.path(base))
            except FileNotFoundError:
                continue
            for full in found:
                if full.endswith(".tmp") and now - os.path.getmtime(full) > age_seconds:
                    out.append(self._relative(full))
        return out

    def event_files(self) -> list[str]:
        """Every file under events/, listed or not (the clean-up compares with the manifest)."""
        try:
            found = self.fs.find(self.path("events"))
        except FileNotFoundError:
            return []
        return [self._relative(p) for p in found]


def pause_for_tests(name: str) -> None:
    """The crash tests' hook: when the environment names a file in `name`, this process
    creates `<file>.reached` and waits while the file exists, so that the test kills it at a
    known moment (between a publisher's files and its commit)."""
    path = os.environ.get(name)
    if path:
        with open(path + ".reached", "w"):
            pass
        while os.path.exists(path):
            time.sleep(0.01)


def _error_code(exc: BaseException) -> str | None:
    """The S3 error code behind an s3fs exception (botocore's `ClientError`, its cause)."""
    cause: BaseException | None = exc
    for _ in range(5):  # a few links of the chain (which may loop)
        if cause is None:
            break
        response = getattr(cause, "response", None)
        if isinstance(response, dict):
            return str(response.get("Error", {}).get("Code"))
        cause = cause.__cause__ or cause.__context__
    return None


def _sync_directory(path: str) -> None:
    directory = os.open(os.path.dirname(path), os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def with_collector(table: pa.Table, collector: str) -> pa.Table:
    """A `log_slice` table with the collector's id column: a published file's schema."""
    column = pa.array([collector] * table.num_rows, pa.string())
    return table.append_column(pa.field("collector", pa.string()), column).cast(FILE_SCHEMA)


__all__ = [
    "FILE_SCHEMA",
    "Manifest",
    "ManifestConflict",
    "PublishError",
    "PublishedLog",
    "Segment",
    "hour_of_partition",
    "partition_of",
]
