"""Who allows each purpose now, for every current profile, as one Ibis expression.

The engine table `consent_state` (profile_id, purpose, allowed) is what analytics filter people
with (`analytics/cx/consented.py`, segments, models). It is built here from the events and the
identity graph only, so that it runs on any engine: the workspace's DuckDB file, or Spark over
the Parquet export (and later the published log). The rule is the ledger's
(privacy/consent.py), as `privacy.consent.allowed_profiles` applies it one purpose at a time:

- an entry is a `Consent Updated` track event with a wanted `purpose` and a JSON boolean
  `granted` (a string "true" is not one); it belongs to the profile that owns its event
  (store/ownership.py); every event counts, bots' too, as in the ledger;
- a revocation always decides; a grant of a marketing purpose decides only from a trusted
  source, and of a double opt-in purpose only when `confirmation` is "confirmed";
- the latest decisive entry wins by its time (a trusted source's own, never later than its
  arrival; else its arrival), then the time it gives, then a revocation before a grant, then
  log order;
- a profile without a decisive entry gets the workspace's default for the purpose.

`consent_rates` (analytics/consent_rates.py) reads the same decisive entries, at the end of
each period instead of now.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from empreinte.analytics.log import AnalyticsLog
from empreinte.privacy.consent import CONFIRMED, DOUBLE_OPT_IN, MARKETING, ConsentPolicy, purpose_of
from empreinte.store.ownership import owners_of
from empreinte.store.privacy_store import CONSENT_EVENT


def decisive_entries(log: AnalyticsLog, policy: ConsentPolicy, purposes: Sequence[str]) -> ir.Table:
    """The decisive consent entries of `purposes` (already checked), one row per event: `seq`,
    `identifiers`, `_purpose`, `_allows` (a grant), `_effective` (when it takes its place in
    the history) and `_given` (the time it gives, never later than its arrival)."""
    events = log.events(include_bots=True)  # the ledger reads every event of a person
    entries = events.filter(
        (events.type == "track") & (events.event == CONSENT_EVENT) & events.identifiers.notnull()
    )
    entries = entries.mutate(
        _purpose=log.json_string(entries.properties, "purpose"),
        # JSON text: "true"/"false" only for a JSON boolean, on every engine.
        _granted=log.json_at(entries.properties, "granted"),
        _confirmation=log.json_string(entries.properties, "confirmation"),
    )
    entries = entries.filter(
        entries._purpose.isin(list(purposes)) & entries._granted.isin(["true", "false"])
    )
    trusted = entries.source.isin(sorted(policy.trusted))
    granted = entries._granted == "true"
    confirmed = entries._confirmation.fill_null("") == CONFIRMED
    marketing = entries._purpose.isin(sorted(MARKETING))
    double = entries._purpose.isin(sorted(DOUBLE_OPT_IN))
    decisive = ~granted | ((~marketing | trusted) & (~double | confirmed))
    given = ibis.least(entries.timestamp, entries.received_at)
    return entries.filter(decisive).select(
        "seq",
        "identifiers",
        "_purpose",
        _allows=granted,
        _effective=ibis.ifelse(trusted, given, entries.received_at),
        _given=given,
    )


def latest_first(entries: ir.Table) -> list[ir.Value]:
    """The order of `decisive_entries` rows in which the one that decides comes first."""
    return [
        ibis.desc(entries._effective),
        ibis.desc(entries._given),
        entries._allows,  # at the same instant, a revocation (false) wins
        ibis.desc(entries.seq),
    ]


def consent_state(log: AnalyticsLog, policy: ConsentPolicy, purposes: Sequence[str]) -> ir.Table:
    """(profile_id, purpose, allowed): one row per current profile (in `identities`) and each
    of `purposes` (unknown ones refused: `ConsentError`; repeated ones read once)."""
    wanted = list(dict.fromkeys(purpose_of(p) for p in purposes))
    entries = decisive_entries(log, policy, wanted)
    identities = log.table("identities")
    # The owners of the consent entries only (a few events), by the rule itself, as the
    # ledger's SQL does. `log.with_owner` would read DuckDB's `event_owners` instead: no
    # faster on the demo when that table is up to date, and it would first bring the owner
    # of every event of the log up to date (an export needs only this table).
    owners = owners_of(entries.select("seq", "identifiers"), identities, log.settings.ownership)
    mine = entries.join(owners, "seq")
    first = ibis.row_number().over(
        group_by=[mine.profile_id, mine._purpose], order_by=latest_first(mine)
    )
    deciding = mine.mutate(_rank=first)
    deciding = deciding.filter(deciding._rank == 0).select(
        "profile_id", purpose="_purpose", _decided="_allows"
    )

    people = identities.select("profile_id").distinct()
    grid = people.select("profile_id", purpose=ibis.literal(wanted, type="array<string>").unnest())
    state = grid.left_join(deciding, ["profile_id", "purpose"])
    defaults = sorted(p for p in wanted if policy.default(p))
    default = state.purpose.isin(defaults) if defaults else ibis.literal(False)
    return state.select("profile_id", "purpose", allowed=state._decided.fill_null(default))
