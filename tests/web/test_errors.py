"""One error surface: every error of the `EmpreinteError` tree answers through one handler with
its status, code, body and headers; a server-side error never shows its own text (a path,
the engine's message) to the caller, while the operator's log keeps it.

First each class of the tree through the handler (a minimal app), then each kind of error
end to end through the real app (`create_app` in uvicorn over a storage the test can break).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import empreinte
from empreinte import errors
from empreinte.collect.kano_vocabulary import UnknownKanoAnswer
from empreinte.errors import EmpreinteError, StorageError
from empreinte.web.errors import EXCEPTION_HANDLERS

# A server-side detail that must never reach a caller.
WAL = "/srv/empreinte/shop/events.duckdb.wal"
# A `/`-rooted path: a slash not preceded by a word character, a dot or a colon (URLs' "//").
ROOTED_PATH = re.compile(r"(?<![\w.:/])/[\w.-]+/")


def no_internals(text: str) -> None:
    assert ROOTED_PATH.search(text) is None, text
    assert ".duckdb" not in text and ".wal" not in text, text


# -- every class of the tree ------------------------------------------------------------------

# Classes whose constructor is not `cls(message)`.
_MAKERS: dict[type[EmpreinteError], Callable[[], EmpreinteError]] = {
    errors.InvalidInput: lambda: errors.InvalidInput("limit", f"nothing at {WAL}"),
    errors.InvalidBody: lambda: errors.InvalidBody(f"nothing at {WAL}"),
    errors.MissingColumns: lambda: errors.MissingColumns(f"nothing at {WAL}", ["email"]),
    UnknownKanoAnswer: lambda: UnknownKanoAnswer(WAL),
    errors.NoStory: lambda: errors.NoStory(f"nothing at {WAL}", "unknown"),
    errors.DestinationExists: lambda: errors.DestinationExists("name", f"nothing at {WAL}"),
}

TREE = sorted(
    {
        *(
            cls
            for _, cls in inspect.getmembers(errors, inspect.isclass)
            if issubclass(cls, EmpreinteError)
        ),
        UnknownKanoAnswer,
    },
    key=lambda cls: cls.__name__,
)


def make(cls: type[EmpreinteError]) -> EmpreinteError:
    return _MAKERS.get(cls, lambda: cls(f"could not write {WAL}: disk full"))()


def subclasses(root: type[EmpreinteError]) -> set[type[EmpreinteError]]:
    found = set()
    for cls in root.__subclasses__():
        found |= {cls, *subclasses(cls)}
    return found


def test_the_parametrised_tree_is_the_whole_tree() -> None:
    # Load every lazily exported class, then every EmpreinteError of the package is tested.
    for name in empreinte.__all__:
        getattr(empreinte, name)
    package = {cls for cls in subclasses(EmpreinteError) if cls.__module__.startswith("empreinte")}
    assert package <= set(TREE), package - set(TREE)


@pytest.mark.parametrize("cls", TREE, ids=lambda cls: cls.__name__)
def test_every_error_has_a_status_and_a_code(cls: type[EmpreinteError]) -> None:
    assert isinstance(cls.status, int) and 400 <= cls.status <= 599
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", cls.code), cls.code
    error = make(cls)
    body = error.to_json()
    assert body["code"] == error.code and isinstance(body["message"], str) and body["message"]
    if error.status >= 500:
        assert body == {"code": error.code, "message": cls.public_message}
    else:
        assert body["message"] == str(error)


def raised_through_the_app(error: BaseException) -> httpx.Response:
    """The answer of a minimal app with the real handlers whose one route raises `error`."""

    async def fail(request: Request) -> Response:
        raise error

    app = Starlette(routes=[Route("/fail", fail)], exception_handlers=dict(EXCEPTION_HANDLERS))

    async def get() -> httpx.Response:
        # The 500 handler answers, then Starlette re-raises for the server: not raised here.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return await client.get("/fail")

    return asyncio.run(get())


@pytest.mark.parametrize("cls", TREE, ids=lambda cls: cls.__name__)
def test_the_handler_answers_every_error(
    cls: type[EmpreinteError], caplog: pytest.LogCaptureFixture
) -> None:
    error = make(cls)
    with caplog.at_level(logging.ERROR, logger="empreinte.web.errors"):
        response = raised_through_the_app(error)
    assert response.status_code == cls.status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == error.code
    retry = response.headers.get("retry-after")
    assert retry == (None if error.retry_after is None else str(error.retry_after))
    if cls.status >= 500:
        no_internals(response.text)
        assert WAL in caplog.text  # the operator still learns what happened
    else:
        assert body["message"] == str(error)
        assert WAL not in caplog.text  # a refused request is not the operator's problem
    for key, value in error.details().items():
        assert body[key] == value


def test_an_unexpected_exception_is_a_500_without_its_text() -> None:
    response = raised_through_the_app(OSError(28, "No space left on device", WAL))
    assert response.status_code == 500 and response.json()["code"] == "internal_error"
    no_internals(response.text)


# -- each kind of error, end to end through the real app -------------------------------------


def track(user: str, n: int = 0) -> dict[str, Any]:
    message = {"type": "track", "event": "Item Viewed", "userId": user, "properties": {"n": n}}
    return {**message, "messageId": str(uuid.uuid4())}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_body(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["message"], body
    assert "Traceback" not in response.text
    return body


@pytest.fixture
def http(faulty_server: Any) -> httpx.Client:
    with httpx.Client(base_url=faulty_server.url, timeout=30) as client:
        yield client


def test_400_names_the_parameter(faulty_server: Any, http: httpx.Client) -> None:
    admin = bearer(faulty_server.keys.admin_token)
    cases = [
        ("/api/events", {"limit": "0"}, "limit"),
        ("/api/events", {"since": "yesterday"}, "since"),
        ("/api/events", {"includeBots": "maybe"}, "includeBots"),
        ("/api/events", {"limt": "5"}, "limt"),
        ("/api/profiles/p-1/timeline", {"limit": "many"}, "limit"),
        ("/api/identity/conflicts", {"before": "yesterday"}, "before"),
        ("/api/cx/nps", {"period": "decade"}, "period"),
    ]
    for path, params, field in cases:
        body = error_body(http.get(path, params=params, headers=admin), 400, "invalid_request")
        assert body["field"] == field, (path, body)
        assert field in body["message"]
    twice = http.get("/api/events?limit=5&limit=6", headers=admin)
    assert error_body(twice, 400, "invalid_request")["field"] == "limit"


def test_400_for_a_bad_body(faulty_server: Any, http: httpx.Client) -> None:
    admin = bearer(faulty_server.keys.admin_token)
    for path in ("/api/consent", "/api/identity/block"):
        response = http.post(path, content=b"{not json", headers=admin)
        assert error_body(response, 400, "invalid_body")["field"] == "body"
    bad_sent_at = {"batch": [track("u-400")], "sentAt": "not a time"}
    response = http.post("/v1/batch", json=bad_sent_at, auth=(faulty_server.keys.write_key, ""))
    assert response.status_code == 400 and response.json()["field"] == "sentAt"


def test_401_without_valid_credentials(faulty_server: Any, http: httpx.Client) -> None:
    error_body(http.get("/api/events"), 401, "unauthorized")
    error_body(http.get("/api/cx/nps", headers=bearer("emp_made_up")), 401, "unauthorized")
    response = http.post("/v1/batch", json={"batch": [track("u-401")]}, auth=("wk_made_up", ""))
    error_body(response, 401, "unauthorized")
    garbled = http.post("/v1/batch", json={"batch": []}, headers={"Authorization": "Basic %%%"})
    error_body(garbled, 401, "invalid_auth")


def test_403_for_a_role_that_is_not_enough(faulty_server: Any, http: httpx.Client) -> None:
    keys = faulty_server.keys
    error_body(http.get("/api/events", headers=bearer(keys.analyst_token)), 403, "forbidden")
    error_body(http.get("/api/profiles/p-1", headers=bearer(keys.viewer_token)), 403, "forbidden")
    asks_raw = http.get(
        "/api/profiles/p-1", params={"pii": "true"}, headers=bearer(keys.analyst_token)
    )
    error_body(asks_raw, 403, "forbidden")
    erase = http.delete("/api/profiles/p-1", headers=bearer(keys.analyst_token))
    error_body(erase, 403, "forbidden")


def test_404_for_what_does_not_exist(faulty_server: Any, http: httpx.Client) -> None:
    admin = bearer(faulty_server.keys.admin_token)
    error_body(http.get("/api/profiles/p-nobody", headers=admin), 404, "not_found")
    error_body(
        http.get("/api/profiles", params={"userId": "nobody"}, headers=admin), 404, "not_found"
    )
    error_body(http.get("/v1/projects/wk_made_up/settings"), 404, "not_found")
    error_body(http.get("/no/such/route"), 404, "not_found")
    error_body(http.put("/api/events", headers=admin), 405, "method_not_allowed")


def test_429_with_retry_after_when_the_queue_is_full(
    faulty_server: Any, http: httpx.Client
) -> None:
    key = faulty_server.keys.write_key
    engine = faulty_server.engine
    engine.gate.clear()  # the storage stalls
    answers: list[httpx.Response] = []
    filler = threading.Thread(
        target=lambda: answers.append(
            httpx.post(
                f"{faulty_server.url}/v1/batch",
                json={"batch": [track("u-429", n) for n in range(10)]},  # fills the queue of 10
                auth=(key, ""),
                timeout=60,
            )
        ),
        daemon=True,
    )
    filler.start()
    try:
        assert engine.stalled.wait(10)
        refused = http.post("/v1/track", json=track("u-429", 10), auth=(key, ""))
        error_body(refused, 429, "overloaded")
        assert int(refused.headers["Retry-After"]) >= 1
    finally:
        engine.gate.set()
        filler.join(30)
    assert answers[0].status_code == 200


@pytest.mark.parametrize(
    "fault",
    [
        OSError(28, "No space left on device", WAL),
        StorageError(f'IO Error: Could not write file "{WAL}": No space left on device'),
    ],
    ids=["disk-full", "engine-message"],
)
def test_503_names_no_path_and_the_log_keeps_it(
    faulty_server: Any, http: httpx.Client, fault: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    faulty_server.engine.failing = fault
    with caplog.at_level(logging.ERROR, logger="empreinte"):
        response = http.post(
            "/v1/batch", json={"batch": [track("u-503")]}, auth=(faulty_server.keys.write_key, "")
        )
    error_body(response, 503, "storage_unavailable")
    assert response.headers["Retry-After"] == "1"  # the writer's own pause (fixture option)
    no_internals(response.text)
    assert str(faulty_server.keys.path) not in response.text
    assert WAL in caplog.text


def test_a_mixed_batch_on_a_failing_storage_is_503_without_internals(
    faulty_server: Any, http: httpx.Client
) -> None:
    """The per-message errors of a batch are not reported when nothing could be stored: the
    whole batch is to be retried, and the answer names no path."""
    faulty_server.engine.failing = StorageError(f'IO Error: Could not write file "{WAL}"')
    batch = [track("u-503-mixed"), {"type": "track", "userId": "u-503-mixed"}]
    response = http.post(
        "/v1/batch", json={"batch": batch}, auth=(faulty_server.keys.write_key, "")
    )
    body = error_body(response, 503, "storage_unavailable")
    assert "rejected" not in body and "stored" not in body
    no_internals(response.text)
    assert str(faulty_server.keys.path) not in response.text


def test_a_browser_can_read_retry_after(faulty_server: Any, http: httpx.Client) -> None:
    """A cross-origin request (a page on another site, as analytics.js posts) sees Retry-After:
    CORS hides every response header but a few unless the server exposes it."""
    faulty_server.engine.failing = StorageError("disk full")
    origin = {"Origin": "https://shop.example"}
    preflight = http.options(
        "/v1/batch",
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    response = http.post(
        "/v1/batch",
        json={"batch": [track("u-cors")]},
        auth=(faulty_server.keys.write_key, ""),
        headers=origin,
    )
    error_body(response, 503, "storage_unavailable")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    exposed = [
        h.strip().lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")
    ]
    assert "retry-after" in exposed
    assert int(response.headers["Retry-After"]) >= 1
