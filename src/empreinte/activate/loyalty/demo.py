"""The demo's loyalty programme (`make demo`): points earned over the demo year (store visits
included), and an autumn campaign of challenges co-funded by four brands, offered on its first
day, accepted by some of the people offered, settled at its end.

Who accepts is self-selected, as in life: people who were going to buy the brand anyway accept
its challenge far more often than the others. Acceptance is drawn per profile id, which is
random per workspace; the self-selection keeps the demo's paid challenges from hanging on a
single lucky draw (the offered-vs-holdout comparison is by assignment, so it is unaffected)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

DEMO_CAMPAIGN: dict[str, Any] = {
    "name": "autumn-2025",
    "description": "Brand challenges, September to November 2025",
    "starts": "2025-09-01",
    "ends": "2025-11-30",
    "budget": 400,
    "brands": {"Apple": 300, "Samsung": 150, "LEGO": 120, "Sony": 80},
    "eligibility": 'did("Order Completed", within="365d")',
    "holdout": 0.2,
    "offers_per_person": 3,
    "seed": 7,
    "challenges": [
        {"id": "apple-1", "brand": "Apple", "count": 1, "within": "42d", "reward": 4,
         "brand_share": 0.6},
        {"id": "samsung-1", "brand": "Samsung", "count": 1, "within": "42d", "reward": 3,
         "brand_share": 0.5},
        {"id": "lego-2", "brand": "LEGO", "count": 2, "within": "56d", "reward": 4,
         "brand_share": 0.5},
        {"id": "sony-1", "brand": "Sony", "count": 1, "within": "42d", "reward": 3,
         "brand_share": 0.5},
    ],
}  # fmt: skip

#: The share of people offered who accept a challenge in the demo: of the keen (who buy
#: what the challenge asks within its window anyway), and of the others.
ACCEPT_SHARE_KEEN = 0.95
ACCEPT_SHARE_OTHERS = 0.3


def _unit(*parts: object) -> float:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def seed_demo(ws: Workspace) -> dict[str, Any]:
    """Load the demo campaign, offer it, accept a seeded share, and run the programme as of
    the end of the demo year. What was done, for the demo's console."""
    loyalty = ws.loyalty
    start = datetime(2025, 9, 1, 9, tzinfo=UTC)
    end = datetime(2025, 12, 31, 23, tzinfo=UTC)
    earned = loyalty.run(now=start)
    loyalty.import_campaign(DEMO_CAMPAIGN, now=start)
    offered = loyalty.offer(DEMO_CAMPAIGN["name"], now=start)
    accepted = 0
    first: dict[str, str] = {}
    for a in loyalty.store.assignments(DEMO_CAMPAIGN["name"]):
        if a.group == "offered" and a.rank == 0:
            first[a.profile_id] = a.challenge
    keen_of = {c["id"]: keen_people(ws, c["id"], start) for c in DEMO_CAMPAIGN["challenges"]}
    for pid, challenge in sorted(first.items()):
        # Keen people (who buy what the challenge asks within its window) accept on the
        # first morning; the others over the first three days.
        keen = pid in keen_of[challenge]
        if _unit("accept", pid) < (ACCEPT_SHARE_KEEN if keen else ACCEPT_SHARE_OTHERS):
            hours = 12 if keen else 72
            at = start + timedelta(hours=int(_unit("when", pid) * hours))
            loyalty.accept(DEMO_CAMPAIGN["name"], pid, challenge, now=at)
            accepted += 1
    report = loyalty.run(now=end)
    done = report.to_json()
    done["points_earned"] += earned.points
    return {**offered, "accepted": accepted, **done}


def keen_people(ws: Workspace, challenge_id: str, start: datetime) -> set[str]:
    """Who buys as many of the challenge's brand as it asks, within its window from `start`."""
    from empreinte.analytics.order_lines import order_lines
    from empreinte.durations import parse_duration

    challenge = next(c for c in DEMO_CAMPAIGN["challenges"] if c["id"] == challenge_id)
    until = start + parse_duration(challenge["within"], "within")
    with ws.analytics("duckdb") as log:
        lines = order_lines(
            log, since=start + timedelta(hours=12), until=until, consented_only=False
        )
        lines = lines.filter(lines.brand == challenge["brand"])
        per = lines.group_by("profile_id").aggregate(units=lines.quantity.sum())
        per = per.filter(per.units >= challenge["count"])
        return {row["profile_id"] for row in log.to_pyarrow(per.select("profile_id")).to_pylist()}
