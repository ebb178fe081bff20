"""What a route is for its callers: who may call it, its parameters, its body, its answers.

Each route module declares an `Operation` beside its route (`ApiRoute`); the handler reads its
query through `query(request)`, which accepts and reads only the parameters the operation
declares. web/openapi.py makes the OpenAPI document from the same declarations, so the document
says what the routes do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Any, Literal

from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from empreinte.credentials import Role
from empreinte.web.params import Param, Query

#: How a caller proves who it is: nothing; an API or session token (Bearer); a write key (the
#: HTTP Basic username, as the Segment clients send it); an admin token or the local CLI's
#: secret (also Bearer).
Auth = Literal["public", "token", "write_key", "token_or_local"]

JSON = "application/json"
ANY_OBJECT: Mapping[str, Any] = {"type": "object"}

_SCOPE_KEY = "empreinte.operation"


@dataclass(frozen=True)
class Operation:
    """One method on one path, as its callers see it.

    `roles`: who may call it with a token (`auth="token"`); `params`: the query parameters the
    route reads (and the only ones it accepts); `body`: the JSON schema of its JSON body;
    `answer`: the JSON schema of a successful JSON answer, `ok` its status; `media`: the media
    types of a successful answer (a report can also be CSV or a chart); `errors`: statuses beyond
    those its auth, parameters and body imply (401, 403, 400)."""

    summary: str
    tag: str
    auth: Auth = "token"
    roles: tuple[Role, ...] = ()
    params: tuple[Param[Any], ...] = ()
    body: Mapping[str, Any] | None = None
    body_required: bool = True
    ok: int = 200
    answer: Mapping[str, Any] = field(default_factory=lambda: ANY_OBJECT)
    media: tuple[str, ...] = (JSON,)
    errors: tuple[int, ...] = ()
    description: str = ""
    path_params: Mapping[str, str] | None = None  # name → description

    def statuses(self) -> list[int]:
        """Every status the operation answers with besides `ok`, sorted."""
        found = set(self.errors)
        if self.auth != "public":
            found.add(401)
        if self.auth == "token" and set(self.roles) != set(Role):
            found.add(403)
        if self.auth == "token_or_local":
            found.add(403)
        if self.params or self.body is not None:
            found.add(400)
        return sorted(found)


class ApiRoute(Route):
    """A Starlette route for one method, carrying its `Operation`."""

    def __init__(
        self, path: str, endpoint: Callable[..., Any], method: str, operation: Operation
    ) -> None:
        super().__init__(path, endpoint, methods=[method])
        self.method = method
        self.operation = operation

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_SCOPE_KEY] = self.operation
        await super().handle(scope, receive, send)


def query(request: Request, zone: tzinfo = UTC) -> Query:
    """The query of `request`, limited to what its route's operation declares."""
    operation: Operation | None = request.scope.get(_SCOPE_KEY)
    declared = operation.params if operation is not None else ()
    return Query(request.query_params, zone, declared)
