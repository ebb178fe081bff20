"""Year in review: the community's year (buyers, refurbished items, CO2 avoided together), a
preview of one person's story in English or French with its PNG, and the share link.

Everything goes through `ws.stories` (activate/stories/) as the API does
(web/activate_stories_api.py), with its roles: analysts and admins; viewers get 403 and no
navigation entry. A person who does not allow `personalisation` has no story: the page says
so and shows nothing of theirs. The community's figures are aggregates, reused for a minute
through the report cache; a person's story is computed when asked, never cached (a consent
withdrawal shows at once).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from empreinte.errors import EmpreinteError
from empreinte.web.dashboard.page import N_, STAFF, Action, Page, View

LANG_CHOICES = ("", "en", "fr")
NO_STORY = {
    "unknown": N_("No customer has this profile id."),
    "consent": N_("No story: this customer does not allow personalisation."),
    "analytics": N_("No story: this customer does not allow analytics."),
    "no_purchase": N_("No story: this customer has no order in %(year)s."),
}
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _year(view: View, form: Mapping[str, str] | None = None) -> int:
    default = datetime.now(UTC).year - 1  # the last whole year
    if form is not None and form.get("year", "").strip().isdigit():
        year = int(form["year"])
        return year if FIRST_YEAR <= year <= LAST_YEAR else default
    return view.int_arg("year", default, FIRST_YEAR, LAST_YEAR)


def _community(view: View, year: int) -> dict[str, Any]:
    found = view.report(("stories-community", year), lambda: view.ws.stories.community(year))
    return found.to_json()


def _preview(view: View, profile: str, year: int, lang: str) -> dict[str, Any]:
    """The story of `profile` and its PNG (as a data: address), or why there is none."""
    if not profile:
        return {}
    from empreinte.errors import NoStory

    try:
        story = view.ws.stories.story(profile, year, lang or None)
    except NoStory as exc:
        return {"missing": view.gettext(NO_STORY[exc.reason]) % {"year": year}}
    except EmpreinteError as exc:
        return {"missing": view.problem(exc)}
    png = view.ws.stories.png(story)
    return {
        "story": story,
        "png": "data:image/png;base64," + base64.b64encode(png).decode(),
        "filename": f"year-in-review-{story.year}-{story.lang}.png",
    }


def _context(view: View, profile: str, year: int, lang: str, **extra: Any) -> Mapping[str, Any]:
    return {
        "year": year,
        "profile": profile,
        "lang": lang,
        "langs": LANG_CHOICES,
        "community": _community(view, year),
        **_preview(view, profile, year, lang),
        **extra,
    }


def build(view: View) -> Mapping[str, Any]:
    year = _year(view)
    profile = view.arg("profile")
    lang = view.choice("lang", LANG_CHOICES, "")
    return _context(view, profile, year, lang)


def share(view: View, form: Mapping[str, str]) -> Mapping[str, Any]:
    """Make a share link for the previewed story; the page shows it."""
    from empreinte.errors import NoStory

    profile = form.get("profile", "").strip()[:200]
    year = _year(view, form)
    lang = form.get("lang", "")
    lang = lang if lang in LANG_CHOICES else ""
    try:
        link = view.ws.stories.share(
            profile, year, f"dashboard:{view.viewer.username}", lang or None
        )
    except NoStory as exc:
        message = view.gettext(NO_STORY[exc.reason]) % {"year": year}
        return _context(view, profile, year, lang, share_error=message)
    except EmpreinteError as exc:
        return _context(view, profile, year, lang, share_error=view.problem(exc))
    return _context(view, profile, year, lang, link=link.path)


STORIES = Page(
    "stories",
    "/year-in-review",
    N_("Year in review"),
    "stories.html",
    build,
    STAFF,
)
PAGES = [STORIES]
ACTIONS = [Action("/year-in-review/share", share, STORIES, STAFF)]

# Section keys are shown from data in the community block: none. Texts of the story itself
# come from its own catalogue (activate/stories/texts.py), in the story's language.
