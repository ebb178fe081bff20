"""The OpenAPI document (web/openapi.py): every route of the app is in it and nothing else, it is
a valid OpenAPI 3.1 document, anyone may read it, and its parameters are the ones the routes
read (tests/web/test_schemathesis.py then sends requests generated from it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

import empreinte
from empreinte.errors import InvalidInput
from empreinte.web.app import create_app
from empreinte.web.openapi import PATH, document
from empreinte.web.params import Query, Whole


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Starlette]:
    ws = empreinte.open(tmp_path_factory.mktemp("openapi") / "ws")
    try:
        app = create_app(ws)
        app.state.admin = ws.credentials.create_api_token("ops", "admin")
        yield app
    finally:
        ws.close()


def get(
    app: Starlette, path: str, params: Mapping[str, str] | None = None, token: str | None = None
) -> httpx.Response:
    """GET from the app in process (no server, no lifespan)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return await client.get(path, params=params, headers=headers)

    return asyncio.run(call())


@pytest.fixture(scope="module")
def served(app: Starlette) -> dict[str, Any]:
    response = get(app, PATH)  # no credentials: the document is public
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def served_routes(app: Starlette) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        for method in (getattr(route, "methods", None) or set()) - {"HEAD"}:
            found.add((method.lower(), getattr(route, "path", "")))
    return found


def documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in doc["paths"].items() for method in item}


def test_every_route_is_documented_and_nothing_else(app: Starlette, served: dict[str, Any]) -> None:
    routes = served_routes(app)
    assert len(routes) >= 40
    assert routes - documented(served) == set(), "routes missing from the OpenAPI document"
    assert documented(served) - routes == set(), "documented operations the app does not serve"


def test_a_route_without_an_operation_is_left_out(app: Starlette) -> None:
    # What the test above would catch: a plain Starlette route carries no operation.
    async def extra(request: Any) -> Response:
        return Response()

    routes = [*app.routes, Route("/api/undocumented", extra, methods=["GET"])]
    assert ("get", "/api/undocumented") not in documented(document(routes, "0"))


def test_the_document_is_valid_openapi(served: dict[str, Any]) -> None:
    assert served["openapi"].startswith("3.1")
    validate(served)
    ids = [op["operationId"] for item in served["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_security_says_how_each_caller_authenticates(served: dict[str, Any]) -> None:
    paths = served["paths"]
    assert paths["/v1/batch"]["post"]["security"] == [{"writeKey": []}]
    assert paths["/api/events"]["get"]["security"] == [{"apiToken": []}]
    assert paths["/api/events"]["get"]["x-roles"] == ["admin"]
    assert paths["/api/login"]["post"]["security"] == []
    assert paths["/api/health"]["get"]["security"] == []
    schemes = served["components"]["securitySchemes"]
    assert schemes["writeKey"]["scheme"] == "basic"
    assert schemes["apiToken"]["scheme"] == "bearer"
    # A route behind a token answers 401; one for some roles only, 403 too.
    events = paths["/api/events"]["get"]["responses"]
    assert {"200", "400", "401", "403"} <= set(events)
    assert "403" not in paths["/api/cx/nps"]["get"]["responses"]  # every role reads it
    assert "429" in paths["/api/login"]["post"]["responses"]
    retry = served["components"]["responses"]["429"]["headers"]
    assert "Retry-After" in retry


def parameters(doc: dict[str, Any], method: str, path: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in doc["paths"][path][method]["parameters"]}


def test_parameters_carry_their_types_bounds_and_choices(served: dict[str, Any]) -> None:
    events = parameters(served, "get", "/api/events")
    assert events["limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 1000,
        "default": 100,
    }
    assert events["order"]["schema"]["enum"] == ["asc", "desc"]
    assert events["includeBots"]["schema"]["type"] == "boolean"
    nps = parameters(served, "get", "/api/cx/nps")
    csat = parameters(served, "get", "/api/cx/csat")
    assert "scale" in csat and "scale" not in nps
    assert nps["format"]["schema"]["enum"] == ["json", "csv", "png", "svg"]
    mde = parameters(served, "get", "/api/cx/experiments/{name}")["mde"]["schema"]
    assert (mde["exclusiveMinimum"], mde["exclusiveMaximum"]) == (0.0, 1.0)
    profile = parameters(served, "get", "/api/profiles/{profile_id}")
    assert profile["profile_id"]["in"] == "path" and profile["profile_id"]["required"]
    media = served["paths"]["/api/cx/kano"]["get"]["responses"]["200"]["content"]
    assert set(media) == {"application/json", "text/csv", "image/png", "image/svg+xml"}


@pytest.mark.parametrize(
    "path", ["/api/events", "/api/identity/conflicts", "/api/profiles/{profile_id}/timeline"]
)
def test_the_documented_parameters_are_the_ones_a_route_accepts(
    app: Starlette, served: dict[str, Any], path: str
) -> None:
    url = path.replace("{profile_id}", "p_0123456789abcdef")
    documented = [n for n, p in parameters(served, "get", path).items() if p["in"] == "query"]
    assert documented
    for name in [*documented, "undocumented"]:
        answer = get(app, url, {name: "1"}, app.state.admin)
        unknown = answer.status_code == 400 and "unknown parameter" in answer.json()["message"]
        assert unknown == (name == "undocumented"), (name, answer.text)


def test_a_route_may_only_read_what_it_declares() -> None:
    from starlette.datastructures import QueryParams

    limit = Whole("limit", 1, 10, "how many", 5)
    q = Query(QueryParams("limit=3&other=1"), declared=(limit,))
    assert q.get(limit) == 3
    with pytest.raises(AssertionError, match="does not declare"):
        q.text("other")
    with pytest.raises(InvalidInput, match=r"^other: unknown parameter"):
        Query(QueryParams("other=1"), declared=(limit,)).done()
    # Declared but not read (the route answered early) is still accepted.
    Query(QueryParams("limit=3"), declared=(limit,)).done()


def test_the_readme_names_the_endpoint() -> None:
    readme = Path(__file__).parents[2] / "README.md"
    assert PATH in readme.read_text()
