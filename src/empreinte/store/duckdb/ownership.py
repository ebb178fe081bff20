"""The ownership rule of store/ownership.py as DuckDB SQL, for the stores' own statements.

The rule is written once, in Ibis (`owners_of`); the profile timelines and the consent ledger
compile it here into a `WITH` clause over their candidate events, so that they keep their own
pruning (a seq range, the keys of one person) and their parameters. Ibis is imported on first
use: the collector and the CLI's log commands open these stores without running analytics.
"""

from __future__ import annotations

import functools

from empreinte.store.ownership import Ownership, owners_of


@functools.lru_cache(maxsize=64)
def _compiled(ranks: tuple[tuple[str, int], ...], cut: tuple[str, ...]) -> str:
    import ibis

    candidates = ibis.table({"seq": "int64", "identifiers": "array<string>"}, name="cand")
    identities = ibis.table(
        {"id_key": "string", "id_type": "string", "profile_id": "string"}, name="identities"
    )
    expr = owners_of(candidates, identities, Ownership(dict(ranks), cut))
    return str(ibis.to_sql(expr, dialect="duckdb"))


def owner_sql(ownership: Ownership, candidates: str) -> str:
    """`WITH cand AS (candidates), own AS (seq, owner)`: the owner of each candidate event
    (`candidates` selects seq and identifiers; its parameters stay the statement's first)."""
    compiled = _compiled(tuple(ownership.ranks.items()), tuple(sorted(ownership.cut)))
    return (
        f"WITH cand AS ({candidates}), own AS (SELECT seq, profile_id AS owner FROM ({compiled}))"
    )
