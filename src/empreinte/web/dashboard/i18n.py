"""The dashboard's languages: which one a request gets, its message catalogue, its formats.

The texts are written in English in the templates and page modules (`_("…")` in templates,
`page.gettext("…")` in Python) and translated in `locale/fr/LC_MESSAGES/messages.po`, a
gettext catalogue kept with Babel (`python -m empreinte.web.dashboard.i18n` updates it from
the sources). The `.po` file is compiled in memory when the app starts: there is no build
step and no compiled file to forget. Numbers, percentages and dates are formatted with
Babel's CLDR data for the request's locale (1 234,5 in French, 1,234.5 in English).

The language is, in order: the `empreinte_lang` cookie (set by the switch in the page
header), then the browser's `Accept-Language`, then English.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "empreinte_lang"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"

#: The longest Accept-Language header read: the language is in its first entries, and a
#: client must not make the negotiation cost more than that.
_MAX_ACCEPT = 256


def language_of(cookie: str | None, accept_language: str | None) -> str:
    """The request's language: the cookie when it names one we have, else the browser's."""
    if cookie in LANGUAGES:
        return str(cookie)
    wanted: list[tuple[str, float]] = []
    for part in (accept_language or "")[:_MAX_ACCEPT].split(",")[:16]:
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and math.isfinite(quality) and quality > 0:
            wanted.append((tag.replace("_", "-"), quality))
    ordered = [tag for tag, _ in sorted(wanted, key=lambda w: -w[1])]
    found = negotiate_locale(ordered, list(LANGUAGES), sep="-") if ordered else None
    return found if found in LANGUAGES else DEFAULT_LANGUAGE


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of `language` (English is the source: no catalogue)."""
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@dataclass(frozen=True)
class Formats:
    """Locale-aware formatting for templates (as filters) and page code."""

    language: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    def number(self, value: Any, digits: int = 0) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return format_decimal(value, format=pattern, locale=self.language)

    def percent(self, value: Any, digits: int = 1) -> str:
        """`value` is a share (0.256 → 25.6 %)."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + " %"
        if self.language == "en":
            pattern = pattern.replace(" %", "%")
        return format_percent(value, format=pattern, locale=self.language)

    def date(self, value: date | datetime | None) -> str:
        if value is None:
            return "–"
        return format_date(value, format="medium", locale=self.language)

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return "–"
        return format_datetime(value, format="medium", locale=self.language)

    def plotly_separators(self) -> str:
        """Plotly's `layout.separators`: the decimal mark, then the thousands separator."""
        symbols = self.locale.number_symbols.get("latn", self.locale.number_symbols)
        return str(symbols["decimal"]) + str(symbols["group"])

    def filters(self) -> dict[str, Callable[..., str]]:
        return {
            "num": self.number,
            "pct": self.percent,
            "date": self.date,
            "datetime": self.datetime,
        }


def update_catalogue() -> list[str]:
    """Extract the texts of the templates and page modules and merge them into every
    catalogue (new texts empty, gone ones removed). Returns the texts still untranslated."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import write_po

    source = Catalog(domain=DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        Path(__file__).parent,
        method_map=[("templates/**.html", "jinja2"), ("**.py", "python")],
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)},
    ):
        source.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    missing: list[str] = []
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language, domain=DOMAIN)
        catalog.update(source, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, no_location=True)
        missing += [f"{language}: {m.id}" for m in catalog if m.id and not m.string]
    return missing


if __name__ == "__main__":
    untranslated = update_catalogue()
    print("\n".join(untranslated) or "every text is translated")
