"""The partner report's column names and words in English and French, for the CLI table and
the CSV a retailer hands to a brand (the dashboard has its own catalogue, partners.po)."""

from __future__ import annotations

LABELS: dict[str, tuple[str, str]] = {
    "brand": ("brand", "marque"),
    "category": ("category", "catégorie"),
    "group": ("group", "groupe"),
    "category_buyers": ("category buyers", "acheteurs de la catégorie"),
    "brand_buyers": ("brand buyers", "acheteurs de la marque"),
    "repeat_buyers": ("repeat buyers", "réacheteurs"),
    "one_time_buyers": ("one-time buyers", "acheteurs d'une fois"),
    "other_buyers": ("other brands only", "autres marques seulement"),
    "switch_base": ("bought twice or more", "deux achats ou plus"),
    "from_brand": ("first: brand", "d'abord la marque"),
    "from_other": ("first: other brands", "d'abord d'autres marques"),
    "kept": ("kept", "fidèles"),
    "lost": ("lost", "partis"),
    "won": ("won", "gagnés"),
    "never": ("other brands twice", "autres marques deux fois"),
    "penetration": ("penetration", "pénétration"),
    "repeat_rate": ("repeat rate", "taux de réachat"),
    "share_of_wallet": ("share of wallet", "part de portefeuille"),
    "retention": ("retention", "rétention"),
    "conquest": ("conquest", "conquête"),
    "suppressed": ("suppressed", "masqué"),
    "(all)": ("(all)", "(tout)"),
    "(other)": ("(other)", "(autres)"),
    "(unknown)": ("(unknown)", "(inconnu)"),
}


def label(key: str, lang: str = "en") -> str:
    """`key` in `lang` (en, fr); unknown keys (a category, a city) as they are."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "fr" else pair[0]
