"""Next best offers over HTTP, and the server's offers refresher.

    GET  /api/offers                      the catalogue (analysts, admins)
    POST /api/offers                      add or replace an offer (admins) → 201
    GET  /api/offers/performance          per offer: shown, clicked, declined, redeemed, budget
    GET  /api/offers/next?profile=…|user_id=…&channel=app&n=3&lang=en&seed=…
                                          the best offers for a person now, each with a reason;
                                          the answer's offers are recorded as impressions
    GET  /api/offers/{offer_id}           one offer

The next offers are about a person: analysts and admins (an app's backend calls with an
analyst token); viewers 403. `seed` pins the Thompson draw (the answer always gives the seed
it used). docs/offers.md has the rules.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Role
from empreinte.web.auth import require
from empreinte.web.background import BackgroundLoop
from empreinte.web.operation import ApiRoute, Operation, query
from empreinte.web.params import Choice, Text, Whole, json_object
from empreinte.web.responses import json_response
from empreinte.workspace import Workspace

log = logging.getLogger(__name__)

READERS = (Role.ADMIN, Role.ANALYST)
ADMINS = (Role.ADMIN,)
_TAG = "offers"
_STRING = {"type": "string"}
_TEXTS = {"type": "array", "items": _STRING}
OFFER_BODY = {
    "type": "object",
    "properties": {
        "offer_id": {**_STRING, "description": "1-64 letters, digits, _ . -"},
        "title_en": _STRING,
        "title_fr": _STRING,
        "title": {"type": "object", "properties": {"en": _STRING, "fr": _STRING}},
        "products": {**_TEXTS, "description": "product ids or SKUs"},
        "categories": _TEXTS,
        "brand": _STRING,
        "channels": {**_TEXTS, "description": "none: every channel"},
        "valid_from": {**_STRING, "format": "date-time"},
        "valid_until": {**_STRING, "format": "date-time"},
        "eligibility": {**_STRING, "description": "a segment expression (docs/segments.md)"},
        "cap_per_week": {"type": "integer", "minimum": 1},
        "budget_redemptions": {"type": "integer", "minimum": 1},
        "budget_eur": {"type": "number"},
        "value_eur": {"type": "number", "description": "what one redemption costs"},
        "status": {"type": "string", "enum": ["active", "paused", "ended"]},
    },
    "required": ["offer_id"],
    "additionalProperties": False,
}

PROFILE = Text("profile", "a profile id (or give user_id)", None)
USER_ID = Text("user_id", "a userId (or give profile)", None)
CHANNEL = Text("channel", "where the offers will be shown: web, app, store…", None)
N = Whole("n", 1, 20, "how many offers", 3)
LANG = Choice("lang", ("en", "fr"), "the language of titles and reasons", "en")
SEED = Whole("seed", 0, 2**31 - 1, "the Thompson draw's seed (default: random)", None)

LIST = Operation("The offer catalogue", _TAG, roles=READERS)
CREATE = Operation(
    "Add or replace an offer", _TAG, roles=ADMINS, body=OFFER_BODY, ok=201, errors=(400,)
)
PERFORMANCE = Operation("Performance and budget per offer", _TAG, roles=READERS)
NEXT = Operation(
    "The next best offers for a person, each with a reason (recorded as impressions)",
    _TAG,
    roles=READERS,
    params=(PROFILE, USER_ID, CHANNEL, N, LANG, SEED),
    errors=(400, 404),
)
SHOW = Operation(
    "One offer", _TAG, roles=READERS, errors=(404,), path_params={"offer_id": "the offer's id"}
)


class OffersApi:
    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/offers", self.list, "GET", LIST),
            ApiRoute("/api/offers", self.create, "POST", CREATE),
            ApiRoute("/api/offers/performance", self.performance, "GET", PERFORMANCE),
            ApiRoute("/api/offers/next", self.next, "GET", NEXT),
            ApiRoute("/api/offers/{offer_id}", self.show, "GET", SHOW),
        ]

    async def list(self, request: Request) -> Response:
        require(request, self._ws.credentials, *READERS)
        query(request).done()
        offers = await run_in_threadpool(self._ws.offers.list)
        return json_response(200, {"offers": [o.to_json() for o in offers]})

    async def create(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ADMINS)
        query(request).done()
        body = await json_object(request)
        offer = await run_in_threadpool(self._ws.offers.save, body)
        return json_response(201, {"offer": offer.to_json()})

    async def performance(self, request: Request) -> Response:
        require(request, self._ws.credentials, *READERS)
        query(request).done()
        rows = await run_in_threadpool(self._ws.offers.performance)
        refreshed = self._ws.offers.refreshed_at
        return json_response(
            200,
            {
                "offers": [r.to_json() for r in rows],
                # Eligibility, consent and the model as of this time (the server's refresh).
                "refreshed_at": refreshed.isoformat() if refreshed else None,
            },
        )

    async def next(self, request: Request) -> Response:
        require(request, self._ws.credentials, *READERS)
        q = query(request)
        profile, user_id, channel = q.get(PROFILE), q.get(USER_ID), q.get(CHANNEL)
        n, lang, seed = q.get(N), q.get(LANG), q.get(SEED)
        q.done()

        def work() -> dict[str, Any]:
            found = self._ws.offers.next(
                profile, user_id=user_id, channel=channel, n=n, lang=lang, seed=seed
            )
            return found.to_json()

        return json_response(200, await run_in_threadpool(work))

    async def show(self, request: Request) -> Response:
        require(request, self._ws.credentials, *READERS)
        query(request).done()
        offer = await run_in_threadpool(self._ws.offers.get, request.path_params["offer_id"])
        return json_response(200, {"offer": offer.to_json()})


class OffersRefresher(BackgroundLoop):
    """Reloads the catalogue and a newer model, reads new feedback and evaluates the live
    offers' segments again, every `[offers] refresh_seconds`, so that requests find them
    ready."""

    thread_name = "empreinte-offers-refresher"

    def __init__(self, workspace: Workspace):
        super().__init__()
        self._ws = workspace

    def _run(self) -> None:
        interval = self._ws.offers.settings.refresh_seconds
        wait = 0.0  # the first round at once: the first requests find the state warm
        while not self._stop.wait(wait):
            wait = interval
            try:
                self._ws.offers.refresh()
            except Exception:
                log.exception("refreshing offers failed; retried next round")

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)
        try:
            self._ws.offers.flush()  # the impressions served last
        except Exception:
            log.exception("recording the last offer impressions failed")
