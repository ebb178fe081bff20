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
from starlette.routing import Route

from empreinte.credentials import Principal, Role
from empreinte.errors import ConsentError, InvalidBody, PrivacyError
from empreinte.privacy import consent, erasure
from empreinte.privacy.export import export
from empreinte.privacy.login_throttle import LoginThrottle
from empreinte.privacy.users import Session, Users
from empreinte.web.auth import require
from empreinte.web.params import json_object
from empreinte.web.responses import json_response
from empreinte.workspace import Workspace

ADMIN = (Role.ADMIN,)
READERS = (Role.ADMIN, Role.ANALYST)
ANYONE = (Role.ADMIN, Role.ANALYST, Role.VIEWER)
MAX_BODY = 16 * 1024

Handler = Callable[[Request, Principal | None], Awaitable[Response]]


async def _body(request: Request) -> dict[str, Any]:
    return await json_object(request, max_bytes=MAX_BODY)


class PrivacyApi:
    """Routes of the privacy API over one workspace."""

    def __init__(self, workspace: Workspace, users: Users, throttle: LoginThrottle | None = None):
        self._ws = workspace
        self._users = users
        self._throttle = throttle or LoginThrottle()

    def routes(self) -> list[Route]:
        return [
            Route("/api/login", self._public(self.login), methods=["POST"]),
            Route("/api/me", self._guard(ANYONE, self.me), methods=["GET"]),
            Route(
                "/api/profiles/{profile_id}/consent",
                self._guard(READERS, self.consent),
                methods=["GET"],
            ),
            Route("/api/consent", self._guard(ADMIN, self.record), methods=["POST"]),
            Route("/api/consent/confirm", self._public(self.confirm), methods=["POST"]),
            Route(
                "/api/profiles/{profile_id}/export",
                self._guard(ADMIN, self.export),
                methods=["GET"],
            ),
            Route("/api/profiles/{profile_id}", self._guard(ADMIN, self.erase), methods=["DELETE"]),
            Route("/api/privacy/erasures", self._guard(ADMIN, self.erasures), methods=["GET"]),
            Route(
                "/api/privacy/suppressed", self._guard(READERS, self.suppressed), methods=["GET"]
            ),
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
        document = await run_in_threadpool(export, self._ws, request.path_params["profile_id"])
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
