"""The product catalogue (`products`): what each product is, its list price and its CO2
figures, and for a refurbished unit the new unit it replaces. The SQL is in
store/duckdb/product_store.py; the catalogue's rules (import, twins) are activate/catalog.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

#: The columns of `products`, in order (`imported_at` aside).
PRODUCT_COLUMNS = (
    "product_id",
    "sku",
    "name",
    "brand",
    "category",
    "condition",
    "price",
    "currency",
    "co2_kg",
    "replaces_sku",
    "new_price",
    "new_co2_kg",
)


@dataclass(frozen=True)
class Product:
    """One product of the catalogue. For a refurbished unit, `replaces_sku` names its new twin
    and `new_price` / `new_co2_kg` are that new unit's list price and CO2 footprint (given
    in the file, else read from the twin at import); None for a new unit."""

    product_id: str
    sku: str | None
    name: str
    brand: str | None
    category: str | None
    condition: str  # "new" | "refurbished"
    price: float | None
    currency: str | None
    co2_kg: float | None
    replaces_sku: str | None = None
    new_price: float | None = None
    new_co2_kg: float | None = None

    @property
    def co2_avoided_kg(self) -> float | None:
        """CO2 avoided by one unit bought refurbished rather than new: the new unit's kg minus
        this unit's (never below 0); None for a new unit or without both figures."""
        if self.condition != "refurbished" or self.new_co2_kg is None or self.co2_kg is None:
            return None
        return max(self.new_co2_kg - self.co2_kg, 0.0)

    def to_json(self) -> dict[str, Any]:
        return {column: getattr(self, column) for column in PRODUCT_COLUMNS}


class ProductStore(Protocol):
    """The catalogue of a workspace."""

    def replace_all(self, products: Sequence[Product]) -> None:
        """The catalogue becomes `products` (one transaction)."""
        ...

    def all(self) -> list[Product]:
        """Every product, by product id."""
        ...

    def get(self, product_id: str) -> Product | None: ...

    def by_sku(self, sku: str) -> Product | None: ...

    def count(self) -> int: ...
