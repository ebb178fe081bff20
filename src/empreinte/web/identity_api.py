"""The identity API: why a profile holds what it holds, the refused links, and unmerging.

- `GET /api/profiles/{id}/identity`: the profile's merge history, conflicts and overrides.
- `GET /api/identity/conflicts?limit=&before=&profileId=`: refused links, newest first.
- `POST /api/identity/block` `{"idKey"|"email"|"phone"|…: …, "reason": …}`: ignore an
  identifier everywhere (a shop's shared card, "undefined").
- `POST /api/identity/cut` `{"idKey"|…, "profileId": …, "reason": …}`: an identifier of the
  profile is shared and joined two people: it stays with its first holder and never joins two
  people again (identity/service.py).
- `POST /api/identity/unblock` `{"idKey"|…, "reason": …}`: lift a block or a cut.
- `POST /api/identity/rebuild`: recompute the whole graph from the log.

Reading (explain, conflicts) is for admins and analysts: identifier keys are pseudonymised.
Changing the graph is for admins. Roles are checked before anything else is read.

`IdentitySync` keeps the graph up to date in the server: a background thread that resolves
what the writer committed, about once a second (less often while the writer is busy, at most
`max_delay` seconds late); reads also sync first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Principal, Role
from empreinte.errors import InvalidInput
from empreinte.profiles.lookup import LOOKUPS
from empreinte.profiles.views import conflict_json, explanation_json, rebuild_json
from empreinte.web.auth import require
from empreinte.web.background import BackgroundLoop
from empreinte.web.operation import ApiRoute, Operation, query
from empreinte.web.params import Seq, Text, Whole, check_fields, json_object, text_field
from empreinte.web.profiles_api import PROFILE_ID, READERS
from empreinte.web.responses import json_response
from empreinte.workspace import Workspace

log = logging.getLogger(__name__)

MAX_CONFLICTS = 1_000
MAX_REASON = 1_000
_KEY_FIELDS = ("idKey", *LOOKUPS)
ADMIN = (Role.ADMIN,)

# -- what the routes declare (web/operation.py) ------------------------------------------------

_TAG = "identity"
_STRING = {"type": "string", "minLength": 1}
_REASON = {"type": "string", "maxLength": MAX_REASON, "description": "why, for the audit"}


def _change_body(*extra: str) -> dict[str, Any]:
    """A change's body: exactly one identifier field, `extra` required fields, a reason."""
    keys = {
        name: {**_STRING, "description": "an identifier key (type:value)"}
        if name == "idKey"
        else {**_STRING, "description": f"the raw {name}"}
        for name in _KEY_FIELDS
    }
    return {
        "type": "object",
        "properties": {**keys, **dict.fromkeys(extra, _STRING), "reason": _REASON},
        "required": list(extra),
        "minProperties": 1,
        "additionalProperties": False,
        "description": f"exactly one of {', '.join(_KEY_FIELDS)}",
    }


CONFLICT_LIMIT = Whole("limit", 1, MAX_CONFLICTS, "conflicts per page", 100)
CONFLICT_BEFORE = Seq("before", "the `next` of the previous page")
CONFLICT_PROFILE = Text("profileId", "only the conflicts of this profile", None)
EXPLAIN = Operation(
    "Why a profile holds what it holds: merges, conflicts, overrides",
    _TAG,
    roles=READERS,
    errors=(404,),
    path_params=PROFILE_ID,
)
CONFLICTS = Operation(
    "Refused links, newest first",
    _TAG,
    roles=READERS,
    params=(CONFLICT_LIMIT, CONFLICT_BEFORE, CONFLICT_PROFILE),
    errors=(404,),
)
BLOCK = Operation(
    'Ignore an identifier everywhere (a shop\'s shared card, "undefined")',
    _TAG,
    roles=ADMIN,
    body=_change_body(),
    errors=(409,),
)
CUT = Operation(
    "Cut a shared identifier that joined two people: it stays with its first holder",
    _TAG,
    roles=ADMIN,
    body=_change_body("profileId"),
    errors=(404, 409),
)
UNBLOCK = Operation("Lift a block or a cut", _TAG, roles=ADMIN, body=_change_body(), errors=(409,))
REBUILD = Operation(
    "Recompute the whole identity graph from the log",
    _TAG,
    roles=ADMIN,
    body={"type": "object", "additionalProperties": False},
    body_required=False,
)

Change = Callable[[Principal, dict[str, Any]], dict[str, Any]]


def _reason(body: dict[str, Any]) -> str | None:
    reason = text_field(body, "reason")
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput("reason", f"must be at most {MAX_REASON} characters")
    return reason


def _actor(principal: Principal) -> str:
    return f"api:{principal.name}"


class IdentityApi:
    """Routes over a workspace's identity graph, behind API tokens. The role is checked
    first; errors answer through the app's handler (web/errors.py)."""

    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/profiles/{profile_id}/identity", self.explain, "GET", EXPLAIN),
            ApiRoute("/api/identity/conflicts", self.conflicts, "GET", CONFLICTS),
            ApiRoute("/api/identity/block", self.block, "POST", BLOCK),
            ApiRoute("/api/identity/cut", self.cut, "POST", CUT),
            ApiRoute("/api/identity/unblock", self.unblock, "POST", UNBLOCK),
            ApiRoute("/api/identity/rebuild", self.rebuild, "POST", REBUILD),
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
        value = text_field(body, name, required=True)
        assert value is not None
        profiles = self._ws.profiles
        return profiles.keys.parse(value) if name == "idKey" else profiles.key(name, value)

    async def _change(self, request: Request, known: set[str], change: Change) -> Response:
        """An admin's change of the graph: the role, then the body's fields, then `change`
        in a worker thread."""
        principal = require(request, self._ws.credentials, *ADMIN)
        body = await json_object(request, empty=True)
        check_fields(body, known)
        return json_response(200, await run_in_threadpool(change, principal, body))

    async def explain(self, request: Request) -> Response:
        require(request, self._ws.credentials, *READERS)
        query(request).done()
        explanation = await run_in_threadpool(
            self._ws.identity.explain, request.path_params["profile_id"]
        )
        return json_response(200, explanation_json(explanation))

    async def conflicts(self, request: Request) -> Response:
        require(request, self._ws.credentials, *READERS)
        q = query(request)
        limit = q.get(CONFLICT_LIMIT)
        before = q.get(CONFLICT_BEFORE)
        profile_id = q.get(CONFLICT_PROFILE)
        q.done()

        def work() -> dict[str, Any]:
            identity = self._ws.identity
            identity.sync()
            if profile_id is not None:
                found = identity.conflicts(profile_id)
                return {
                    "profileId": identity.resolve(profile_id),
                    "conflicts": [conflict_json(c) for c in found],
                    "count": len(found),
                }
            store = self._ws.profiles.store
            rows = store.conflicts(limit + 1, before)
            more = len(rows) > limit
            rows = rows[:limit]
            return {
                "conflicts": [conflict_json(c) for c in rows],
                "count": len(rows),
                "total": store.conflict_total(),
                "next": str(rows[-1].seq) if more and rows else None,
            }

        return json_response(200, await run_in_threadpool(work))

    async def block(self, request: Request) -> Response:
        def change(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
            key = self._key(body)
            profiles = self._ws.identity.block(key, _actor(principal), _reason(body))
            return {"action": "block", "idKey": key, "profiles": profiles}

        return await self._change(request, {*_KEY_FIELDS, "reason"}, change)

    async def cut(self, request: Request) -> Response:
        def change(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
            key = self._key(body)
            profile_id = text_field(body, "profileId", required=True)
            assert profile_id is not None
            profiles = self._ws.identity.cut(key, profile_id, _actor(principal), _reason(body))
            return {"action": "cut", "idKey": key, "profileId": profile_id, "profiles": profiles}

        return await self._change(request, {*_KEY_FIELDS, "profileId", "reason"}, change)

    async def unblock(self, request: Request) -> Response:
        def change(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
            key = self._key(body)
            profiles = self._ws.identity.unblock(key, _actor(principal), _reason(body))
            return {"action": "unblock", "idKey": key, "profiles": profiles}

        return await self._change(request, {*_KEY_FIELDS, "reason"}, change)

    async def rebuild(self, request: Request) -> Response:
        def change(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
            return rebuild_json(self._ws.identity.rebuild())

        return await self._change(request, set(), change)


class IdentitySync(BackgroundLoop):
    """A background thread that resolves newly committed events into the identity graph.

    It looks at the end of the log every `interval` seconds and syncs when it moved, so a
    profile is current a fraction of a second after the collector acknowledged its events.
    While `busy()` says the writer has rows waiting, it waits instead (the sync takes the
    interpreter lock the writer and the validation need), but never more than `max_delay`
    seconds after the log first moved: under load the graph lags the log by at most
    `max_delay` plus one sync. Reads (profiles, analytics, identity) sync first anyway, so
    what they answer is always current. A failure is logged and retried, slower, until it
    clears.
    """

    thread_name = "empreinte-identity-sync"

    def __init__(
        self,
        workspace: Workspace,
        interval: float = 1.0,
        backoff: float = 2.0,
        *,
        max_delay: float = 5.0,
        busy: Callable[[], bool] | None = None,
    ):
        super().__init__()
        self._ws = workspace
        self._interval = interval
        self._backoff = backoff
        self._max_delay = max_delay
        self._busy = busy
        self.syncs = 0
        self.deferred = 0

    def _run(self) -> None:
        seen = -1
        moved_at: float | None = None  # when the log was first seen past `seen`
        wait = 0.0
        while not self._stop.wait(wait):
            wait = self._interval
            try:
                end = self._ws.engine.max_seq()
                if end == seen:
                    continue
                now = time.monotonic()
                moved_at = now if moved_at is None else moved_at
                if (
                    self._busy is not None
                    and now - moved_at + self._interval <= self._max_delay
                    and self._busy()
                ):
                    self.deferred += 1
                    continue
                self._ws.identity.sync()
                self.syncs += 1
                seen = end
                moved_at = None
            except Exception:
                log.exception("identity sync failed; retrying in %.0f s", self._backoff)
                wait = self._backoff
