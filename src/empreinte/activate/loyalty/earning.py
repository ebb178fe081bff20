"""Earning: the log's events after the cursor → credit transactions (docs/loyalty.md).

- A purchase (`Order Completed`) earns `points_per_currency[currency]` per unit of money of
  each product line (price × quantity), × the line's `category_multipliers`, rounded down per
  line; one transaction per order. Only from trusted sources: anyone holding the public write
  key could otherwise mint points with a forged order.
- A visit (`visit_points`: a `Store Visited` check-in, an `Application Opened`, a page of the
  site…) and a survey answer (`survey_points`) earn from any source, within
  `daily_engagement_cap` points per person and day (the day the server received the event
  for an untrusted source: a forged timestamp cannot open past days; the event's own day for
  a trusted one).
- Each transaction's source is the event's (source, messageId): re-running never credits
  twice. Only the members the consent purpose allows are credited; the others' events are
  passed over for good (no points accrue in the background for a later consent).

Each step reads at most `batch` positions of the log, so a run is linear in what arrived.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from empreinte.activate.loyalty.ledger import ISSUED, member
from empreinte.activate.loyalty.settings import PAGE_STEP, SURVEY_EVENTS, LoyaltySettings
from empreinte.analytics.log import AnalyticsLog
from empreinte.store.loyalty_store import Entry, LoyaltyStore, Transaction

ORDER_EVENT = "Order Completed"


@dataclass(frozen=True)
class Earned:
    """What one step credited."""

    transactions: list[Transaction]
    orders: int
    engagements: int


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def purchase_lines(log: AnalyticsLog, after: int, upto: int) -> list[dict[str, Any]]:
    """The product lines of the orders in (after, upto], with the event's source and
    messageId (every person: the consent filter is the programme's own)."""
    from empreinte.analytics.order_lines import order_lines

    lines = order_lines(log, consented_only=False)
    lines = lines.filter((lines.seq > after) & (lines.seq <= upto))
    events = log.events()
    events = events.filter((events.seq > after) & (events.seq <= upto)).select(
        "seq", "source", "message_id"
    )
    joined = lines.join(events, "seq").select(
        "profile_id",
        "seq",
        "at",
        "source",
        "message_id",
        "order_id",
        "currency",
        "category",
        "amount",
    )
    rows: list[dict[str, Any]] = log.to_pyarrow(joined.order_by(["seq"])).to_pylist()
    return rows


def engagements(
    log: AnalyticsLog, after: int, upto: int, settings: LoyaltySettings
) -> list[dict[str, Any]]:
    """Visits and survey answers in (after, upto], with their owner."""
    events = log.events()
    names = [n for n in settings.visit_points if n != PAGE_STEP]
    if settings.survey_points:
        names += list(SURVEY_EVENTS)
    wanted = (events.type == "track") & events.event.isin(names or ["\x00"])
    if PAGE_STEP in settings.visit_points:
        wanted |= events.type == "page"
    events = events.filter((events.seq > after) & (events.seq <= upto) & wanted)
    owned = log.with_owner(events).select(
        "profile_id", "seq", "source", "message_id", "type", "event", "timestamp", "received_at"
    )
    rows: list[dict[str, Any]] = log.to_pyarrow(owned.order_by(["seq"])).to_pylist()
    return rows


def earn(
    log: AnalyticsLog,
    store: LoyaltyStore,
    settings: LoyaltySettings,
    *,
    after: int,
    upto: int,
    trusted: Collection[str],
    members: Collection[str],
    timezone: str,
) -> Earned:
    """The credits of the events in (after, upto] for `members` (not yet posted)."""
    zone = ZoneInfo(timezone)
    txns: list[Transaction] = []
    orders = _orders(purchase_lines(log, after, upto), settings, trusted, members)
    txns.extend(orders)
    rows = [r for r in engagements(log, after, upto, settings) if r["profile_id"] in members]
    days = []
    for row in rows:
        moment = _utc(row["timestamp"] if row["source"] in trusted else row["received_at"])
        row["_at"] = moment
        row["_day"] = moment.astimezone(zone).date().isoformat()
        days.append((row["profile_id"], row["_day"]))
    used = store.engagement_points(sorted(set(days)))
    engaged = 0
    for row in rows:
        name = PAGE_STEP if row["type"] == "page" else row["event"]
        is_survey = name in SURVEY_EVENTS
        rule_points = settings.survey_points if is_survey else settings.visit_points.get(name, 0)
        key = (row["profile_id"], row["_day"])
        points = min(rule_points, settings.daily_engagement_cap - used.get(key, 0))
        if points <= 0:
            continue
        used[key] = used.get(key, 0) + points
        what = "survey answer" if is_survey else "visit"
        txns.append(
            Transaction(
                source=f"event:{row['source']}:{row['message_id']}",
                kind="earn",
                rule=f"engage:{row['_day']}:{name}",
                reason=f"{what}: {name}",
                at=row["_at"],
                entries=(
                    Entry(member(row["profile_id"]), points, row["profile_id"], row["_at"]),
                    Entry(ISSUED, -points),
                ),
            )
        )
        engaged += 1
    return Earned(txns, len(orders), engaged)


def _orders(
    lines: list[dict[str, Any]],
    settings: LoyaltySettings,
    trusted: Collection[str],
    members: Collection[str],
) -> list[Transaction]:
    out: list[Transaction] = []
    for (source, message_id), group in _by_order(lines):
        first = group[0]
        profile = first["profile_id"]
        if source not in trusted or profile not in members:
            continue
        currency = (first["currency"] or "").upper()
        rate = settings.points_per_currency.get(currency)
        if rate is None:
            continue
        points = 0
        for line in group:
            multiplier = settings.category_multipliers.get(line["category"] or "", 1.0)
            amount = line["amount"] or 0.0
            if amount > 0:
                points += int(amount * rate * multiplier + 1e-9)
        if points <= 0:
            continue
        at = _utc(first["at"])
        order = first["order_id"] or message_id
        out.append(
            Transaction(
                source=f"event:{source}:{message_id}",
                kind="earn",
                rule="purchase",
                reason=f"order {order}: {len(group)} line(s) in {currency}",
                at=at,
                entries=(Entry(member(profile), points, profile, at), Entry(ISSUED, -points)),
            )
        )
    return out


def _by_order(
    lines: list[dict[str, Any]],
) -> Iterator[tuple[tuple[str, str], list[dict[str, Any]]]]:
    """Lines grouped by their order event (they come ordered by seq)."""
    group: list[dict[str, Any]] = []
    for line in lines:
        if group and line["seq"] != group[0]["seq"]:
            yield (group[0]["source"], group[0]["message_id"]), group
            group = []
        group.append(line)
    if group:
        yield (group[0]["source"], group[0]["message_id"]), group
