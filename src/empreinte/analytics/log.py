"""The event log as Ibis expressions, for analytics that run in the engine.

Analytics are written once against Ibis tables, so the same expression runs on the embedded
DuckDB file and on a distributed engine later; only small aggregates come back to Python.
`AnalyticsLog` gives the log with each event's owner: the profile of its most trusted
identifier, the rule `profiles` uses for timelines (see store/profile_store.py).

Open one per report (`with AnalyticsLog(workspace) as log:`): it brings the identity graph up
to date and holds a cursor of its own, so reports can run beside the collector's writes.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from empreinte.store.analytics_backend import ibis_backend

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

# Rank given to an identifier cut out of its profile: it never decides where an event belongs.
_CUT_RANK = 1_000
_UNKNOWN_RANK = 999


class AnalyticsLog:
    """Ibis tables over one workspace's log, on a cursor of their own."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        profiles = workspace.profiles
        profiles.identity.sync()
        self._ownership = profiles.ownership()
        self._cursor, self.backend = ibis_backend(workspace.engine)

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
        self._cursor.close()

    def table(self, name: str) -> ir.Table:
        return self.backend.table(name)

    def events(self, *, include_bots: bool = False) -> ir.Table:
        """The event log; bots left out unless asked."""
        events = self.table("events")
        return events if include_bots else events.filter(~events.is_bot)

    def with_owner(self, events: ir.Table) -> ir.Table:
        """`events` (which must keep `seq` and `identifiers`) with a `profile_id` column: the
        profile its most trusted identifier belongs to now, by type rank then key text as the
        resolver orders them. An event none of whose identifiers is in the graph (there are
        none after a sync, but a report must not drop an answer silently) is its own person,
        ``event:<seq>``."""
        ids = self.table("identities")
        ranks = self._ownership.ranks
        rank: ir.IntegerValue = ids.id_type.cases(*ranks.items(), else_=_UNKNOWN_RANK)
        if self._ownership.cut:
            cut = ibis.memtable({"key": sorted(self._ownership.cut)})
            rank = ibis.ifelse(ids.id_key.isin(cut.key), _CUT_RANK, rank)
        # One sortable text per candidate, so the owner is a plain arg-min aggregate.
        ranked = ids.select(
            "id_key", "profile_id", order=rank.cast("string").lpad(4, "0").concat(ids.id_key)
        )
        keys = events.select("seq", key=events.identifiers.unnest())
        owners = (
            keys.join(ranked, keys.key == ranked.id_key)
            .group_by("seq")
            .agg(profile_id=ranked.profile_id.argmin(ranked.order))
        )
        joined = events.left_join(owners, "seq")
        owner = joined.profile_id.fill_null(ibis.literal("event:").concat(joined.seq.cast(str)))
        return joined.mutate(profile_id=owner).drop("seq_right")

    def execute(self, expr: ir.Expr, **kwargs: Any) -> Any:
        return self.backend.execute(expr, **kwargs)
