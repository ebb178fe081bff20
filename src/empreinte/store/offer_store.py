"""Next best offers (issue 15): the catalogue (`offers`: one JSON definition per offer), the
impressions the server served (`offer_impressions`: capping, "ignored N times" and the shown
counts read these, never a client's `Offer Shown`), and the feedback events read from the log.
The SQL is in store/duckdb/offer_store.py; the service is empreinte/activate/offers/.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Impression:
    """One offer the server answered for a person (recorded when served)."""

    profile_id: str
    offer_id: str
    channel: str | None
    shown_at: datetime
    personalised: bool


@dataclass(frozen=True)
class FeedbackRow:
    """One `Offer …` track event of the log: its position, name, offer, source, time and the
    identifier keys it carries (the graph's `type:value`)."""

    seq: int
    event: str
    offer_id: str
    source: str
    at: datetime
    identifiers: tuple[str, ...]


class OfferStore(Protocol):
    """The offer catalogue and the served impressions of a workspace."""

    def save(self, rows: Sequence[tuple[str, dict[str, Any]]], at: datetime) -> int:
        """Insert or replace offers (id, definition document) in one transaction; how many."""
        ...

    def definitions(self) -> list[tuple[str, dict[str, Any]]]:
        """Every offer's (id, definition), by id."""
        ...

    def record(self, impressions: Sequence[Impression]) -> None:
        """Append served impressions."""
        ...

    def impressions(self) -> list[Impression]:
        """Every recorded impression, oldest first (the service keeps them in memory)."""
        ...

    def forget(self, profile_ids: Sequence[str]) -> int:
        """Delete the impressions of these profiles (erasure); how many rows."""
        ...

    def keys_by_profile(self) -> dict[str, tuple[str, ...]]:
        """Every profile's identifier keys (the identity graph's table, read in one pass)."""
        ...

    def feedback_since(
        self, seq: int, events: Sequence[str], limit: int
    ) -> tuple[list[FeedbackRow], int]:
        """Track events named one of `events` after log position `seq`, in log order, at most
        `limit`, and the position read up to (the next call's `seq`). An `Offer …` event
        without a text `properties.offer_id` is left out; others have `offer_id` "".
        """
        ...
