"""Segment expressions compared on DuckDB and Spark by test_spark_parity.py: name → a function
of an `AnalyticsLog` returning rows. Each case counts members and lists a stable digest of
them (the sorted ids' first and last), evaluated as of the log's last event so that `within`
reads the same window on both engines. Every field family and function is covered: profile
facts and the generation, a trait (text and number), behaviour (orders, revenue, seen,
channels), did/did_not with a window and a count, consented, in_segment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from empreinte.analytics.know.segment_compile import SegmentCompiler, default_context
from empreinte.analytics.log import AnalyticsLog

SAVED = {"buyers": "orders >= 1", "fr buyers": 'in_segment("buyers") and country = "FR"'}

EXPRESSIONS = {
    "facts": 'country = "FR" and generation in ["Gen Z", "Gen Y (Millennials)"] and age >= 25',
    "traits": "traits.address.city is not null and not traits.loyalty_card is null",
    "behaviour": "orders >= 2 and revenue > 100 and days_since_last_seen < 60",
    "channels": 'channel_class in ["cross", "omni"] or channels >= 3',
    "did": 'did("Order Completed", within="90d", count>=2) or did_not("Product Viewed")',
    "did with filter": 'did("Order Completed[channel=store]") and not did("Page Viewed")',
    "consent and saved": 'in_segment("fr buyers") or consented("marketing_sms")',
}


def _as_of(log: AnalyticsLog) -> datetime:
    events = log.events()
    moment: datetime = log.execute(events.timestamp.max())
    return moment


def _case(expression: str) -> Callable[[AnalyticsLog], Any]:
    def run(log: AnalyticsLog) -> list[dict[str, Any]]:
        context = default_context(_as_of(log), resolve=SAVED.get)
        table = SegmentCompiler(log, context).members(expression)
        ids = sorted(str(p) for p in log.to_pyarrow(table)["profile_id"].to_pylist())
        assert ids, f"{expression!r} selects nobody: the case compares nothing"
        return [{"members": len(ids), "first": ids[0], "last": ids[-1], "sum": _digest(ids)}]

    return run


def _digest(ids: list[str]) -> int:
    """An order-free checksum of the members (any difference changes it)."""
    import hashlib

    return sum(int(hashlib.sha256(p.encode()).hexdigest()[:12], 16) for p in ids)


CASES: dict[str, Callable[[AnalyticsLog], Any]] = {
    f"segment: {name}": _case(expression) for name, expression in EXPRESSIONS.items()
}
