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

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Principal, Role
from empreinte.errors import Forbidden, InvalidInput, ProfileNotFound
from empreinte.profiles.lookup import LOOKUPS, PERSONAL_LOOKUPS
from empreinte.profiles.profile import MAX_PAGE
from empreinte.profiles.views import profile_json, timeline_json
from empreinte.web.auth import require
from empreinte.web.operation import ApiRoute, Operation, query
from empreinte.web.params import Flag, Query, Text, Whole
from empreinte.web.responses import json_response
from empreinte.workspace import Workspace

READERS = (Role.ADMIN, Role.ANALYST)

PII = Flag("pii", "raw personal values (admins; the default for them) or pseudonyms", None)
HISTORY = Flag("history", "each trait's history of values", True)
PROFILE_ID = {"profile_id": "a profile id (p_…); a merged-away id answers with the merged profile"}
_TAG = "profiles"
PROFILE = Operation(
    "A person's profile: identifiers, traits with history, computed traits",
    _TAG,
    roles=READERS,
    params=(PII, HISTORY),
    errors=(404,),
    path_params=PROFILE_ID,
    description="A merged-away id answers 200 with the profile it merged into, "
    "`redirectedFrom` naming the id asked for and a Content-Location header.",
)
LOOKUP = Operation(
    "The profile holding an identifier (give exactly one of them)",
    _TAG,
    roles=READERS,
    params=(
        *(Text(name, f"the {name} to look up", None) for name in LOOKUPS),
        PII,
        HISTORY,
    ),
    errors=(404,),
    description=f"Analysts may not look people up by {' or '.join(PERSONAL_LOOKUPS)}.",
)
PAGE = Whole("limit", 1, MAX_PAGE, "events per page", 100)
AFTER = Text("after", "the `next` cursor of the previous page", None)
BEFORE = Text("before", "the `previous` cursor of the next page", None)
BOTS = Flag("includeBots", "include events flagged as bots", False)
TIMELINE = Operation(
    "Every event of a profile, oldest first, a page at a time",
    _TAG,
    roles=READERS,
    params=(PII, PAGE, AFTER, BEFORE, BOTS),
    errors=(404,),
    path_params=PROFILE_ID,
)


def pii_for(principal: Principal, q: Query) -> bool:
    """Whether to show raw personal values: admins do unless `pii=false`; anyone else asking
    `pii=true` is refused."""
    given = q.get(PII)
    wanted = principal.role is Role.ADMIN if given is None else given
    if wanted and principal.role is not Role.ADMIN:
        raise Forbidden(f"the {principal.role.value} role may not see raw personal values")
    return wanted


def _located(profile_id: str, redirected_from: str | None, suffix: str = "") -> dict[str, str]:
    if redirected_from is None:
        return {}
    return {"Content-Location": f"/api/profiles/{profile_id}{suffix}"}


class ProfilesApi:
    """Routes over a workspace's profiles, behind API tokens. The role is checked first;
    errors answer through the app's handler (web/errors.py)."""

    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/profiles", self.lookup, "GET", LOOKUP),
            ApiRoute("/api/profiles/{profile_id}", self.profile, "GET", PROFILE),
            ApiRoute("/api/profiles/{profile_id}/timeline", self.timeline, "GET", TIMELINE),
        ]

    async def profile(self, request: Request) -> Response:
        principal = require(request, self._ws.credentials, *READERS)
        profile_id = request.path_params["profile_id"]
        q = query(request)
        pii = pii_for(principal, q)
        history = q.get(HISTORY)
        q.done()
        found = await run_in_threadpool(self._ws.profiles.get, profile_id, pii=pii)
        return json_response(
            200,
            profile_json(found, history=history),
            _located(found.profile_id, found.redirected_from),
        )

    async def lookup(self, request: Request) -> Response:
        principal = require(request, self._ws.credentials, *READERS)
        q = query(request)
        by = [name for name in LOOKUPS if q.given(name)]
        # Refused before anything is read: the answer must not tell whether they exist.
        personal = [name for name in by if name in PERSONAL_LOOKUPS]
        if personal and principal.role is not Role.ADMIN:
            raise Forbidden(
                f"the {principal.role.value} role may not look people up by {personal[0]}"
            )
        pii = pii_for(principal, q)
        history = q.get(HISTORY)
        value = q.text(by[0]) if len(by) == 1 else None
        q.done()
        if len(by) != 1:
            raise InvalidInput(
                by[1] if by else "lookup",
                f"give exactly one of {', '.join(LOOKUPS)}"
                + (f" (got {', '.join(by)})" if by else ""),
            )
        name = by[0]

        def work() -> dict[str, Any]:
            profiles = self._ws.profiles
            profile_id = profiles.find(name, value or "")
            if profile_id is None:
                raise ProfileNotFound(f"no profile has this {name}")
            found = profiles.get(profile_id, pii=pii)
            return {"matchedBy": name, **profile_json(found, history=history)}

        return json_response(200, await run_in_threadpool(work))

    async def timeline(self, request: Request) -> Response:
        principal = require(request, self._ws.credentials, *READERS)
        profile_id = request.path_params["profile_id"]
        q = query(request)
        pii = pii_for(principal, q)
        limit, after, before = q.get(PAGE), q.get(AFTER), q.get(BEFORE)
        include_bots = q.get(BOTS)
        q.done()
        page = await run_in_threadpool(
            lambda: self._ws.profiles.timeline(
                profile_id,
                limit=limit,
                after=after,
                before=before,
                include_bots=include_bots,
                pii=pii,
            )
        )
        return json_response(
            200,
            timeline_json(page),
            _located(page.profile_id, page.redirected_from, "/timeline"),
        )
