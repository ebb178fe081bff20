"""The demo's product catalogue: demo/catalog.py's products, each refurbished unit naming its
new twin (the same SKU stem, suffix -N), so that `make demo` tells CO2 avoided."""

from __future__ import annotations

from typing import TYPE_CHECKING

from empreinte.activate.catalog import ImportReport
from empreinte.demo.catalog import catalog
from empreinte.store.product_store import Product

if TYPE_CHECKING:
    from empreinte.workspace import Workspace


def demo_products(seed: int = 7) -> list[Product]:
    return [
        Product(
            product_id=p.product_id,
            sku=p.sku,
            name=p.name,
            brand=p.brand,
            category=p.category,
            condition=p.condition,
            price=p.price,
            currency=p.currency,
            co2_kg=p.co2_kg,
            replaces_sku=p.sku.rsplit("-", 1)[0] + "-N" if p.condition == "refurbished" else None,
        )
        for p in catalog(seed)
    ]


def seed_demo(ws: Workspace, seed: int = 7) -> ImportReport:
    """Load the demo catalogue into `ws` (replacing its catalogue)."""
    return ws.stories.catalogue.load(demo_products(seed), replace_all=True)
