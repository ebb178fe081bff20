"""Order lines: one row per product of each `Order Completed` event.

The Segment e-commerce spec puts an order's products in `properties.products`, an array of
objects (`product_id`, `sku`, `name`, `brand`, `category`, `price`, `quantity`…). Offers,
loyalty, the year in review and partner reports all read purchases at that grain, so the
array is unnested here once, in the engine (an Ibis expression: the same rows on DuckDB and
Spark).

Rules:
- the order belongs to its owner profile now (through the identity graph), as every journey
  report reads it (journeys/touchpoints.py); only people who allow `analytics` by default;
- a line that is not a JSON object is skipped; an order without a `products` array has no
  lines (it still counts as an order in analytics/know/purchases.py);
- text fields are read as text (a number-valued `sku` as its JSON text), NULL when absent;
- `quantity` is a positive number, 1 when absent or not one (a line says one unit unless it
  says more); `price` is NULL when absent or not a number, and `amount` = price × quantity;
- `currency` is the order's (upper case), so that sums are made per currency;
- `day` is the local date in the workspace's time zone, as days since 1970-01-01 (as
  analytics/know/purchases.py).
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

from empreinte.analytics.cx.consented import only_consenting
from empreinte.analytics.journeys.touchpoints import UNKNOWN_CHANNEL
from empreinte.analytics.json import JsonDoc, json_kind
from empreinte.analytics.know.purchases import order_events
from empreinte.analytics.log import AnalyticsLog

#: The columns of `order_lines`, in order.
LINE_COLUMNS = (
    "profile_id",
    "seq",
    "at",
    "day",
    "order_id",
    "channel",
    "currency",
    "line",
    "product_id",
    "sku",
    "name",
    "brand",
    "category",
    "condition",
    "price",
    "quantity",
    "amount",
    "co2_kg",
)

_TEXT_FIELDS = ("product_id", "sku", "name", "brand", "category", "condition")


def order_lines(
    log: AnalyticsLog,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    consented_only: bool = True,
) -> ir.Table:
    """The product lines of the orders placed in [`since`, `until`) (either open): columns
    `LINE_COLUMNS`, one row per line, of people who allow analytics unless `consented_only`
    is off."""
    events = order_events(log, since, until)
    doc = JsonDoc(log, events.properties)
    local = log.local_time(events.timestamp)
    # The order's few fields and its items are read before the ownership join (carrying the
    # whole JSON document through the join costs more than reading it first).
    orders = events.select(
        "seq",
        "identifiers",
        at="timestamp",
        day=local.truncate("D").epoch_seconds().cast("int64") // 86400,
        order_id=doc.text("order_id"),
        channel=events.channel.fill_null(UNKNOWN_CHANNEL),
        currency=doc.string("currency").upper(),
        items=doc.items("products"),
    )
    owned = log.with_owner(orders)
    if consented_only:
        owned = only_consenting(log, owned)
    lines = owned.unnest("items", offset="line", keep_empty=False)
    lines = lines.filter(json_kind(lines["items"]) == "object")
    item = JsonDoc(log, lines["items"])
    quantity = item.number("quantity")
    price = item.number("price")
    quantity = ibis.ifelse(quantity > 0, quantity, ibis.literal(1.0))
    return lines.select(
        "profile_id",
        "seq",
        "at",
        "day",
        "order_id",
        "channel",
        "currency",
        line=lines.line.cast("int64"),
        **{name: item.text(name) for name in _TEXT_FIELDS},
        price=price,
        quantity=quantity.cast("float64"),
        amount=(price * quantity).cast("float64"),
        co2_kg=item.number("co2_kg"),
    )
