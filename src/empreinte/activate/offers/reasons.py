"""Why an offer is shown, in words a marketer (and the customer) reads, English and French:
"bought Google Pixel 8 2 weeks ago" / "a acheté Google Pixel 8 il y a 2 semaines" (the
relative time by Babel, CLDR's wording)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_timedelta

from empreinte.activate.offers.model import HistoryItem, Model

_VERBS = {
    "en": {
        "purchase": "bought {name} {ago}",
        "cart": "added {name} to the basket {ago}",
        "view": "looked at {name} {ago}",
    },
    "fr": {
        "purchase": "a acheté {name} {ago}",
        "cart": "a mis {name} dans son panier {ago}",
        "view": "a regardé {name} {ago}",
    },
}
_BEST_SELLER = {"en": "one of our best sellers", "fr": "une de nos meilleures ventes"}


@dataclass(frozen=True)
class Reason:
    """Why: `code` (bought, cart, viewed, best_seller), the product behind it and when."""

    code: str
    text: str
    product_id: str | None = None
    product: str | None = None
    at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "product_id": self.product_id,
            "product": self.product,
            "at": self.at.isoformat() if self.at else None,
        }


def from_history(model: Model, item: HistoryItem, now: datetime, lang: str) -> Reason:
    """The reason a history item gives ("bought X 2 weeks ago")."""
    name = model.names[item.item] or model.products[item.item]
    ago = format_timedelta(min(item.at - now, timedelta(0)), add_direction=True, locale=lang)
    code = {"purchase": "bought", "cart": "cart", "view": "viewed"}[item.kind]
    text = _VERBS[lang][item.kind].format(name=name, ago=ago)
    return Reason(code, text, model.products[item.item], name, item.at)


def best_seller(lang: str) -> Reason:
    return Reason("best_seller", _BEST_SELLER[lang])
