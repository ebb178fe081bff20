"""The `match_reviews` table: every probabilistic match proposed, and what became of it.

A row is a pair (a file's record and a known profile, or two records of one file) with its
probability and comparison detail. Its status is `pending` until decided, then `accepted`
(automatically above the high threshold, or by an admin) or `rejected`. Decided rows are never
changed again, so a rejected pair is remembered and not proposed again. The SQL of that table
is in store/duckdb/match_store.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from empreinte.store.engine import Engine


class ReviewStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class MatchReview:
    """One proposed match. `profile_id` is set for a link to a known profile,
    `other_record_id` for a duplicate within the file."""

    review_id: str
    created_at: datetime
    source_file: str
    record_id: str
    profile_id: str | None
    other_record_id: str | None
    probability: float
    detail: dict[str, Any]
    status: str
    decided_at: datetime | None = None
    decided_by: str | None = None


class MatchReviews(Protocol):
    """The `match_reviews` table of a workspace."""

    def statuses(self, review_ids: Sequence[str]) -> dict[str, str]:
        """The status of each of `review_ids` that has a row."""
        ...

    def save(self, reviews: Sequence[MatchReview]) -> None:
        """Insert new reviews; a review still pending is refreshed (probability, detail, status and
        decision); a decided one is left as it is."""
        ...

    def get(self, review_id: str) -> MatchReview | None: ...

    def list(
        self, status: str | None = ReviewStatus.PENDING, limit: int = 100, offset: int = 0
    ) -> list[MatchReview]:
        """Reviews with `status` (all when None), most probable first."""
        ...

    def count(self, status: str | None = ReviewStatus.PENDING) -> int: ...

    def decide(self, review_id: str, status: str, actor: str, at: datetime) -> bool:
        """Mark a pending review accepted or rejected; False when it was not pending."""
        ...


class MatchStore:
    """The match reviews of a workspace, on whichever engine holds them."""

    def __init__(self, engine: Engine):
        self._reviews = engine.match_store()

    def statuses(self, review_ids: Sequence[str]) -> dict[str, str]:
        return self._reviews.statuses(review_ids)

    def save(self, reviews: Sequence[MatchReview]) -> None:
        self._reviews.save(reviews)

    def get(self, review_id: str) -> MatchReview | None:
        return self._reviews.get(review_id)

    def list(
        self, status: str | None = ReviewStatus.PENDING, limit: int = 100, offset: int = 0
    ) -> list[MatchReview]:
        return self._reviews.list(status, limit, offset)

    def count(self, status: str | None = ReviewStatus.PENDING) -> int:
        return self._reviews.count(status)

    def decide(self, review_id: str, status: str, actor: str, at: datetime) -> bool:
        return self._reviews.decide(review_id, status, actor, at)
