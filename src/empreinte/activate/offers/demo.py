"""The demo retailer's offers: about 30, built from demo/catalog.py's categories and brands
(a category discount, a brand's week, refurbished models, app-only and segment-only offers,
some with a budget), and the recommender trained on the demo log. `empreinte demo` calls
`seed_demo` so that a newcomer sees offers working."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from empreinte.demo.catalog import catalog

if TYPE_CHECKING:
    from empreinte.activate.offers.service import TrainReport
    from empreinte.workspace import Workspace

# (English, French) names of the demo categories, as an offer's title reads them.
_CATEGORY_NAMES = {
    "phones": ("phones", "les téléphones"),
    "laptops": ("laptops", "les ordinateurs portables"),
    "tablets": ("tablets", "les tablettes"),
    "audio": ("audio", "l'audio"),
    "gaming": ("gaming", "les jeux vidéo"),
    "wearables": ("wearables", "les montres connectées"),
    "home": ("home", "la maison"),
    "accessories": ("accessories", "les accessoires"),
    "toys": ("toys", "les jouets"),
    "books": ("books", "les livres"),
    "fashion": ("fashion", "la mode"),
}
_REFURBISHED_FR = {
    "phones": "Téléphones reconditionnés",
    "laptops": "Ordinateurs portables reconditionnés",
    "tablets": "Tablettes reconditionnées",
    "audio": "Audio reconditionné",
    "gaming": "Consoles reconditionnées",
    "wearables": "Montres connectées reconditionnées",
}


def demo_offers(seed: int = 7) -> list[dict[str, Any]]:
    """The demo catalogue's offers, as import documents (deterministic)."""
    products = catalog(seed)
    categories = sorted({p.category for p in products})
    brands = Counter(p.brand for p in products)
    offers: list[dict[str, Any]] = []
    for i, category in enumerate(categories):
        percent = (10, 15, 20)[i % 3]
        en, fr = _CATEGORY_NAMES.get(category, (category, category))
        offers.append(
            {
                "offer_id": f"cat-{category}",
                "title_en": f"{percent}% off {en}",
                "title_fr": f"-{percent} % sur {fr}",
                "categories": [category],
                "cap_per_week": 2,
            }
        )
    for brand, _ in sorted(brands.items(), key=lambda kv: (-kv[1], kv[0]))[:10]:
        slug = brand.lower().replace(" ", "-").replace("'", "")
        offers.append(
            {
                "offer_id": f"brand-{slug}",
                "title_en": f"{brand} week: a gift with every order",
                "title_fr": f"Semaine {brand} : un cadeau pour toute commande",
                "brand": brand,
                "budget_redemptions": 500,
            }
        )
    refurbished = sorted({p.category for p in products if p.condition == "refurbished"})
    for category in refurbished[:5]:
        skus = [p.sku for p in products if p.category == category and p.condition == "refurbished"]
        fr = _REFURBISHED_FR.get(category, f"{category} reconditionnés")
        offers.append(
            {
                "offer_id": f"refurb-{category}",
                "title_en": f"Refurbished {category}: 2-year warranty, €20 off",
                "title_fr": f"{fr} : garantie 2 ans, 20 € offerts",
                "products": skus[:20],
                "budget_eur": 2000,
                "value_eur": 20,
            }
        )
    offers += [
        {
            "offer_id": "app-free-delivery",
            "title_en": "Free delivery on the app",
            "title_fr": "Livraison offerte dans l'appli",
            "categories": ["accessories", "audio"],
            "channels": ["app"],
        },
        {
            "offer_id": "fr-rentree",
            "title_en": "Back to school: laptops and tablets",
            "title_fr": "Rentrée : portables et tablettes",
            "categories": ["laptops", "tablets"],
            "eligibility": 'country = "FR"',
        },
        {
            "offer_id": "us-gaming",
            "title_en": "Gaming night: consoles and games",
            "title_fr": "Soirée jeux : consoles et jeux",
            "categories": ["gaming"],
            "eligibility": 'country = "US"',
        },
        {
            "offer_id": "loyal-books",
            "title_en": "For our regulars: a book offered",
            "title_fr": "Pour nos fidèles : un livre offert",
            "categories": ["books"],
            "eligibility": 'did("Order Completed", count>=2)',
            "budget_eur": 1500,
            "value_eur": 12,
        },
    ]
    return offers


def seed_demo(workspace: Workspace, seed: int = 7) -> TrainReport:
    """Load the demo offers and train the recommender on the workspace's log."""
    service = workspace.offers
    service.save_all(demo_offers(seed))
    return service.train()
