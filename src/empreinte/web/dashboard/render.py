"""Templates to HTML, in the viewer's language: one Jinja2 environment per language.

Autoescaping is on for every template: whatever a customer sent (a trait, a comment, a page
title) is shown as text. Charts reach the page as JSON inside `<script type="application/
json">` blocks, made by `to_json` with `<`, `>` and `&` escaped, so no value can close the
block.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from empreinte import __version__
from empreinte.credentials import Role
from empreinte.web.dashboard.components import json_ready
from empreinte.web.dashboard.i18n import LANGUAGES, Formats, translations
from empreinte.web.dashboard.page import Page

TEMPLATES = Path(__file__).parent / "templates"


def to_json(value: Any) -> Markup:
    text = orjson.dumps(json_ready(value), option=orjson.OPT_NON_STR_KEYS).decode()
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


class Renderer:
    def __init__(self, navigation: Sequence[str], pages: Sequence[Page], zone: str = "UTC"):
        by_key: dict[str, Page] = {}
        for page in pages:  # a key's first page is its entry (its others light it up)
            if not page.fragment:
                by_key.setdefault(page.key, page)
        self._navigation = [by_key[key] for key in navigation if key in by_key]
        self._envs = {language: self._environment(language, zone) for language in LANGUAGES}

    def _environment(self, language: str, zone: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            extensions=["jinja2.ext.i18n"],
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
        fmt = Formats(language, zone)
        env.filters.update(fmt.filters())
        env.filters["json"] = to_json
        env.globals.update(
            language=language,
            languages=LANGUAGES,
            fmt=fmt,
            static=lambda name: f"/static/{name}?v={__version__}",
            Role=Role,
        )
        return env

    def render(self, template: str, language: str, context: Mapping[str, Any]) -> str:
        env = self._envs[language]
        viewer = context.get("viewer")
        navigation = [p for p in self._navigation if viewer is not None and viewer.role in p.roles]
        return env.get_template(template).render({**context, "navigation": navigation})
