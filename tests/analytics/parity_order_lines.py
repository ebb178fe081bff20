"""Order lines compared on DuckDB and Spark by test_spark_parity.py, on the demo plus a few
orders whose `products` are awkward (JSON that engines print differently: number spellings,
non-object items, a non-array, unicode)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from empreinte.analytics.log import AnalyticsLog
from empreinte.analytics.order_lines import order_lines

AWKWARD = ["x", 3, None, [1], {"sku": 12, "price": 1.50, "quantity": 1e1, "name": "Café"}]

#: Added to the parity workspace: one consenting person's awkward orders.
MESSAGES: list[dict[str, Any]] = [
    {
        "type": "track",
        "event": "Consent Updated",
        "userId": "parity-lines",
        "properties": {"purpose": "analytics", "granted": True, "wording_version": "v1"},
        "timestamp": "2025-01-01T00:00:00Z",
    },
    *(
        {
            "type": "track",
            "event": "Order Completed",
            "userId": "parity-lines",
            "properties": {"order_id": f"AWK-{i}", "products": products, "currency": "eur"},
            "timestamp": f"2025-03-{i + 1:02d}T12:00:00Z",
        }
        for i, products in enumerate([AWKWARD, {"a": 1}, "text", [], [{"price": -2}]])
    ),
]


def _lines(log: AnalyticsLog) -> list[dict[str, Any]]:
    table = order_lines(log)
    return log.execute(table.order_by(["seq", "line"])).to_dict("records")  # type: ignore[no-any-return]


CASES: dict[str, Callable[[AnalyticsLog], Any]] = {"order lines": _lines}
