"""The event log as Ibis expressions, for analytics that run in the engine.

Analytics are written once against Ibis tables, so the same expression runs on the embedded
DuckDB file and on Spark; only small aggregates come back to Python. `AnalyticsLog` gives the
log with each event's owner (`empreinte.store.ownership`, the rule profiles use for
timelines) and the engine's JSON and time functions.

The workspace opens one per report (`with workspace.analytics() as log:`) after bringing the
identity graph up to date; it holds a backend of its own (on DuckDB a cursor), so reports run
beside the collector's writes. Any backend and settings will do: `AnalyticsLog(backend,
settings)`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from empreinte.analytics.settings import AnalyticsSettings
from empreinte.errors import AnalyticsError
from empreinte.store.analytics import AnalyticsBackend
from empreinte.store.ownership import owners_of


class AnalyticsLog:
    """Ibis tables over one workspace's log, with the settings reports read."""

    def __init__(
        self,
        backend: AnalyticsBackend,
        settings: AnalyticsSettings,
        prepare: Callable[[AnalyticsLog, str], None] | None = None,
    ):
        """`prepare(log, table)`, when given, brings a derived table (`consent_state`,
        `profile_facts`) up to date before its first read; without it the backend's tables
        are read as they are (an export is a snapshot)."""
        self.backend = backend
        self.settings = settings
        self._prepare = prepare
        self._prepared: set[str] = set()

    def __enter__(self) -> AnalyticsLog:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.backend.close()

    def table(self, name: str) -> ir.Table:
        return self.backend.table(name)

    def require_personal_values(self, what: str) -> None:
        """`AnalyticsError` when `what` (a birth year, a generation…) is read from raw personal
        values this log does not hold (the published log: store/spark/published.py), rather
        than reporting "unknown" for everyone."""
        if not self.backend.personal_values:
            raise AnalyticsError(
                f"{what} is derived from personal data (a birth date), which the published log"
                " does not carry (pseudonymised before publication): report it on the"
                " workspace (--source workspace)"
            )

    def derived(self, name: str) -> ir.Table:
        """A table derived from the log for analytics, brought up to date first."""
        if self._prepare is not None and name not in self._prepared:
            self._prepare(self, name)
            self._prepared.add(name)
        return self.table(name)

    def events(self, *, include_bots: bool = False) -> ir.Table:
        """The event log; bots left out unless asked."""
        events = self.table("events")
        return events if include_bots else events.filter(~events.is_bot)

    def with_owner(self, events: ir.Table) -> ir.Table:
        """`events` (which must keep `seq` and `identifiers`) with a `profile_id` column: the
        profile that owns each event now (see `empreinte.store.ownership`). An event none of
        whose identifiers is in the graph (there are none after a sync, but a report must not
        drop an answer silently) is its own person, ``event:<seq>``."""
        identities = self.table("identities")
        if self._prepare is None:
            owners = owners_of(events, identities, self.settings.ownership)
        else:
            # The engine keeps each event's owner (`event_owners`, brought up to date with
            # the identity graph): joining the log to the graph is most of a journey query,
            # and a page runs several. Events it does not list (arrived since, or owned by
            # no one) are resolved here, as they would be without it.
            listed = self.derived("event_owners")
            rest = events.filter(~events.seq.isin(listed.seq))
            owners = ibis.union(
                listed, owners_of(rest, identities, self.settings.ownership), distinct=False
            )
        joined = events.left_join(owners, "seq")
        owner = joined.profile_id.fill_null(ibis.literal("event:").concat(joined.seq.cast(str)))
        return joined.mutate(profile_id=owner).drop("seq_right")

    def carrying_keys_of(self, events: ir.Table, owners: ir.Table) -> ir.Table:
        """The rows of `events` (with `seq` and `identifiers`) that carry an identifier of a
        profile in `owners` (a table with `profile_id`): the only events those profiles can
        own, found before the ownership join so that a few profiles cost a few events."""
        # Filters with subqueries, not joins: `events` goes on into the ownership join.
        ids = self.table("identities")
        keys = ids.filter(ids.profile_id.isin(owners.profile_id)).id_key
        occurrences = events.select(_seq="seq", _key=events.identifiers.unnest())
        seqs = occurrences.filter(occurrences._key.isin(keys))._seq
        return events.filter(events.seq.isin(seqs))

    # -- the engine's functions -------------------------------------------------------------

    def json_at(self, document: ir.Value, *keys: str) -> ir.StringValue:
        """The JSON text at `keys` in a JSON column (NULL when absent)."""
        return self.backend.json_at(document, keys)

    def json_string(self, document: ir.Value, *keys: str) -> ir.StringValue:
        """The string at `keys` in a JSON column, NULL when absent or not a string."""
        return self.backend.json_string(document, keys)

    def json_items(self, document: ir.Value, *keys: str) -> ir.ArrayValue:
        """The elements of the array at `keys` in a JSON column, each as JSON text."""
        return self.backend.json_items(document, keys)

    def local_time(self, moment: ir.TimestampValue) -> ir.TimestampValue:
        """Wall-clock time in the workspace's time zone."""
        return self.backend.local_time(moment, self.settings.timezone)

    def execute(self, expr: ir.Expr, **kwargs: Any) -> Any:
        return self.backend.execute(expr, **kwargs)

    def to_pyarrow(self, expr: ir.Expr) -> pa.Table:
        return self.backend.to_pyarrow(expr)

    def materialize(self, table: ir.Table) -> ir.Table:
        """`table` computed once for the several queries of a report that read it, when the
        engine keeps results cheaply (see `AnalyticsBackend.materialize`)."""
        return self.backend.materialize(table)
