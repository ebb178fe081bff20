"""Omnichannel behaviour: each person's class (mono-, multi-, cross- or omni-channel) and the
channel mix of the customer base.

**Whose channel.** A person's channels are the channels of *their own actions*: every
touchpoint (touchpoints.py) except the brand's messages. On the messaging channels (`email`,
`sms`, `push`, configurable) a touchpoint is the person's own only when it is an engagement
(`Email Link Clicked`, `Push Notification Tapped`, `SMS Link Clicked`, configurable): a
delivered or opened e-mail says what the brand sent, not where the person went. Touchpoints
without a channel (`unknown`) are not a channel. People with no touchpoint of their own in the
scope are not classified (the report counts them apart, `without_own_touchpoints`).

**Journey.** A person's own touchpoints, all channels together, in time order, chained while
the gap between two consecutive ones is under `journey_gap` (7 days by default): a gap of
`journey_gap` or more starts a new journey.

**Continuity.** A *thread* is a value of one of the `thread_keys` properties (`order_id`,
`cart_id`, `checkout_id`, `product_id` by default): the same order, cart or product. A journey
is *resumed on another channel* when two touchpoints of the same thread, consecutive among that
thread's touchpoints of the journey, are on different channels at most `continuity_window`
apart (7 days by default). (If any two touchpoints of a thread on different channels are within
the window, the closest such pair is consecutive, so this is exactly "some pair".)

**Classes** (DESIGN.md's words, made exact):

- mono-channel: one channel;
- multi-channel: several channels, but every journey stays on one channel;
- cross-channel: at least one journey with touchpoints on two channels or more, none resumed;
- omnichannel: at least one journey resumed on another channel (the same order, cart or
  product carried from one channel to the next): always cross-channel too.

Example (journey_gap 7 days): Ann views a product on the web on 1 March, buys in store on
3 March (a different receipt, no shared id): one journey, two channels → cross-channel. Bob
adds cart `c1` in the app on 1 March and checks out cart `c1` on the web the next day →
omnichannel. Cleo shops on the web in January and in store in June → multi-channel. Dan only
uses the app → mono-channel.

The work runs in the engine (window functions over each person's touchpoints, group-bys);
only one row per class, channel or channel combination (and group) comes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.attributes import with_attribute
from empreinte.analytics.journeys.touchpoints import (
    UNKNOWN_CHANNEL,
    JourneyScope,
    touchpoints,
)
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

ChannelClass = Literal["mono", "multi", "cross", "omni"]
CLASSES: tuple[ChannelClass, ...] = ("mono", "multi", "cross", "omni")
MESSAGING_CHANNELS = ("email", "sms", "push")
ENGAGEMENT_STEPS = ("Email Link Clicked", "Push Notification Tapped", "SMS Link Clicked")
THREAD_KEYS = ("order_id", "cart_id", "checkout_id", "product_id")
DEFAULT_JOURNEY_GAP = timedelta(days=7)
DEFAULT_CONTINUITY_WINDOW = timedelta(days=7)
COMBINATION_SEPARATOR = " + "


@dataclass(frozen=True)
class ChannelRules:
    """What counts as a person's own channel, and what a journey and continuity are."""

    journey_gap: timedelta = DEFAULT_JOURNEY_GAP
    continuity_window: timedelta = DEFAULT_CONTINUITY_WINDOW
    thread_keys: Sequence[str] = THREAD_KEYS
    messaging_channels: Sequence[str] = MESSAGING_CHANNELS
    engagement_steps: Sequence[str] = ENGAGEMENT_STEPS

    def __post_init__(self) -> None:
        for name in ("journey_gap", "continuity_window"):
            value: timedelta = getattr(self, name)
            if value <= timedelta(0):
                raise AnalyticsError(f"{name} must be positive, not {value}")
        for key in self.thread_keys:
            if not key or not all(key.split(".")):
                raise AnalyticsError(f"thread key {key!r} is not a property path")


def own_touchpoints(
    log: AnalyticsLog, scope: JourneyScope | None = None, rules: ChannelRules | None = None
) -> ir.Table:
    """The touchpoints that are the person's own actions (see the module's rule)."""
    rules = rules or ChannelRules()
    table = touchpoints(log, scope)
    messaging = list(rules.messaging_channels)
    own = table.channel != UNKNOWN_CHANNEL
    if messaging:
        engaged = table.step.isin(list(rules.engagement_steps)) if rules.engagement_steps else False
        own = own & (~table.channel.isin(messaging) | engaged)
    return table.filter(own)


def journeys(table: ir.Table, gap: timedelta = DEFAULT_JOURNEY_GAP) -> ir.Table:
    """`table` (touchpoints) with `journey`: the number (0, 1, …) of the person's journey, a new
    one after `gap` or more without a touchpoint on any channel; and `switch`: 1 when the
    touchpoint is on another channel than the one before it in the same journey."""
    if gap <= timedelta(0):
        raise AnalyticsError(f"journey gap must be positive, not {gap}")
    ordered = ibis.window(group_by=table.profile_id, order_by=[table.at, table.seq])
    previous = table.at.lag().over(ordered)
    new = previous.isnull() | (table.at.delta(previous, unit="second") >= int(gap.total_seconds()))
    starts = table.mutate(
        _new=ibis.ifelse(new, 1, 0),
        switch=ibis.ifelse(~new & (table.channel != table.channel.lag().over(ordered)), 1, 0),
    )
    running = ibis.window(
        group_by=starts.profile_id, order_by=[starts.at, starts.seq], rows=(None, 0)
    )
    return starts.mutate(journey=(starts._new.sum().over(running) - 1).cast("int64")).drop("_new")


def _threads(log: AnalyticsLog, table: ir.Table, keys: Sequence[str]) -> ir.Table:
    """One row per touchpoint and thread it carries: profile_id, journey, at, seq, channel,
    thread (`key=value`). One pass: the keys' values as an array, unnested."""
    from empreinte.analytics.json import JsonDoc

    doc = JsonDoc(log, table.properties)
    values = [ibis.literal(f"{key}=").concat(doc.text(*key.split("."))) for key in keys]
    threads = table.select(
        "profile_id", "journey", "at", "seq", "channel", thread=ibis.array(values).unnest()
    )
    return threads.filter(threads.thread.notnull())


def classes_table(
    log: AnalyticsLog, scope: JourneyScope | None = None, rules: ChannelRules | None = None
) -> ir.Table:
    """One row per person with touchpoints of their own: `profile_id`, `channels` (how many),
    `cross` (a journey on two channels or more), `omni` (a journey resumed on another channel),
    `channel_class`. An Ibis table, for segments and exports."""
    rules = rules or ChannelRules()
    own = journeys(own_touchpoints(log, scope, rules), rules.journey_gap)
    # A journey holds two channels exactly when two consecutive touchpoints of it differ.
    people = own.group_by("profile_id").agg(
        channels=own.channel.nunique(), cross=own.switch.max() == 1
    )
    if rules.thread_keys:
        threads = _threads(log, own, rules.thread_keys)
        window = ibis.window(
            group_by=[threads.profile_id, threads.journey, threads.thread],
            order_by=[threads.at, threads.seq],
        )
        resumed = threads.mutate(
            _prev_channel=threads.channel.lag().over(window),
            _prev_at=threads.at.lag().over(window),
        )
        resumed = resumed.filter(
            resumed._prev_channel.notnull()
            & (resumed._prev_channel != resumed.channel)
            & (
                resumed.at.delta(resumed._prev_at, unit="second")
                <= int(rules.continuity_window.total_seconds())
            )
        )
        omni_people = resumed.select(_omni_person="profile_id").distinct()
        joined = people.left_join(omni_people, people.profile_id == omni_people._omni_person)
        people = joined.select(
            "profile_id", "channels", "cross", omni=joined._omni_person.notnull()
        )
    else:
        people = people.mutate(omni=ibis.literal(False))
    channel_class = ibis.cases(
        (people.omni, "omni"),
        (people.cross, "cross"),
        (people.channels >= 2, "multi"),
        else_="mono",
    )
    return people.mutate(channel_class=channel_class)


def _check_rows_attribute(by: str | None) -> None:
    if by is not None and not by.strip():
        raise AnalyticsError("breakdown: give an attribute name, not an empty one")


def _grouped(log: AnalyticsLog, table: ir.Table, by: str | None) -> ir.Table:
    """`table` with `group`: the value of `by` (a profile or event attribute), or "all"."""
    _check_rows_attribute(by)
    if by is None:
        return table.mutate(group=ibis.literal("all"))
    return with_attribute(log, table, by, "group")


# -- classes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassRow:
    group: str
    channel_class: ChannelClass
    people: int
    share: float  # of the group's classified people


@dataclass(frozen=True)
class ClassReport:
    """How many people are mono-, multi-, cross- and omni-channel (per group of `by`)."""

    by: str | None
    rules: ChannelRules
    people: int
    without_own_touchpoints: int
    rows: tuple[ClassRow, ...]

    def count(self, channel_class: str, group: str = "all") -> int:
        return sum(
            r.people for r in self.rows if r.channel_class == channel_class and r.group == group
        )

    def to_rows(self) -> list[dict[str, Any]]:
        rows = []
        for r in self.rows:
            row: dict[str, Any] = {"group": r.group} if self.by else {}
            row.update(channel_class=r.channel_class, people=r.people, share=r.share)
            rows.append(row)
        return rows

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows())


def _people_in_scope(log: AnalyticsLog, scope: JourneyScope | None) -> int:
    table = touchpoints(log, scope)
    return int(log.execute(table.profile_id.nunique()))


def channel_classes(
    log: AnalyticsLog,
    scope: JourneyScope | None = None,
    rules: ChannelRules | None = None,
    *,
    by: str | None = None,
) -> ClassReport:
    """Each person's omnichannel class, counted (per value of attribute `by`: country,
    generation, traits.<path>…; an event attribute is read on no event here and is refused)."""
    rules = rules or ChannelRules()
    if by is not None:
        from empreinte.analytics.attributes import is_profile_attribute

        if not is_profile_attribute(by):
            raise AnalyticsError(
                f"a person's class is broken down by a profile attribute (country, generation,"
                f" birth_year, preferred_channel, traits.<path>), not {by!r}"
            )
    people = _grouped(log, classes_table(log, scope, rules), by)
    counts = log.execute(people.group_by(["group", "channel_class"]).agg(people=people.count()))
    totals: dict[str, int] = {}
    found: dict[tuple[str, str], int] = {}
    for group, channel_class, n in counts.itertuples(index=False):
        found[str(group), str(channel_class)] = int(n)
        totals[str(group)] = totals.get(str(group), 0) + int(n)
    rows = [
        ClassRow(group, c, found.get((group, c), 0), found.get((group, c), 0) / totals[group])
        for group in sorted(totals)
        for c in CLASSES
    ]
    classified = sum(totals.values())
    return ClassReport(
        by, rules, classified, _people_in_scope(log, scope) - classified, tuple(rows)
    )


# -- the channel mix -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelShare:
    group: str
    channel: str
    people: int
    people_share: float  # of the group's people with touchpoints of their own
    touchpoints: int
    touchpoint_share: float  # of the group's own touchpoints


@dataclass(frozen=True)
class CombinationShare:
    group: str
    combination: str  # channels in alphabetical order, "store + web"
    channels: int
    people: int
    share: float


@dataclass(frozen=True)
class MixReport:
    """The channel mix: per channel the share of people and of touchpoints, and the share of
    people per combination of channels (each person in exactly one combination)."""

    by: str | None
    people: int
    touchpoints: int
    channels: tuple[ChannelShare, ...]
    combinations: tuple[CombinationShare, ...]

    def to_rows(self) -> list[dict[str, Any]]:
        """The per-channel table."""
        rows = []
        for c in self.channels:
            row: dict[str, Any] = {"group": c.group} if self.by else {}
            row.update(
                channel=c.channel,
                people=c.people,
                people_share=c.people_share,
                touchpoints=c.touchpoints,
                touchpoint_share=c.touchpoint_share,
            )
            rows.append(row)
        return rows

    def combination_rows(self) -> list[dict[str, Any]]:
        rows = []
        for c in self.combinations:
            row: dict[str, Any] = {"group": c.group} if self.by else {}
            row.update(
                combination=c.combination, channels=c.channels, people=c.people, share=c.share
            )
            rows.append(row)
        return rows

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows())


def channel_mix(
    log: AnalyticsLog,
    scope: JourneyScope | None = None,
    rules: ChannelRules | None = None,
    *,
    by: str | None = None,
) -> MixReport:
    """The channel mix of the people with touchpoints of their own (per value of `by`, a
    profile attribute). Combinations are computed in the engine as a bit mask per person (one
    bit per channel), so only one row per combination comes back."""
    rules = rules or ChannelRules()
    if by is not None:
        from empreinte.analytics.attributes import is_profile_attribute

        if not is_profile_attribute(by):
            raise AnalyticsError(
                f"the channel mix is broken down by a profile attribute (country, generation,"
                f" birth_year, preferred_channel, traits.<path>), not {by!r}"
            )
    own = own_touchpoints(log, scope, rules)
    # Three queries read it (the channels' names, then two counts): computed once.
    per_channel = log.materialize(
        own.group_by(["profile_id", "channel"]).agg(touchpoints=own.count())
    )
    names = sorted(
        str(c) for c in log.execute(per_channel.channel.name("c").as_table().distinct()).c
    )
    if len(names) > 62:
        raise AnalyticsError(f"{len(names)} channels: a mix reads at most 62")
    grouped = _grouped(log, per_channel, by)
    by_channel = log.execute(
        grouped.group_by(["group", "channel"]).agg(
            people=grouped.count(), touchpoints=grouped.touchpoints.sum()
        )
    )
    bit = ibis.cases(
        *((grouped.channel == name, ibis.literal(1 << i, "int64")) for i, name in enumerate(names)),
        else_=ibis.literal(0, "int64"),
    )
    masks = (
        grouped.mutate(_bit=bit).group_by(["group", "profile_id"]).agg(mask=lambda t: t._bit.sum())
    )
    by_mask = log.execute(masks.group_by(["group", "mask"]).agg(people=masks.count()))
    people: dict[str, int] = {}
    for group, _, n in by_mask.itertuples(index=False):
        people[str(group)] = people.get(str(group), 0) + int(n)
    touch: dict[str, int] = {}
    for group, _, _, n in by_channel[["group", "channel", "people", "touchpoints"]].itertuples(
        index=False
    ):
        touch[str(group)] = touch.get(str(group), 0) + int(n)
    channels = tuple(
        ChannelShare(
            str(g), str(c), int(p), int(p) / people[str(g)], int(t), int(t) / touch[str(g)]
        )
        for g, c, p, t in sorted(
            by_channel[["group", "channel", "people", "touchpoints"]].itertuples(index=False),
            key=lambda r: (str(r[0]), -int(r[2]), str(r[1])),
        )
    )
    combos = []
    for g, mask, n in by_mask[["group", "mask", "people"]].itertuples(index=False):
        members = [name for i, name in enumerate(names) if int(mask) >> i & 1]
        combos.append(
            CombinationShare(
                str(g),
                COMBINATION_SEPARATOR.join(members),
                len(members),
                int(n),
                int(n) / people[str(g)],
            )
        )
    combos.sort(key=lambda c: (c.group, -c.people, c.combination))
    return MixReport(by, sum(people.values()), sum(touch.values()), channels, tuple(combos))
