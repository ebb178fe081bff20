"""The year in review over HTTP, and its public share pages.

    GET    /api/stories/{profile}/{year}?lang=&format=json|png   a person's story (staff)
    POST   /api/stories/{profile}/{year}/share  {"lang"?}      a public link → 201 (staff)
    DELETE /api/stories/{profile}/links                        turn a person's links off (admin)
    GET    /api/stories/community?year=                        the community's year (staff)
    GET    /api/products                                       the product catalogue (everyone)
    GET    /stories/{token}                                    the public page (no login)
    GET    /stories/{token}/story.png                          its image (no login)

A story is about one person, so the API is for staff (admins and analysts; viewers 403). A
person who does not allow `personalisation`, or bought nothing that year, has no story (404).
The public routes answer 404 alike for a forged, altered, revoked or dead token (the person
withdrew consent or was erased), are never cached, and send no referrer (the token is the
link's only secret).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from empreinte.activate.stories.texts import TEXTS
from empreinte.credentials import Principal, Role
from empreinte.errors import InvalidInput
from empreinte.web.auth import require
from empreinte.web.operation import ApiRoute, Operation, query
from empreinte.web.params import Choice, Whole, check_fields, json_object, text_field
from empreinte.web.responses import json_response
from empreinte.workspace import Workspace

ROLES = (Role.ADMIN, Role.ANALYST)
_TAG = "stories"
PNG = "image/png"
HTML = "text/html"
LANG = Choice("lang", ("en", "fr"), "the story's language (default: the person's own)", None)
FORMAT = Choice("format", ("json", "png"), "JSON (texts and figures) or the 1080×1920 PNG", "json")
YEAR = Whole("year", 2000, 2100, "the year told", None)
PERSON = {"profile": "a profile id", "year": "the year told, e.g. 2025"}
_PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}

STORY = Operation(
    "A person's year in review (JSON or PNG)",
    _TAG,
    roles=ROLES,
    params=(LANG, FORMAT),
    media=("application/json", PNG),
    errors=(404,),
    path_params=PERSON,
    description="404 when the person does not allow personalisation or bought nothing that year.",
)
SHARE = Operation(
    "Make a public share link to a person's story",
    _TAG,
    roles=ROLES,
    body={
        "type": "object",
        "properties": {"lang": {"type": "string", "enum": ["en", "fr"]}},
        "additionalProperties": False,
    },
    body_required=False,
    ok=201,
    errors=(404,),
    path_params=PERSON,
)
REVOKE = Operation(
    "Turn off every share link of a person",
    _TAG,
    roles=(Role.ADMIN,),
    errors=(404,),
    path_params={"profile": "a profile id"},
)
COMMUNITY = Operation(
    "The community's year: buyers, refurbished items, CO2 avoided together",
    _TAG,
    roles=ROLES,
    params=(YEAR,),
)
PRODUCTS = Operation("The product catalogue", "products", roles=tuple(Role))
PUBLIC_PAGE = Operation(
    "A shared story's page (no login; 404 once the link is dead)",
    _TAG,
    auth="public",
    params=(LANG,),
    media=(HTML,),
    errors=(404,),
    path_params={"token": "the share link's token"},
)
PUBLIC_PNG = Operation(
    "A shared story's image (no login; 404 once the link is dead)",
    _TAG,
    auth="public",
    params=(LANG,),
    media=(PNG,),
    errors=(404,),
    path_params={"token": "the share link's token"},
)

_TEMPLATES = Path(__file__).parent / "dashboard" / "templates"
_pages = Environment(
    loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(default=True)
)


def _year(request: Request) -> int:
    text = request.path_params["year"]
    if not text.isdigit() or len(text) != 4:
        raise InvalidInput("year", "give a year such as 2025")
    return int(text)


def _actor(principal: Principal) -> str:
    return f"api:{principal.name}"


class StoriesApi:
    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/stories/community", self.community, "GET", COMMUNITY),
            ApiRoute("/api/stories/{profile}/links", self.revoke, "DELETE", REVOKE),
            ApiRoute("/api/stories/{profile}/{year}", self.story, "GET", STORY),
            ApiRoute("/api/stories/{profile}/{year}/share", self.share, "POST", SHARE),
            ApiRoute("/api/products", self.products, "GET", PRODUCTS),
            ApiRoute("/stories/{token}", self.public_page, "GET", PUBLIC_PAGE),
            ApiRoute("/stories/{token}/story.png", self.public_png, "GET", PUBLIC_PNG),
        ]

    async def story(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        q = query(request)
        lang, kind = q.get(LANG), q.get(FORMAT)
        q.done()
        profile, year = request.path_params["profile"], _year(request)

        def work() -> Response:
            story = self._ws.stories.story(profile, year, lang)
            if kind == "png":
                return Response(self._ws.stories.png(story), media_type=PNG)
            return json_response(200, story.to_json())

        response: Response = await run_in_threadpool(work)
        return response

    async def share(self, request: Request) -> Response:
        principal = require(request, self._ws.credentials, *ROLES)
        query(request).done()
        body = await json_object(request, empty=True)
        check_fields(body, {"lang"})
        lang = text_field(body, "lang")
        profile, year = request.path_params["profile"], _year(request)

        def work() -> dict[str, Any]:
            link = self._ws.stories.share(profile, year, _actor(principal), lang)
            answer: dict[str, Any] = link.to_json()
            answer["url"] = str(request.base_url).rstrip("/") + link.path
            return answer

        return json_response(201, await run_in_threadpool(work))

    async def revoke(self, request: Request) -> Response:
        require(request, self._ws.credentials, Role.ADMIN)
        query(request).done()
        profile = request.path_params["profile"]
        removed = await run_in_threadpool(self._ws.stories.revoke, profile)
        return json_response(200, {"profile_id": profile, "links_removed": removed})

    async def community(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        q = query(request)
        year = q.get(YEAR)
        q.done()
        if year is None:
            raise InvalidInput("year", "is required")
        found = await run_in_threadpool(self._ws.stories.community, year)
        return json_response(200, found.to_json())

    async def products(self, request: Request) -> Response:
        require(request, self._ws.credentials, *tuple(Role))
        query(request).done()
        found = await run_in_threadpool(self._ws.stories.catalogue.all)
        return json_response(200, {"products": [p.to_json() for p in found]})

    # -- public --------------------------------------------------------------------------------

    async def public_page(self, request: Request) -> Response:
        q = query(request)
        lang = q.get(LANG)
        q.done()
        token = request.path_params["token"]
        story = await run_in_threadpool(self._ws.stories.shared, token, lang)
        nonce = secrets.token_urlsafe(16)
        base = str(request.base_url).rstrip("/")
        chosen = f"?lang={lang}" if lang else ""
        html = _pages.get_template("stories_public.html").render(
            story=story,
            nonce=nonce,
            image=f"{base}/stories/{token}/story.png{chosen}",
            download=TEXTS["download"][story.lang],
        )
        headers = {
            **_PRIVATE,
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self'; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            ),
        }
        return HTMLResponse(html, headers=headers)

    async def public_png(self, request: Request) -> Response:
        q = query(request)
        lang = q.get(LANG)
        q.done()
        token = request.path_params["token"]

        def work() -> bytes:
            stories = self._ws.stories
            image: bytes = stories.png(stories.shared(token, lang))
            return image

        return Response(await run_in_threadpool(work), media_type=PNG, headers=_PRIVATE)
