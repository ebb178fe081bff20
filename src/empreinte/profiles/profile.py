"""The unified profile and the customer 360 timeline: one person across every identity.

`Profiles` (a workspace's `profiles`) reads a profile of the identity graph as a whole:

- which events belong to it: those whose *most trusted* identifier (by the identity rules'
  priority, then key text, as the resolver orders them) belongs to it now. An event that
  carries a shared identifier (the family tablet's anonymous id) and a person's userId
  belongs to that person, not to whoever else used the tablet;
- its traits merged across identities (`traits.py`) and its computed traits (`computed.py`);
- its timeline: every event, every channel, in time order, paged by cursors;
- lookups by e-mail, phone, userId, anonymousId or loyalty card.

A merged-away profile id is followed to the profile it merged into (`redirected_from`). Every
read first brings the identity graph up to date with the log (`IdentityService.sync`), so what
was acknowledged before the read is in it.

Personal values: a `Profile` holds both the raw values (read from the vault) and the stored
pseudonyms; `pii` says which ones its views show. Computed traits use raw values server-side
(a birth year from a birthday) and never expose more than the computed value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from empreinte.errors import ProfileNotFound
from empreinte.identity.graph import Overrides
from empreinte.identity.model import IdentityRecord
from empreinte.privacy.pii import rehydrate, without_vault
from empreinte.profiles.computed import Computed, compute
from empreinte.profiles.lookup import LOOKUPS, InvalidInput, KeyMaker
from empreinte.profiles.traits import MergedTraits, TraitPolicy, merge_records
from empreinte.store.computed_traits import ComputedTrait
from empreinte.store.ownership import Ownership
from empreinte.store.profile_store import Position

if TYPE_CHECKING:
    from empreinte.identity.service import IdentityService
    from empreinte.workspace import Workspace

MAX_PAGE = 1_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def cursor_of(record: Mapping[str, Any]) -> str:
    """The page cursor of an event: its time in µs since the epoch and its seq."""
    return f"{_micros(record['timestamp'])}:{record['seq']}"


def parse_cursor(text: str, field: str, *, upper: bool) -> Position:
    """A cursor (`MICROS:SEQ`, from a page) or an ISO-8601 date-time. A date-time excludes
    the events at that very time on the `upper` side (`after=T`: strictly later)."""
    micros, sep, seq = text.partition(":")
    if sep and micros.lstrip("-").isdigit() and seq.isdigit():
        return Position(int(micros), int(seq))
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            field, f"{text!r} is neither a page cursor nor an ISO-8601 date-time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Position(_micros(moment), 2**62 if upper else -1)


@dataclass(frozen=True)
class Profile:
    """One person as the workspace knows them now."""

    profile_id: str
    requested: str  # the id asked for: a merged-away id redirects to `profile_id`
    identifiers: tuple[IdentityRecord, ...]
    traits: MergedTraits
    computed: Computed
    pii: bool  # whether views show raw personal values
    generation: str | None = None  # by the birth year and `[generations]`
    predicted: tuple[ComputedTrait, ...] = ()  # what model runs computed (`ws.predict()`)

    @property
    def redirected_from(self) -> str | None:
        return self.requested if self.requested != self.profile_id else None


@dataclass(frozen=True)
class TimelinePage:
    """A page of a profile's timeline, oldest first, with the cursors of its neighbours."""

    profile_id: str
    requested: str
    events: list[dict[str, Any]]  # stored records (raw values when `pii`), no vault
    next: str | None  # pass as `after` for the following page; None at the end
    previous: str | None  # pass as `before` for the page before; None at the start
    pii: bool

    @property
    def redirected_from(self) -> str | None:
        return self.requested if self.requested != self.profile_id else None


class Profiles:
    """Profiles of a workspace, derived from the event log and its identity graph."""

    def __init__(self, workspace: Workspace):
        self._ws = workspace
        self.store = workspace.engine.profile_store()
        self.policy = TraitPolicy.from_mapping(workspace.config.profiles)
        self.keys = KeyMaker(workspace.policy)
        # Dates written 03/04/1985 are read day first, except in the US.
        self._day_first = workspace.config.default_region != "US"

    @property
    def identity(self) -> IdentityService:
        return self._ws.identity

    def ownership(self) -> Ownership:
        """How events are assigned to profiles under the current rules and overrides."""
        identity = self.identity
        ranks = {kind: rank for rank, kind in enumerate(identity.rules.priority)}
        return Ownership(ranks, Overrides.fold(identity.overrides()).cut)

    # -- finding profiles -----------------------------------------------------------------

    def current(self, profile_id: str) -> str:
        """The id `profile_id` has now (itself, or the profile it merged into), after
        bringing the graph up to date; `ProfileNotFound` when no profile ever had it."""
        identity = self.identity
        identity.sync()
        found = identity.resolve(profile_id) if isinstance(profile_id, str) else None
        if found is None:
            raise ProfileNotFound(f"no profile {profile_id!r}")
        return found

    def key(self, by: str, value: str) -> str:
        """The identifier key of a lookup: `by` is one of email, phone, userId, anonymousId,
        loyaltyCard (raw values; e-mails and phones are normalised and pseudonymised)."""
        kind = LOOKUPS.get(by)
        if kind is None:
            raise InvalidInput(by, f"cannot look up by {by!r}; use one of {', '.join(LOOKUPS)}")
        return self.keys.key(kind, value, by)

    def find(self, by: str, value: str) -> str | None:
        """The id of the profile holding the identifier, or None."""
        key = self.key(by, value)
        identity = self.identity
        identity.sync()
        return identity.profile_of(key)

    def find_key(self, key: str) -> str | None:
        """The id of the profile holding an identifier key (`TYPE:VALUE`), or None."""
        parsed = self.keys.parse(key)
        identity = self.identity
        identity.sync()
        return identity.profile_of(parsed)

    # -- reading one profile --------------------------------------------------------------

    def _scope(self, profile_id: str) -> tuple[list[IdentityRecord], tuple[int, int]]:
        records = self.identity.identifiers(profile_id)
        if not records:
            raise ProfileNotFound(f"no profile {profile_id!r}")
        return records, (min(r.first_seq for r in records), max(r.last_seq for r in records))

    def get(self, profile_id: str, *, pii: bool = False, today: date | None = None) -> Profile:
        """The profile `profile_id` (following merges): identifiers, traits, computed traits.
        `pii` chooses what its views show: raw values (admins) or pseudonyms."""
        current = self.current(profile_id)
        records, span = self._scope(current)
        events = self.store.events_of(current, [r.id_key for r in records], span, self.ownership())
        people = [e for e in events if not e["is_bot"]]
        traits = merge_records(people, self.policy)
        computed = compute(
            [rehydrate(e) for e in people],
            traits,
            records,
            today=today or datetime.now(UTC).date(),
            bot_events=len(events) - len(people),
            day_first=self._day_first,
        )
        # The generation by the workspace's boundaries (analytics/generations.py, reached
        # through the workspace: profiles sit below analytics).
        generation = self._ws.analytics_settings().generations.of(computed.birth_year)
        predicted = self._ws.engine.computed_traits().of_profiles([current])
        return Profile(
            current,
            profile_id,
            tuple(records),
            traits,
            computed,
            pii,
            generation,
            tuple(predicted),
        )

    def events(self, profile_id: str, *, include_bots: bool = False) -> list[dict[str, Any]]:
        """Every event of the profile, in time order, as stored (vault values under "pii")."""
        current = self.current(profile_id)
        records, span = self._scope(current)
        return self.store.events_of(
            current,
            [r.id_key for r in records],
            span,
            self.ownership(),
            include_bots=include_bots,
        )

    def timeline(
        self,
        profile_id: str,
        *,
        limit: int = 100,
        after: str | None = None,
        before: str | None = None,
        include_bots: bool = False,
        pii: bool = False,
    ) -> TimelinePage:
        """The customer 360: a page of every event of every identity of the profile, across
        channels, oldest first. Without cursors, the first `limit` events; `after` (a cursor
        or a date-time) pages forward, `before` pages back."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE}")
        if after is not None and before is not None:
            raise InvalidInput("before", "give `after` or `before`, not both")
        start = parse_cursor(after, "after", upper=True) if after else None
        end = parse_cursor(before, "before", upper=False) if before else None
        current = self.current(profile_id)
        records, span = self._scope(current)
        keys = [r.id_key for r in records]
        ownership = self.ownership()

        def page(
            after: Position | None = None, before: Position | None = None, n: int = limit + 1
        ) -> list[dict[str, Any]]:
            return self.store.events_of(
                current,
                keys,
                span,
                ownership,
                include_bots=include_bots,
                after=after,
                before=before,
                limit=n,
            )

        if end is not None:
            found = page(before=end)
            earlier = len(found) > limit
            found = found[-limit:]
            later = bool(found) and bool(page(after=_position(found[-1]), n=1))
        else:
            found = page(after=start)
            later = len(found) > limit
            found = found[:limit]
            earlier = (
                bool(found) and start is not None and bool(page(before=_position(found[0]), n=1))
            )
        shown = [without_vault(rehydrate(r) if pii else r) for r in found]
        return TimelinePage(
            profile_id=current,
            requested=profile_id,
            events=shown,
            next=cursor_of(found[-1]) if later else None,
            previous=cursor_of(found[0]) if earlier else None,
            pii=pii,
        )


def _position(record: Mapping[str, Any]) -> Position:
    return Position(_micros(record["timestamp"]), int(record["seq"]))
