"""The storage interface every engine implements.

Only `store/` talks to a database. The collector, the CLI and the API speak to an `Engine`;
analytics will reach the same tables through Ibis, so that they run on DuckDB or on a
distributed engine unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from empreinte.store.records import ApiToken, EventFilter, EventRow, SourceKey


class Engine(Protocol):
    """A workspace's storage: the append-only event log plus its small catalogue tables."""

    def append(self, rows: Sequence[EventRow], first_seq: int) -> None:
        """Append rows numbered from `first_seq`, durably: on return they survive a crash."""
        ...

    def max_seq(self) -> int:
        """The highest sequence number in the log, 0 when empty."""
        ...

    def message_ids_since(self, since: datetime) -> Iterator[tuple[str, str, datetime]]:
        """(source, message_id, received_at) of every event received since `since`."""
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

    def add_api_token(self, token: ApiToken) -> None: ...

    def api_tokens(self) -> list[ApiToken]:
        """Every active (not revoked) API token."""
        ...

    def snapshot(self, target: Path) -> None:
        """A consistent copy of the whole database in the new file `target`, which another
        process can open while this one keeps writing."""
        ...

    def close(self) -> None: ...
