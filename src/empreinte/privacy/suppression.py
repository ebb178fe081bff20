"""The suppression list: identifiers of erased people, kept as keyed hashes only.

An event that carries a suppressed identifier (or an erased e-mail or phone in any field)
is dropped at ingestion (the writer asks `Suppression.split` or `screen` before appending)
and counted per day and source, never stored. The collector still answers 200: for the
client it is not an error, and it must not retry. When the erased identifiers it carries
were all *shared* (other people's events carried them too at the erasure) and it also names
someone else by an identifier of a personal kind (a userId, an e-mail, a phone, a card), the
event is kept for them, without the erased identifiers (scrub.py): a shared switchboard
number or loyalty card does not silence the other people, and an e-mail planted in someone
else's event is not stored.

The hash is keyed BLAKE2b (a MAC) with a key derived from the workspace's pseudonymisation key:
nobody without the workspace directory can test a guessed e-mail against the list, and the list
alone re-identifies nobody. BLAKE2b rather than HMAC-SHA-256 because the writer hashes every
identifier of every event once the list is not empty: about 0.4 µs an identifier instead of 1.3.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import Counter
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime

import pyarrow as pa

from empreinte.privacy.pseudonym import Pseudonymiser
from empreinte.privacy.scrub import (
    VaultScrubber,
    is_personal,
    may_hold_contact,
    payload_pseudonyms,
    pseudonym_keys,
    strip_row,
)
from empreinte.store.columns import ColumnarRows
from empreinte.store.privacy_store import PrivacyStore
from empreinte.store.records import EventRow

log = logging.getLogger(__name__)

_KEY_LABEL = "suppression-key"


def _derive_key(pseudonymiser: Pseudonymiser) -> bytes:
    """32 bytes derived from the workspace key (through its public keyed pseudonyms)."""
    parts = (pseudonymiser.pseudonym(_KEY_LABEL, str(i)).removeprefix("pii_") for i in (1, 2))
    return bytes.fromhex("".join(parts))


def _day(micros: int) -> date:
    return datetime.fromtimestamp(micros / 1_000_000, UTC).date()


# A row reduced to what `Suppression._carried` reads of an encoded row with a vault.
_ID_ONLY = EventRow(
    "", "", "", None, None, None, None, None, None, 0, None, None, 0, None, False,
    None, None, None, None, None, None, None,
)  # fmt: skip


def _decoded(rows: ColumnarRows) -> list[EventRow]:
    """Encoded rows back as Python rows (times as microseconds again)."""
    table = rows.table()
    columns = []
    for field in table.schema:
        column = table.column(field.name)
        if pa.types.is_timestamp(field.type):
            column = column.cast(pa.int64())
        columns.append(column.to_pylist())
    return [EventRow(*values) for values in zip(*columns, strict=True)]


def _pii_rows(rows: ColumnarRows) -> dict[int, EventRow]:
    """The encoded rows whose vault may hold an e-mail or a phone, by index: with their vault
    and the payloads pseudonyms may be in, the rest of the row left empty."""
    table = rows.table()
    pii = table.column("pii")
    if pii.null_count == len(pii):
        return {}
    vaults = pii.to_pylist()
    indexes = [i for i, v in enumerate(vaults) if v is not None and may_hold_contact(v)]
    if not indexes:
        return {}
    picked = table.select(["properties", "traits", "context"]).take(indexes).to_pylist()
    return {
        index: _ID_ONLY._replace(pii=vaults[index], **payloads)
        for index, payloads in zip(indexes, picked, strict=True)
    }


class Suppression:
    """The suppression set of a workspace, in memory (loaded at start, updated by erasure)
    and in the `suppression` table. Thread-safe; the hot path takes no lock."""

    def __init__(
        self, store: PrivacyStore, pseudonymiser: Pseudonymiser, default_region: str = "FR"
    ):
        self._store = store
        self._pseudonymiser = pseudonymiser
        self._default_region = default_region  # where phone numbers in a vault are read
        # The keyed state, copied for each hash: keying costs one compression, saved per hash.
        self._keyed = hashlib.blake2b(key=_derive_key(pseudonymiser), digest_size=16)
        self._lock = threading.Lock()
        # Replaced, never mutated, so that the writer thread reads a consistent set lock-free;
        # `_digests` holds the same hashes as bytes, which the hot path compares.
        # `_shared`: the digests of identifiers other people's events carried too when their
        # person was erased (their events may be stripped rather than dropped).
        self._hashes: frozenset[str] = frozenset()
        self._shared_hashes: frozenset[str] = frozenset()
        self._digests: frozenset[bytes] = frozenset()
        self._shared: frozenset[bytes] = frozenset()
        self._set(frozenset(store.suppressed_hashes()), frozenset(store.shared_hashes()))

    def _set(self, hashes: frozenset[str], shared: frozenset[str]) -> None:
        self._shared = frozenset(bytes.fromhex(h) for h in shared)
        self._digests = frozenset(bytes.fromhex(h) for h in hashes)
        self._hashes = hashes
        self._shared_hashes = shared

    def _digest(self, id_key: str) -> bytes:
        state = self._keyed.copy()
        state.update(id_key.encode())
        return state.digest()

    def hash(self, id_key: str) -> str:
        """The suppression hash of an identifier key ("type:value", as in the log)."""
        return self._digest(id_key).hex()

    def __len__(self) -> int:
        return len(self._hashes)

    def is_suppressed(self, id_key: str) -> bool:
        return self.hash(id_key) in self._hashes

    def add(self, hashes: Iterable[str], shared: Iterable[str] = ()) -> None:
        """Start dropping events that carry these hashes (in memory; erasure stores them);
        `shared`, those of them other people's events carry too. A hash already on the list
        keeps its kind, as the stored list does."""
        with self._lock:
            fresh = frozenset(shared) - self._hashes
            self._set(self._hashes | frozenset(hashes), self._shared_hashes | fresh)

    def discard(self, hashes: Collection[str]) -> None:
        """Forget hashes added in memory by an erasure that then failed."""
        gone = frozenset(hashes)
        with self._lock:
            stored, shared = self._store.suppressed_hashes(), self._store.shared_hashes()
            self._set(
                self._hashes - gone | (gone & stored), self._shared_hashes - gone | (gone & shared)
            )

    def _carried(
        self, identifiers: list[str] | None, row: EventRow | None, digests: frozenset[bytes]
    ) -> list[str] | None:
        """The suppressed keys a row carries (as `identifiers`, or as pseudonyms in the
        payloads of `row`, given when it has personal values), with its verdict: None to keep
        it as it is, [] to drop it, else the keys to strip from it (it names someone else by
        an identifier of a personal kind)."""
        keyed = self._keyed
        hits: list[str] = []
        hit_digests: list[bytes] = []
        for key in identifiers or ():
            state = keyed.copy()
            state.update(key.encode())
            if (digest := state.digest()) in digests:
                hits.append(key)
                hit_digests.append(digest)
        if row is not None and row.pii is not None:
            # An e-mail or phone under a key that is not an identifier ("contact_email").
            known = identifiers or ()
            for pseudonym in payload_pseudonyms(row):
                candidates = pseudonym_keys(pseudonym)
                if candidates[0] in known or candidates[1] in known:
                    continue  # an identifier's, looked at above
                for key in candidates:
                    if (digest := self._digest(key)) in digests:
                        hits.append(key)
                        hit_digests.append(digest)
        if not hits:
            return None
        # An identifier that was the erased person's alone makes the event theirs: dropped.
        # Shared ones are stripped when someone else is named by a personal identifier.
        shared = self._shared
        if not all(d in shared for d in hit_digests):
            return []
        others = any(is_personal(k) and k not in hits for k in identifiers or ())
        return hits if others else []

    def _strip(self, row: EventRow, keys: list[str]) -> EventRow:
        digests = self._digests

        def erased(key: str) -> bool:
            return self._digest(key) in digests

        vault = VaultScrubber(self._pseudonymiser, erased, (self._default_region,))
        return strip_row(row, keys, vault)

    def split(self, rows: list[EventRow]) -> tuple[list[EventRow], Counter[tuple[date, str]]]:
        """The rows to keep, and how many were dropped per (day received, source).

        A row carrying a suppressed identifier is dropped, unless those it carries are all
        shared ones and it also carries an unsuppressed identifier of a personal kind (a
        userId, e-mail, phone, card: someone else is named in it): then it is kept without
        the suppressed ones (scrub.py).
        O(identifiers) per row: one keyed hash and one set lookup per identifier (and per
        pseudonym of a row with personal values), and nothing at all while the list is empty.
        """
        digests = self._digests
        if not digests:
            return rows, Counter()
        kept: list[EventRow] = []
        dropped: Counter[tuple[date, str]] = Counter()
        for row in rows:
            verdict = self._carried(row.identifiers, row, digests)
            if verdict is None:
                kept.append(row)
            elif verdict:
                kept.append(self._strip(row, verdict))
            else:
                dropped[(_day(row.received_at), row.source)] += 1
        return kept, dropped

    def screen(self, rows: ColumnarRows) -> tuple[ColumnarRows, list[int]]:
        """`split` for rows that arrive encoded (store/columns.py): the rows (new ones if some
        had to be stripped) and the indexes of those to drop."""
        digests = self._digests
        if not digests:
            return rows, []
        with_pii = _pii_rows(rows)
        drop: list[int] = []
        strip: dict[int, list[str]] = {}
        for index, keys in enumerate(rows.identifiers):
            verdict = self._carried(keys, with_pii.get(index), digests)
            if verdict is None:
                continue
            if verdict:
                strip[index] = verdict
            else:
                drop.append(index)
        if strip:
            decoded = _decoded(rows)
            for index, keys in strip.items():
                decoded[index] = self._strip(decoded[index], keys)
            rows = ColumnarRows(decoded, rows.source, rows.received_at)
        return rows, drop

    @staticmethod
    def day(received_at: int) -> date:
        """The day (UTC) under which a dropped event received at `received_at` is counted."""
        return _day(received_at)

    def record(self, dropped: Counter[tuple[date, str]]) -> None:
        """Add dropped events to the stored counts. A failure is logged, never raised: the
        counts are statistics, and the events they count were not to be stored anyway."""
        if not dropped:
            return
        try:
            self._store.count_suppressed(dropped)
        except Exception:
            log.exception("could not record %d suppressed events", sum(dropped.values()))

    def counts(self) -> list[tuple[date, str, int]]:
        """(day, source, events dropped), oldest first."""
        return self._store.suppressed_counts()
