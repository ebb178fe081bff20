"""What the recommender learns from, read from the log with Ibis (DuckDB or Spark): each
person's purchases (the product lines of `Order Completed`, analytics/order_lines.py), products
added to a basket (`Product Added`) and viewed (`Product Viewed`), of people who allow
`analytics`, owner profiles resolved as in every journey report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from empreinte.activate.offers.model import Interaction

if TYPE_CHECKING:
    from empreinte.analytics.log import AnalyticsLog

BROWSING = {"Product Viewed": "view", "Product Added": "cart"}


def _moment(value: object) -> datetime:
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def interactions(
    log: AnalyticsLog, *, since: datetime | None = None, until: datetime | None = None
) -> list[Interaction]:
    """Every interaction in [`since`, `until`), in log order."""
    from empreinte.analytics.journeys.touchpoints import JourneyScope, touchpoints
    from empreinte.analytics.json import JsonDoc
    from empreinte.analytics.order_lines import order_lines

    lines = order_lines(log, since=since, until=until)
    lines = lines.filter(lines.product_id.notnull())
    bought = log.to_pyarrow(
        lines.select("profile_id", "seq", "at", "product_id", "name", "sku", "category", "brand")
    ).to_pylist()
    scope = JourneyScope(since=since, until=until)
    seen = touchpoints(log, scope, steps=list(BROWSING))
    props = JsonDoc(log, seen.properties)
    seen = seen.select(
        "profile_id",
        "seq",
        "at",
        "step",
        product_id=props.string("product_id"),
        name=props.string("name"),
        sku=props.string("sku"),
        category=props.string("category"),
        brand=props.string("brand"),
    )
    seen = seen.filter(seen.product_id.notnull())
    browsed = log.to_pyarrow(seen).to_pylist()
    rows = [(r, "purchase") for r in bought] + [(r, BROWSING[r["step"]]) for r in browsed]
    rows.sort(key=lambda pair: (pair[0]["seq"], pair[0]["product_id"]))
    return [
        Interaction(
            str(r["profile_id"]),
            str(r["product_id"]),
            kind,
            _moment(r["at"]),
            r["name"],
            r["sku"],
            r["category"],
            r["brand"],
        )
        for r, kind in rows
    ]
