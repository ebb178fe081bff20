"""Personas over HTTP (admin, analyst).

    GET /api/know/personas?lang=fr&k=5&seed=0      # JSON: the k scores and one card per persona
    GET /api/know/personas/2.png?lang=fr           # the card of persona 2 as a picture

Personas cluster people on their behaviour, which is profiling: only people who allow
analytics and profiling are read, and the answer is for analysts and admins (viewers 403).
Each call computes the personas again (features in the engine, k-means in Python): seconds on
a large log.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Role
from empreinte.errors import InvalidInput, NotFound
from empreinte.web.auth import require
from empreinte.web.operation import ApiRoute, Operation, query
from empreinte.web.params import WINDOW, Choice, Query, Whole
from empreinte.web.responses import strict_json_response
from empreinte.workspace import Workspace

ROLES = (Role.ADMIN, Role.ANALYST)
MAX_SEED = 2**31 - 1

K = Whole("k", 2, 10, "number of personas (default: the most stable over 2..10)", None)
SEED = Whole("seed", 0, MAX_SEED, "seed of the sample, the halves and the mixture", 0)
LANG = Choice("lang", ("en", "fr"), "the language of names and cards", "en")

PERSONAS = Operation(
    "Personas from behaviour: k-selection scores and one card per persona",
    "know",
    roles=ROLES,
    params=(K, SEED, LANG, *WINDOW),
)
CARD = Operation(
    "The card of one persona as a PNG picture",
    "know",
    roles=ROLES,
    params=(K, SEED, LANG, *WINDOW),
    media=("image/png",),
    errors=(404,),
    path_params={"n": "the persona's number, 1 for the largest"},
)


class KnowPersonasApi:
    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/know/personas", self.personas, "GET", PERSONAS),
            ApiRoute("/api/know/personas/{n}.png", self.card, "GET", CARD),
        ]

    async def personas(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        q = query(request, ZoneInfo(self._ws.config.timezone))
        return await run_in_threadpool(self._personas, q)

    async def card(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        text = request.path_params["n"]
        if not text.isdigit() or int(text) < 1:
            raise InvalidInput("n", f"{text!r} is not a persona number (1, 2, …)")
        q = query(request, ZoneInfo(self._ws.config.timezone))
        return await run_in_threadpool(self._card, q, int(text))

    def _report(self, q: Query) -> Any:
        k, seed, lang = q.get(K), q.get(SEED), q.get(LANG)
        since, until = q.window()
        q.done()
        return self._ws.know.personas(k, seed, lang=lang, since=since, until=until)

    def _personas(self, q: Query) -> Response:
        return strict_json_response(self._report(q).to_dict())

    def _card(self, q: Query, number: int) -> Response:
        report = self._report(q)
        if number > len(report.cards):
            raise NotFound(f"no persona {number}: there are {len(report.cards)}")
        with tempfile.TemporaryDirectory(prefix="empreinte-persona-") as folder:
            path = report.cards[number - 1].to_png(Path(folder) / "card.png")
            return Response(path.read_bytes(), media_type="image/png")
