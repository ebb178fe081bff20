"""Bearer-token checks for the read API. Write keys never read.

A Bearer token is an API token (`emp_…`) or a dashboard session token (`ses_…`, from
`POST /api/login`); both carry a role. The app puts its session verifier in
`app.state.sessions` (see `web/app.py`).
"""

from __future__ import annotations

from starlette.requests import Request

from empreinte.credentials import Credentials, Principal, Role
from empreinte.errors import AuthError, Forbidden
from empreinte.privacy.users import SESSION_PREFIX, Users


def require(request: Request, credentials: Credentials, *roles: Role) -> Principal:
    """The caller of `request`, who must hold one of `roles`.

    Raises `AuthError` (401) without a valid token and `Forbidden` (403) for a token whose
    role is not enough. A write key is not an API token, so it is simply unknown here.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("missing API token: send `Authorization: Bearer <token>`")
    token = token.strip()
    if token.startswith(SESSION_PREFIX):
        sessions: Users | None = getattr(request.app.state, "sessions", None)
        if sessions is None:
            raise AuthError("session tokens are not accepted here; use an API token")
        principal = sessions.principal(token)
    else:
        principal = credentials.principal_for(token)
    if principal.role not in roles:
        raise Forbidden(f"the {principal.role.value} role may not do this")
    return principal
