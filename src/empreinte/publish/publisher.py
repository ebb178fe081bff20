"""Step 2, one publisher at a time: staged segments → deduplicated, partitioned files → a new
manifest version.

Exactly once: a row is published iff the newest manifest lists a file holding it. Each
version moves every collector's `consumed` watermark past the segments it read *in the same
exclusive create* that lists their rows' files, so a segment is consumed by exactly one
version; a publisher killed before its commit leaves files no manifest lists (removed by the
next run's clean-up) and segments still pending. A message acknowledged by two collectors (a
client's retry through a load balancer) is kept once: the first by arrival, against the
(source, messageId) keys of every file published in the hours of the dedup horizon before
the batch's oldest arrival, and within the batch.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from empreinte.publish.compaction import compact_once, kept_for_readers
from empreinte.publish.log import (
    FILE_SCHEMA,
    HOUR_MICROS,
    Manifest,
    ManifestConflict,
    PublishedLog,
    Segment,
    erased_key_hash,
    hour_of_partition,
    parquet_bytes,
    partition_of,
    pause_for_tests,
)
from empreinte.publish.settings import Compaction

#: The collector's dedup window (collect/dedup.py: 25 hours of arrival).
HORIZON = timedelta(hours=25)
#: Rows read from staged segments per version (each version's files are written whole).
BATCH_ROWS = 1_000_000
_RETRIES = 20
COMPACTION = Compaction()  # the `[publish]` defaults


@dataclass(frozen=True)
class PublishReport:
    versions: int  # manifest versions committed
    rows: int  # rows published
    duplicates: int  # rows dropped as already published (or twice in a batch)
    segments: int  # staged segments consumed
    compacted: int = 0  # small files a compaction replaced


class Publisher:
    """Publishes a log's staged segments, then compacts the closed hours due
    (publish/compaction.py). Keeps the message keys of the files it has read (files never
    change: an erasure or a compaction writes new ones), so each round reads only new files.
    `now`: the clock that says which hour is closed and when a grace is over."""

    def __init__(
        self,
        log: PublishedLog,
        horizon: timedelta = HORIZON,
        compaction: Compaction = COMPACTION,
        now: Callable[[], float] = time.time,
    ):
        self.log = log
        self.horizon_hours = max(1, int(horizon.total_seconds() // 3600))
        self.compaction = compaction
        self.now = now
        self._keys: dict[str, pa.Array] = {}

    def publish(self, batch_rows: int = BATCH_ROWS) -> PublishReport:
        """Publish every staged segment, then compact; what was done."""
        versions = rows = duplicates = segments = 0
        while True:
            done = self._one_version(batch_rows)
            if done is None:
                compacted = self.compact()
                self._clean_up()
                return PublishReport(versions, rows, duplicates, segments, compacted)
            versions += 1
            rows += done.rows
            duplicates += done.duplicates
            segments += done.segments

    def _one_version(self, batch_rows: int) -> PublishReport | None:
        for _ in range(_RETRIES):
            manifest = self.log.manifest()
            pending = _pending(self.log.segments(), manifest, batch_rows)
            if not pending:
                return None
            batch = _read_segments(self.log, pending, manifest)
            batch, erased = _without_erased(batch, manifest)
            kept, dropped = self._dedup(batch, manifest)
            files = self._write(kept, manifest.version + 1)
            consumed = dict(manifest.consumed)
            for segment in pending:
                consumed[segment.collector] = max(
                    consumed.get(segment.collector, 0), segment.last_seq
                )
            added = {path: rows for path, rows in files}
            version = manifest.next(
                files={**manifest.files, **added},
                consumed=consumed,
                added=tuple(sorted(added)),
                segments=tuple(s.path for s in pending),
                duplicates_dropped=dropped,
                erased_dropped=erased,
            )
            pause_for_tests("EMPREINTE_TEST_PUBLISH_PAUSE")
            try:
                self.log.commit(version)
            except ManifestConflict:
                self.log.remove(added)  # another publisher won: redo on its version
                continue
            self.log.remove(s.path for s in pending)  # consumed: the manifest says so
            return PublishReport(1, kept.num_rows, dropped, len(pending))
        raise ManifestConflict(f"gave up after {_RETRIES} conflicting publishers")

    def compact(self) -> int:
        """Compact every closed hour due, one version per batch of hours; the files replaced."""
        replaced = 0
        while True:
            now = self.now()
            done = compact_once(self.log, self.compaction, int(now // 3600), now)
            if done is None:
                return replaced
            replaced += len(done.removed)
            # The same keys, under the new names: the next round need not read them back.
            for path, table in done.written.items():
                self._keys[path] = _keys(table)
            for path in done.removed:
                self._keys.pop(path, None)

    def _dedup(self, batch: pa.Table, manifest: Manifest) -> tuple[pa.Table, int]:
        """The batch without the messages already published in the horizon or seen earlier in
        it (the first by arrival, then collector and seq, is kept); rows keep their order."""
        if not batch.num_rows:
            return batch, 0
        keys = _keys(batch)
        # Only the keys are put in arrival order, not the whole table.
        order = pc.sort_indices(
            batch.select(["received_at", "collector", "seq"]),
            sort_keys=[
                ("received_at", "ascending"),
                ("collector", "ascending"),
                ("seq", "ascending"),
            ],
        ).to_numpy()
        codes = pc.dictionary_encode(keys.take(order)).indices.to_numpy()
        _, first = np.unique(codes, return_index=True)
        keep = np.zeros(batch.num_rows, dtype=bool)
        keep[order[first]] = True
        oldest = pc.min(batch.column("received_at").cast(pa.int64())).as_py()
        published = self._published_keys(manifest, oldest // HOUR_MICROS - self.horizon_hours)
        if len(published):
            # The hash table is built of the batch (small), not of the horizon's keys (up to
            # 25 hours of events): those are only scanned, then the few found looked up.
            found = published.filter(pc.is_in(published, value_set=keys))
            if len(found):
                keep &= ~pc.is_in(keys, value_set=found).to_numpy(zero_copy_only=False)
        kept = batch.filter(pa.array(keep))
        return kept, batch.num_rows - kept.num_rows

    def _published_keys(self, manifest: Manifest, since_hour: int) -> pa.Array:
        paths = [p for p in manifest.files if (hour_of_partition(p) or since_hour) >= since_hour]
        for path in paths:
            if path not in self._keys:
                self._keys[path] = _keys(self.log.read_table(path, ["source", "message_id"]))
        for path in set(self._keys) - set(paths):
            del self._keys[path]  # out of the horizon now, or removed by an erasure
        parts = [self._keys[p] for p in paths]
        return pa.concat_arrays(parts) if parts else pa.array([], pa.string())

    def _write(self, table: pa.Table, version: int) -> list[tuple[str, int]]:
        """`table`'s rows as one new file per hour of arrival."""
        if not table.num_rows:
            return []
        hours = pc.divide(table.column("received_at").cast(pa.int64()), HOUR_MICROS)
        token = secrets.token_hex(4)
        out = []
        for hour in pc.unique(hours).to_pylist():
            part = table.filter(pc.equal(hours, hour))
            path = f"events/{partition_of(hour)}/{version:012d}-{token}.parquet"
            self.log.write_file(path, parquet_bytes(part))
            out.append((path, part.num_rows))
        return out

    def _clean_up(self) -> None:
        """Files no manifest lists (a publisher killed before its commit, the old file of an
        erasure's rewrite, a compaction's once its grace is over) and segments already
        consumed."""
        manifest = self.log.manifest()
        grace = self.compaction.grace.total_seconds()
        kept = set(manifest.files) | kept_for_readers(manifest, grace, self.now()).keys()
        orphans = [p for p in self.log.event_files() if p not in kept]
        # A concurrent publisher may be between writing its files and committing them: only
        # files of versions already taken are orphans.
        self.log.remove(p for p in orphans if _version_of(p) <= manifest.version)
        self.log.remove(
            s.path
            for s in self.log.segments()
            if s.last_seq <= manifest.consumed.get(s.collector, 0)
        )
        self.log.remove(self.log.stale_temporaries())


def _without_erased(batch: pa.Table, manifest: Manifest) -> tuple[pa.Table, int]:
    """The batch without rows carrying an identifier of a person erased on some collector
    (the manifest's `suppressed`): another collector's suppression list does not know them.
    Each distinct identifier is hashed once."""
    if not manifest.suppressed or not batch.num_rows:
        return batch, 0
    identifiers = batch.column("identifiers").combine_chunks()
    flat = pc.dictionary_encode(pc.list_flatten(identifiers))
    suppressed = set(manifest.suppressed)
    erased = np.array(
        [erased_key_hash(k) in suppressed for k in flat.dictionary.to_pylist()], dtype=bool
    )
    if not erased.any():
        return batch, 0
    hits = erased[flat.indices.to_numpy(zero_copy_only=False)]
    rows = pc.list_parent_indices(identifiers).to_numpy()[hits]
    keep = np.ones(batch.num_rows, dtype=bool)
    keep[rows] = False
    return batch.filter(pa.array(keep)), int((~keep).sum())


def _version_of(path: str) -> int:
    name = path.rsplit("/", 1)[-1]
    return int(name[:12]) if name[:12].isdigit() else 0


def _keys(table: pa.Table) -> pa.Array:
    """`records.message_key` of each row: source, NUL, messageId."""
    return pc.binary_join_element_wise(
        table.column("source"), table.column("message_id"), "\x00"
    ).combine_chunks()


def _pending(segments: list[Segment], manifest: Manifest, batch_rows: int) -> list[Segment]:
    """Segments not yet consumed, in order per collector, up to about `batch_rows` rows (a
    segment's seq range bounds its rows)."""
    out: list[Segment] = []
    total = 0
    for segment in segments:
        if segment.last_seq <= manifest.consumed.get(segment.collector, 0):
            continue
        if out and total + segment.last_seq - segment.first_seq + 1 > batch_rows:
            break
        out.append(segment)
        total += segment.last_seq - segment.first_seq + 1
    # Sorted by collector then seq and cut at one point: each collector's part is a prefix
    # of its pending segments (its watermark is one number).
    return out


def _read_segments(log: PublishedLog, segments: list[Segment], manifest: Manifest) -> pa.Table:
    tables = []
    for segment in segments:
        table = log.read_table(segment.path).cast(FILE_SCHEMA)
        after = manifest.consumed.get(segment.collector, 0)
        tables.append(table.filter(pc.greater(table.column("seq"), after)))
    return pa.concat_tables(tables) if tables else FILE_SCHEMA.empty_table()


__all__ = ["HORIZON", "PublishReport", "Publisher"]
