"""The storage interface every engine implements.

Only `store/` talks to a database. The collector, the CLI and the API speak to an `Engine`;
the stores beside the log (identity, privacy, profiles, match reviews) come from it, and
analytics reach the same tables through its `AnalyticsBackend` (Ibis), so that they run on
DuckDB or on a distributed engine unchanged. `open_engine` is the one place that picks the
engine of a workspace: the embedded DuckDB file (store/duckdb/).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa

from empreinte.store.computed_traits import ComputedTraits
from empreinte.store.destination_store import DestinationStore
from empreinte.store.identity_store import IdentityStore
from empreinte.store.loyalty_store import LoyaltyStore
from empreinte.store.match_store import MatchReviews
from empreinte.store.offer_store import OfferStore
from empreinte.store.privacy_store import PrivacyStore
from empreinte.store.product_store import ProductStore
from empreinte.store.profile_store import ProfileQueries
from empreinte.store.records import ApiToken, EventFilter, EventRow, SourceKey
from empreinte.store.segment_store import SegmentStore
from empreinte.store.story_store import StoryStore
from empreinte.store.voc_originals_store import VocOriginalsStore
from empreinte.store.voc_store import VocStore

if TYPE_CHECKING:  # Ibis is for analytics: the collector never loads it
    import pyarrow as pa

    from empreinte.store.analytics import AnalyticsBackend
    from empreinte.store.settings import StorageSettings

#: The file of the embedded engine in a workspace directory.
DATABASE_FILE = "events.duckdb"


class Engine(Protocol):
    """A workspace's storage: the append-only event log plus its small catalogue tables."""

    def limit_resources(self, settings: StorageSettings) -> None:
        """Keep to the memory and threads of `[storage]` from now on."""
        ...

    def append(self, rows: Sequence[EventRow] | pa.Table, first_seq: int) -> None:
        """Append rows numbered from `first_seq`, durably: on return they survive a crash.
        `rows` may come as a table of `store.columns.ROW_SCHEMA` (from the collector's
        worker processes)."""
        ...

    def max_seq(self) -> int:
        """The highest sequence number in the log, 0 when empty."""
        ...

    # The collector's dedup window keeps 64-bit fingerprints of message keys
    # (`records.message_key`), not the keys: the engine computes them, the same way in bulk
    # and for new keys, and confirms a fingerprint's hit against the log.

    def recent_messages(self, since: datetime, after_seq: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(fingerprints as uint64, received_at in epoch microseconds as int64) of every event
        received since `since` and numbered after `after_seq`, in one bulk read."""
        ...

    def message_fingerprint_at(self, seq: int) -> int | None:
        """The fingerprint of the event numbered `seq`, None if there is none."""
        ...

    def message_fingerprints(self, keys: Sequence[str]) -> np.ndarray:
        """The uint64 fingerprint of each message key, as `recent_messages` computes them."""
        ...

    def stored_messages(self, keys: Sequence[str], since: datetime, until: datetime) -> set[str]:
        """The message keys among `keys` of events received in [`since`, `until`)."""
        ...

    def log_slice(self, after_seq: int, limit: int) -> pa.Table:
        """Up to `limit` events numbered after `after_seq`, in seq order, as Arrow: `seq` and
        the log's `COLUMNS` (JSON columns as text, times as UTC timestamps), with no vault
        value (publish/: what the published Parquet log holds)."""
        ...

    def count_events(self, flt: EventFilter) -> int: ...

    def find_events(
        self, flt: EventFilter, limit: int = 100, newest_first: bool = True
    ) -> list[dict[str, Any]]:
        """Events matching `flt`, JSON columns decoded, times as aware datetimes."""
        ...

    def add_source(self, name: str) -> None: ...

    def add_write_key(self, key: SourceKey) -> None: ...

    def write_keys(self) -> list[SourceKey]:
        """Every active (not revoked) write key."""
        ...

    def all_write_keys(self) -> list[SourceKey]:
        """Every write key, revoked ones too (with `revoked_at`), oldest first."""
        ...

    def revoke_write_key(self, key_hash: str, when: datetime) -> bool:
        """Mark the active write key `key_hash` revoked at `when`; False if there is none."""
        ...

    def add_api_token(self, token: ApiToken) -> None: ...

    def api_tokens(self) -> list[ApiToken]:
        """Every active (not revoked) API token."""
        ...

    def snapshot(self, target: Path) -> None:
        """A consistent copy of the whole database in the new file `target`, which another
        process can open while this one keeps writing."""
        ...

    def privacy_store(self) -> PrivacyStore: ...

    def identity_store(self) -> IdentityStore: ...

    def profile_store(self) -> ProfileQueries: ...

    def match_store(self) -> MatchReviews: ...

    def segment_store(self) -> SegmentStore:
        """Saved segments, their members and membership history."""

    def offer_store(self) -> OfferStore:
        """The offer catalogue and the impressions the server served (issue 15)."""
        ...

    def product_store(self) -> ProductStore:
        """The product catalogue (activate/catalog.py)."""
        ...

    def story_store(self) -> StoryStore:
        """Year-in-review share links (activate/stories/)."""
        ...

    def voc_store(self) -> VocStore:
        """The voice of the customer's analysis: texts, topics, reasons (voc/service.py)."""
        ...

    def loyalty_store(self) -> LoyaltyStore:
        """The loyalty programme: its points ledger, campaigns and challenges."""
        ...

    def voc_originals_store(self) -> VocOriginalsStore:
        """The audit of the originals of redacted texts, and an event's sealed originals."""
        ...

    def computed_traits(self) -> ComputedTraits:
        """The traits model runs compute per person (`ws.predict()`)."""
        ...

    def destination_store(self) -> DestinationStore:
        """Destinations and their outbox (activate/destinations/)."""
        ...

    def derived_state(self, table: str) -> tuple[str, int] | None:
        """What derived table `table` was last computed from: (basis, the log's last seq)."""
        ...

    def write_derived(
        self,
        table: str,
        rows: pa.Table,
        *,
        basis: str,
        upto: int,
        replacing: pa.Array | None = None,
    ) -> None:
        """Write a table derived for analytics (`consent_state`, `profile_facts`,
        `event_owners`) and what it
        was computed from, atomically: `rows` replace every row, or only the rows of the
        profiles in `replacing`; rows of profiles gone from the identity graph go too."""
        ...

    def analytics(self) -> AnalyticsBackend:
        """A backend for one report or session of reports; the caller closes it."""
        ...

    def export_parquet(
        self, directory: Path, tables: Sequence[str] | None = None, *, empty: bool = False
    ) -> dict[str, Path]:
        """The tables analytics read (`ANALYTICS_TABLES`, or `tables`) as
        `directory/<table>.parquet`, JSON columns as JSON text, for another engine
        (store/spark/); only their columns when `empty`; table → file."""
        ...

    def close(self) -> None: ...


def open_engine(directory: Path, snapshot: Path | None = None) -> Engine:
    """The engine of the workspace in `directory`: its embedded DuckDB file, or `snapshot`, a
    copy of that file to read instead."""
    from empreinte.store.duckdb.engine import DuckDBEngine

    return DuckDBEngine(snapshot or directory / DATABASE_FILE)
