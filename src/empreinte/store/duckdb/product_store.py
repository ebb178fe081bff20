"""The SQL of the product catalogue, `products` (the `ProductStore` of store/product_store.py)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from empreinte.store.duckdb.access import DuckDBTables
from empreinte.store.duckdb.results import first_row
from empreinte.store.product_store import PRODUCT_COLUMNS, Product

_SELECT = ", ".join(PRODUCT_COLUMNS)
_NUMBERS = {"price", "co2_kg", "new_price", "new_co2_kg"}
_TYPES = {c: pa.float64() if c in _NUMBERS else pa.string() for c in PRODUCT_COLUMNS}


def _product(row: Sequence[Any]) -> Product:
    return Product(**dict(zip(PRODUCT_COLUMNS, row, strict=True)))


class DuckDBProductStore(DuckDBTables):
    """The catalogue in the workspace's DuckDB file."""

    def replace_all(self, products: Sequence[Product]) -> None:
        now = datetime.now(UTC)
        # One Arrow table, not a statement per row: catalogues run to tens of thousands.
        incoming = pa.table(
            {
                **{c: pa.array([getattr(p, c) for p in products], _TYPES[c]) for c in _TYPES},
                "imported_at": pa.array([now] * len(products), pa.timestamp("us", "UTC")),
            }
        )
        with self._transaction("replace the product catalogue") as cur:
            cur.execute("DELETE FROM products")
            cur.register("_incoming_products", incoming)
            try:
                cur.execute(
                    f"INSERT INTO products ({_SELECT}, imported_at) "
                    f"SELECT {_SELECT}, imported_at FROM _incoming_products"
                )
            finally:
                cur.unregister("_incoming_products")

    def all(self) -> builtins.list[Product]:
        rows = self._cur().execute(f"SELECT {_SELECT} FROM products ORDER BY product_id")
        return [_product(row) for row in rows.fetchall()]

    def get(self, product_id: str) -> Product | None:
        found = first_row(
            self._cur().execute(
                f"SELECT {_SELECT} FROM products WHERE product_id = ?", [product_id]
            )
        )
        return _product(found) if found else None

    def by_sku(self, sku: str) -> Product | None:
        found = first_row(
            self._cur().execute(
                f"SELECT {_SELECT} FROM products WHERE sku = ? ORDER BY product_id LIMIT 1", [sku]
            )
        )
        return _product(found) if found else None

    def count(self) -> int:
        row = first_row(self._cur().execute("SELECT count(*) FROM products"))
        return int(row[0]) if row else 0
