"""The shape of a dashboard page, its forms, and what their code receives.

A page module (in `pages/`) declares `PAGES` and `ACTIONS`:

- a `Page` is a GET route: who may see it, its template, and `build(view) -> context`, run
  in a worker thread (the reports are synchronous and may take a moment). A page whose
  template does not extend `base.html` is a fragment (e.g. a live count fetched by script).
- an `Action` is a POST route for a form: the CSRF token is checked before `handle(view,
  form)` runs; it answers a `Redirect` (back to a page, with a notice the page declares) or
  a context dict to render its page's template with (to show a secret once, say).

`View` is what `build` and `handle` get: the workspace, the viewer, the language, the query.
Texts shown to users go through `view.gettext` so that the catalogue finds them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.datastructures import QueryParams

from empreinte.credentials import Role
from empreinte.errors import EmpreinteError, InvalidInput
from empreinte.web.dashboard.cache import ReportCache
from empreinte.web.dashboard.i18n import Formats, translations
from empreinte.web.dashboard.session import Viewer

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

T = TypeVar("T")

EVERYONE = (Role.ADMIN, Role.ANALYST, Role.VIEWER)
STAFF = (Role.ADMIN, Role.ANALYST)
ADMINS = (Role.ADMIN,)


def N_(text: str) -> str:
    """Marks `text` for the catalogue where it is translated later (a page's title)."""
    return text


#: Words templates translate from data (`_(viewer.role.value)`, `_(period)`): marked here so
#: that the catalogue has them.
WORDS = (
    N_("admin"),
    N_("analyst"),
    N_("viewer"),
    N_("day"),
    N_("week"),
    N_("month"),
    N_("quarter"),
    N_("year"),
)

#: Query values longer than this are refused (a segment expression is at most 4 KB).
MAX_ARG = 4_096
#: A query parameter repeated more than this is refused (funnel steps, features…).
MAX_REPEAT = 32


@dataclass(frozen=True)
class View:
    """One request to a page or action, as its code sees it."""

    ws: Workspace
    viewer: Viewer
    language: str
    query: QueryParams
    path: str
    cache: ReportCache
    #: when the cached figures on the page were computed (see `report`)
    computed: list[datetime] = field(default_factory=list)

    def report(self, key: Hashable, compute: Callable[[], T]) -> T:
        """An aggregate report (no list of people), computed or taken from the cache of the
        last minute (`?fresh=1` computes it again); `key` names it with every argument it
        depends on."""
        value, computed_at = self.cache.get(key, compute, renew=self.query.get("fresh") == "1")
        self.computed.append(computed_at)
        return value

    def problem(self, exc: EmpreinteError) -> str:
        """What the page says of an error of the request (a 4xx: the service's own words); a
        server-side error is re-raised, for the error page and the operator's log, since its
        details are not the reader's."""
        if not exc.exposed:
            raise exc
        return str(exc)

    @property
    def as_of(self) -> datetime | None:
        """The time of the oldest cached figure on the page (None: all computed now)."""
        return min(self.computed) if self.computed else None

    @property
    def fmt(self) -> Formats:
        return Formats(self.language, self.ws.config.timezone)

    def gettext(self, text: str) -> str:
        return translations(self.language).gettext(text)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations(self.language).ngettext(singular, plural, n)

    def arg(self, name: str, default: str = "") -> str:
        """The query parameter `name` (stripped), or `default` when absent or empty."""
        values = self.query.getlist(name)
        if len(values) > 1:
            raise InvalidInput(name, f"`{name}` was given {len(values)} times; give it once")
        value = values[0].strip() if values else ""
        if len(value) > MAX_ARG:
            raise InvalidInput(name, f"`{name}` is longer than {MAX_ARG} characters")
        return value or default

    def args(self, name: str) -> list[str]:
        """Every non-empty value of a repeatable query parameter, in order."""
        values = [v.strip() for v in self.query.getlist(name)]
        if len(values) > MAX_REPEAT:
            raise InvalidInput(name, f"at most {MAX_REPEAT} values of `{name}`")
        for value in values:
            if len(value) > MAX_ARG:
                raise InvalidInput(name, f"`{name}` is longer than {MAX_ARG} characters")
        return [v for v in values if v]

    def int_arg(self, name: str, default: int, low: int, high: int) -> int:
        text = self.arg(name)
        if not text:
            return default
        try:
            value = int(text)
        except ValueError:
            raise InvalidInput(name, f"`{name}` must be a whole number") from None
        if not low <= value <= high:
            raise InvalidInput(name, f"`{name}` must be between {low} and {high}")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.arg(name, default)
        if value not in choices:
            raise InvalidInput(name, f"`{name}` must be one of {', '.join(choices)}")
        return value


@dataclass(frozen=True)
class Redirect:
    """Where an action sends the browser after it: a local path, and a notice key the
    target page declares in its `notices`."""

    path: str
    notice: str = ""


Build = Callable[[View], Mapping[str, Any]]
Handle = Callable[[View, Mapping[str, str]], "Redirect | Mapping[str, Any]"]


@dataclass(frozen=True)
class Page:
    key: str  # the navigation entry it lights up
    path: str
    title: str  # English; translated by the catalogue
    template: str
    build: Build
    roles: tuple[Role, ...] = EVERYONE
    #: shown after an action redirects here with `?notice=<key>` (English texts)
    notices: Mapping[str, str] = field(default_factory=dict)
    #: a fragment has no navigation entry and no layout (its template does not extend
    #: base.html); a page of a key already in the navigation (a customer's 360 beside the
    #: search) is not a fragment: it lights up its key's entry, the first page of that key
    fragment: bool = False


@dataclass(frozen=True)
class Action:
    path: str
    handle: Handle
    #: the page whose template renders a context the handler returns (and on errors)
    page: Page
    roles: tuple[Role, ...] = ADMINS
