"""The current value of a few traits for each person, computed in the engine.

A report by country, generation or CRM trait needs, per respondent, the winning value of one
or two traits, not their whole merged profile. The winner is chosen by the rule of
profiles/traits.py, as an Ibis window over the log: the most trusted source first (`[profiles]
source_priority`, by source then channel), then the latest (event time, arrival order, and
`traits` over `context.traits` within one event). Only one row per person and trait comes back
to Python, with its raw value read from the vault (a birth date is personal data; what leaves
the report is the year or generation derived from it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import orjson

from empreinte.analytics.json import json_kind
from empreinte.errors import AnalyticsError
from empreinte.profiles.traits import MergedTraits, Observation, TraitPolicy

if TYPE_CHECKING:
    from empreinte.analytics.log import AnalyticsLog


# Where an event states traits: (order, column, path prefix in the column, vault prefix).
# Order 1 wins over order 0 within one event, as `traits` wins over `context.traits`.
_HOLDERS = ((0, "context", ("traits",), "context.traits"), (1, "traits", (), "traits"))


def _rank(events: ir.Table, policy: TraitPolicy) -> ir.IntegerValue:
    """The trust of each event's source, as `TraitPolicy.rank` gives it (0 is the most
    trusted; the source's place in the list, else its channel's, else after the list)."""
    last = ibis.literal(len(policy.source_priority))
    if not policy.source_priority:
        return last
    places = [(name, place) for place, name in enumerate(policy.source_priority)]
    by_source: ir.IntegerValue = events.source.cases(*places, else_=None)
    by_channel: ir.IntegerValue = events.channel.cases(*places, else_=None)
    return by_source.fill_null(by_channel).fill_null(last)


# What each statement keeps of its event: enough to rebuild the `Observation`.
_KEPT = ("seq", "identifiers", "timestamp", "source", "channel", "message_id")


def _statements(log: AnalyticsLog, paths: Sequence[str], owners: ir.Table | None) -> ir.Table:
    """One row per event and trait path it states a value for: `_KEPT`, `rank`, `order`,
    `path`, `shown` (as stored) and `value` (raw, from the vault when personal), as JSON."""
    events = log.events()
    if owners is not None:  # before reading JSON: a few people cost a few events
        events = log.carrying_keys_of(events, owners)
    events = events.filter(
        log.json_at(events.context, "traits").notnull()
        | ((events.type == "identify") & events.traits.notnull())
    )
    vault = log.table("pii_vault")
    vault = vault.select(vault_seq="seq", vault_values=vault["values"])
    events = events.left_join(vault, events.seq == vault.vault_seq).drop("vault_seq")
    # One scan: every (holder, path) the event may state as a column, then one row each.
    statements: dict[str, tuple[int, str]] = {}
    columns: dict[str, ir.Value] = {}
    for order, column, prefix, vault_prefix in _HOLDERS:
        stated_here = events.type == "identify" if column == "traits" else ibis.literal(True)
        for path in paths:
            name = f"s{len(statements)}"
            statements[name] = (order, path)
            value = log.json_at(events[column], *prefix, *path.split("."))
            raw = log.json_at(events.vault_values, f"{vault_prefix}.{path}")
            columns[name] = ibis.ifelse(
                stated_here, ibis.struct({"shown": value, "raw": raw}), None
            )
    rank = _rank(events, log.settings.traits)
    wide = events.select(*_KEPT, rank=rank, **columns)
    long = wide.pivot_longer(list(statements), names_to="statement", values_to="stated")
    value, raw = long.stated["shown"], long.stated["raw"]
    # A value is a leaf, as the raw event has it: an object is not a value (its fields are).
    long = long.filter(value.notnull(), ~json_kind(raw.fill_null(value)).isin(["object", "null"]))
    return long.select(
        *_KEPT,
        "rank",
        order=long.statement.cases(*((k, order) for k, (order, _) in statements.items())),
        path=long.statement.cases(*((k, path) for k, (_, path) in statements.items())),
        shown=value,
        value=raw.fill_null(value),
    )


def current_traits(
    log: AnalyticsLog, paths: Sequence[str], owners: ir.Table | None = None
) -> dict[str, MergedTraits]:
    """Profile id → its winning value of each of `paths` (dotted trait paths) it has; only
    the profiles in `owners` (a table with `profile_id`) when given."""
    paths = list(dict.fromkeys(paths))
    if any('"' in path or not all(path.split(".")) for path in paths):
        raise AnalyticsError(f"not a trait path: {paths!r}")
    found = log.with_owner(_statements(log, paths, owners)).drop("identifiers")
    if owners is not None:
        found = found.semi_join(owners.select("profile_id").distinct(), "profile_id")
    latest = ibis.row_number().over(
        group_by=["profile_id", "path"],
        order_by=[found["rank"], ibis.desc("timestamp"), ibis.desc("seq"), ibis.desc("order")],
    )
    winners = found.mutate(_place=latest).filter(lambda t: t._place == 0).drop("_place")
    merged: dict[str, MergedTraits] = {}
    for row in log.backend.to_pyarrow(winners).to_pylist():
        traits = merged.setdefault(row["profile_id"], MergedTraits())
        traits.current[row["path"]] = Observation(
            path=row["path"],
            value=orjson.loads(row["value"]),
            shown=orjson.loads(row["shown"]),
            timestamp=row["timestamp"],
            seq=row["seq"],
            order=row["order"],
            source=row["source"],
            channel=row["channel"],
            message_id=row["message_id"],
            rank=row["rank"],
        )
    return merged
