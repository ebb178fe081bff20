"""Who is looking at the dashboard, and proof that a form was posted from it.

- The login gives the same signed session token as `POST /api/login` (privacy/users.py),
  kept in the `empreinte_session` cookie: HttpOnly (no script reads it), SameSite=Lax (no
  other site's form or fetch carries it), Secure when the request came over TLS, 8 hours.
  The user's role is read again at every request, so a disabled user is out at once.
- Every form that changes something carries a CSRF token: HMAC-SHA-256 of a random nonce,
  keyed with the workspace's session key; the nonce lives in the `empreinte_csrf` cookie
  (HttpOnly, SameSite=Strict). A post is accepted only when its token is the nonce's
  signature (a forged cookie is no help without the key) and, when the browser says where it
  comes from (`Origin`), from this very host.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Principal, Role
from empreinte.errors import AuthError, Forbidden
from empreinte.privacy.users import SESSION_PREFIX, SESSION_SECONDS, Users

SESSION_COOKIE = "empreinte_session"
CSRF_COOKIE = "empreinte_csrf"
CSRF_FIELD = "csrf"
#: A session token is short; a longer cookie is no one's and is not verified.
_MAX_TOKEN = 512


@dataclass(frozen=True)
class Viewer:
    """The logged-in user of a dashboard request."""

    username: str
    role: Role
    token: str

    def may(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def principal(self) -> Principal:
        return Principal(self.username, self.role)


class DashboardSessions:
    """Reads the session cookie, and makes and checks CSRF tokens."""

    def __init__(self, users: Users, key: bytes):
        self.users = users
        self._csrf_key = hmac.new(key, b"empreinte dashboard csrf", hashlib.sha256).digest()

    def viewer(self, request: Request) -> Viewer | None:
        """The user behind the request's session cookie, or None (absent, expired, forged,
        or the user disabled since)."""
        token = request.cookies.get(SESSION_COOKIE, "")
        if not token.startswith(SESSION_PREFIX) or len(token) > _MAX_TOKEN:
            return None
        try:
            principal = self.users.principal(token)
        except AuthError:
            return None
        return Viewer(principal.name, principal.role, token)

    def start(self, request: Request, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )

    def end(self, request: Request, response: Response) -> None:
        """Log out: the session's token is refused from now on (a copy of the cookie too),
        and the browser forgets it."""
        token = request.cookies.get(SESSION_COOKIE, "")
        if token.startswith(SESSION_PREFIX) and len(token) <= _MAX_TOKEN:
            with contextlib.suppress(AuthError):  # expired or forged: nothing to end
                self.users.logout(token)
        response.delete_cookie(SESSION_COOKIE, path="/")

    # -- CSRF ------------------------------------------------------------------------------

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._csrf_key, nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_token(self, request: Request, response_cookies: dict[str, str]) -> str:
        """The token to put in this page's forms; a new nonce is set in `response_cookies`
        when the browser has none yet."""
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if not (16 <= len(nonce) <= 64 and nonce.isalnum()):
            nonce = secrets.token_hex(16)
            response_cookies[CSRF_COOKIE] = nonce
        return self._sign(nonce)

    def set_csrf_cookie(self, request: Request, response: Response, nonce: str) -> None:
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )

    def check_csrf(self, request: Request, submitted: object) -> None:
        """Raise `Forbidden` unless the posted form proves it came from our own page."""
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
            raise Forbidden("this form was posted from another site")
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if not isinstance(submitted, str) or not nonce or len(submitted) != 64:
            raise Forbidden("this form has expired: reload the page and try again")
        if not hmac.compare_digest(submitted, self._sign(nonce)):
            raise Forbidden("this form has expired: reload the page and try again")
