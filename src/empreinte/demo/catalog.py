"""The demo retailer's catalogue: about 200 products, new and refurbished.

Prices are list prices in euros; `local_price` converts them for US customers. Each refurbishable
model comes twice, sharing the SKU stem (`sku.rsplit("-", 1)[0]`): once new (`-N`) and once
refurbished (`-R`), cheaper and with 10–25 % of the new unit's CO2 footprint, which is the
year-in-review "CO2 avoided" story.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

EUR_TO_USD = 1.08


@dataclass(frozen=True)
class Product:
    """One sellable unit of the catalogue."""

    product_id: str
    sku: str
    name: str
    brand: str
    category: str
    price: float
    currency: str
    condition: str  # "new" | "refurbished"
    co2_kg: float  # CO2 footprint of this unit (manufacture + transport), in kg


# (brand, model, list price in EUR, CO2 of a new unit in kg, refurbishable, variants).
# A variant is (label, price delta in EUR, extra CO2 in kg); "" means a single variant.
_Model = tuple[str, str, float, float, bool, tuple[tuple[str, float, float], ...]]
_ONE: tuple[tuple[str, float, float], ...] = (("", 0.0, 0.0),)
_STORAGE = (("128GB", 0.0, 0.0), ("256GB", 130.0, 2.0))

_MODELS: dict[str, tuple[_Model, ...]] = {
    "phones": (
        ("Apple", "iPhone 15", 969, 66, True, _STORAGE),
        ("Apple", "iPhone 15 Pro", 1229, 66, True, _STORAGE),
        ("Apple", "iPhone 14", 769, 70, True, _STORAGE),
        ("Apple", "iPhone 13", 649, 64, True, _STORAGE),
        ("Apple", "iPhone SE", 529, 46, True, (("64GB", 0, 0), ("128GB", 50, 1))),
        ("Samsung", "Galaxy S24", 899, 72, True, _STORAGE),
        ("Samsung", "Galaxy S23", 749, 70, True, _ONE),
        ("Samsung", "Galaxy Z Flip5", 1199, 78, True, _ONE),
        ("Samsung", "Galaxy A54", 449, 48, True, _ONE),
        ("Google", "Pixel 8", 799, 65, True, _STORAGE),
        ("Google", "Pixel 7a", 509, 55, True, _ONE),
        ("Xiaomi", "Redmi Note 13", 249, 40, True, _ONE),
        ("Fairphone", "Fairphone 5", 699, 42, True, _ONE),
    ),
    "laptops": (
        ("Apple", "MacBook Air 13 M2", 1199, 174, True, (("256GB", 0, 0), ("512GB", 250, 4))),
        ("Apple", "MacBook Air 15 M3", 1599, 190, True, _ONE),
        ("Apple", "MacBook Pro 14 M3", 1999, 271, True, _ONE),
        ("Dell", "XPS 13", 1299, 280, True, _ONE),
        ("Dell", "Inspiron 14", 699, 250, True, _ONE),
        ("Lenovo", "ThinkPad T14", 1149, 300, True, _ONE),
        ("Lenovo", "IdeaPad 3", 499, 240, True, _ONE),
        ("HP", "Pavilion 15", 749, 280, True, _ONE),
        ("Asus", "Zenbook 14", 999, 250, True, _ONE),
        ("Acer", "Aspire 5", 599, 260, True, _ONE),
        ("Microsoft", "Surface Laptop 5", 1149, 200, True, _ONE),
    ),
    "tablets": (
        ("Apple", "iPad 10.9", 489, 80, True, (("64GB", 0, 0), ("256GB", 200, 2))),
        ("Apple", "iPad Air", 769, 95, True, _ONE),
        ("Apple", "iPad Pro 11", 1099, 110, True, _ONE),
        ("Samsung", "Galaxy Tab S9", 899, 90, True, _ONE),
        ("Lenovo", "Tab M10", 199, 60, True, _ONE),
        ("Amazon", "Fire HD 10", 169, 50, True, _ONE),
    ),
    "audio": (
        ("Sony", "WH-1000XM5", 419, 15, True, _ONE),
        ("Sony", "WF-1000XM5", 299, 9, True, _ONE),
        ("Apple", "AirPods Pro 2", 279, 10, True, _ONE),
        ("Bose", "QuietComfort 45", 349, 15, True, _ONE),
        ("Bose", "SoundLink Flex", 169, 18, True, _ONE),
        ("Beats", "Studio Pro", 399, 14, True, _ONE),
        ("JBL", "Flip 6", 139, 20, True, _ONE),
        ("Sonos", "Era 100", 279, 30, True, _ONE),
        ("Marshall", "Emberton II", 169, 22, True, _ONE),
        ("Jabra", "Elite 85t", 229, 9, True, _ONE),
    ),
    "gaming": (
        ("Nintendo", "Switch OLED", 349, 60, True, _ONE),
        ("Nintendo", "Switch Lite", 219, 40, True, _ONE),
        ("Sony", "PlayStation 5", 549, 120, True, _ONE),
        ("Microsoft", "Xbox Series S", 299, 90, True, _ONE),
        ("Valve", "Steam Deck", 419, 75, True, _ONE),
        ("Meta", "Quest 3", 549, 50, True, _ONE),
    ),
    "wearables": (
        ("Apple", "Watch Series 9", 449, 34, True, _ONE),
        ("Samsung", "Galaxy Watch6", 319, 30, True, _ONE),
        ("Garmin", "Forerunner 265", 449, 25, True, _ONE),
        ("Fitbit", "Charge 6", 159, 12, True, _ONE),
    ),
    "home": (
        ("Dyson", "V15 Detect", 749, 75, True, _ONE),
        ("Dyson", "Airwrap", 549, 30, True, _ONE),
        ("Nespresso", "Vertuo Next", 179, 40, True, _ONE),
        ("De'Longhi", "Magnifica S", 449, 70, True, _ONE),
        ("iRobot", "Roomba j7", 599, 60, True, _ONE),
        ("SEB", "Cookeo", 199, 45, True, _ONE),
        ("KitchenAid", "Artisan Stand Mixer", 549, 90, True, _ONE),
        ("Rowenta", "Focus Excel Iron", 89, 10, True, _ONE),
        ("Moulinex", "Easy Fry Air Fryer", 99, 25, False, _ONE),
        ("Philips", "Hue Starter Kit", 179, 12, False, _ONE),
        ("Philips", "Sonicare 5100", 179, 8, False, _ONE),
        ("Tefal", "Ingenio Pan Set", 119, 15, False, _ONE),
    ),
    "accessories": (
        ("Anker", "65W USB-C Charger", 49, 3, False, _ONE),
        ("Apple", "USB-C Cable 1m", 25, 1, False, _ONE),
        ("Belkin", "Power Bank 10K", 39, 4, False, _ONE),
        ("Spigen", "Phone Case", 19, 0.5, False, _ONE),
        ("Logitech", "MX Master 3S", 119, 6, False, _ONE),
        ("Logitech", "K380 Keyboard", 49, 5, False, _ONE),
        ("Samsung", "T7 SSD 1TB", 119, 6, False, _ONE),
        ("SanDisk", "microSD 256GB", 29, 0.5, False, _ONE),
    ),
    "toys": (
        ("LEGO", "Technic Porsche 911", 179, 8, False, _ONE),
        ("LEGO", "City Police Station", 99, 5, False, _ONE),
        ("LEGO", "Star Wars Millennium Falcon", 169, 8, False, _ONE),
        ("LEGO", "Friends Heartlake Café", 49, 3, False, _ONE),
        ("Playmobil", "Pirate Ship", 89, 6, False, _ONE),
        ("Ravensburger", "Puzzle 1000 pieces", 19, 1.5, False, _ONE),
        ("Hasbro", "Monopoly", 34, 2, False, _ONE),
        ("Mattel", "Barbie Dreamhouse", 229, 15, False, _ONE),
        ("Mattel", "Hot Wheels Track Set", 49, 3, False, _ONE),
        ("Mattel", "UNO", 12, 0.5, False, _ONE),
        ("Kapla", "Kapla 200", 49, 2, False, _ONE),
        ("Djeco", "Drawing Kit", 24, 1, False, _ONE),
        ("VTech", "KidiZoom Camera", 59, 4, False, _ONE),
        ("Smoby", "Play Kitchen", 129, 12, False, _ONE),
    ),
    "books": (
        ("Gallimard", "L'Étranger", 8.2, 1.1, False, _ONE),
        ("Gallimard", "Le Petit Prince", 9.5, 1.0, False, _ONE),
        ("Folio", "Les Misérables", 12.9, 2.4, False, _ONE),
        ("Albin Michel", "Sapiens", 24.9, 2.0, False, _ONE),
        ("Hachette", "Astérix – L'Iris blanc", 10.99, 1.2, False, _ONE),
        ("Glénat", "One Piece vol. 105", 7.2, 0.6, False, _ONE),
        ("Pocket", "Dune", 12.5, 1.8, False, _ONE),
        ("Penguin", "1984", 10.0, 1.2, False, _ONE),
        ("Penguin", "Atomic Habits", 18.0, 1.4, False, _ONE),
        ("Penguin", "The Midnight Library", 15.0, 1.3, False, _ONE),
        ("Penguin", "Where the Crawdads Sing", 17.0, 1.4, False, _ONE),
        ("Vintage", "Klara and the Sun", 16.0, 1.3, False, _ONE),
        ("Random House", "Educated", 18.0, 1.5, False, _ONE),
        ("Scholastic", "Harry Potter Box Set", 69.0, 6.0, False, _ONE),
        ("Larousse", "Le Petit Larousse 2025", 32.9, 3.5, False, _ONE),
        ("Marabout", "Cuisine facile", 14.9, 1.6, False, _ONE),
        ("Dargaud", "Blake et Mortimer", 16.5, 1.2, False, _ONE),
        ("Actes Sud", "Le Consentement", 18.0, 1.1, False, _ONE),
        ("O'Reilly", "Fluent Python", 59.0, 3.0, False, _ONE),
        ("Taschen", "Basquiat", 20.0, 2.5, False, _ONE),
    ),
    "fashion": (
        ("Levi's", "501 Original Jeans", 110, 33, False, _ONE),
        ("Nike", "Air Force 1", 119, 14, False, _ONE),
        ("Adidas", "Stan Smith", 109, 13, False, _ONE),
        ("Veja", "V-10 Sneakers", 150, 12, False, _ONE),
        ("Patagonia", "Nano Puff Jacket", 229, 30, False, _ONE),
        ("Uniqlo", "Ultra Light Down Jacket", 79, 20, False, _ONE),
        ("Petit Bateau", "Striped Sailor Top", 60, 8, False, _ONE),
        ("Zara", "Trench Coat", 129, 25, False, _ONE),
        ("Ray-Ban", "Wayfarer", 163, 4, False, _ONE),
        ("Columbia", "Fleece Jacket", 69, 15, False, _ONE),
        ("Lacoste", "Polo L.12.12", 110, 10, False, _ONE),
        ("Armor-Lux", "Breton Sweater", 95, 18, False, _ONE),
        ("Le Slip Français", "Boxer Briefs", 35, 3, False, _ONE),
        ("The North Face", "Nuptse Jacket", 330, 35, False, _ONE),
        ("Converse", "Chuck 70", 95, 11, False, _ONE),
        ("Carhartt", "Chore Coat", 170, 28, False, _ONE),
        ("Sézane", "Cardigan", 120, 16, False, _ONE),
    ),
}

CATEGORIES: tuple[str, ...] = tuple(_MODELS)


def _brand_code(brand: str) -> str:
    letters = "".join(ch for ch in brand.upper() if ch.isalnum() and ch.isascii())
    return letters[:4]


def _retail_price(euros: float) -> float:
    """Cheap items keep their cents; others end in .99, as shop prices do."""
    if euros < 20:
        return round(euros, 2)
    return round(euros) - 0.01


def local_price(product: Product, country: str) -> tuple[float, str]:
    """The shelf price of `product` in `country` and its currency (EUR in FR, USD in the US)."""
    if country == "US":
        return _retail_price(product.price * EUR_TO_USD), "USD"
    return product.price, product.currency


@lru_cache(maxsize=8)
def _catalog(seed: int) -> tuple[Product, ...]:
    rng = random.Random(seed * 1_000_003 + 104_729)
    products: list[Product] = []
    model_index = 0
    for category, models in _MODELS.items():
        for brand, model, base, co2, refurbishable, variants in models:
            model_index += 1
            jitter = rng.uniform(0.96, 1.04)  # seeds differ a little, like two price lists
            for label, delta, extra_co2 in variants:
                name = f"{brand} {model}" + (f" {label}" if label else "")
                stem = f"{_brand_code(brand)}-{model_index:03d}" + (f"-{label}" if label else "")
                new_price = _retail_price((base + delta) * jitter)
                new_co2 = round(co2 + extra_co2, 2)
                products.append(
                    Product(
                        f"P{len(products) + 1:04d}",
                        f"{stem}-N",
                        name,
                        brand,
                        category,
                        new_price,
                        "EUR",
                        "new",
                        new_co2,
                    )
                )
                if refurbishable:
                    products.append(
                        Product(
                            f"P{len(products) + 1:04d}",
                            f"{stem}-R",
                            f"{name} (refurbished)",
                            brand,
                            category,
                            _retail_price(new_price * rng.uniform(0.55, 0.8)),
                            "EUR",
                            "refurbished",
                            round(new_co2 * rng.uniform(0.10, 0.25), 2),
                        )
                    )
    return tuple(products)


def catalog(seed: int = 7) -> list[Product]:
    """The demo catalogue for `seed`: about 200 products over 11 categories.

    Deterministic: the same seed gives the same products, ids and prices.
    """
    return list(_catalog(seed))
