"""Consent rates over time: per purpose and period, how many of the people known by the end of
the period allowed it then (the dashboard's privacy page).

The rule is the ledger's (privacy/consent.py), read for every person at once in the engine,
as `privacy.consent.allowed_profiles` reads it now, but at the end of each period:

- an entry is a `Consent Updated` event with a known `purpose` and a JSON boolean `granted`;
  it belongs to the profile that owns its event now (`AnalyticsLog.with_owner`);
- a revocation always decides; a grant of a marketing purpose decides only from a trusted
  source, and of a double opt-in purpose only confirmed; other grants decide from any source;
- an entry takes effect when the server received it, or for a trusted source at the time it
  gives, never later than its arrival; the latest decisive entry wins (then the time it
  gives, then a revocation before a grant, then log order);
- silence is the workspace's default for the purpose (no, unless `[consent] defaults` say
  yes; never for marketing).

A person is known from the first event that carried one of their identifiers (the earlier of
the time it gives and its arrival, whatever its source; bots included, as the ledger counts
every event): the rate's denominator
grows as people arrive, and a person's consent is never counted before they are known (an
entry never takes effect before the time it gives). The last period is the latest
in which someone arrived or an entry took effect, so its rate is the rate now.

Periods are read in the workspace's time zone, as every report does. Only small aggregates
(one row per period, and per purpose and period) come back from the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis

from empreinte.analytics.attributes import check_period, period_label, period_start
from empreinte.analytics.consent_state import decisive_entries, latest_first
from empreinte.analytics.log import AnalyticsLog
from empreinte.privacy.consent import PURPOSES, ConsentPolicy, purpose_of


@dataclass(frozen=True)
class ConsentRate:
    """One purpose in one period: `allowing` of the `known` people allowed it at its end."""

    period: str
    start: datetime
    purpose: str
    known: int
    allowing: int

    @property
    def rate(self) -> float | None:
        """The share (0–1) of known people who allowed the purpose; None before anyone."""
        return self.allowing / self.known if self.known else None


def next_start(start: datetime, period: str) -> datetime:
    """The start of the period after the one starting at `start`."""
    if period == "week":
        return start + timedelta(days=7)
    if period == "year":
        return start.replace(year=start.year + 1)
    step = 3 if period == "quarter" else 1
    month = start.month - 1 + step
    return start.replace(year=start.year + month // 12, month=month % 12 + 1)


def consent_rates(
    log: AnalyticsLog,
    policy: ConsentPolicy,
    period: str = "month",
    purposes: Sequence[str] = PURPOSES,
) -> list[ConsentRate]:
    """The consent rate of each of `purposes` at the end of each `period` (week, month,
    quarter, year), oldest first, purposes in the order given; an empty list before any
    event."""
    checked = check_period(period)
    assert checked is not None
    wanted = [purpose_of(p) for p in purposes]
    events = log.events(include_bots=True)
    arrival = ibis.least(events.timestamp, events.received_at)

    # Who is known, from when: the period of each person's first event, the first that
    # carried one of their identifiers (cheaper than owning every event, and never later:
    # an entry a person owns carries one of their identifiers).
    keys = events.select(_at=arrival, _key=events.identifiers.unnest())
    keys = keys.group_by("_key").aggregate(_first=keys._at.min())
    ids = log.table("identities")
    first = (
        ids.join(keys, ids.id_key == keys._key)
        .group_by("profile_id")
        .aggregate(_first=lambda t: t._first.min())
    )
    first = first.mutate(_start=period_start(log, first._first, checked))
    arrivals = first.group_by("_start").aggregate(_people=first.count())

    # The decisive entries (the rule of `consent_state`), each with its owner and the period
    # it takes effect in.
    mine = log.with_owner(decisive_entries(log, policy, wanted))
    mine = mine.mutate(_start=period_start(log, mine._effective, checked))

    # Per person, purpose and period, the entry that decides at the period's end…
    latest = ibis.row_number().over(
        group_by=[mine.profile_id, mine._purpose, mine._start],
        order_by=latest_first(mine),
    )
    last = mine.mutate(_rank=latest)
    last = last.filter(last._rank == 0)
    # …and how it changes the count of people allowing: +1, −1 or 0 against the period
    # before (the default before a person's first entry).
    defaults = sorted(p for p in wanted if policy.default(p))
    default = last._purpose.isin(defaults) if defaults else ibis.literal(False)
    person = [last.profile_id, last._purpose]
    before = last._allows.lag().over(group_by=person, order_by=last._start)
    change = last._allows.cast("int32") - before.fill_null(default).cast("int32")
    changes = (
        last.mutate(_change=change)
        .group_by(["_purpose", "_start"])
        .aggregate(_changes=lambda t: t._change.sum())
    )

    people = {r["_start"]: int(r["_people"]) for r in log.to_pyarrow(arrivals).to_pylist()}
    moves = {
        (r["_purpose"], r["_start"]): int(r["_changes"] or 0)
        for r in log.to_pyarrow(changes).to_pylist()
    }
    starts = set(people) | {start for _, start in moves}
    if not starts:
        return []
    out: list[ConsentRate] = []
    known = 0
    allowing = dict.fromkeys(wanted, 0)
    start, end = min(starts), max(starts)
    while start <= end:
        arrived = people.get(start, 0)
        known += arrived
        label = period_label(start, checked)
        for purpose in wanted:
            # New people allow by default until their first entry (counted in `moves`).
            allowing[purpose] += (arrived if policy.default(purpose) else 0) + moves.get(
                (purpose, start), 0
            )
            out.append(ConsentRate(label, start, purpose, known, allowing[purpose]))
        start = next_start(start, checked)
    return out
