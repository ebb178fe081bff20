"""`Loyalty` (`workspace.loyalty`): the programme's Python face — earning runs, balances,
ledgers, redemption, campaigns of brand-funded challenges and their reports.

Who is a member: every person who allows `[loyalty] purpose` (`analytics` by default: the
programme links a person's purchases and visits across channels, which is what that purpose
covers; see docs/loyalty.md). Challenges are chosen from a person's habits, so they are also
only offered to people who allow `personalisation`. Consent is asked at every run and every
payment: a person who withdraws earns nothing from then on and is paid no reward.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from empreinte.activate.loyalty import ledger as accounts
from empreinte.activate.loyalty.campaigns import (
    Campaign,
    Challenge,
    Habits,
    Lift,
    choose,
    in_holdout,
    lift,
    parse_campaign,
)
from empreinte.activate.loyalty.earning import earn
from empreinte.activate.loyalty.settings import LoyaltySettings
from empreinte.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    ProfileNotFound,
    SegmentExpressionError,
)
from empreinte.store.loyalty_store import (
    Acceptance,
    Assignment,
    Entry,
    LedgerRow,
    LoyaltyStore,
    Outcome,
    Posted,
    Transaction,
)

if TYPE_CHECKING:
    from empreinte.analytics.log import AnalyticsLog
    from empreinte.workspace import Workspace

CURSOR = "earning"
PERSONALISATION = "personalisation"
MAX_POINTS = 1_000_000_000
_RUN_LOCKS: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_RUN_GUARD = threading.Lock()


def _run_lock(engine: Any) -> threading.Lock:
    with _RUN_GUARD:
        lock = _RUN_LOCKS.get(engine)
        if lock is None:
            lock = _RUN_LOCKS[engine] = threading.Lock()
        return lock


@dataclass(frozen=True)
class RunReport:
    """What one `run` did."""

    read_upto: int
    orders: int
    engagements: int
    points: int
    expired: int
    completed: int
    unfunded: int
    erased: int
    merged: int

    def to_json(self) -> dict[str, Any]:
        return {
            "read_upto": self.read_upto,
            "orders": self.orders,
            "engagements": self.engagements,
            "points_earned": self.points,
            "points_expired": self.expired,
            "challenges_completed": self.completed,
            "challenges_unfunded": self.unfunded,
            "members_erased": self.erased,
            "members_merged": self.merged,
        }


@dataclass(frozen=True)
class Balance:
    profile_id: str
    points: int
    value: float
    member: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "profile_id": self.profile_id,
            "points": self.points,
            "value": round(self.value, 2),
            "member": self.member,
        }


@dataclass(frozen=True)
class Redemption:
    profile_id: str
    points: int
    reference: str
    balance: int
    duplicate: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "profile_id": self.profile_id,
            "points": self.points,
            "reference": self.reference,
            "balance": self.balance,
            "duplicate": self.duplicate,
        }


@dataclass(frozen=True)
class Progress:
    campaign: str
    challenge: Challenge
    accepted_at: datetime
    bought: float
    status: str  # "in progress", "paid", "unfunded", "lapsed"

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "challenge": self.challenge.to_json(),
            "accepted_at": self.accepted_at.isoformat(),
            "bought": self.bought,
            "status": self.status,
        }


@dataclass(frozen=True)
class ChallengeRow:
    challenge: Challenge
    offered: int
    held_out: int
    accepted: int
    completed: int
    unfunded: int

    def to_json(self) -> dict[str, Any]:
        return {
            **self.challenge.to_json(),
            "offered": self.offered,
            "held_out": self.held_out,
            "accepted": self.accepted,
            "completed": self.completed,
            "unfunded": self.unfunded,
        }


@dataclass(frozen=True)
class PotRow:
    funder: str
    funded: float
    used: float

    @property
    def left(self) -> float:
        return self.funded - self.used

    def to_json(self) -> dict[str, Any]:
        return {
            "funder": self.funder,
            "funded": round(self.funded, 2),
            "used": round(self.used, 2),
            "left": round(self.left, 2),
        }


@dataclass(frozen=True)
class CampaignReport:
    """A campaign's funnel, budget and incrementality (all of it, or one brand's slice)."""

    campaign: Campaign
    brand: str | None
    eligible: int
    offered_people: int
    holdout_people: int
    challenges: list[ChallengeRow]
    pots: list[PotRow]
    lifts: dict[str, Lift] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign.name,
            "brand": self.brand,
            "starts": self.campaign.to_json()["starts"],
            "ends": self.campaign.to_json()["ends"],
            "eligible_people": self.eligible,
            "offered_people": self.offered_people,
            "holdout_people": self.holdout_people,
            "challenges": [c.to_json() for c in self.challenges],
            "budget": [p.to_json() for p in self.pots],
            "budget_used": round(sum(p.used for p in self.pots), 2),
            "budget_left": round(sum(p.left for p in self.pots), 2),
            "incremental_sales": {b: v.to_json() for b, v in self.lifts.items()},
        }


class Loyalty:
    """The loyalty programme of a workspace."""

    def __init__(self, workspace: Workspace, store: LoyaltyStore):
        from empreinte.privacy.consent import ConsentPolicy

        self._ws = workspace
        self.store = store
        self.settings = LoyaltySettings.from_mapping(workspace.config.loyalty)
        self.trusted = (
            ConsentPolicy.from_mapping(workspace.config.consent).trusted
            | self.settings.trusted_sources
        )

    # -- people ----------------------------------------------------------------------------

    def _current(self, profile_id: str) -> str:
        if not isinstance(profile_id, str) or not profile_id:
            raise InvalidInput("profile", "a profile id is required")
        try:
            return self._ws.profiles.current(profile_id)
        except ProfileNotFound:
            raise NotFound(f"no profile {profile_id!r}") from None

    def _allowed(self, profile_id: str, purpose: str) -> bool:
        from empreinte.privacy.consent import allowed

        return allowed(self._ws, profile_id, purpose)

    def members(self) -> frozenset[str]:
        """Everyone the programme may credit now (who allows `[loyalty] purpose`)."""
        from empreinte.privacy.consent import allowed_profiles

        return allowed_profiles(self._ws, self.settings.purpose)

    # -- earning -----------------------------------------------------------------------------

    def run(self, now: datetime | None = None, batch: int = 200_000) -> RunReport:
        """One pass: erased and merged members reconciled, the events since the cursor earned
        (up to what the identity graph has resolved), lapsed points expired, accepted
        challenges checked and paid. Safe to call from several threads: one at a time."""
        from empreinte.store.identity_store import CURSOR as IDENTITY_CURSOR

        now = now or datetime.now(UTC)
        with _run_lock(self._ws.engine):
            self._ws.identity.sync()  # merges and erasures first seen here
            erased, merged = self.reconcile()
            state = self._ws.engine.identity_store().read_state()
            upto = int(state.get(IDENTITY_CURSOR, "0"))
            after = self.store.cursor(CURSOR)
            orders = engaged = points = 0
            if after < upto:
                members = self.members()
                with self._ws.analytics("duckdb") as log:
                    while after < upto:
                        step = min(upto, after + batch)
                        earned = earn(
                            log,
                            self.store,
                            self.settings,
                            after=after,
                            upto=step,
                            trusted=self.trusted,
                            members=members,
                            timezone=self._ws.config.timezone,
                        )
                        self.store.post_many(earned.transactions)
                        orders += earned.orders
                        engaged += earned.engagements
                        points += sum(t.entries[0].points for t in earned.transactions)
                        self.store.set_cursor(CURSOR, step)
                        after = step
            expired = self.expire(now)
            completed = unfunded = 0
            for campaign in self.campaigns():
                done, short = self._settle(campaign, now)
                completed += done
                unfunded += short
        return RunReport(
            upto, orders, engaged, points, expired, completed, unfunded, erased, merged
        )

    def reconcile(self) -> tuple[int, int]:
        """Members erased since (no profile resolves their id): their rows anonymised, their
        offers deleted. Members merged into another profile: their points (lot by lot, so
        expiry keeps its dates) moved to the surviving account. (erased, merged)."""
        known = self.store.member_ids()
        if not known:
            return 0, 0
        current = self._ws.privacy_store.profile_ids()
        gone = sorted(known - current)
        erased: list[str] = []
        merged = 0
        for old in gone:
            try:
                new = self._ws.profiles.current(old)
            except ProfileNotFound:
                new = None
            if new is None or new == old or new not in current:
                erased.append(old)
                continue
            merged += self._transfer(old, new)
        self.store.anonymise(erased, accounts.ERASED)
        return len(erased), merged

    def _transfer(self, old: str, new: str) -> int:
        source = accounts.member(old)
        balance = self.store.balances([source])[source]
        if balance <= 0:
            return 0
        lots = accounts.remaining(self.store.credits(source), balance)
        entries: list[Entry] = [Entry(source, -balance, old)]
        entries += [Entry(accounts.member(new), n, new, lot) for lot, n in lots]
        rows = len(self.store.credits(source))
        txn = Transaction(
            source=f"merge:{old}:{new}:{rows}",
            kind="merge",
            rule="merge",
            reason="profiles merged: points follow the person",
            at=datetime.now(UTC),
            entries=tuple(entries),
        )
        return 1 if self.store.post(txn, [source]) is Posted.POSTED else 0

    def expire(self, now: datetime | None = None, profile_id: str | None = None) -> int:
        """Post the expiry of every lapsed lot (one member's, when given), one transaction per
        member, all in one database transaction. Points expired."""
        now = now or datetime.now(UTC)
        if profile_id is not None:
            account = accounts.member(profile_id)
            credits = {account: self.store.credits(account)}
        else:
            credits = self.store.all_credits(accounts.MEMBER_PREFIX)
        cutoff = now - self.settings.expiry
        due = sorted(a for a, lots in credits.items() if lots and lots[0][0] <= cutoff)
        balances = self.store.balances(due)
        txns = []
        for account in due:
            pid = account.removeprefix(accounts.MEMBER_PREFIX)
            lots = accounts.lapsed(credits[account], balances[account], now, self.settings.expiry)
            if not lots or pid == accounts.ERASED.removeprefix(accounts.MEMBER_PREFIX):
                continue
            points = sum(n for _, n in lots)
            # One member row: FIFO reads only credits, so the lots need no row each.
            entries = [Entry(account, -points, pid, lots[-1][0])]
            txns.append(
                Transaction(
                    source=f"expire:{pid}:{lots[-1][0].isoformat()}",
                    kind="expire",
                    rule=f"expiry:{self.settings.expiry.days}d",
                    reason=f"points earned up to {lots[-1][0].date().isoformat()} lapsed",
                    at=now,
                    entries=(*entries, Entry(accounts.EXPIRED, points)),
                )
            )
        if not txns:
            return 0
        before = self.store.balances([accounts.EXPIRED])[accounts.EXPIRED]
        self.store.post_many(txns, guarded=accounts.MEMBER_PREFIX)
        return self.store.balances([accounts.EXPIRED])[accounts.EXPIRED] - before

    # -- balances and redemption -------------------------------------------------------------

    def balance(self, profile_id: str, now: datetime | None = None) -> Balance:
        pid = self._current(profile_id)
        self.expire(now, pid)
        account = accounts.member(pid)
        points = self.store.balances([account])[account]
        return Balance(
            pid,
            points,
            points * self.settings.point_value,
            self._allowed(pid, self.settings.purpose),
        )

    def ledger(self, profile_id: str, limit: int = 100, offset: int = 0) -> list[LedgerRow]:
        pid = self._current(profile_id)
        return self.store.rows(accounts.member(pid), limit, offset)

    def redeem(
        self,
        profile_id: str,
        points: Any,
        reference: Any,
        reason: str = "redemption",
        now: datetime | None = None,
    ) -> Redemption:
        """Spend `points` of a member (oldest first); `reference` (the till's receipt, the
        order) makes it idempotent. `Conflict` when the balance is short: it never goes
        below zero."""
        if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= MAX_POINTS:
            raise InvalidInput("points", f"must be a whole number from 1 to {MAX_POINTS}")
        if not isinstance(reference, str) or not 0 < len(reference) <= 200:
            raise InvalidInput("reference", "must be a string of 1 to 200 characters")
        pid = self._current(profile_id)
        now = now or datetime.now(UTC)
        self.expire(now, pid)
        account = accounts.member(pid)
        txn = Transaction(
            source=f"redeem:{reference}",
            kind="redeem",
            rule="redemption",
            reason=reason[:200] or "redemption",
            at=now,
            entries=(Entry(account, -points, pid), Entry(accounts.REDEEMED, points)),
        )
        posted = self.store.post(txn, [account])
        balance = self.store.balances([account])[account]
        if posted is Posted.INSUFFICIENT:
            raise Conflict(f"points: the balance is {balance}, fewer than {points}")
        return Redemption(pid, points, reference, balance, posted is Posted.DUPLICATE)

    # -- programme figures -------------------------------------------------------------------

    def overview(self) -> dict[str, Any]:
        """Points issued, redeemed, expired and outstanding; members; flows per month."""
        with _run_lock(self._ws.engine):
            self.reconcile()  # erased people leave the figures at once
        totals = self.store.totals()
        issued = -sum(v for k, v in totals.items() if k.startswith(accounts.ISSUED + "|"))
        redeemed = sum(v for k, v in totals.items() if k.startswith(accounts.REDEEMED + "|"))
        expired = sum(v for k, v in totals.items() if k.startswith(accounts.EXPIRED + "|"))
        members = self.store.balances_like(accounts.MEMBER_PREFIX)
        rewards = sum(
            -v for k, v in totals.items() if k.startswith("pot:") and k.endswith("|reward")
        )
        return {
            "points_issued": issued,
            "points_rewarded": rewards,
            "points_redeemed": redeemed,
            "points_expired": expired,
            "points_outstanding": sum(members.values()),
            "members_with_points": sum(1 for v in members.values() if v > 0),
            "point_value": self.settings.point_value,
            "ledger_sum": self.store.sum_all(),
            "flows": [{"month": m, "kind": k, "points": p} for m, k, p in self.store.flows()],
        }

    # -- campaigns ---------------------------------------------------------------------------

    def import_campaign(self, document: Any, now: datetime | None = None) -> Campaign:
        """Save a campaign and fund its pots (a transaction per funder), all at once."""
        campaign = parse_campaign(document, self._ws.config.timezone)
        if campaign.eligibility.strip():
            try:
                self._ws.segments.check(campaign.eligibility)
            except SegmentExpressionError as exc:  # say which field of the document
                raise InvalidInput("eligibility", str(exc)) from None
        now = now or datetime.now(UTC)
        funders = {accounts.RETAILER: campaign.budget}
        funders |= {accounts.brand_funder(b): v for b, v in campaign.brands.items()}
        funding = [
            Transaction(
                source=f"fund:{campaign.name}:{funder}",
                kind="fund",
                rule="funding",
                reason=f"{funder} funds campaign {campaign.name}",
                at=now,
                entries=(
                    Entry(accounts.pot(campaign.name, funder), points),
                    Entry(accounts.sponsor(funder), -points),
                ),
            )
            for funder, money in funders.items()
            if (points := self.settings.points_of(money)) > 0
        ]
        if not self.store.save_campaign(campaign.name, campaign.to_json(), now, funding):
            raise Conflict(f"name: a campaign {campaign.name!r} exists already")
        return campaign

    def campaigns(self) -> list[Campaign]:
        tz = self._ws.config.timezone
        return [parse_campaign(doc, tz) for doc in self.store.campaigns()]

    def campaign(self, name: str) -> Campaign:
        doc = self.store.campaign(name)
        if doc is None:
            raise NotFound(f"no campaign {name!r}")
        return parse_campaign(doc, self._ws.config.timezone)

    def _habits(self, log: AnalyticsLog, people: Sequence[str]) -> dict[str, Habits]:
        from empreinte.analytics.order_lines import order_lines

        if not people:
            return {}
        import ibis
        import pyarrow as pa

        lines = order_lines(log, consented_only=False)
        wanted = ibis.memtable(pa.table({"pid": pa.array(list(people), pa.string())}))
        lines = lines.filter(lines.profile_id.isin(wanted.pid))
        grouped = lines.group_by(["profile_id", "brand", "category"]).aggregate(
            units=lines.quantity.sum()
        )
        brands: dict[str, dict[str, float]] = defaultdict(dict)
        cats: dict[str, dict[tuple[str, str], float]] = defaultdict(dict)
        for row in log.to_pyarrow(grouped).to_pylist():
            if row["brand"] is None:
                continue
            pid, brand, units = row["profile_id"], row["brand"], float(row["units"] or 0)
            brands[pid][brand] = brands[pid].get(brand, 0.0) + units
            if row["category"] is not None:
                cats[pid][(brand, row["category"])] = units
        return {p: Habits(brands.get(p, {}), cats.get(p, {})) for p in people}

    def eligible(self, campaign: Campaign, as_of: datetime | None = None) -> list[str]:
        """Who may be offered the campaign now: its segment, among people who allow the
        programme's purpose and `personalisation` (the offers are chosen from habits)."""
        from empreinte.privacy.consent import allowed_profiles

        people = (
            set(self._ws.segments.evaluate(campaign.eligibility, as_of))
            if campaign.eligibility.strip()
            else set(self._ws.privacy_store.profile_ids())
        )
        people &= self.members()
        people &= allowed_profiles(self._ws, PERSONALISATION)
        return sorted(people)

    def offer(self, name: str, now: datetime | None = None) -> dict[str, int]:
        """Choose the challenges of every eligible person not yet assigned: a seeded share is
        held out (their would-be offers are kept, never shown), the others are offered."""
        campaign = self.campaign(name)
        now = now or datetime.now(UTC)
        if now >= campaign.ends:
            raise Conflict(f"campaign {name!r} has ended")
        done = self.store.assigned_ids(name)
        people = [p for p in self.eligible(campaign, now) if p not in done]
        with self._ws.analytics("duckdb") as log:
            habits = self._habits(log, people)
        rows: list[Assignment] = []
        held = 0
        for pid in people:
            group = "holdout" if in_holdout(campaign, pid) else "offered"
            held += group == "holdout"
            for rank, (challenge, reason) in enumerate(choose(campaign, pid, habits.get(pid))):
                rows.append(Assignment(name, pid, group, challenge.id, rank, reason, now))
        self.store.assign(rows)
        return {"people": len(people), "offered": len(people) - held, "holdout": held}

    def offers_for(self, profile_id: str, now: datetime | None = None) -> list[dict[str, Any]]:
        """The challenges a person is offered in running campaigns (none for the holdout, and
        none without `personalisation`), with their acceptance and progress."""
        pid = self._current(profile_id)
        now = now or datetime.now(UTC)
        if not self._allowed(pid, PERSONALISATION):
            return []
        out: list[dict[str, Any]] = []
        for campaign in self.campaigns():
            if not campaign.active(now):
                continue
            mine = [a for a in self.store.assignments(campaign.name, pid) if a.group == "offered"]
            if not mine:
                continue
            accepted = self.store.acceptances(campaign.name, pid)
            progress = self.progress(campaign.name, pid, now) if accepted else None
            for a in mine:
                challenge = campaign.challenge(a.challenge)
                if challenge is None:
                    continue
                is_accepted = bool(accepted) and accepted[0].challenge == a.challenge
                out.append(
                    {
                        "campaign": campaign.name,
                        "challenge": challenge.to_json(),
                        "reason": a.reason,
                        "accepted": is_accepted,
                        "progress": progress.to_json() if is_accepted and progress else None,
                    }
                )
        return out

    def accept(
        self, name: str, profile_id: str, challenge_id: str, now: datetime | None = None
    ) -> Acceptance:
        """A person accepts one of the challenges offered to them (one per campaign)."""
        campaign = self.campaign(name)
        pid = self._current(profile_id)
        now = now or datetime.now(UTC)
        if not campaign.active(now):
            raise Conflict(f"campaign {name!r} is not running")
        offered = {a.challenge for a in self.store.assignments(name, pid) if a.group == "offered"}
        if challenge_id not in offered or not self._allowed(pid, PERSONALISATION):
            raise NotFound(f"challenge: {challenge_id!r} is not offered to this person")
        acceptance = Acceptance(name, pid, challenge_id, now)
        if not self.store.accept(acceptance):
            raise Conflict("challenge: this person has already accepted a challenge here")
        return acceptance

    def _bought(self, campaign: Campaign, acceptances: Sequence[Acceptance]) -> dict[str, float]:
        """Units of its challenge's brand (and category) each accepting person bought from a
        trusted source between accepting and the challenge's deadline: one engine query."""
        import ibis
        import pyarrow as pa

        from empreinte.analytics.order_lines import order_lines

        rows = []
        for a in acceptances:
            challenge = campaign.challenge(a.challenge)
            if challenge is not None:
                deadline = min(a.at + challenge.within, campaign.ends)
                rows.append((a.profile_id, challenge, a.at, deadline))
        if not rows:
            return {}
        stamp = pa.timestamp("us", tz="UTC")
        wanted = ibis.memtable(
            pa.table(
                {
                    "w_pid": pa.array([r[0] for r in rows], pa.string()),
                    "w_brand": pa.array([r[1].brand for r in rows], pa.string()),
                    "w_category": pa.array([r[1].category for r in rows], pa.string()),
                    "w_from": pa.array([r[2] for r in rows], stamp),
                    "w_until": pa.array([r[3] for r in rows], stamp),
                }
            )
        )
        since = min(r[2] for r in rows)
        until = max(r[3] for r in rows)
        with self._ws.analytics("duckdb") as log:
            lines = order_lines(log, since=since, until=until, consented_only=False)
            events = log.events().select("seq", "source")
            lines = lines.join(events, "seq")
            lines = lines.filter(lines.source.isin(sorted(self.trusted)))
            joined = lines.join(
                wanted,
                (lines.profile_id == wanted.w_pid)
                & (lines.brand == wanted.w_brand)
                & (lines.at >= wanted.w_from)
                & (lines.at < wanted.w_until),
            )
            joined = joined.filter(
                joined.w_category.isnull() | (joined.category == joined.w_category)
            )
            totals = joined.group_by("w_pid").aggregate(units=joined.quantity.sum())
            found = {r["w_pid"]: float(r["units"] or 0) for r in log.to_pyarrow(totals).to_pylist()}
        return {r[0]: found.get(r[0], 0.0) for r in rows}

    def progress(self, name: str, profile_id: str, now: datetime | None = None) -> Progress:
        campaign = self.campaign(name)
        pid = self._current(profile_id)
        found = self.store.acceptances(name, pid)
        if not found:
            raise NotFound(f"no challenge accepted by {pid!r} in {name!r}")
        acceptance = found[0]
        challenge = campaign.challenge(acceptance.challenge)
        assert challenge is not None
        bought = self._bought(campaign, [acceptance])[pid]
        outcome = self.store.outcome(name, pid)
        now = now or datetime.now(UTC)
        status = outcome.status if outcome else "in progress"
        deadline = min(acceptance.at + challenge.within, campaign.ends)
        if outcome is None and bought < challenge.count and now >= deadline:
            status = "lapsed"
        return Progress(name, challenge, acceptance.at, bought, status)

    def complete(
        self,
        name: str,
        profile_id: str,
        now: datetime | None = None,
        progress: Progress | None = None,
    ) -> Outcome:
        """Pay a completed challenge: the reward is posted to the member, taken from the
        brand's and the retailer's pots in one transaction, or not at all when either pot is
        short (`Conflict`). Idempotent: a paid challenge is paid once."""
        self.campaign(name)  # NotFound first
        pid = self._current(profile_id)
        now = now or datetime.now(UTC)
        prior = self.store.outcome(name, pid)
        if prior is not None and prior.status == "paid":
            return prior
        progress = progress or self.progress(name, pid, now)
        challenge = progress.challenge
        if progress.bought < challenge.count:
            raise Conflict(
                f"challenge: {progress.bought:g} of {challenge.count} bought; not complete"
            )
        if not (self._allowed(pid, self.settings.purpose) and self._allowed(pid, PERSONALISATION)):
            raise Conflict("consent: this person no longer allows the programme")
        reward = self.settings.points_of(challenge.reward)
        retailer, brand = accounts.split(reward, challenge.brand_share)
        retailer_pot = accounts.pot(name, accounts.RETAILER)
        brand_pot = accounts.pot(name, accounts.brand_funder(challenge.brand))
        entries = [Entry(accounts.member(pid), reward, pid, now)]
        if retailer:
            entries.append(Entry(retailer_pot, -retailer))
        if brand:
            entries.append(Entry(brand_pot, -brand))
        txn = Transaction(
            source=f"reward:{name}:{pid}",
            kind="reward",
            rule=f"challenge:{name}:{challenge.id}",
            reason=f"challenge completed: {challenge.describe()}",
            at=now,
            entries=tuple(entries),
        )
        posted = self.store.post(txn, [retailer_pot, brand_pot])
        if posted is Posted.INSUFFICIENT:
            if prior is None:
                self.store.record_outcome(Outcome(name, pid, challenge.id, "unfunded", now))
            raise Conflict(f"budget: campaign {name!r} cannot fund this reward any more")
        outcome = Outcome(name, pid, challenge.id, "paid", now)
        if posted is Posted.POSTED:
            self.store.record_outcome(outcome)
        return self.store.outcome(name, pid) or outcome

    def _settle(self, campaign: Campaign, now: datetime) -> tuple[int, int]:
        """Pay every accepted challenge now complete (one run at a time calls this)."""
        pending = [
            a
            for a in self.store.acceptances(campaign.name)
            if self.store.outcome(campaign.name, a.profile_id) is None
        ]
        bought = self._bought(campaign, pending)
        paid = short = 0
        for a in pending:
            challenge = campaign.challenge(a.challenge)
            if challenge is None or bought.get(a.profile_id, 0.0) < challenge.count:
                continue
            done = Progress(campaign.name, challenge, a.at, bought[a.profile_id], "in progress")
            try:
                self.complete(campaign.name, a.profile_id, now, done)
                paid += 1
            except Conflict as exc:
                short += str(exc).startswith("budget")
            except NotFound:
                continue
        return paid, short

    def participants(
        self, name: str, status: str | None = None, limit: int = 1000, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Who the campaign assigned (pseudonymous ids): their group, the challenge they
        accepted and its outcome; only those whose status is `status` when given (holdout,
        offered, accepted, paid, unfunded)."""
        self.campaign(name)
        groups = {a.profile_id: a.group for a in self.store.assignments(name)}
        accepted = {a.profile_id: a for a in self.store.acceptances(name)}
        outcomes = {o.profile_id: o for o in self.store.outcomes(name)}
        out = []
        for pid in sorted(groups):
            outcome = outcomes.get(pid)
            acceptance = accepted.get(pid)
            state = outcome.status if outcome else "accepted" if acceptance else groups[pid]
            if status is not None and state != status:
                continue
            out.append(
                {
                    "profile_id": pid,
                    "group": groups[pid],
                    "challenge": acceptance.challenge if acceptance else None,
                    "status": state,
                }
            )
        return out[offset : offset + limit]

    # -- reports -----------------------------------------------------------------------------

    def report(
        self, name: str, brand: str | None = None, now: datetime | None = None
    ) -> CampaignReport:
        """The campaign's funnel per challenge, pots, and per brand the incremental spend on
        the brand: offered people against held-out ones who would have been offered a
        challenge of that brand, mean spend per person over the campaign so far."""
        campaign = self.campaign(name)
        if brand is not None and brand not in campaign.brands:
            raise InvalidInput("brand", f"{brand!r} does not fund campaign {name!r}")
        now = now or datetime.now(UTC)
        assignments = self.store.assignments(name)
        accepted = self.store.acceptances(name)
        outcomes = {o.profile_id: o for o in self.store.outcomes(name)}
        challenges = [c for c in campaign.challenges if brand is None or c.brand == brand]
        rows = []
        for c in challenges:
            mine = [a for a in assignments if a.challenge == c.id]
            taken = [a for a in accepted if a.challenge == c.id]
            rows.append(
                ChallengeRow(
                    c,
                    offered=sum(1 for a in mine if a.group == "offered"),
                    held_out=sum(1 for a in mine if a.group == "holdout"),
                    accepted=len(taken),
                    completed=sum(
                        1
                        for a in taken
                        if getattr(outcomes.get(a.profile_id), "status", "") == "paid"
                    ),
                    unfunded=sum(
                        1
                        for a in taken
                        if getattr(outcomes.get(a.profile_id), "status", "") == "unfunded"
                    ),
                )
            )
        funders = [accounts.RETAILER] if brand is None else []
        funders += [accounts.brand_funder(b) for b in campaign.brands if brand in (None, b)]
        totals = self.store.totals()
        value = self.settings.point_value
        pots = []
        for funder in funders:
            account = accounts.pot(name, funder)
            funded = totals.get(f"{account}|fund", 0)
            used = -totals.get(f"{account}|reward", 0)
            pots.append(PotRow(funder, funded * value, used * value))
        # A brand's report counts the people offered (or held out from) one of its challenges.
        ids = {c.id for c in challenges}
        people = {a.profile_id: a.group for a in assignments if a.challenge in ids}
        lifts = self._lifts(campaign, assignments, brand, now)
        return CampaignReport(
            campaign,
            brand,
            eligible=len(people),
            offered_people=sum(1 for g in people.values() if g == "offered"),
            holdout_people=sum(1 for g in people.values() if g == "holdout"),
            challenges=rows,
            pots=pots,
            lifts=lifts,
        )

    def _lifts(
        self,
        campaign: Campaign,
        assignments: Sequence[Assignment],
        brand: str | None,
        now: datetime,
    ) -> dict[str, Lift]:
        from empreinte.analytics.order_lines import order_lines

        brand_of = {c.id: c.brand for c in campaign.challenges}
        groups: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for a in assignments:
            b = brand_of.get(a.challenge)
            if b is not None and brand in (None, b):
                groups[b][a.group].add(a.profile_id)
        if not groups:
            return {}
        until = min(now, campaign.ends)
        if until <= campaign.starts:
            return {}
        people = sorted({p for g in groups.values() for s in g.values() for p in s})
        with self._ws.analytics("duckdb") as log:
            import ibis
            import pyarrow as pa

            lines = order_lines(log, since=campaign.starts, until=until, consented_only=False)
            wanted = ibis.memtable(pa.table({"pid": pa.array(people, pa.string())}))
            lines = lines.filter(
                lines.profile_id.isin(wanted.pid) & lines.brand.isin(sorted(groups))
            )
            spend = lines.group_by(["profile_id", "brand"]).aggregate(spend=lines.amount.sum())
            found = {
                (r["profile_id"], r["brand"]): float(r["spend"] or 0)
                for r in log.to_pyarrow(spend).to_pylist()
            }
        out = {}
        for b, g in sorted(groups.items()):
            offered = [found.get((p, b), 0.0) for p in sorted(g.get("offered", ()))]
            held = [found.get((p, b), 0.0) for p in sorted(g.get("holdout", ()))]
            out[b] = lift(offered, held)
        return out

    def check_ledger(self) -> Mapping[str, int]:
        """Invariants an operator can check: the ledger sums to zero, no member and no pot
        below zero (each {name: value} that breaks one; empty when all hold)."""
        broken: dict[str, int] = {}
        total = self.store.sum_all()
        if total:
            broken["ledger_sum"] = total
        for prefix in (accounts.MEMBER_PREFIX, "pot:"):
            for account, points in self.store.balances_like(prefix).items():
                if points < 0:
                    broken[account] = points
        return broken
