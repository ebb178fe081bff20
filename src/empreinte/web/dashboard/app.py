"""The dashboard's routes: login, logout, language, static files, and every page and form.

Mounted at `/` after the API by `web/app.py`. Pages are rendered on the server (Jinja2,
autoescaped: a trait holding `<script>` shows as text) in the viewer's language; the little
script they have (`static/dashboard.js`) draws charts, sorts and pages tables, copies
snippets and fetches live counts. Every script, style and font comes from the package: no
CDN, so the dashboard works behind a firewall, and the Content-Security-Policy allows
nothing else.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Scope

from empreinte import __version__
from empreinte.config_sections import dashboard_settings
from empreinte.errors import AuthError, EmpreinteError, Forbidden, NotFound, TooManyAttempts
from empreinte.privacy.login_throttle import LoginThrottle
from empreinte.privacy.users import Users, session_key
from empreinte.web.cx_api import csv_answer
from empreinte.web.dashboard.cache import ReportCache
from empreinte.web.dashboard.components import downloadables
from empreinte.web.dashboard.i18n import LANGUAGE_COOKIE, LANGUAGES, language_of
from empreinte.web.dashboard.page import Action, Page, Redirect, View
from empreinte.web.dashboard.pages import ACTIONS, NAVIGATION, PAGES
from empreinte.web.dashboard.render import Renderer
from empreinte.web.dashboard.session import CSRF_FIELD, DashboardSessions, Viewer
from empreinte.web.dashboard.snippets import HOST as SNIPPET_HOST

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

log = logging.getLogger("empreinte.dashboard")

STATIC_DIR = Path(__file__).parent / "static"
#: A form's body is small text; a bigger one is refused before it is read whole.
MAX_FORM_BYTES = 64 * 1024

#: Headers of every HTML answer: nothing but our own scripts runs; no framing (click-jacking);
#: pages show personal data, so no cache keeps them, and no referrer leaks a customer's id.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
}


def _local_path(target: str, fallback: str = "/overview") -> str:
    """`target` if it is a path of this site (no open redirect to another host)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and len(target) < 2048:
        return target
    return fallback


def _static_file(name: str) -> Path | None:
    if name == "plotly.min.js":
        import plotly

        return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    path = STATIC_DIR / name
    if "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        return None
    return path


class Dashboard:
    """The dashboard of a workspace, for the users of `users`."""

    def __init__(self, workspace: Workspace, users: Users, throttle: LoginThrottle):
        self._ws = workspace
        self._sessions = DashboardSessions(users, session_key(workspace.path))
        self._throttle = throttle
        self._renderer = Renderer(NAVIGATION, PAGES, workspace.config.timezone)
        settings = dashboard_settings(workspace.config.dashboard)
        self._reports = ReportCache(
            workspace.privacy_store.erasure_count, max_age=settings["report_cache_seconds"]
        )

    def mount(self) -> Mount:
        routes: list[BaseRoute] = [
            Route("/", self.home, methods=["GET"]),
            Route("/login", self.login_page, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/language/{language}", self.language, methods=["GET"]),
            Mount(
                "/static",
                app=GZipMiddleware(
                    Router([Route("/{name}", self.static, methods=["GET"])]),
                    minimum_size=1024,
                ),
            ),
        ]
        for page in PAGES:
            routes.append(Route(page.path, self._page_endpoint(page), methods=["GET"]))
        for action in ACTIONS:
            routes.append(Route(action.path, self._action_endpoint(action), methods=["POST"]))
        return _PagesMount("/", app=Router(routes))

    # -- the frame ---------------------------------------------------------------------------

    def _html(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        viewer: Viewer | None,
        status: int = 200,
        page: Page | None = None,
    ) -> HTMLResponse:
        cookies: dict[str, str] = {}
        language = language_of(
            request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language")
        )
        csrf = self._sessions.csrf_token(request, cookies)

        def query_with(**changes: str | None) -> str:
            """This page's query, without one-off keys, with `changes` (None removes)."""
            drop = {"download", "notice", "fresh", *changes}
            items = [(k, v) for k, v in request.query_params.multi_items() if k not in drop]
            items += [(k, v) for k, v in changes.items() if v is not None]
            return urlencode(items)

        body = self._renderer.render(
            template,
            language,
            {
                **context,
                "viewer": viewer,
                "csrf_field": CSRF_FIELD,
                "csrf": csrf,
                "current": page,
                "request_path": request.url.path,
                "request_query": str(request.query_params),
                "query_with": query_with,
                "base_url": str(request.base_url).rstrip("/"),
                "snippet_host": SNIPPET_HOST,
                "version": __version__,
            },
        )
        response = HTMLResponse(body, status, headers=PAGE_HEADERS)
        for nonce in cookies.values():
            self._sessions.set_csrf_cookie(request, response, nonce)
        return response

    def _error(self, request: Request, viewer: Viewer | None, exc: EmpreinteError) -> HTMLResponse:
        if exc.status >= 500:
            log.exception("dashboard page failed", exc_info=exc)
        message = str(exc) if exc.status < 500 else ""
        return self._html(
            request, "error.html", {"status": exc.status, "message": message}, viewer, exc.status
        )

    async def _form(self, request: Request) -> dict[str, str]:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
            raise Forbidden("this form is too large")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise Forbidden("this form is too large")
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return dict(pairs[:200])

    # -- routes ------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        if self._sessions.viewer(request) is None:
            return RedirectResponse("/login", 303)
        return RedirectResponse("/overview", 303)

    async def login_page(self, request: Request) -> Response:
        viewer = self._sessions.viewer(request)
        target = _local_path(request.query_params.get("next", ""))
        if viewer is not None:
            return RedirectResponse(target, 303)
        return self._html(request, "login.html", {"next": target}, None)

    async def login(self, request: Request) -> Response:
        try:
            form = await self._form(request)
            self._sessions.check_csrf(request, form.get(CSRF_FIELD))
        except EmpreinteError as exc:
            return self._error(request, None, exc)
        username, password = form.get("username", ""), form.get("password", "")
        target = _local_path(form.get("next", ""))
        address = request.client.host if request.client else "unknown"

        def attempt() -> str:
            with self._throttle.attempt(username, address):
                return self._sessions.users.login(username, password).token

        try:
            token = await run_in_threadpool(attempt)
        except TooManyAttempts as exc:
            context = {"next": target, "username": username, "wait": exc.retry_after}
            refused = self._html(request, "login.html", context, None, 429)
            refused.headers["Retry-After"] = str(exc.retry_after)
            return refused
        except AuthError:
            context = {"next": target, "username": username, "failed": True}
            return self._html(request, "login.html", context, None, 401)
        response = RedirectResponse(target, 303)
        self._sessions.start(request, response, token)
        return response

    async def logout(self, request: Request) -> Response:
        try:
            form = await self._form(request)
            self._sessions.check_csrf(request, form.get(CSRF_FIELD))
        except EmpreinteError as exc:
            return self._error(request, self._sessions.viewer(request), exc)
        response = RedirectResponse("/login", 303)
        await run_in_threadpool(self._sessions.end, request, response)
        return response

    async def language(self, request: Request) -> Response:
        """Switch the language (a preference cookie: harmless, so a plain link)."""
        language = request.path_params["language"]
        target = _local_path(request.query_params.get("next", ""))
        response = RedirectResponse(target, 303)
        if language in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax", path="/"
            )
        return response

    async def static(self, request: Request) -> Response:
        path = _static_file(request.path_params["name"])
        if path is None:
            return Response("not found", 404, media_type="text/plain")
        # Addresses carry the version (?v=…): a new release is a new address.
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

    def _viewer_for(self, request: Request, roles: tuple[Any, ...]) -> Viewer | Response:
        viewer = self._sessions.viewer(request)
        if viewer is None:
            target = request.url.path
            if request.url.query:
                target += "?" + request.url.query
            return RedirectResponse("/login?next=" + quote(target, safe=""), 303)
        if viewer.role not in roles:
            exc = Forbidden(f"the {viewer.role.value} role may not see this page")
            return self._error(request, viewer, exc)
        return viewer

    def _view(self, request: Request, viewer: Viewer) -> View:
        language = language_of(
            request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language")
        )
        return View(
            self._ws, viewer, language, request.query_params, request.url.path, self._reports
        )

    def _page_endpoint(self, page: Page) -> Any:
        async def endpoint(request: Request) -> Response:
            found = self._viewer_for(request, page.roles)
            if isinstance(found, Response):
                return found
            viewer = found
            view = self._view(request, viewer)
            try:
                context = dict(await run_in_threadpool(page.build, view))
            except EmpreinteError as exc:
                return self._error(request, viewer, exc)
            download = request.query_params.get("download")
            if download is not None:
                for item in downloadables(context):
                    if item.id == download:
                        return csv_answer(item.csv_rows(), f"{page.key}-{item.id}")
                missing = NotFound(f"this page has no table or chart {download[:80]!r} to download")
                return self._error(request, viewer, missing)
            context["notice"] = page.notices.get(request.query_params.get("notice", ""))
            context["as_of"] = view.as_of
            return self._html(request, page.template, context, viewer, page=page)

        return endpoint

    def _action_endpoint(self, action: Action) -> Any:
        async def endpoint(request: Request) -> Response:
            found = self._viewer_for(request, action.roles)
            if isinstance(found, Response):
                return found
            viewer = found
            try:
                form = await self._form(request)
                self._sessions.check_csrf(request, form.get(CSRF_FIELD))
                view = self._view(request, viewer)
                outcome = await run_in_threadpool(action.handle, view, form)
                if isinstance(outcome, Redirect):
                    target = _local_path(outcome.path)
                    if outcome.notice:
                        target += ("&" if "?" in target else "?") + "notice=" + outcome.notice
                    return RedirectResponse(target, 303)
                context = {**(await run_in_threadpool(action.page.build, view)), **outcome}
            except EmpreinteError as exc:
                return self._error(request, viewer, exc)
            return self._html(request, action.page.template, context, viewer, page=action.page)

        return endpoint


class _PagesMount(Mount):
    """Mounted at `/`, but claiming only the paths the dashboard serves: `GET /v1/track` stays
    the API's 405 and an unknown path the API's JSON 404."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is Match.NONE:
            return match, child
        inner = {**scope, **child}
        if any(route.matches(inner)[0] is not Match.NONE for route in self.routes):
            return match, child
        return Match.NONE, {}
