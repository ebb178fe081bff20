"""STAND-IN of the integrator's order lines (branch partners only; main's version replaces it
at merge). Same contract; unnests in Python, so DuckDB-sized logs only."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from empreinte.analytics.cx.consented import only_consenting
from empreinte.analytics.journeys.touchpoints import JourneyScope, touchpoints
from empreinte.analytics.log import AnalyticsLog

LINE_COLUMNS = (
    "profile_id", "seq", "at", "day", "order_id", "channel", "currency", "line", "product_id",
    "sku", "name", "brand", "category", "condition", "price", "quantity", "amount", "co2_kg",
)  # fmt: skip
_TEXT = ("order_id", "channel", "currency", "product_id", "sku", "name", "brand", "category")


def order_lines(
    log: AnalyticsLog,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    consented_only: bool = True,
) -> ir.Table:
    scope = JourneyScope(since=since, until=until, consented_only=False)
    tp = touchpoints(log, scope, steps=["Order Completed"])
    tp = tp.filter(tp.type == "track")
    if consented_only:
        tp = only_consenting(log, tp)
    local = log.local_time(tp.at)
    tp = tp.mutate(
        day=local.truncate("D").epoch_seconds().cast("int64") // 86400,
        props=tp.properties.cast("string"),
    )
    frame = log.execute(tp.select("profile_id", "seq", "at", "day", "channel", "props"))
    rows: dict[str, list[Any]] = {name: [] for name in LINE_COLUMNS}
    for order in frame.itertuples():
        props = json.loads(order.props) if isinstance(order.props, str) else {}
        products = props.get("products") if isinstance(props, dict) else None
        for index, item in enumerate(products if isinstance(products, list) else []):
            item = item if isinstance(item, dict) else {}
            price = _number(item.get("price"))
            quantity = _number(item.get("quantity"))
            quantity = 1.0 if quantity is None else quantity
            values = {
                "profile_id": order.profile_id,
                "seq": int(order.seq),
                "at": order.at,
                "day": int(order.day),
                "order_id": props.get("order_id"),
                "channel": order.channel,
                "currency": props.get("currency"),
                "line": index,
                "product_id": item.get("product_id"),
                "sku": item.get("sku"),
                "name": item.get("name"),
                "brand": item.get("brand"),
                "category": item.get("category"),
                "condition": item.get("condition"),
                "price": price,
                "quantity": quantity,
                "amount": None if price is None else price * quantity,
                "co2_kg": _number(item.get("co2_kg")),
            }
            for name in _TEXT:
                value = values[name]
                values[name] = None if value is None else str(value)
            for name, value in values.items():
                rows[name].append(value)
    schema = pa.schema(
        [
            ("profile_id", pa.string()),
            ("seq", pa.int64()),
            ("at", pa.timestamp("us", tz="UTC")),
            ("day", pa.int64()),
            *[(name, pa.string()) for name in ("order_id", "channel", "currency")],
            ("line", pa.int64()),
            *[
                (name, pa.string())
                for name in ("product_id", "sku", "name", "brand", "category", "condition")
            ],
            *[(name, pa.float64()) for name in ("price", "quantity", "amount", "co2_kg")],
        ]
    )
    return ibis.memtable(pa.table(rows, schema=schema))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
