"""The privacy API: logins, a person's consent, erasure and export, and the privacy registers.

| route | who | what |
| --- | --- | --- |
| `POST /api/login` | anyone | `{username, password}` → a session token (Bearer) |
| `GET /api/me` | any role | who the token is, and its role |
| `GET /api/profiles/{id}/consent` | admin, analyst | consent per purpose, and its history |
| `POST /api/consent` | admin | record a grant or a revocation (into the log) |
| `POST /api/consent/confirm` | anyone holding the token | confirm a double opt-in grant |
| `GET /api/profiles/{id}/export` | admin | everything about the person, raw values included |
| `DELETE /api/profiles/{id}` | admin | erase the person, and suppress their identifiers |
| `GET /api/privacy/erasures` | admin | the erasure audit (no personal data) |
| `GET /api/privacy/suppressed` | admin, analyst | events dropped by suppression, by day, source |

The role is checked before anything else is read, so a refusal (401, 403) says nothing about
whether a person exists. `POST /api/consent/confirm` needs no API token: the person's own
confirmation link carries the token, a single-use 256-bit secret stored only as a hash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Principal, Role
from empreinte.errors import ConsentError, InvalidBody, InvalidInput, PrivacyError
from empreinte.privacy import consent, erasure
from empreinte.privacy.consent import PURPOSES
from empreinte.privacy.export import export
from empreinte.privacy.login_throttle import LoginThrottle
from empreinte.privacy.users import SESSION_PREFIX, Session, Users
from empreinte.web.auth import require
from empreinte.web.operation import ApiRoute, Operation
from empreinte.web.params import json_object
from empreinte.web.profiles_api import PROFILE_ID
from empreinte.web.responses import json_response
from empreinte.workspace import Workspace

ADMIN = (Role.ADMIN,)
READERS = (Role.ADMIN, Role.ANALYST)
ANYONE = (Role.ADMIN, Role.ANALYST, Role.VIEWER)
MAX_BODY = 16 * 1024

Handler = Callable[[Request, Principal | None], Awaitable[Response]]

# -- what the routes declare (web/operation.py) ------------------------------------------------

_STRING = {"type": "string"}
_PERSON = {
    "profileId": _STRING,
    "userId": _STRING,
    "anonymousId": _STRING,
    "email": _STRING,
    "phone": _STRING,
}
_CONSENT_BODY = {
    "type": "object",
    "properties": {
        "purpose": {"type": "string", "enum": list(PURPOSES)},
        "granted": {"type": "boolean"},
        "wordingVersion": {"type": "string", "minLength": 1},
        "source": _STRING,
        **_PERSON,
    },
    "required": ["purpose", "granted", "wordingVersion"],
    "additionalProperties": False,
    "description": "the person is named by one of profileId, userId, anonymousId, email, phone",
}
LOGIN = Operation(
    "Log a dashboard user in: a session token to send as Bearer",
    "sessions",
    auth="public",
    body={
        "type": "object",
        "properties": {"username": _STRING, "password": _STRING},
        "required": ["username", "password"],
    },
    answer={
        "type": "object",
        "properties": {
            "token": _STRING,
            "tokenType": {"const": "Bearer"},
            "username": _STRING,
            "role": {"type": "string", "enum": [r.value for r in Role]},
            "expiresAt": _STRING,
        },
        "required": ["token", "tokenType", "username", "role", "expiresAt"],
    },
    errors=(401, 429),
    description="Failed attempts are limited per user and per client address (429 with "
    "Retry-After); the number of password checks at once is bounded (429).",
)
ME = Operation(
    "Who the token is, and its role",
    "sessions",
    roles=ANYONE,
    answer={
        "type": "object",
        "properties": {"name": _STRING, "role": {"type": "string"}},
        "required": ["name", "role"],
    },
)
LOGOUT = Operation(
    "End this session: its token is refused from now on",
    "sessions",
    roles=ANYONE,
    ok=204,
    errors=(400,),
    description="For a session token (from /api/login). An API token is revoked by an admin, "
    "not logged out: 400.",
)
CONSENT = Operation(
    "A person's consent per purpose, and its history",
    "privacy",
    roles=READERS,
    errors=(404,),
    path_params=PROFILE_ID,
)
RECORD = Operation(
    "Record a grant or a revocation of consent (into the log)",
    "privacy",
    roles=ADMIN,
    body=_CONSENT_BODY,
    ok=201,
    errors=(404,),
    description="A grant of a double opt-in purpose is pending, and answers a confirmation "
    "token to send to the person.",
)
CONFIRM = Operation(
    "Confirm a double opt-in grant with the token sent to the person",
    "privacy",
    auth="public",
    body={
        "type": "object",
        "properties": {"token": {"type": "string", "minLength": 1}},
        "required": ["token"],
    },
)
EXPORT = Operation(
    "Everything about a person, raw values included",
    "privacy",
    roles=ADMIN,
    errors=(404,),
    path_params=PROFILE_ID,
)
ERASE = Operation(
    "Erase a person, and suppress their identifiers",
    "privacy",
    roles=ADMIN,
    errors=(404,),
    path_params=PROFILE_ID,
)
ERASURES = Operation("The erasure audit (no personal data)", "privacy", roles=ADMIN)
SUPPRESSED = Operation("Events dropped by suppression, by day and source", "privacy", roles=READERS)


async def _body(request: Request) -> dict[str, Any]:
    return await json_object(request, max_bytes=MAX_BODY)


class PrivacyApi:
    """Routes of the privacy API over one workspace."""

    def __init__(self, workspace: Workspace, users: Users, throttle: LoginThrottle | None = None):
        self._ws = workspace
        self._users = users
        self._throttle = throttle or LoginThrottle()

    def routes(self) -> list[ApiRoute]:
        def route(path: str, method: str, operation: Operation, handler: Handler) -> ApiRoute:
            if operation.auth == "public":
                return ApiRoute(path, self._public(handler), method, operation)
            return ApiRoute(path, self._guard(operation.roles, handler), method, operation)

        return [
            route("/api/login", "POST", LOGIN, self.login),
            route("/api/me", "GET", ME, self.me),
            route("/api/logout", "POST", LOGOUT, self.logout),
            route("/api/profiles/{profile_id}/consent", "GET", CONSENT, self.consent),
            route("/api/consent", "POST", RECORD, self.record),
            route("/api/consent/confirm", "POST", CONFIRM, self.confirm),
            route("/api/profiles/{profile_id}/export", "GET", EXPORT, self.export),
            route("/api/profiles/{profile_id}", "DELETE", ERASE, self.erase),
            route("/api/privacy/erasures", "GET", ERASURES, self.erasures),
            route("/api/privacy/suppressed", "GET", SUPPRESSED, self.suppressed),
        ]

    # -- the one place where roles are checked (errors answer through web/errors.py) --------

    def _guard(
        self, roles: tuple[Role, ...], handler: Handler
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            # First of all: nothing is looked up for a caller without the role.
            principal = require(request, self._ws.credentials, *roles)
            return await handler(request, principal)

        endpoint.__name__ = handler.__name__
        return endpoint

    def _public(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await handler(request, None)

        endpoint.__name__ = handler.__name__
        return endpoint

    # -- sessions -------------------------------------------------------------------------

    async def login(self, request: Request, who: Principal | None) -> Response:
        body = await _body(request)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise InvalidBody("give username and password, as strings")
        # The peer's address: behind a reverse proxy, that is the proxy's (one budget for
        # all; docs/privacy.md says to limit logins at the proxy then).
        address = request.client.host if request.client else "unknown"

        def login() -> Session:
            with self._throttle.attempt(username, address):
                return self._users.login(username, password)

        session = await run_in_threadpool(login)
        return json_response(
            200,
            {
                "token": session.token,
                "tokenType": "Bearer",
                "username": session.username,
                "role": session.role.value,
                "expiresAt": session.expires_at.isoformat().replace("+00:00", "Z"),
            },
        )

    async def me(self, request: Request, who: Principal | None) -> Response:
        assert who is not None
        return json_response(200, {"name": who.name, "role": who.role.value})

    async def logout(self, request: Request, who: Principal | None) -> Response:
        token = request.headers.get("authorization", "").partition(" ")[2].strip()
        if not token.startswith(SESSION_PREFIX):
            raise InvalidInput("authorization", "only a session token (from /api/login) logs out")
        await run_in_threadpool(self._users.logout, token)
        return Response(status_code=204)

    # -- consent --------------------------------------------------------------------------

    async def consent(self, request: Request, who: Principal | None) -> Response:
        profile_id = request.path_params["profile_id"]
        found = await run_in_threadpool(consent.ledger, self._ws, profile_id)
        return json_response(200, found.to_json())

    async def record(self, request: Request, who: Principal | None) -> Response:
        body = await _body(request)
        known = {
            "purpose",
            "granted",
            "wordingVersion",
            "source",
            "profileId",
            "userId",
            "anonymousId",
            "email",
            "phone",
        }
        unknown = sorted(set(body) - known)
        if unknown:
            raise PrivacyError(
                f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                unknown[0],
            )
        recorded = await run_in_threadpool(
            lambda: consent.record(
                self._ws,
                purpose=body.get("purpose"),  # type: ignore[arg-type]
                granted=body.get("granted"),  # type: ignore[arg-type]
                wording_version=body.get("wordingVersion"),  # type: ignore[arg-type]
                source=body.get("source"),
                recorded_by=who.name if who is not None else None,
                profile_id=body.get("profileId"),
                user_id=body.get("userId"),
                anonymous_id=body.get("anonymousId"),
                email=body.get("email"),
                phone=body.get("phone"),
            )
        )
        return json_response(201, recorded.to_json())

    async def confirm(self, request: Request, who: Principal | None) -> Response:
        body = await _body(request)
        token = body.get("token")
        if not isinstance(token, str) or not token:
            raise ConsentError("give the confirmation token, as a string", "token")
        recorded = await run_in_threadpool(consent.confirm, self._ws, token)
        return json_response(200, recorded.to_json())

    # -- export and erasure ---------------------------------------------------------------

    async def export(self, request: Request, who: Principal | None) -> Response:
        assert who is not None
        document = await run_in_threadpool(
            lambda: export(self._ws, request.path_params["profile_id"], actor=who.name)
        )
        return json_response(200, document)

    async def erase(self, request: Request, who: Principal | None) -> Response:
        assert who is not None
        report = await run_in_threadpool(
            erasure.erase, self._ws, request.path_params["profile_id"], who.name
        )
        return json_response(200, report.to_json())

    async def erasures(self, request: Request, who: Principal | None) -> Response:
        records = await run_in_threadpool(self._ws.privacy_store.erasures)
        return json_response(
            200,
            {
                "erasures": [
                    {
                        "erasureId": r["erasure_id"],
                        "recordedAt": r["recorded_at"].isoformat().replace("+00:00", "Z"),
                        "actor": r["actor"],
                        "idHashes": r["id_hashes"],
                        "counts": r["counts"],
                    }
                    for r in records
                ]
            },
        )

    async def suppressed(self, request: Request, who: Principal | None) -> Response:
        counts = await run_in_threadpool(self._ws.suppression.counts)
        return json_response(
            200,
            {
                "suppressed": [
                    {"day": day.isoformat(), "source": source, "events": n}
                    for day, source, n in counts
                ],
                "total": sum(n for _, _, n in counts),
            },
        )
