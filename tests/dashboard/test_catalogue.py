"""The dashboard's French is complete and consistent, and numbers follow the locale."""

from __future__ import annotations

import re
from datetime import date

from empreinte.web.dashboard.i18n import (
    Formats,
    language_of,
    read_catalogue,
    source_texts,
    untranslated,
)

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_every_text_of_the_dashboard_is_translated_into_french() -> None:
    missing = untranslated()["fr"]
    listing = "\n".join(f"{text!r} ({', '.join(where)})" for text, where in missing.items())
    assert not missing, f"texts without French (python -m empreinte.web.dashboard.i18n):\n{listing}"


def test_translations_keep_their_placeholders_and_nothing_is_stale() -> None:
    texts = source_texts()
    french = read_catalogue("fr")
    assert len(texts) > 50
    for text, translation in french.items():
        assert text in texts, f"stale translation (no page shows it any more): {text!r}"
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(translation)), text
        assert translation.strip(), text


def test_numbers_dates_and_percentages_follow_the_locale() -> None:
    fr, en = Formats("fr"), Formats("en")
    assert fr.number(1234.5, 1) == "1\u202f234,5"
    assert en.number(1234.5, 1) == "1,234.5"
    assert fr.percent(0.256) == "25,6\u00a0%"
    assert en.percent(0.256) == "25.6%"
    assert fr.date(date(2026, 3, 4)) == "4 mars 2026"
    assert en.date(date(2026, 3, 4)) == "Mar 4, 2026"
    assert fr.number(float("nan")) == en.number(None) == "–"
    assert fr.plotly_separators() == ",\u202f" and en.plotly_separators() == ".,"


def test_the_language_is_negotiated_from_the_browser() -> None:
    assert language_of(None, "fr-CA,fr;q=0.9") == "fr"
    assert language_of(None, "de-DE,en;q=0.3,fr;q=0.5") == "fr"
    assert language_of(None, "de-DE") == "en"
    assert language_of("en", "fr-FR") == "en"  # the switch wins
    assert language_of("xx", "fr-FR") == "fr"  # an unknown cookie is ignored
    assert language_of(None, "fr;q=nan,en;q=inf") in ("en", "fr")
    assert language_of(None, ";;;" * 50_000) == "en"


def test_a_text_has_one_french_translation_in_every_catalogue() -> None:
    """Catalogues are merged: a text translated two ways would be shown one way on every
    page, whichever file sorts last."""
    from babel.messages.pofile import read_po

    from empreinte.web.dashboard.i18n import catalogue_files

    seen: dict[str, dict[str, str]] = {}
    for path in catalogue_files("fr"):
        with path.open("rb") as handle:
            for message in read_po(handle):
                if message.id and message.string:
                    seen.setdefault(str(message.id), {})[path.name] = str(message.string)
    clashes = {text: files for text, files in seen.items() if len(set(files.values())) > 1}
    assert not clashes
