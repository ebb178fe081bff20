"""Which profile owns an event, defined once as an Ibis expression.

An event belongs to the profile of its most trusted identifier now: by identifier type rank
(0 is the most trusted, `[identity] priority`), then key text, as the resolver orders them. An
identifier an admin cut (shared by several people) ranks last: it decides where an event goes
only when the event has no other known identifier (the resolver attaches cut keys after the
rest of their event, see identity/graph.py). Analytics, the
profile timelines and the consent ledger all use `owners_of` (the DuckDB store compiles it to
SQL through Ibis for its own statements).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Ibis is for analytics: the collector never loads it
    import ibis.expr.types as ir

# Rank of a cut identifier, and of a type the ranks do not list.
CUT_RANK = 1_000
UNKNOWN_RANK = 999


@dataclass(frozen=True)
class Ownership:
    """What decides which profile an event belongs to: the rank of each identifier type (0 is
    the most trusted) and the identifiers cut out of their profiles."""

    ranks: dict[str, int]
    cut: Collection[str] = ()


def owners_of(events: ir.Table, identities: ir.Table, ownership: Ownership) -> ir.Table:
    """(seq, profile_id) for each event of `events` (with `seq` and `identifiers`) one of
    whose identifiers is in `identities` (id_key, id_type, profile_id)."""
    import ibis

    ids = identities
    rank: ir.IntegerValue = ids.id_type.cases(*ownership.ranks.items(), else_=UNKNOWN_RANK)
    if ownership.cut:
        rank = ibis.ifelse(ids.id_key.isin(sorted(ownership.cut)), CUT_RANK, rank)
    # One sortable text per candidate, so the owner is a plain arg-min aggregate.
    ranked = ids.select(
        "id_key", "profile_id", order=rank.cast("string").lpad(4, "0").concat(ids.id_key)
    )
    keys = events.select("seq", key=events.identifiers.unnest())
    return (
        keys.join(ranked, keys.key == ranked.id_key)
        .group_by("seq")
        .agg(profile_id=ranked.profile_id.argmin(ranked.order))
    )
