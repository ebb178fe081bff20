"""The identity API: why a profile holds what it holds, the refused links, and unmerging.

- `GET /api/profiles/{id}/identity`: the profile's merge history, conflicts and overrides.
- `GET /api/identity/conflicts?limit=&before=&profileId=`: refused links, newest first.
- `POST /api/identity/block` `{"idKey"|"email"|"phone"|…: …, "reason": …}`: ignore an
  identifier everywhere (a shop's shared card, "undefined").
- `POST /api/identity/cut` `{"idKey"|…, "profileId": …, "reason": …}`: take an identifier out
  of a profile; it lives alone from then on.
- `POST /api/identity/unblock` `{"idKey"|…, "reason": …}`: lift a block or a cut.
- `POST /api/identity/rebuild`: recompute the whole graph from the log.

Reading (explain, conflicts) is for admins and analysts: identifier keys are pseudonymised.
Changing the graph is for admins. Roles are checked before anything else is read.

`IdentitySync` keeps the graph up to date in the server: a background thread that resolves
what the writer committed, a few times a second; reads also sync first.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from empreinte.credentials import Principal, Role
from empreinte.profiles.lookup import LOOKUPS, InvalidInput
from empreinte.profiles.views import conflict_json, explanation_json, rebuild_json
from empreinte.web.profiles_api import READERS, check_params, guarded, json_response
from empreinte.workspace import Workspace

log = logging.getLogger(__name__)

MAX_CONFLICTS = 1_000
MAX_REASON = 1_000
_KEY_FIELDS = ("idKey", *LOOKUPS)


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput(name, "is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(name, "must be a string")
    return value


def _reason(body: dict[str, Any]) -> str | None:
    reason = _text(body, "reason")
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput("reason", f"must be at most {MAX_REASON} characters")
    return reason


def _actor(principal: Principal) -> str:
    return f"api:{principal.name}"


class IdentityApi:
    """Routes over a workspace's identity graph, behind API tokens."""

    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[Route]:
        return [
            Route("/api/profiles/{profile_id}/identity", self.explain, methods=["GET"]),
            Route("/api/identity/conflicts", self.conflicts, methods=["GET"]),
            Route("/api/identity/block", self.block, methods=["POST"]),
            Route("/api/identity/cut", self.cut, methods=["POST"]),
            Route("/api/identity/unblock", self.unblock, methods=["POST"]),
            Route("/api/identity/rebuild", self.rebuild, methods=["POST"]),
        ]

    def _key(self, body: dict[str, Any]) -> str:
        """The identifier key a change is about: exactly one of idKey, email, phone, userId,
        anonymousId, loyaltyCard (raw e-mails and phones are pseudonymised)."""
        given = [name for name in _KEY_FIELDS if body.get(name) not in (None, "")]
        if len(given) != 1:
            raise InvalidInput(
                given[1] if given else "idKey",
                f"give exactly one of {', '.join(_KEY_FIELDS)}",
            )
        name = given[0]
        value = _text(body, name, required=True)
        assert value is not None
        profiles = self._ws.profiles
        return profiles.keys.parse(value) if name == "idKey" else profiles.key(name, value)

    async def explain(self, request: Request) -> Response:
        profile_id = request.path_params["profile_id"]

        def work(principal: Principal, params: dict[str, Any]) -> Response:
            check_params(params, set())
            explanation = self._ws.identity.explain(profile_id)
            return json_response(200, explanation_json(explanation))

        return await guarded(request, self._ws.credentials, READERS, work)

    async def conflicts(self, request: Request) -> Response:
        def work(principal: Principal, params: dict[str, Any]) -> Response:
            check_params(params, {"limit", "before", "profileId"})
            raw_limit = params.get("limit") or "100"
            if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_CONFLICTS:
                raise InvalidInput("limit", f"must be a whole number from 1 to {MAX_CONFLICTS}")
            limit = int(raw_limit)
            before = params.get("before") or None
            if before is not None and not before.isdigit():
                raise InvalidInput("before", "must be a seq (the `next` of the previous page)")
            identity = self._ws.identity
            identity.sync()
            profile_id = params.get("profileId") or None
            if profile_id is not None:
                found = identity.conflicts(profile_id)
                return json_response(
                    200,
                    {
                        "profileId": identity.resolve(profile_id),
                        "conflicts": [conflict_json(c) for c in found],
                        "count": len(found),
                    },
                )
            store = self._ws.profiles.store
            rows = store.conflicts(limit + 1, int(before) if before else None)
            more = len(rows) > limit
            rows = rows[:limit]
            return json_response(
                200,
                {
                    "conflicts": [conflict_json(c) for c in rows],
                    "count": len(rows),
                    "total": store.conflict_total(),
                    "next": str(rows[-1].seq) if more and rows else None,
                },
            )

        return await guarded(request, self._ws.credentials, READERS, work)

    async def block(self, request: Request) -> Response:
        def work(principal: Principal, body: dict[str, Any]) -> Response:
            check_params(body, {*_KEY_FIELDS, "reason"})
            key = self._key(body)
            profiles = self._ws.identity.block(key, _actor(principal), _reason(body))
            return json_response(200, {"action": "block", "idKey": key, "profiles": profiles})

        return await guarded(request, self._ws.credentials, (Role.ADMIN,), work, json_body=True)

    async def cut(self, request: Request) -> Response:
        def work(principal: Principal, body: dict[str, Any]) -> Response:
            check_params(body, {*_KEY_FIELDS, "profileId", "reason"})
            key = self._key(body)
            profile_id = _text(body, "profileId", required=True)
            assert profile_id is not None
            profiles = self._ws.identity.cut(key, profile_id, _actor(principal), _reason(body))
            return json_response(
                200, {"action": "cut", "idKey": key, "profileId": profile_id, "profiles": profiles}
            )

        return await guarded(request, self._ws.credentials, (Role.ADMIN,), work, json_body=True)

    async def unblock(self, request: Request) -> Response:
        def work(principal: Principal, body: dict[str, Any]) -> Response:
            check_params(body, {*_KEY_FIELDS, "reason"})
            key = self._key(body)
            profiles = self._ws.identity.unblock(key, _actor(principal), _reason(body))
            return json_response(200, {"action": "unblock", "idKey": key, "profiles": profiles})

        return await guarded(request, self._ws.credentials, (Role.ADMIN,), work, json_body=True)

    async def rebuild(self, request: Request) -> Response:
        def work(principal: Principal, body: dict[str, Any]) -> Response:
            check_params(body, set())
            return json_response(200, rebuild_json(self._ws.identity.rebuild()))

        return await guarded(request, self._ws.credentials, (Role.ADMIN,), work, json_body=True)


class IdentitySync:
    """A background thread that resolves newly committed events into the identity graph.

    It looks at the end of the log every `interval` seconds and syncs when it moved, so a
    profile is current a fraction of a second after the collector acknowledged its events
    (reads sync first anyway). A failure is logged and retried, slower, until it clears.
    """

    def __init__(self, workspace: Workspace, interval: float = 1.0, backoff: float = 2.0):
        self._ws = workspace
        self._interval = interval
        self._backoff = backoff
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="empreinte-identity-sync", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        seen = -1
        wait = 0.0
        while not self._stop.wait(wait):
            wait = self._interval
            try:
                end = self._ws.engine.max_seq()
                if end != seen:
                    self._ws.identity.sync()
                    seen = end
            except Exception:
                log.exception("identity sync failed; retrying in %.0f s", self._backoff)
                wait = self._backoff
