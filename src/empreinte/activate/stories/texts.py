"""A person's story told in English or French: the texts (this module's own catalogue) and
the locale formats of numbers, units, months and money (Babel, CLDR data)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import get_month_names
from babel.numbers import format_currency, format_decimal, format_percent
from babel.units import format_unit

from empreinte.activate.stories.model import Community, YearFigures
from empreinte.activate.stories.settings import LANGUAGES
from empreinte.errors import InvalidInput

# The catalogue: one entry per text, in each language. Plurals are chosen by `_plural`.
TEXTS: Mapping[str, Mapping[str, str]] = {
    "intro.title": {"en": "Your year in review", "fr": "Votre bilan de l'année"},
    "intro.detail": {
        "en": "A look back at your year with us.",
        "fr": "Un regard sur l'année que vous avez passée avec nous.",
    },
    "products.title": {"en": "Products bought", "fr": "Produits achetés"},
    "products.detail.one": {"en": "in {orders} order", "fr": "en {orders} commande"},
    "products.detail.other": {"en": "in {orders} orders", "fr": "en {orders} commandes"},
    "categories.title": {"en": "Your favourite category", "fr": "Votre rayon préféré"},
    "categories.detail.two": {"en": "followed by {second}", "fr": "suivi de : {second}"},
    "categories.detail.three": {
        "en": "followed by {second} and {third}",
        "fr": "suivi de : {second} et {third}",
    },
    "channel.title": {"en": "Where you shopped most", "fr": "Là où vous achetez le plus"},
    "channel.detail": {
        "en": "{n} of your {orders} orders",
        "fr": "{n} de vos {orders} commandes",
    },
    "channel.detail.all": {
        "en": "all {orders} of your orders",
        "fr": "chacune de vos {orders} commandes",
    },
    "month.title": {"en": "Your busiest month", "fr": "Votre mois le plus actif"},
    "month.detail.one": {"en": "{n} order", "fr": "{n} commande"},
    "month.detail.other": {"en": "{n} orders", "fr": "{n} commandes"},
    "savings.title": {"en": "Money saved", "fr": "Économisé"},
    "savings.detail": {
        "en": "by choosing refurbished rather than new",
        "fr": "en choisissant le reconditionné plutôt que le neuf",
    },
    "savings.detail.promotions": {
        "en": "with our promotions",
        "fr": "grâce à nos promotions",
    },
    "savings.detail.both": {
        "en": "{refurbished} by choosing refurbished rather than new, {promotions} with our "
        "promotions",
        "fr": "{refurbished} en choisissant le reconditionné plutôt que le neuf, {promotions} "
        "grâce à nos promotions",
    },
    "impact.title": {"en": "CO₂ avoided", "fr": "CO₂ évité"},
    "impact.detail.one": {
        "en": "with {n} refurbished product rather than a new one",
        "fr": "grâce à {n} produit reconditionné plutôt que neuf",
    },
    "impact.detail.other": {
        "en": "with {n} refurbished products rather than new ones",
        "fr": "grâce à {n} produits reconditionnés plutôt que neufs",
    },
    "impact.rank": {
        "en": "That puts you in the top {percent} of our community.",
        "fr": "Vous êtes dans le top {percent} de notre communauté.",
    },
    "impact.community": {
        "en": "Together, our community avoided {total} of CO₂.",
        "fr": "Ensemble, notre communauté a évité {total} de CO₂.",
    },
    "impact.none.title": {
        "en": "CO₂ avoided by our community",
        "fr": "CO₂ évité par notre communauté",
    },
    "impact.none.detail": {
        "en": "{people} people chose refurbished this year. Next year, join them?",
        "fr": "{people} personnes ont choisi le reconditionné cette année. "
        "Et vous, l'an prochain ?",
    },
    "download": {"en": "Download the image", "fr": "Télécharger l'image"},
    "footer": {
        "en": "CO₂ avoided: the new unit's footprint minus the refurbished unit's, per unit, "
        "from our product catalogue.",
        "fr": "CO₂ évité : empreinte du produit neuf moins celle du reconditionné, par unité, "
        "d'après notre catalogue produits.",
    },
}

CHANNELS: Mapping[str, Mapping[str, str]] = {
    "web": {"en": "On the website", "fr": "Sur le site"},
    "app": {"en": "In the app", "fr": "Dans l'appli"},
    "store": {"en": "In store", "fr": "En magasin"},
    "phone": {"en": "By phone", "fr": "Par téléphone"},
    "call_center": {"en": "By phone", "fr": "Par téléphone"},
}

CATEGORIES: Mapping[str, Mapping[str, str]] = {
    "phones": {"en": "Phones", "fr": "Téléphones"},
    "laptops": {"en": "Laptops", "fr": "Ordinateurs portables"},
    "tablets": {"en": "Tablets", "fr": "Tablettes"},
    "audio": {"en": "Audio", "fr": "Son"},
    "gaming": {"en": "Gaming", "fr": "Jeux vidéo"},
    "wearables": {"en": "Wearables", "fr": "Objets connectés"},
    "home": {"en": "Home", "fr": "Maison"},
    "accessories": {"en": "Accessories", "fr": "Accessoires"},
    "toys": {"en": "Toys", "fr": "Jouets"},
    "books": {"en": "Books", "fr": "Livres"},
    "fashion": {"en": "Fashion", "fr": "Mode"},
}


NBSP = "\u00a0"

#: The rank is told up to "top 50 %".
RANK_SHOWN_UP_TO = 50


@dataclass(frozen=True)
class Slide:
    """One part of a story: a title, the big figure, a sentence under it."""

    key: str
    title: str
    big: str
    detail: str
    note: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "section": self.key,
            "title": self.title,
            "figure": self.big,
            "detail": self.detail,
            "note": self.note,
        }


@dataclass(frozen=True)
class Story:
    """A person's year, told: the intro, the sections in their country's order, a footer."""

    profile_id: str
    year: int
    lang: str
    locale: str
    intro: Slide
    slides: tuple[Slide, ...]
    footer: str
    figures: YearFigures
    community: Community

    def to_json(self) -> dict[str, Any]:
        return {
            "profile_id": self.profile_id,
            "year": self.year,
            "lang": self.lang,
            "locale": self.locale,
            "intro": self.intro.to_json(),
            "slides": [s.to_json() for s in self.slides],
            "footer": self.footer,
            "figures": self.figures.to_json(),
            "community": self.community.to_json(),
        }


def check_lang(lang: str | None) -> str | None:
    if lang is None:
        return None
    if lang not in LANGUAGES:
        raise InvalidInput("lang", f"choose one of {', '.join(LANGUAGES)}")
    return lang


def language_of(locale: str | None, default: str) -> str:
    """The story's language from a locale such as "fr-FR" (English or French; else `default`)."""
    if locale:
        code = locale.replace("-", "_").split("_")[0].lower()
        if code in LANGUAGES:
            return code
    return default


def babel_locale(lang: str, country: str | None) -> str:
    """The CLDR locale of formats: the language with the person's country when CLDR knows the
    pair (fr_BE, en_GB…), else the language's own default."""
    if country and country.isalpha() and len(country) == 2:
        candidate = f"{lang}_{country.upper()}"
        try:
            Locale.parse(candidate)
            return candidate
        except (UnknownLocaleError, ValueError):
            pass
    return {"en": "en_US", "fr": "fr_FR"}[lang]


class Teller:
    """Formats and texts of one language and locale."""

    def __init__(self, lang: str, locale: str):
        self.lang = lang
        self.locale = locale

    def text(self, key: str, **values: Any) -> str:
        return TEXTS[key][self.lang].format(**values)

    def plural(self, key: str, quantity: int, **values: Any) -> str:
        # English and French differ on 0: "0 orders", "0 commande".
        one = quantity == 1 if self.lang == "en" else quantity <= 1
        return self.text(f"{key}.{'one' if one else 'other'}", **values)

    def number(self, value: float) -> str:
        return format_decimal(value, format="#,##0.#", locale=self.locale)

    def count(self, value: int) -> str:
        return format_decimal(value, format="#,##0", locale=self.locale)

    def mass(self, kg: float) -> str:
        """ "1,234.5 kg", "12.3 t" (tonnes from 10 t on) in the locale's digits; the number
        and its unit never split across lines (a no-break space where CLDR puts a space)."""
        if kg >= 10_000:
            text = format_unit(
                kg / 1000, "mass-tonne", length="short", format="#,##0.#", locale=self.locale
            )
        else:
            text = format_unit(
                kg, "mass-kilogram", length="short", format="#,##0.#", locale=self.locale
            )
        return str(text).replace(" ", NBSP)

    def money(self, amount: float, currency: str) -> str:
        return format_currency(amount, currency, locale=self.locale)

    def percent(self, whole: int) -> str:
        return format_percent(whole / 100, locale=self.locale)

    def month(self, month: int) -> str:
        name = str(get_month_names("wide", context="stand-alone", locale=self.locale)[month])
        return name[:1].upper() + name[1:]

    def channel(self, channel: str) -> str:
        return CHANNELS.get(channel, {}).get(self.lang, channel)

    def category(self, category: str) -> str:
        return CATEGORIES.get(category, {}).get(self.lang, category)


def tell(
    figures: YearFigures, community: Community, sections: tuple[str, ...], lang: str, locale: str
) -> Story:
    """The story of `figures` in `lang`, sections in the order given (those with nothing to
    tell are left out)."""
    t = Teller(lang, locale)
    slides = [s for s in (_slide(t, key, figures, community) for key in sections) if s]
    return Story(
        profile_id=figures.profile_id,
        year=figures.year,
        lang=lang,
        locale=locale,
        intro=Slide(
            "intro",
            t.text("intro.title", year=figures.year),
            str(figures.year),
            t.text("intro.detail"),
        ),
        slides=tuple(slides),
        footer=t.text("footer"),
        figures=figures,
        community=community,
    )


def _slide(t: Teller, key: str, f: YearFigures, c: Community) -> Slide | None:
    if key == "products":
        detail = t.plural("products.detail", f.orders, orders=t.count(f.orders))
        return Slide(key, t.text("products.title"), t.count(f.items), detail)
    if key == "categories" and f.categories:
        names = [t.category(c) for c in f.categories]
        detail = (
            t.text("categories.detail.three", second=names[1], third=names[2])
            if len(names) == 3
            else t.text("categories.detail.two", second=names[1])
            if len(names) == 2
            else ""
        )
        return Slide(key, t.text("categories.title"), names[0], detail)
    # A favourite and a busiest month need at least two orders to mean anything.
    if key == "channel" and f.channel and f.orders >= 2:
        detail = (
            t.text("channel.detail.all", orders=t.count(f.orders))
            if f.channel_orders == f.orders
            else t.text("channel.detail", n=t.count(f.channel_orders), orders=t.count(f.orders))
        )
        return Slide(key, t.text("channel.title"), t.channel(f.channel), detail)
    if key == "month" and f.month and f.month_orders >= 2:
        detail = t.plural("month.detail", f.month_orders, n=t.count(f.month_orders))
        return Slide(key, t.text("month.title"), t.month(f.month), detail)
    if key == "savings" and f.currency and f.saved + f.promotions >= 0.005:
        total = t.money(f.saved + f.promotions, f.currency)
        if f.saved >= 0.005 and f.promotions >= 0.005:
            detail = t.text(
                "savings.detail.both",
                refurbished=t.money(f.saved, f.currency),
                promotions=t.money(f.promotions, f.currency),
            )
        elif f.promotions >= 0.005:
            detail = t.text("savings.detail.promotions")
        else:
            detail = t.text("savings.detail")
        return Slide(key, t.text("savings.title"), total, detail)
    if key == "impact":
        community = t.text("impact.community", total=t.mass(c.co2_avoided_kg))
        if f.co2_avoided_kg > 0 and f.top_percent is not None:
            detail = t.plural("impact.detail", f.refurbished_items, n=t.count(f.refurbished_items))
            rank = t.text("impact.rank", percent=t.percent(f.top_percent))
            return Slide(
                key, t.text("impact.title"), t.mass(f.co2_avoided_kg), detail, f"{rank} {community}"
            )
        if c.co2_avoided_kg > 0:
            detail = t.text("impact.none.detail", people=t.count(c.refurbished_buyers))
            return Slide(key, t.text("impact.none.title"), t.mass(c.co2_avoided_kg), detail)
    return None
