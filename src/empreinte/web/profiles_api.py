"""The profile API: a person's profile, lookups, and the customer-360 timeline.

- `GET /api/profiles/{id}`: the profile (identifiers, traits with history, computed traits).
- `GET /api/profiles?email=|phone=|userId=|anonymousId=|loyaltyCard=`: the profile holding
  that identifier (exactly one parameter).
- `GET /api/profiles/{id}/timeline?limit=&after=&before=&includeBots=`: every event of the
  profile, oldest first; `next`/`previous` are the cursors of the neighbouring pages.

Roles: `admin` sees raw personal values (`?pii=false` for pseudonyms); `analyst` sees
pseudonyms only (asking `pii=true` is refused) and may not look up by e-mail or phone (that
would confirm whether a person is known); `viewer` is refused everything here. The role is
checked before anything else, so a refusal says nothing about whether the person exists.

A merged-away id answers 200 with the profile it merged into, `redirectedFrom` naming the id
asked for and a `Content-Location` header giving the current URL (not a 3xx: clients that do
not follow redirects still get the person, and the body says what happened).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from empreinte.credentials import Credentials, Principal, Role
from empreinte.errors import AuthError, IdentityError, ProfileNotFound, StorageError
from empreinte.profiles.lookup import LOOKUPS, PERSONAL_LOOKUPS, InvalidInput
from empreinte.profiles.profile import MAX_PAGE
from empreinte.profiles.views import profile_json, timeline_json
from empreinte.web.auth import Forbidden, require
from empreinte.workspace import Workspace

READERS = (Role.ADMIN, Role.ANALYST)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def error(status: int, code: str, message: str, field: str | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return json_response(status, body)


def refused(exc: AuthError) -> Response:
    """401 without a valid token, 403 for a role that is not enough."""
    if isinstance(exc, Forbidden):
        return error(403, "forbidden", str(exc))
    return error(401, "unauthorized", str(exc))


def invalid(exc: InvalidInput) -> Response:
    return error(400, "invalid_request", str(exc), exc.field)


def not_found(exc: ProfileNotFound) -> Response:
    return error(404, "not_found", str(exc))


def check_params(params: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(params) - known)
    if unknown:
        raise InvalidInput(
            unknown[0],
            f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
        )


def flag(params: dict[str, Any], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    lowered = str(value).lower()
    if lowered not in ("true", "false"):
        raise InvalidInput(name, "must be true or false")
    return lowered == "true"


def pii_for(principal: Principal, params: dict[str, Any]) -> bool:
    """Whether to show raw personal values: admins do unless `pii=false`; anyone else asking
    `pii=true` is refused."""
    wanted = flag(params, "pii", principal.role is Role.ADMIN)
    if wanted and principal.role is not Role.ADMIN:
        raise Forbidden(f"the {principal.role.value} role may not see raw personal values")
    return wanted


def _located(profile_id: str, redirected_from: str | None, suffix: str = "") -> dict[str, str]:
    if redirected_from is None:
        return {}
    return {"Content-Location": f"/api/profiles/{profile_id}{suffix}"}


async def guarded(
    request: Request,
    credentials: Credentials,
    roles: tuple[Role, ...],
    work: Callable[[Principal, dict[str, Any]], Response],
    *,
    json_body: bool = False,
) -> Response:
    """The role first (nothing else is looked at before), then `work(principal, params)` in a
    thread, with every expected error turned into its answer. `params` are the query
    parameters, or the JSON object of the body when `json_body`."""
    try:
        principal = require(request, credentials, *roles)
    except AuthError as exc:
        return refused(exc)
    params: dict[str, Any] = dict(request.query_params)
    try:
        if json_body:
            params = await _body(request)
        return await run_in_threadpool(work, principal, params)
    except AuthError as exc:
        return refused(exc)
    except InvalidInput as exc:
        return invalid(exc)
    except ProfileNotFound as exc:
        return not_found(exc)
    except IdentityError as exc:
        return error(409, "identity_error", str(exc))
    except StorageError as exc:
        return error(503, "storage_unavailable", str(exc))


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("body", "is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("body", "must be a JSON object")
    return body


class ProfilesApi:
    """Routes over a workspace's profiles, behind API tokens."""

    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[Route]:
        return [
            Route("/api/profiles", self.lookup, methods=["GET"]),
            Route("/api/profiles/{profile_id}", self.profile, methods=["GET"]),
            Route("/api/profiles/{profile_id}/timeline", self.timeline, methods=["GET"]),
        ]

    async def _guarded(
        self, request: Request, work: Callable[[Principal, dict[str, Any]], Response]
    ) -> Response:
        return await guarded(request, self._ws.credentials, READERS, work)

    async def profile(self, request: Request) -> Response:
        profile_id = request.path_params["profile_id"]

        def work(principal: Principal, params: dict[str, Any]) -> Response:
            check_params(params, {"pii", "history"})
            pii = pii_for(principal, params)
            history = flag(params, "history", True)
            found = self._ws.profiles.get(profile_id, pii=pii)
            return json_response(
                200,
                profile_json(found, history=history),
                _located(found.profile_id, found.redirected_from),
            )

        return await self._guarded(request, work)

    async def lookup(self, request: Request) -> Response:
        def work(principal: Principal, params: dict[str, Any]) -> Response:
            by = [name for name in LOOKUPS if name in params]
            # Refused before anything is read: the answer must not tell whether they exist.
            personal = [name for name in by if name in PERSONAL_LOOKUPS]
            if personal and principal.role is not Role.ADMIN:
                raise Forbidden(
                    f"the {principal.role.value} role may not look people up by {personal[0]}"
                )
            check_params(params, {*LOOKUPS, "pii", "history"})
            if len(by) != 1:
                raise InvalidInput(
                    by[1] if by else "lookup",
                    f"give exactly one of {', '.join(LOOKUPS)}"
                    + (f" (got {', '.join(by)})" if by else ""),
                )
            pii = pii_for(principal, params)
            history = flag(params, "history", True)
            name = by[0]
            profiles = self._ws.profiles
            profile_id = profiles.find(name, params[name])
            if profile_id is None:
                raise ProfileNotFound(f"no profile has this {name}")
            found = profiles.get(profile_id, pii=pii)
            body = {"matchedBy": name, **profile_json(found, history=history)}
            return json_response(200, body)

        return await self._guarded(request, work)

    async def timeline(self, request: Request) -> Response:
        profile_id = request.path_params["profile_id"]

        def work(principal: Principal, params: dict[str, Any]) -> Response:
            check_params(params, {"limit", "after", "before", "includeBots", "pii"})
            pii = pii_for(principal, params)
            raw_limit = params.get("limit") or "100"
            try:
                limit = int(raw_limit)
            except ValueError:
                raise InvalidInput("limit", f"{raw_limit!r} is not a whole number") from None
            if not 1 <= limit <= MAX_PAGE:
                raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE}")
            page = self._ws.profiles.timeline(
                profile_id,
                limit=limit,
                after=params.get("after") or None,
                before=params.get("before") or None,
                include_bots=flag(params, "includeBots", False),
                pii=pii,
            )
            return json_response(
                200,
                timeline_json(page),
                _located(page.profile_id, page.redirected_from, "/timeline"),
            )

        return await self._guarded(request, work)
