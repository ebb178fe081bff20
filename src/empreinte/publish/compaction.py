"""Compaction of the published log: a closed hour partition's many small files rewritten as one
(or a few) by the publisher, in one manifest version.

The leader publishes every `[publish] interval` (10 s): one file per hour of arrival each
round, some 360 files an hour, each listed in every manifest version. Readers pay per file, and
the manifest (which lists them all) grows without bound. So once an hour is over, the publisher
rewrites an hour holding more than `compact_files` files as files of at most `compact_rows` rows
sorted by (received_at, collector, seq), and commits one version that removes the small files
and adds the new ones: the same rows, the same schema.

Why closed hours only: the current hour receives a file every round; compacting it would
rewrite its growing content again and again (some 20 times an hour at 16 files). A closed hour
is rewritten once; the current hour's files (at most one per round) stay a bounded number.
A late file (a collector that staged after a long outage) may land in a closed hour: that
hour is compacted again once it holds more than `compact_files` files.

Composes with the rest through the manifest's exclusive create: the compaction reads version
n and commits n + 1 or nothing. An erasure (or a publication) committed in between makes the
commit fail: the compaction deletes what it wrote, re-reads and redoes, so an erased row is
never brought back. Files it replaced are kept for `compact_grace` (`Manifest.retired`): a
reader that listed version n may still be reading them. An erasure deletes them at once (they
hold the erased person too).
"""

from __future__ import annotations

import math
import secrets
from collections import defaultdict
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from empreinte.publish.log import (
    Manifest,
    ManifestConflict,
    PublishedLog,
    hour_of_partition,
    parquet_bytes,
    partition_of,
    pause_for_tests,
)
from empreinte.publish.settings import Compaction

#: Rows rewritten per version at most (several small hours share one; a bigger hour goes alone).
BUDGET_ROWS = 1_000_000
_RETRIES = 20
#: The order of a compacted file's rows: arrival, as the publisher's dedup keeps the first.
SORT_KEYS = [("received_at", "ascending"), ("collector", "ascending"), ("seq", "ascending")]


@dataclass(frozen=True)
class Compacted:
    """One committed compaction: the version, the files it removed and those it wrote (with
    their rows' `source` and `message_id`, for the publisher's dedup cache)."""

    version: int
    removed: tuple[str, ...]
    written: dict[str, pa.Table] = field(default_factory=dict)


def due_hours(manifest: Manifest, compaction: Compaction, before_hour: int) -> list[int]:
    """The hours before `before_hour` holding more than `compaction.files` files and more than
    their rows need (so that an hour of several full files is not rewritten every round)."""
    if compaction.files <= 0:
        return []
    paths: dict[int, list[int]] = defaultdict(list)
    for path, rows in manifest.files.items():
        hour = hour_of_partition(path)
        if hour is not None and hour < before_hour:
            paths[hour].append(rows)
    return sorted(
        hour
        for hour, rows in paths.items()
        if len(rows) > compaction.files and len(rows) > math.ceil(sum(rows) / compaction.rows)
    )


def compact_once(
    log: PublishedLog,
    compaction: Compaction,
    before_hour: int,
    now: float,
    budget_rows: int = BUDGET_ROWS,
) -> Compacted | None:
    """Compact the oldest due hours (up to about `budget_rows` rows) in one version; None when
    no hour is due."""
    for _ in range(_RETRIES):
        manifest = log.manifest()
        hours = due_hours(manifest, compaction, before_hour)
        if not hours:
            return None
        by_hour: dict[int, list[str]] = defaultdict(list)
        due = set(hours)
        for path in sorted(manifest.files):
            hour = hour_of_partition(path)
            if hour in due:
                by_hour[hour].append(path)
        chosen: list[int] = []
        total = 0
        for hour in hours:
            rows = sum(manifest.files[p] for p in by_hour[hour])
            if chosen and total + rows > budget_rows:
                break
            chosen.append(hour)
            total += rows
        version_number = manifest.version + 1
        token = secrets.token_hex(4)
        files = dict(manifest.files)
        written: dict[str, pa.Table] = {}
        added: dict[str, int] = {}
        removed: list[str] = []
        for hour in chosen:
            table = pa.concat_tables([log.read_table(p) for p in by_hour[hour]])
            table = table.take(pc.sort_indices(table, sort_keys=SORT_KEYS))
            parts = math.ceil(table.num_rows / compaction.rows)
            size = math.ceil(table.num_rows / parts) if parts else 0
            for i in range(parts):
                part = table.slice(i * size, size)
                path = f"events/{partition_of(hour)}/{version_number:012d}-{token}-c{i}.parquet"
                log.write_file(path, parquet_bytes(part))
                added[path] = part.num_rows
                written[path] = part.select(["source", "message_id"])
            for path in by_hour[hour]:
                del files[path]
                removed.append(path)
        retired = kept_for_readers(manifest, compaction.grace.total_seconds(), now)
        retired.update((p, int(now)) for p in removed)
        version = manifest.next(
            files={**files, **added},
            added=tuple(sorted(added)),
            removed=tuple(removed),
            retired=retired,
        )
        pause_for_tests("EMPREINTE_TEST_COMPACT_PAUSE")
        try:
            log.commit(version)
        except ManifestConflict:
            log.remove(added)  # an erasure or a publication came first: redo on its version
            continue
        return Compacted(version.version, tuple(removed), written)
    raise ManifestConflict(f"compaction gave up after {_RETRIES} conflicting commits")


def kept_for_readers(manifest: Manifest, grace_seconds: float, now: float) -> dict[str, int]:
    """Files a compaction removed less than the grace ago (path → when): not yet for the
    clean-up, and still `retired` in the next version."""
    return {p: t for p, t in manifest.retired.items() if now - t < grace_seconds}


__all__ = ["BUDGET_ROWS", "Compacted", "compact_once", "due_hours", "kept_for_readers"]
