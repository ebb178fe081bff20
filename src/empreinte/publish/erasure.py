"""Erasure reaching the published log: after a collector erased a person from its own log, the
same rows leave every published and staged file, and the same identifiers leave the rows that
stay, as the DuckDB store does (store/duckdb/privacy_store.py, `_scrub_update`).

Rows removed: the erased events of the erasing collector (`collector`, `seq`), and every row,
from any collector, carrying one of the person's exclusive identifiers. Rows scrubbed: those
carrying a shared personal identifier lose it from `identifiers` and its value from their
JSON columns; the person's e-mail and phone pseudonyms become `ERASED` wherever they appear;
a `user_id` that is one of these values is emptied.

Atomic per version: staged segments are rewritten in place (each file whole), then every
published file holding affected rows is written anew under a new name and one manifest version
removes the old names, adds the new ones and records the erasure id; the old files are deleted
after the commit. A conflicting publisher makes the whole pass run again on its version, so
rows it published from a segment read before the rewrite are caught too.

What the pending erasure keeps until it is applied (`PendingErasures`, beside the workspace's
log): the erasing collector's seqs, identifier keys and pseudonyms, never raw values.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from empreinte.publish.log import (
    ManifestConflict,
    PublishedLog,
    erased_key_hash,
    parquet_bytes,
)
from empreinte.store.privacy_store import ERASED, ErasurePlan

_JSON_COLUMNS = ("properties", "traits", "context", "integrations", "extra")
_ERASED_JSON = orjson.dumps(ERASED).decode()
_RETRIES = 20


#: Where each applied erasure leaves its notice for the other collectors (`<id>.json`).
NOTICES = "erasures"


@dataclass(frozen=True)
class SiblingHashes:
    """What the other collectors of a published log need to erase the same person from their
    own logs: suppression hashes, keyed by the pseudonym key siblings share (`init --like`),
    so that the notice names nobody. `suppress`: every hash the erasure put on its list;
    `shared`: those of identifiers other people's events carried too; `erase`: those of
    personal identifiers (e-mail, phone, user id, card…) the person alone carried, which
    make a sibling erase the profile holding one (privacy/erasure.py, `adopt_published`)."""

    suppress: Sequence[str] = ()
    shared: Sequence[str] = ()
    erase: Sequence[str] = ()


@dataclass(frozen=True)
class ErasureNotice:
    """An erasure another collector applied to the published log, as its siblings read it."""

    erasure_id: str
    collector: str
    hashes: SiblingHashes


@dataclass(frozen=True)
class PublishedErasure:
    erasure_id: str
    collector: str
    seqs: Sequence[int]
    exclusive_keys: Sequence[str]
    scrub_keys: Sequence[str]
    scrub_values: Sequence[str]
    pseudonyms: Sequence[str]
    suppress: Sequence[str] = ()  # SiblingHashes, flat (this is kept as JSON)
    shared: Sequence[str] = ()
    erase: Sequence[str] = ()

    @classmethod
    def from_plan(
        cls, plan: ErasurePlan, collector: str, siblings: SiblingHashes = SiblingHashes()
    ) -> PublishedErasure:
        return cls(
            erasure_id=plan.erasure_id,
            collector=collector,
            seqs=sorted(set(plan.seqs)),
            exclusive_keys=sorted(set(plan.exclusive_keys)),
            scrub_keys=sorted(set(plan.scrub_keys)),
            scrub_values=sorted(set(plan.scrub_values)),
            pseudonyms=sorted(set(plan.pseudonyms)),
            suppress=sorted(set(siblings.suppress)),
            shared=sorted(set(siblings.shared)),
            erase=sorted(set(siblings.erase)),
        )

    def notice(self) -> bytes:
        """The notice siblings read: the collector and hashes, no key, seq or value."""
        return orjson.dumps(
            {
                "erasure_id": self.erasure_id,
                "collector": self.collector,
                "suppress": list(self.suppress),
                "shared": list(self.shared),
                "erase": list(self.erase),
            }
        )

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> PublishedErasure:
        return cls(**orjson.loads(data))


@dataclass(frozen=True)
class ErasureResult:
    files_rewritten: int
    segments_rewritten: int
    rows_removed: int
    rows_scrubbed: int


def apply_erasure(log: PublishedLog, erasure: PublishedErasure) -> ErasureResult:
    """Apply `erasure` to every staged and published file of `log` (a no-op once the manifest
    records it)."""
    for _ in range(_RETRIES):
        manifest = log.manifest()
        if erasure.erasure_id in manifest.erasures:
            return ErasureResult(0, 0, 0, 0)
        removed_rows = scrubbed_rows = segments = 0
        for segment in log.segments():
            table, removed, scrubbed = erase_rows(log.read_table(segment.path), erasure)
            if removed or scrubbed:
                log.write_file(segment.path, parquet_bytes(table))
                segments += 1
                removed_rows += removed
                scrubbed_rows += scrubbed
        files = dict(manifest.files)
        added: dict[str, int] = {}
        old: list[str] = []
        token = secrets.token_hex(4)
        for path in sorted(manifest.files):
            table, removed, scrubbed = erase_rows(log.read_table(path), erasure)
            if not (removed or scrubbed):
                continue
            removed_rows += removed
            scrubbed_rows += scrubbed
            old.append(path)
            del files[path]
            if table.num_rows:
                directory = path.rsplit("/", 1)[0]
                # One name per file rewritten: several may share a partition.
                new = f"{directory}/{manifest.version + 1:012d}-{token}-{len(old)}.parquet"
                log.write_file(new, parquet_bytes(table))
                files[new] = added[new] = table.num_rows
        version = manifest.next(
            files=files,
            erasures=(*manifest.erasures, erasure.erasure_id),
            # Rows carrying them that other collectors stage later are dropped at publication.
            suppressed=tuple(
                sorted(
                    set(manifest.suppressed) | {erased_key_hash(k) for k in erasure.exclusive_keys}
                )
            ),
            added=tuple(sorted(added)),
            removed=tuple(old),
            erasure=erasure.erasure_id,
            # A compaction's replaced files hold the same rows, the person's too: no grace.
            retired={},
        )
        # Before the commit: an erasure the manifest records always has its notice.
        log.create_exclusive(f"{NOTICES}/{erasure.erasure_id}.json", erasure.notice())
        try:
            log.commit(version)
        except ManifestConflict:
            log.remove(added)
            continue
        log.remove([*old, *manifest.retired])
        return ErasureResult(len(old), segments, removed_rows, scrubbed_rows)
    raise ManifestConflict(f"gave up applying {erasure.erasure_id} after {_RETRIES} conflicts")


def erase_rows(table: pa.Table, erasure: PublishedErasure) -> tuple[pa.Table, int, int]:
    """`table` without the erased rows and with the scrubbed ones rewritten; (table, rows
    removed, rows scrubbed). The schema is kept."""
    n = table.num_rows
    if not n:
        return table, 0, 0
    drop = _carrying(table, erasure.exclusive_keys)
    if erasure.seqs:
        mine = pc.and_(
            pc.equal(table.column("collector"), erasure.collector),
            pc.is_in(table.column("seq"), value_set=pa.array(erasure.seqs, pa.int64())),
        )
        drop = pc.or_(drop, pc.fill_null(mine, False))
    kept = table.filter(pc.invert(drop))
    removed = n - kept.num_rows
    carrier = _carrying(kept, erasure.scrub_keys)
    touched = carrier
    for column in _JSON_COLUMNS:
        for pseudonym in erasure.pseudonyms:
            found = pc.fill_null(pc.match_substring(kept.column(column), pseudonym), False)
            touched = pc.or_(touched, found)
    plain = sorted(set(erasure.scrub_values) | set(erasure.pseudonyms))
    if plain:
        users = pc.fill_null(pc.is_in(kept.column("user_id"), value_set=pa.array(plain)), False)
        touched = pc.or_(touched, users)
    rows = np.flatnonzero(touched.to_numpy(zero_copy_only=False))
    if not len(rows):
        return kept, removed, 0
    return _scrub(kept, rows, carrier, erasure), removed, len(rows)


def _carrying(table: pa.Table, keys: Sequence[str]) -> pa.ChunkedArray | pa.Array:
    """Whether each row's `identifiers` holds one of `keys`."""
    n = table.num_rows
    if not keys or not n:
        return pa.array(np.zeros(n, dtype=bool))
    identifiers = table.column("identifiers").combine_chunks()
    flat = pc.list_flatten(identifiers)
    parents = pc.list_parent_indices(identifiers)
    hits = parents.filter(pc.is_in(flat, value_set=pa.array(list(keys), pa.string())))
    mask = np.zeros(n, dtype=bool)
    mask[hits.to_numpy()] = True
    return pa.array(mask)


def _scrub(
    table: pa.Table, rows: np.ndarray, carrier: pa.Array, erasure: PublishedErasure
) -> pa.Table:
    """The rows `rows` of `table` rewritten as `_scrub_update` does in DuckDB."""
    plain = [orjson.dumps(v).decode() for v in sorted(set(erasure.scrub_values))]
    pseudonyms = [orjson.dumps(p).decode() for p in sorted(set(erasure.pseudonyms))]
    user_values = set(erasure.scrub_values) | set(erasure.pseudonyms)
    keys = set(erasure.scrub_keys)
    carriers = carrier.to_numpy(zero_copy_only=False)
    columns = {name: table.column(name).to_pylist() for name in (*_JSON_COLUMNS, "user_id")}
    identifiers = table.column("identifiers").to_pylist()
    for i in rows:
        for name in _JSON_COLUMNS:
            text = columns[name][i]
            if text is None:
                continue
            if carriers[i]:
                for token in plain:
                    text = text.replace(token, _ERASED_JSON)
            for token in pseudonyms:
                text = text.replace(token, _ERASED_JSON)
            columns[name][i] = text
        if columns["user_id"][i] in user_values:
            columns["user_id"][i] = None
        if carriers[i] and identifiers[i] is not None:
            identifiers[i] = [k for k in identifiers[i] if k not in keys]
    for name, values in columns.items():
        index = table.schema.get_field_index(name)
        table = table.set_column(index, table.schema.field(index), pa.array(values, pa.string()))
    index = table.schema.get_field_index("identifiers")
    return table.set_column(
        index, table.schema.field(index), pa.array(identifiers, table.schema.field(index).type)
    )


def notices(log: PublishedLog, known: Collection[str] = ()) -> list[ErasureNotice]:
    """The erasure notices at `log` but those of the `known` erasure ids (listed, not read),
    oldest id first."""
    out = []
    for path in log.list_files(NOTICES):
        name = path.rsplit("/", 1)[-1]
        if not name.endswith(".json") or name.removesuffix(".json") in known:
            continue
        doc = orjson.loads(log.read_bytes(path))
        hashes = SiblingHashes(tuple(doc["suppress"]), tuple(doc["shared"]), tuple(doc["erase"]))
        out.append(ErasureNotice(doc["erasure_id"], doc["collector"], hashes))
    return sorted(out, key=lambda n: n.erasure_id)


class PendingErasures:
    """Erasures a collector made and has not yet applied to the published log, kept beside its
    log (`publish-erasures/<id>.json`) from before the local erasure commits until the
    published log's manifest records them: a crash or an unreachable store in between leaves
    them pending, and the next stage round applies them first."""

    def __init__(self, directory: Path):
        self.directory = directory

    def record(self, erasure: PublishedErasure) -> None:
        self.directory.mkdir(exist_ok=True)
        path = self.directory / f"{erasure.erasure_id}.json"
        temporary = path.with_suffix(".tmp")
        with open(temporary, "wb") as handle:
            handle.write(erasure.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    def discard(self, erasure_id: str) -> None:
        (self.directory / f"{erasure_id}.json").unlink(missing_ok=True)

    def pending(self) -> list[PublishedErasure]:
        if not self.directory.exists():
            return []
        return [
            PublishedErasure.from_json(p.read_bytes())
            for p in sorted(self.directory.glob("*.json"))
        ]

    def apply(self, log: PublishedLog) -> list[ErasureResult]:
        """Apply every pending erasure to `log`, forgetting each once it is recorded there."""
        results = []
        for erasure in self.pending():
            results.append(apply_erasure(log, erasure))
            self.discard(erasure.erasure_id)
        return results


__all__ = [
    "ErasureNotice",
    "ErasureResult",
    "PendingErasures",
    "PublishedErasure",
    "SiblingHashes",
    "apply_erasure",
    "erase_rows",
    "notices",
]
