"""The loyalty programme's tables: a double-entry points ledger, the earning cursor, campaigns
of brand-funded challenges, who was offered (or held out), who accepted, what was paid.

The ledger is append-only: a movement is a transaction of rows summing to zero across
accounts, posted whole or not at all, and a balance is always a SUM of rows. Each transaction
has a unique `source` (an event's messageId and rule, a redemption's reference…): posting the
same source twice posts nothing the second time. The SQL is in store/duckdb/loyalty_store.py;
the rules are in activate/loyalty/.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


@dataclass(frozen=True)
class Entry:
    """One row of a transaction: `points` (positive: credit of the account) on `account`;
    `profile_id` for a member's account; `lot_at`, on a member's credit, when the points were
    earned (expiry takes the oldest first)."""

    account: str
    points: int
    profile_id: str | None = None
    lot_at: datetime | None = None


@dataclass(frozen=True)
class Transaction:
    """A movement: `entries` summing to zero, with what caused it (`kind`: earn, redeem, expire,
    fund, reward, merge; `rule`: which rule; `reason`: words for people; `source`: unique)."""

    source: str
    kind: str
    rule: str
    reason: str
    at: datetime
    entries: tuple[Entry, ...]

    def __post_init__(self) -> None:
        if sum(e.points for e in self.entries) != 0:
            raise ValueError(f"transaction {self.source!r} does not sum to zero")
        if not self.entries:
            raise ValueError(f"transaction {self.source!r} has no rows")


class Posted(StrEnum):
    """What posting a transaction did."""

    POSTED = "posted"
    DUPLICATE = "duplicate"  # its source was posted before: nothing done
    INSUFFICIENT = "insufficient"  # an account that may not go negative would have: nothing


@dataclass(frozen=True)
class LedgerRow:
    """A stored row, with its transaction's fields."""

    txn: int
    source: str
    kind: str
    rule: str
    reason: str
    at: datetime
    booked_at: datetime
    account: str
    profile_id: str | None
    points: int
    lot_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "txn": self.txn,
            "source": self.source,
            "kind": self.kind,
            "rule": self.rule,
            "reason": self.reason,
            "at": self.at.isoformat(),
            "booked_at": self.booked_at.isoformat(),
            "account": self.account,
            "profile_id": self.profile_id,
            "points": self.points,
        }


@dataclass(frozen=True)
class Assignment:
    """A challenge chosen for a person in a campaign: shown to them (`group` "offered") or
    withheld (`group` "holdout": what they would have been offered, for the comparison)."""

    campaign: str
    profile_id: str
    group: str
    challenge: str
    rank: int
    reason: str
    at: datetime


@dataclass(frozen=True)
class Acceptance:
    campaign: str
    profile_id: str
    challenge: str
    at: datetime


@dataclass(frozen=True)
class Outcome:
    """A completed challenge: `paid` (the reward was posted) or `unfunded` (a pot was short)."""

    campaign: str
    profile_id: str
    challenge: str
    status: str
    at: datetime


class LoyaltyStore(Protocol):
    """The loyalty tables of a workspace."""

    def post(self, txn: Transaction, non_negative: Sequence[str] = ()) -> Posted:
        """Post `txn` whole in one transaction, unless its source was posted before or an
        account of `non_negative` would end below zero (both checked in the transaction, one
        writer at a time: concurrent posts cannot overspend)."""
        ...

    def post_many(self, txns: Sequence[Transaction], guarded: str | None = None) -> int:
        """Post many transactions in one database transaction; sources posted before are
        skipped, and, with `guarded` (an account prefix), so is every transaction that would
        leave an account of that prefix below zero (checked in order, under the same lock as
        `post`). How many were posted."""
        ...

    def all_credits(self, prefix: str) -> dict[str, builtins.list[tuple[datetime, int]]]:
        """The credits of every account of `prefix`, as `credits` gives them."""
        ...

    def balances(self, accounts: Sequence[str]) -> dict[str, int]:
        """The sum of the rows of each account (0 for an account without rows)."""
        ...

    def balances_like(self, prefix: str) -> dict[str, int]:
        """The balance of every account whose name starts with `prefix`."""
        ...

    def rows(
        self, account: str | None = None, limit: int = 100, offset: int = 0
    ) -> builtins.list[LedgerRow]:
        """Rows, newest first (only `account`'s when given)."""
        ...

    def credits(self, account: str) -> builtins.list[tuple[datetime, int]]:
        """A member account's credits as (lot_at, points), oldest lot first."""
        ...

    def engagement_points(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Points already credited per (profile_id, day) key for engagement (kind "earn",
        rules starting "visit:" or "survey:"), for the daily cap."""
        ...

    def totals(self) -> dict[str, int]:
        """Sum of positive rows per (account, kind) as "account|kind" → points."""
        ...

    def flows(self) -> builtins.list[tuple[str, str, int]]:
        """Points moved per month and kind (earn, redeem, expire, reward), member side:
        (YYYY-MM, kind, points)."""
        ...

    def sum_all(self) -> int:
        """The sum of every row (zero, always)."""
        ...

    def member_ids(self) -> builtins.set[str]:
        """Profile ids with rows."""
        ...

    def anonymise(self, profile_ids: Sequence[str], account: str) -> int:
        """Erased people: their rows move to `account` without a profile id, their offers,
        acceptances and outcomes are deleted. How many rows changed."""
        ...

    def cursor(self, name: str) -> int: ...

    def set_cursor(self, name: str, seq: int) -> None: ...

    # -- campaigns -----------------------------------------------------------------------

    def save_campaign(
        self,
        name: str,
        document: Mapping[str, Any],
        at: datetime,
        funding: Sequence[Transaction] = (),
    ) -> bool:
        """Save a new campaign with its `funding` transactions, in one transaction; False
        (and nothing saved) when the name is taken."""
        ...

    def campaign(self, name: str) -> dict[str, Any] | None: ...

    def campaigns(self) -> builtins.list[dict[str, Any]]: ...

    def assign(self, rows: Sequence[Assignment]) -> int:
        """Save assignments, skipping people the campaign already assigned. How many rows."""
        ...

    def assignments(
        self, campaign: str, profile_id: str | None = None
    ) -> builtins.list[Assignment]: ...

    def assigned_ids(self, campaign: str) -> builtins.set[str]: ...

    def accept(self, acceptance: Acceptance) -> bool:
        """Record an acceptance; False when the person already accepted one in the campaign."""
        ...

    def acceptances(
        self, campaign: str, profile_id: str | None = None
    ) -> builtins.list[Acceptance]: ...

    def outcome(self, campaign: str, profile_id: str) -> Outcome | None: ...

    def record_outcome(self, outcome: Outcome) -> None: ...

    def outcomes(self, campaign: str) -> builtins.list[Outcome]: ...
