"""What a report can be broken down by ("by channel", "by generation"), and the time periods it
can be read over ("by quarter").

An attribute is either the event's (`channel`, `source`, `touchpoint`, `survey_id`, or any
`properties.<path>` / `context.<path>`) or the person's, from their profile (`country`,
`generation`, `birth_year`, or any non-personal `traits.<path>`), or their membership of a
saved segment (`segment:<name>`: "member" or "non-member", the members of its last refresh,
table `segment_members`). Personal traits (e-mail, name, phone…) are pseudonymised in the log
and useless as groups; they are refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, get_args

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from empreinte.analytics.current_traits import current_traits
from empreinte.analytics.json import JsonDoc
from empreinte.errors import AnalyticsError
from empreinte.privacy.pii import is_personal_trait
from empreinte.profiles.computed import (
    BIRTH_TRAITS,
    COUNTRY_TRAITS,
    UNKNOWN_CHANNEL,
    birth_of,
    country_of,
)
from empreinte.profiles.traits import MergedTraits

if TYPE_CHECKING:
    from empreinte.analytics.log import AnalyticsLog

Period = Literal["week", "month", "quarter", "year"]
PERIODS: tuple[str, ...] = get_args(Period)
_UNIT = {"week": "W", "month": "M", "quarter": "Q", "year": "Y"}
NONE = "(none)"
RELATIONAL = "(relational)"  # the touchpoint of a survey about the brand, not one touchpoint

EVENT_COLUMNS = ("channel", "source")
PROPERTY_SHORTCUTS = {"touchpoint": "properties.touchpoint", "survey_id": "properties.survey_id"}
PROFILE_ATTRIBUTES = ("country", "generation", "birth_year", "preferred_channel")
_FROM_BIRTH_DATE = ("generation", "birth_year")  # read from the vault (a birth date)
SEGMENT_PREFIX = "segment:"
MEMBER, NON_MEMBER = "member", "non-member"
_JSON_ROOTS = ("properties.", "context.")
# The traits each profile attribute is read from (`traits.<path>`: that path).
_TRAITS_READ: dict[str, tuple[str, ...]] = {
    "country": COUNTRY_TRAITS,
    "generation": BIRTH_TRAITS,
    "birth_year": BIRTH_TRAITS,
    "preferred_channel": (),
}


def check_period(period: str | None) -> Period | None:
    if period is None or period in PERIODS:
        return period  # type: ignore[return-value]
    raise AnalyticsError(f"unknown period {period!r}: use one of {', '.join(PERIODS)}")


def period_start(
    log: AnalyticsLog, timestamp: ir.TimestampValue, period: Period
) -> ir.TimestampValue:
    """The start of the period that contains `timestamp`, as wall-clock time in the
    workspace's time zone: a quarter begins on the 1st at midnight where the team reads it,
    not in UTC. Weeks start on Monday."""
    return log.local_time(timestamp).truncate(_UNIT[period])


def period_label(start: datetime, period: Period) -> str:
    """2026-W47, 2026-11, 2026-Q4 or 2026: how CX teams write periods."""
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def describe() -> str:
    return (
        f"{', '.join(EVENT_COLUMNS + tuple(PROPERTY_SHORTCUTS) + PROFILE_ATTRIBUTES)},"
        " properties.<path>, context.<path>, traits.<path> or segment:<name>"
    )


def is_profile_attribute(name: str) -> bool:
    return name in PROFILE_ATTRIBUTES or name.startswith(("traits.", SEGMENT_PREFIX))


def segment_membership(log: AnalyticsLog, table: ir.Table, name: str, column: str) -> ir.Table:
    """`table` (with `profile_id`) with `column`: "member" when the person is in saved segment
    `name` (its last refresh), else "non-member". A segment with no member at all is refused:
    a typo would otherwise put everyone in "non-member"."""
    segment = name.removeprefix(SEGMENT_PREFIX).strip()
    if not segment:
        raise AnalyticsError("segment:<name>: give a saved segment's name")
    rows = log.table("segment_members")
    rows = rows.filter(rows.segment == ibis.literal(segment, "string"))
    if int(log.execute(rows.count())) == 0:
        raise AnalyticsError(
            f"segment {segment!r} has no members (unknown, or never refreshed): "
            "`empreinte segment list` shows the saved segments"
        )
    members = rows.select(_member="profile_id").distinct()
    joined = table.left_join(members, table.profile_id == members._member)
    flag = ibis.ifelse(joined._member.notnull(), MEMBER, NON_MEMBER)
    return joined.mutate(**{column: flag}).drop("_member")


def event_attribute(log: AnalyticsLog, events: ir.Table, name: str) -> ir.StringValue:
    """The value of event attribute `name` for each row of `events` (text; missing → NONE)."""
    missing = RELATIONAL if name == "touchpoint" else NONE
    name = PROPERTY_SHORTCUTS.get(name, name)
    if name in EVENT_COLUMNS:
        value: ir.StringValue = events[name]
    elif name.startswith(_JSON_ROOTS) and name.count(".") >= 1 and all(name.split(".")):
        root, *path = name.split(".")
        value = JsonDoc(log, events[root]).text(*path)
    else:
        raise AnalyticsError(f"unknown attribute {name!r}: use {describe()}")
    return value.fill_null(missing)


#: Property or trait names that hold a person's own words, never a category.
FREE_TEXT = frozenset(
    {"comment", "comments", "text", "message", "feedback", "verbatim", "note", "notes", "review"}
)


def check_breakdown(name: str) -> None:
    """`AnalyticsError` when attribute `name` is free text (its last path segment, any case):
    grouping by it would list individual answers, one per group."""
    if name.rsplit(".", 1)[-1].lower() in FREE_TEXT:
        raise AnalyticsError(
            f"{name} is free text, written by each person: it cannot be a breakdown"
        )


def with_attribute(log: AnalyticsLog, table: ir.Table, name: str, column: str) -> ir.Table:
    """`table` (events with `profile_id`) with the value of attribute `name` as `column`;
    free text refused (`check_breakdown`)."""
    if name.startswith(SEGMENT_PREFIX):  # its name is the user's, whatever its words
        return segment_membership(log, table, name, column)
    check_breakdown(name)
    if not is_profile_attribute(name):
        return table.mutate(**{column: event_attribute(log, table, name)})
    if name in PROFILE_ATTRIBUTES:
        facts = log.derived("profile_facts")
        value = facts_attribute(log, facts, name)
        people = facts.select(_person="profile_id", **{name: value})
    else:
        # Any other trait: computed for the people in `table` only.
        check_attributes([name])
        people = ibis.memtable(profile_attributes(log, [name], owners=table)).rename(
            _person="profile_id"
        )
    joined = table.left_join(people, table.profile_id == people._person)
    return joined.mutate(**{column: joined[name].fill_null(NONE)}).drop("_person", name)


def facts_attribute(log: AnalyticsLog, facts: ir.Table, name: str) -> ir.StringValue:
    """Profile attribute `name` as text, from `profile_facts` (of `log`); the generation by
    the configured first birth years, in the engine. One read from a birth date is refused
    where the log has none (`require_personal_values`)."""
    if name in _FROM_BIRTH_DATE:
        log.require_personal_values(f"a report by {name}")
    generations = log.settings.generations
    if name == "generation":
        year = facts.birth_year
        branches = [(year >= start, label) for start, label in reversed(generations.starts)]
        generation: ir.StringValue = ibis.cases(*branches, else_=ibis.null("string"))
        return generation
    if name == "birth_year":
        as_text: ir.StringValue = facts.birth_year.cast("string")
        return as_text
    column: ir.StringValue = facts[name]
    return column


def profile_facts(log: AnalyticsLog, owners: ir.Table | None = None) -> pa.Table:
    """The rows of `profile_facts` for every profile with traits, a locale or a channel (only
    those of `owners`, a table with `profile_id`, when given): profile_id, country,
    birth_year, preferred_channel (computed as profiles do)."""
    if log.backend.personal_values:
        rows = profile_attributes(log, ["country", "birth_year", "preferred_channel"], owners)
    else:  # no birth date here: the year stays unknown
        rows = profile_attributes(log, ["country", "preferred_channel"], owners)
        rows = rows.add_column(2, "birth_year", pa.nulls(rows.num_rows, pa.string()))
    years = [None if year is None else int(year) for year in rows["birth_year"].to_pylist()]
    return rows.set_column(
        rows.schema.get_field_index("birth_year"), "birth_year", pa.array(years, pa.int32())
    )


def changed_owners(log: AnalyticsLog, after: int, upto: int) -> ir.Table:
    """The profiles (`profile_id`) that own an event with `after < seq <= upto`."""
    events = log.events(include_bots=True)
    recent = events.filter((events.seq > after) & (events.seq <= upto))
    owned = log.with_owner(recent.select("seq", "identifiers"))
    return owned.select("profile_id").distinct()


def check_attributes(names: Iterable[str]) -> None:
    for name in names:
        trait = name.removeprefix("traits.")
        if not is_profile_attribute(name) or not trait:
            raise AnalyticsError(f"unknown attribute {name!r}: use {describe()}")
        if name.startswith("traits.") and is_personal_trait(trait):
            raise AnalyticsError(
                f"{name} is personal data (pseudonymised in the log): it cannot be a group"
            )


def profile_attributes(
    log: AnalyticsLog, names: Iterable[str], owners: ir.Table | None = None
) -> pa.Table:
    """One row per profile with traits (or a locale): `profile_id` and each attribute as text
    (computed from the current traits, birth dates read from the vault but only the derived
    year or generation leaving this function); only the profiles of `owners` (a table with
    `profile_id`) when given."""
    names = list(dict.fromkeys(names))
    check_attributes(names)
    for name in names:
        if name in _FROM_BIRTH_DATE:
            log.require_personal_values(f"{name} (a profile attribute)")
    generations = log.settings.generations
    day_first = log.settings.default_region != "US"
    paths = [
        path for name in names for path in _TRAITS_READ.get(name, (name.removeprefix("traits."),))
    ]
    # Only the traits these attributes are read from, and only their current values.
    merged = current_traits(log, paths, owners) if paths else {}
    # The country falls back on the locale of the person's latest event, as profiles do.
    locales = _latest_locales(log, owners) if "country" in names else {}
    preferred = _preferred_channels(log, owners) if "preferred_channel" in names else {}
    columns: dict[str, list[Any]] = {"profile_id": [], **{name: [] for name in names}}
    for profile_id in sorted(merged.keys() | locales.keys() | preferred.keys()):
        traits = merged.get(profile_id, MergedTraits())
        _, year = birth_of(traits, day_first)
        columns["profile_id"].append(profile_id)
        for name in names:
            value: Any
            if name == "country":
                locale = locales.get(profile_id)
                value = country_of(traits, [{"context": {"locale": locale}}] if locale else [])
            elif name == "generation":
                value = generations.of(year)
            elif name == "birth_year":
                value = year
            elif name == "preferred_channel":
                value = preferred.get(profile_id)
            else:
                value = traits.flat(pii=False).get(name.removeprefix("traits."))
            columns[name].append(None if value is None else str(value))
    return pa.table({key: pa.array(values, pa.string()) for key, values in columns.items()})


def _candidates(log: AnalyticsLog, owners: ir.Table | None) -> ir.Table:
    """The log's events, only those `owners` may own when given (before reading JSON)."""
    events = log.events()
    return events if owners is None else log.carrying_keys_of(events, owners)


def _owned_by(log: AnalyticsLog, events: ir.Table, owners: ir.Table | None) -> ir.Table:
    owned = log.with_owner(events)
    if owners is None:
        return owned
    return owned.semi_join(owners.select("profile_id").distinct(), "profile_id")


def _latest_locales(log: AnalyticsLog, owners: ir.Table | None) -> dict[str, str]:
    """Each profile's `context.locale` of its latest event that has one (in the engine)."""
    events = _candidates(log, owners)
    events = events.select(
        "seq", "identifiers", "timestamp", locale=log.json_string(events.context, "locale")
    ).filter(lambda t: t.locale.notnull())
    owned = _owned_by(log, events, owners)
    latest = owned.group_by("profile_id").agg(locale=owned.locale.argmax(owned.timestamp))
    frame = log.execute(latest)
    return dict(zip(frame["profile_id"], frame["locale"], strict=True))


def _preferred_channels(log: AnalyticsLog, owners: ir.Table | None) -> dict[str, str]:
    """Each profile's preferred channel as profiles compute it: the channel of most of its
    events, a tie going to the one used most recently (in the engine)."""
    events = _candidates(log, owners)
    events = events.filter(events.channel.notnull() & (events.channel != UNKNOWN_CHANNEL))
    owned = _owned_by(log, events.select("seq", "identifiers", "timestamp", "channel"), owners)
    uses = owned.group_by(["profile_id", "channel"]).agg(
        n=owned.count(), last=owned.timestamp.max()
    )
    rank = ibis.row_number().over(
        group_by="profile_id", order_by=[ibis.desc(uses.n), ibis.desc(uses.last)]
    )
    best = uses.mutate(rank=rank).filter(lambda t: t.rank == 0)
    frame = log.execute(best.select("profile_id", "channel"))
    return dict(zip(frame["profile_id"], frame["channel"], strict=True))
