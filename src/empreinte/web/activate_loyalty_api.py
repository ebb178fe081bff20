"""The loyalty programme over HTTP (docs/loyalty.md). Points and challenges are about people,
so viewers get 403 everywhere; analysts read; only admins (the retailer's back office, a till
or app backend holding an admin token) move points or accept on someone's behalf.

    GET  /api/loyalty                                   programme figures (issued, redeemed…)
    POST /api/loyalty/run                               earn, expire and settle now (admin)
    GET  /api/loyalty/members/{profile}                 a member's balance
    GET  /api/loyalty/members/{profile}/ledger          their rows, newest first
    POST /api/loyalty/members/{profile}/redeem          {"points", "reference", "reason"?} (admin)
    GET  /api/loyalty/members/{profile}/challenges      what they are offered, with progress
    POST /api/loyalty/members/{profile}/challenges      {"campaign", "challenge"}: accept (admin)
    GET  /api/loyalty/campaigns                         every campaign
    POST /api/loyalty/campaigns                         a campaign document (admin) → 201
    POST /api/loyalty/campaigns/{name}/offer            choose offers and holdout now (admin)
    POST /api/loyalty/campaigns/{name}/complete         {"profile"}: pay if complete (admin)
    GET  /api/loyalty/campaigns/{name}/report?brand=    funnel, budget, incremental sales
    GET  /api/loyalty/campaigns/{name}/people?status=   who was offered, held out, paid…

`LoyaltyRunner` runs the programme in the server's background (`[loyalty] run_every`, a minute
by default).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Role
from empreinte.errors import InvalidInput
from empreinte.web.auth import require
from empreinte.web.background import BackgroundLoop
from empreinte.web.operation import ApiRoute, Operation, query
from empreinte.web.params import Choice, Texts, Whole, check_fields, json_object, text_field
from empreinte.web.responses import json_response
from empreinte.workspace import Workspace

log = logging.getLogger(__name__)

READERS = (Role.ADMIN, Role.ANALYST)
ADMINS = (Role.ADMIN,)
_TAG = "loyalty"
PROFILE = {"profile": "a profile id (pseudonymous)"}
CAMPAIGN = {"name": "the campaign's name"}
LIMIT = Whole("limit", 1, 10_000, "at most this many rows", 100)
OFFSET = Whole("offset", 0, 2**62, "skip this many rows", 0)
BRAND = Texts("brand", "only this brand's slice (a brand funding the campaign)")

_STRING = {"type": "string"}
REDEEM_BODY = {
    "type": "object",
    "properties": {
        "points": {"type": "integer", "minimum": 1},
        "reference": {**_STRING, "description": "unique per redemption (a receipt): idempotent"},
        "reason": _STRING,
    },
    "required": ["points", "reference"],
    "additionalProperties": False,
}
ACCEPT_BODY = {
    "type": "object",
    "properties": {"campaign": _STRING, "challenge": _STRING},
    "required": ["campaign", "challenge"],
    "additionalProperties": False,
}
COMPLETE_BODY = {
    "type": "object",
    "properties": {"profile": _STRING},
    "required": ["profile"],
    "additionalProperties": False,
}
EMPTY = {"type": "object", "additionalProperties": False}
CAMPAIGN_BODY = {"type": "object", "description": "a campaign document (docs/loyalty.md)"}

OVERVIEW = Operation("Points issued, redeemed, expired, outstanding", _TAG, roles=READERS)
RUN = Operation(
    "Earn from the log, expire, settle challenges now",
    _TAG,
    roles=ADMINS,
    body=EMPTY,
    body_required=False,
)
BALANCE = Operation("A member's balance", _TAG, roles=READERS, errors=(404,), path_params=PROFILE)
LEDGER = Operation(
    "A member's ledger rows, newest first",
    _TAG,
    roles=READERS,
    params=(LIMIT, OFFSET),
    errors=(404,),
    path_params=PROFILE,
)
REDEEM = Operation(
    "Spend a member's points (never below zero)",
    _TAG,
    roles=ADMINS,
    body=REDEEM_BODY,
    errors=(404, 409),
    path_params=PROFILE,
)
OFFERS = Operation(
    "The challenges a person is offered, with progress",
    _TAG,
    roles=READERS,
    errors=(404,),
    path_params=PROFILE,
)
ACCEPT = Operation(
    "Accept a challenge offered to the person (one per campaign)",
    _TAG,
    roles=ADMINS,
    body=ACCEPT_BODY,
    ok=201,
    errors=(404, 409),
    path_params=PROFILE,
)
CAMPAIGNS = Operation("Every campaign of challenges", _TAG, roles=READERS)
IMPORT = Operation(
    "Save and fund a campaign of challenges",
    _TAG,
    roles=ADMINS,
    body=CAMPAIGN_BODY,
    ok=201,
    errors=(409,),
)
OFFER = Operation(
    "Choose offers and holdout for everyone eligible not yet assigned",
    _TAG,
    roles=ADMINS,
    body=EMPTY,
    body_required=False,
    errors=(404, 409),
    path_params=CAMPAIGN,
)
COMPLETE = Operation(
    "Pay a completed challenge from the campaign's pots (409 when a pot is short)",
    _TAG,
    roles=ADMINS,
    body=COMPLETE_BODY,
    errors=(404, 409),
    path_params=CAMPAIGN,
)
STATUS = Choice(
    "status",
    ("holdout", "offered", "accepted", "paid", "unfunded"),
    "only people in this state",
    None,
)
PEOPLE = Operation(
    "Who the campaign assigned (pseudonymous ids), their group and outcome",
    _TAG,
    roles=READERS,
    params=(STATUS, LIMIT, OFFSET),
    errors=(404,),
    path_params=CAMPAIGN,
)
REPORT = Operation(
    "A campaign's funnel, budget and incremental sales (for the retailer or one brand)",
    _TAG,
    roles=READERS,
    params=(BRAND,),
    errors=(404,),
    path_params=CAMPAIGN,
)


class LoyaltyApi:
    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        member = "/api/loyalty/members/{profile}"
        campaign = "/api/loyalty/campaigns/{name}"
        return [
            ApiRoute("/api/loyalty", self.overview, "GET", OVERVIEW),
            ApiRoute("/api/loyalty/run", self.run, "POST", RUN),
            ApiRoute("/api/loyalty/campaigns", self.campaigns, "GET", CAMPAIGNS),
            ApiRoute("/api/loyalty/campaigns", self.import_campaign, "POST", IMPORT),
            ApiRoute(f"{campaign}/offer", self.offer, "POST", OFFER),
            ApiRoute(f"{campaign}/complete", self.complete, "POST", COMPLETE),
            ApiRoute(f"{campaign}/report", self.report, "GET", REPORT),
            ApiRoute(f"{campaign}/people", self.people, "GET", PEOPLE),
            ApiRoute(member, self.balance, "GET", BALANCE),
            ApiRoute(f"{member}/ledger", self.ledger, "GET", LEDGER),
            ApiRoute(f"{member}/redeem", self.redeem, "POST", REDEEM),
            ApiRoute(f"{member}/challenges", self.offers, "GET", OFFERS),
            ApiRoute(f"{member}/challenges", self.accept, "POST", ACCEPT),
        ]

    async def overview(self, request: Request) -> Response:
        require(request, self._ws.credentials, *READERS)
        query(request).done()
        return json_response(200, await run_in_threadpool(self._ws.loyalty.overview))

    async def run(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ADMINS)
        query(request).done()
        check_fields(await json_object(request, empty=True), set())
        done = await run_in_threadpool(self._ws.loyalty.run)
        return json_response(200, done.to_json())

    async def balance(self, request: Request) -> Response:
        require(request, self._ws.credentials, *READERS)
        query(request).done()
        found = await run_in_threadpool(self._ws.loyalty.balance, request.path_params["profile"])
        return json_response(200, found.to_json())

    async def ledger(self, request: Request) -> Response:
        require(request, self._ws.credentials, *READERS)
        q = query(request)
        limit, offset = q.get(LIMIT), q.get(OFFSET)
        q.done()
        profile = request.path_params["profile"]

        def work() -> dict[str, Any]:
            rows = self._ws.loyalty.ledger(profile, limit, offset)
            return {"profile": profile, "rows": [r.to_json() for r in rows]}

        return json_response(200, await run_in_threadpool(work))

    async def redeem(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ADMINS)
        query(request).done()
        body = await json_object(request)
        check_fields(body, {"points", "reference", "reason"})
        reason = text_field(body, "reason") or "redemption"
        profile = request.path_params["profile"]

        def work() -> dict[str, Any]:
            done = self._ws.loyalty.redeem(
                profile, body.get("points"), body.get("reference"), reason
            )
            return done.to_json()

        return json_response(200, await run_in_threadpool(work))

    async def offers(self, request: Request) -> Response:
        require(request, self._ws.credentials, *READERS)
        query(request).done()
        profile = request.path_params["profile"]
        found = await run_in_threadpool(self._ws.loyalty.offers_for, profile)
        return json_response(200, {"profile": profile, "challenges": found})

    async def accept(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ADMINS)
        query(request).done()
        body = await json_object(request)
        check_fields(body, {"campaign", "challenge"})
        campaign = text_field(body, "campaign", required=True) or ""
        challenge = text_field(body, "challenge", required=True) or ""
        profile = request.path_params["profile"]

        def work() -> dict[str, Any]:
            done = self._ws.loyalty.accept(campaign, profile, challenge)
            return {
                "campaign": done.campaign,
                "profile": done.profile_id,
                "challenge": done.challenge,
                "accepted_at": done.at.isoformat(),
            }

        return json_response(201, await run_in_threadpool(work))

    async def campaigns(self, request: Request) -> Response:
        require(request, self._ws.credentials, *READERS)
        query(request).done()
        found = await run_in_threadpool(self._ws.loyalty.campaigns)
        return json_response(200, {"campaigns": [c.to_json() for c in found]})

    async def import_campaign(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ADMINS)
        query(request).done()
        body = await json_object(request)
        done = await run_in_threadpool(self._ws.loyalty.import_campaign, body)
        return json_response(201, done.to_json())

    async def offer(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ADMINS)
        query(request).done()
        check_fields(await json_object(request, empty=True), set())
        done = await run_in_threadpool(self._ws.loyalty.offer, request.path_params["name"])
        return json_response(200, done)

    async def complete(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ADMINS)
        query(request).done()
        body = await json_object(request)
        check_fields(body, {"profile"})
        profile = text_field(body, "profile", required=True) or ""
        name = request.path_params["name"]

        def work() -> dict[str, Any]:
            done = self._ws.loyalty.complete(name, profile)
            return {
                "campaign": done.campaign,
                "profile": done.profile_id,
                "challenge": done.challenge,
                "status": done.status,
                "at": done.at.isoformat(),
            }

        return json_response(200, await run_in_threadpool(work))

    async def people(self, request: Request) -> Response:
        require(request, self._ws.credentials, *READERS)
        q = query(request)
        status, limit, offset = q.get(STATUS), q.get(LIMIT), q.get(OFFSET)
        q.done()
        name = request.path_params["name"]
        found = await run_in_threadpool(self._ws.loyalty.participants, name, status, limit, offset)
        return json_response(200, {"campaign": name, "people": found})

    async def report(self, request: Request) -> Response:
        require(request, self._ws.credentials, *READERS)
        q = query(request)
        brands = q.get(BRAND)
        q.done()
        if len(brands) > 1:
            raise InvalidInput("brand", "give it once")
        name = request.path_params["name"]
        brand = brands[0] if brands else None
        found = await run_in_threadpool(self._ws.loyalty.report, name, brand)
        return json_response(200, found.to_json())


class LoyaltyRunner(BackgroundLoop):
    """Runs the programme (earning, expiry, challenge payments) every `interval` seconds
    (`[loyalty] run_every`) in the server; a failure is logged and the next round tries
    again."""

    thread_name = "empreinte-loyalty"

    def __init__(self, workspace: Workspace, interval: float | None = None):
        from empreinte.activate.loyalty.settings import LoyaltySettings

        super().__init__()
        self._ws = workspace
        every = LoyaltySettings.from_mapping(workspace.config.loyalty).run_every
        self._interval = interval if interval is not None else every.total_seconds()

    def run_once(self) -> None:
        self._ws.loyalty.run()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.run_once()
            except Exception:
                log.exception("the loyalty run failed; retried next round")
