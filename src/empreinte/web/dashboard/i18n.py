"""The dashboard's languages: which one a request gets, its message catalogue, its formats.

The texts are written in English in the templates and page modules (`_("…")` in templates,
`view.gettext("…")` in Python, `N_("…")` for a text translated later) and translated in the
gettext catalogues of `locale/fr/LC_MESSAGES/` (`messages.po` for the shared texts, one per
page); `python -m empreinte.web.dashboard.i18n` prints the texts still to translate, found
with Babel's extractor, and a test fails on any. The `.po` files are compiled in memory when
the app starts: there is no build step and no compiled file to forget. Numbers, percentages
and dates are formatted with Babel's CLDR data for the request's locale (1 234,5 in French,
1,234.5 in English).

The language is, in order: the `empreinte_lang` cookie (set by the switch in the page
header), then the browser's `Accept-Language`, then English.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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


def catalogue_files(language: str) -> list[Path]:
    """The `.po` files of `language`: `messages.po` (the shared texts) and one per page
    (`overview.po`, `journeys.po`…), so that pages are translated without touching each
    other's files."""
    return sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"))


def read_catalogue(language: str) -> dict[str, str]:
    """Every translated text of `language` (the union of its `.po` files), fuzzy ones left
    out."""
    found: dict[str, str] = {}
    for path in catalogue_files(language):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id and message.string and not message.fuzzy:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    found[key] = (
                        message.string if isinstance(message.string, str) else message.string[0]
                    )
    return found


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of `language` (English is the source: no catalogue)."""
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    merged: Translations | None = None
    for path in catalogue_files(language):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language, domain=DOMAIN)
        compiled = io.BytesIO()
        write_mo(compiled, catalog, use_fuzzy=False)
        compiled.seek(0)
        part = Translations(compiled, domain=DOMAIN)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    return merged if merged is not None else NullTranslations()


@dataclass(frozen=True)
class Formats:
    """Locale-aware formatting for templates (as filters) and page code; times are shown in
    the workspace's time zone."""

    language: str
    zone: str = "UTC"

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    def number(self, value: Any, digits: int = 0) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return format_decimal(value, format=pattern, locale=self.language)

    def percent(self, value: Any, digits: int = 1) -> str:
        """`value` is a share (0.256 → 25.6% in English, 25,6 % in French)."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        pattern = self.locale.percent_formats[None].pattern  # the locale's spacing and sign
        if digits > 0:
            last = pattern.rindex("0") + 1
            pattern = pattern[:last] + "." + "0" * digits + pattern[last:]
        return format_percent(value, format=pattern, locale=self.language)

    def date(self, value: date | datetime | None) -> str:
        if value is None:
            return "–"
        return format_date(value, format="medium", locale=self.language)

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return "–"
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return format_datetime(
            value, format="medium", tzinfo=ZoneInfo(self.zone), locale=self.language
        )

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


def source_texts() -> dict[str, list[str]]:
    """Every text the templates and page modules show, with where it is (file:line)."""
    from babel.messages.extract import extract_from_dir

    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        Path(__file__).parent,
        method_map=[("templates/**.html", "jinja2"), ("**.py", "python")],
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)},
    ):
        key = message if isinstance(message, str) else message[0]
        found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found


def untranslated() -> dict[str, dict[str, list[str]]]:
    """Per language, the source texts no catalogue translates (and where they are)."""
    texts = source_texts()
    out: dict[str, dict[str, list[str]]] = {}
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        known = read_catalogue(language)
        out[language] = {text: where for text, where in texts.items() if text not in known}
    return out


if __name__ == "__main__":
    # `python -m empreinte.web.dashboard.i18n`: the texts still to translate, as .po entries
    # to paste into the page's own catalogue.
    for language, missing in untranslated().items():
        for text, where in sorted(missing.items()):
            print(f"# {language}: {', '.join(where)}")
            print(f'msgid {json.dumps(text, ensure_ascii=False)}\nmsgstr ""\n')
