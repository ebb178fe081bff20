"""The Segment HTTP Tracking API: what analytics.js and the official server libraries call.

Every answer follows what those clients expect: 200 once the events are durably stored;
400 with `{"code", "message"}` for bad input (they do not retry it); 401 for an unknown write
key; 429 or 503 with `Retry-After` when the collector cannot keep what it is sent (they retry).

A batch whose valid messages were stored answers 200 even when others were invalid, as
Segment does: the official clients count a 400 as the whole batch failed. The invalid ones
are listed by index in the body (`rejected`). A batch with no valid message answers 400:
nothing was stored, and a 400 is not retried either.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from empreinte.collect.admission import Admission
from empreinte.collect.exact_json import check_representable, has_long_digits, read_exact
from empreinte.collect.limits import MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, MAX_MESSAGE_BYTES
from empreinte.collect.rejections import RejectionRegister
from empreinte.collect.settings import CollectorSettings
from empreinte.collect.validate import normalise, now_micros, parse_time
from empreinte.collect.writer import EventWriter, Rows, WriteResult
from empreinte.credentials import Credentials
from empreinte.errors import (
    AuthError,
    InvalidMessage,
    MalformedCredentials,
    NotFound,
    StorageError,
)
from empreinte.privacy.pii import IngestPolicy
from empreinte.store.columns import ColumnarRows
from empreinte.store.records import EventRow

if TYPE_CHECKING:
    from empreinte.collect.workers import ValidationPool

# Batches from this size on are validated in worker processes, when the server has them.
# A round trip costs the server about 0.5 ms of CPU (measured): about what validating 30
# demo events here costs (20 KB), so smaller batches stay here.
_WORKER_MIN_BYTES = 32 * 1024
# Batches with at least this many valid messages are encoded as Arrow where they were validated
# (store/columns.py), while the rows are still in the CPU cache, rather than by the writer,
# whose thread every commit waits for. Fewer rows: building the columns costs more than the
# rows (some 50 µs a batch).
_COLUMNAR_MIN_ROWS = 64


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _refused(code: str, message: str) -> InvalidMessage:
    """A request refused as a whole (400, nothing stored), under its own `code`."""
    return InvalidMessage(message, code=code)


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, gunzipped when sent so, refused as soon as it passes `limit`."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit and not _gzipped(request):
        raise _refused("request_too_large", _too_large(int(declared), limit))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit * 4 + 1024:  # compressed bodies are checked again below
            raise _refused("request_too_large", _too_large(size, limit))
        chunks.append(chunk)
    body = b"".join(chunks)
    if _gzipped(request):
        inflater = zlib.decompressobj(wbits=31)
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error as exc:
            raise _refused("invalid_gzip", f"the gzip body cannot be decompressed: {exc}") from None
        if not inflater.eof and len(body) <= limit:
            # A cut-off stream decompresses without error but its CRC was never checked.
            raise _refused("invalid_gzip", "the gzip body is truncated")
    if len(body) > limit:
        raise _refused("request_too_large", _too_large(len(body), limit))
    return body


def _gzipped(request: Request) -> bool:
    return request.headers.get("content-encoding", "").strip().lower() == "gzip"


def _too_large(size: int, limit: int) -> str:
    what = "a batch" if limit == MAX_BATCH_BYTES else "a message"
    return f"the request is {size} bytes; {what} may be at most {limit} bytes ({limit // 1024} KB)"


def _parse(body: bytes) -> Any:
    # Integers that orjson would round are read exactly (collect/exact_json.py).
    exact = has_long_digits(body)
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if exact and (read := read_exact(body))[0]:
            return read[1]
        raise _refused(
            "invalid_json",
            f"malformed JSON at line {exc.lineno}, column {exc.colno} (byte {exc.pos}): {exc.msg}",
        ) from None
    if exact and (read := read_exact(body))[0]:
        return read[1]
    return value


def _write_key(request: Request, body: Any) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            user = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            raise MalformedCredentials("the Basic authorization header is malformed") from None
        if user:
            return user
    key = body.get("writeKey") if isinstance(body, dict) else None
    return key if isinstance(key, str) and key else None


class Collector:
    """The `/v1/*` routes, bound to a workspace's credentials and writer."""

    def __init__(
        self,
        credentials: Credentials,
        writer: EventWriter,
        policy: IngestPolicy,
        workers: ValidationPool | None = None,
        admission: Admission | None = None,
        rejections: RejectionRegister | None = None,
    ):
        self._credentials = credentials
        # What was refused, per source and reason, for the operator (collect/rejections.py):
        # written on the refusal paths only.
        self.rejections = rejections or RejectionRegister()
        self._writer = writer
        self._policy = policy
        self._workers = workers
        self._admission = admission or Admission(CollectorSettings().validation_budget)

    def close(self) -> None:
        self._admission.close()

    def routes(self) -> list[Route]:
        routes = [
            Route("/v1/batch", self.batch, methods=["POST"]),
            Route("/v1/import", self.batch, methods=["POST"]),
            # analytics.js (analytics-next) posts to one-letter paths.
            Route("/v1/b", self.batch, methods=["POST"]),
        ]
        for kind in ("track", "identify", "page", "screen", "group", "alias"):
            endpoint = self._single(kind)
            routes.append(Route(f"/v1/{kind}", endpoint, methods=["POST"]))
            routes.append(Route(f"/v1/{kind[0]}", endpoint, methods=["POST"]))
        routes.append(Route("/v1/projects/{write_key}/settings", self.settings, methods=["GET"]))
        return routes

    async def settings(self, request: Request) -> Response:
        """The source settings analytics.js loads at start-up (from `cdnURL`), pointing its
        Segment.io destination back here, so that the browser snippet works unchanged."""
        try:
            self._credentials.source_for(request.path_params["write_key"])
        except AuthError:
            raise NotFound("unknown write key") from None
        host = request.headers.get("host", request.url.netloc)
        return _json(
            200,
            {
                "integrations": {
                    "Segment.io": {
                        "apiKey": request.path_params["write_key"],
                        "apiHost": f"{host}/v1",
                        "protocol": request.url.scheme,
                        "deliveryStrategy": {
                            "strategy": "batching",
                            "config": {"size": 50, "timeout": 2000},
                        },
                    }
                },
                "plan": {"track": {"__default": {"enabled": True, "integrations": {}}}},
                "edgeFunction": {},
                "analyticsNextEnabled": True,
                "middlewareSettings": {},
                "enabledMiddleware": {},
                "metrics": {"sampleRate": 0},
                "legacyVideoPluginsEnabled": False,
                "remotePlugins": [],
            },
        )

    def _single(self, kind: str) -> Any:
        async def endpoint(request: Request) -> Response:
            return await self._handle(request, kind)

        endpoint.__name__ = kind
        return endpoint

    async def batch(self, request: Request) -> Response:
        return await self._handle(request, None)

    async def _handle(self, request: Request, kind: str | None) -> Response:
        # Errors (bad request, unknown key, overloaded, storage) answer through the app's
        # handler (web/errors.py); invalid messages of a batch are reported below, by index.
        limit = MAX_MESSAGE_BYTES if kind else MAX_BATCH_BYTES
        # Refuse early and cheaply, before reading the body, what would be refused after
        # parsing and validating it: the client retries later (429/503 with Retry-After).
        self._writer.ensure_accepting()
        declared = request.headers.get("content-length", "")
        size = int(declared) if declared.isdigit() and int(declared) <= limit else limit
        with self._admission.admit(size):
            try:
                raw = await _read_body(request, limit)
            except InvalidMessage as exc:
                self.rejections.refused(None, exc.code, exc.field)
                raise
            pool = self._workers if kind is None and len(raw) >= _WORKER_MIN_BYTES else None
            source = self._header_source(request) if pool is not None else None
            rows: Rows
            if pool is not None and source is not None:
                try:
                    rows, rejected = await pool.validate(self, raw, kind, source, now_micros())
                except InvalidMessage as exc:
                    self.rejections.refused(source, exc.code, exc.field)
                    raise
                if rejected:
                    self.rejections.rejected(source, rejected)
            else:
                # Off the event loop, one request after the other (collect/admission.py).
                rows, rejected = await self._admission.run(
                    size, partial(self._prepare, request, raw, kind)
                )
            del raw
        try:
            # An empty batch stores nothing and is answered 200, as Segment does.
            result = await self._writer.write_async(rows) if rows else WriteResult(0, 0)
        except StorageError as exc:
            # The client retries after the writer's own pause, not a generic one.
            exc.retry_after = self._writer.storage_retry_after
            raise
        answer: dict[str, Any] = {
            "success": True,
            "stored": result.stored,
            "duplicates": result.duplicates,
        }
        if rejected:
            first = rejected[0]
            answer["message"] = first["message"]
            if kind is None:
                answer["message"] = (
                    f"{len(rejected)} of {len(rows) + len(rejected)} messages rejected "
                    f"(first: message {first['index']}: {first['message']}); "
                    f"the {len(rows)} valid ones are stored"
                )
            answer["rejected"] = rejected
            if not rows:  # nothing stored: the request failed
                code = "invalid_messages" if kind is None else first["code"]
                return _json(400, {"code": code, **answer, "success": False})
        return _json(200, answer)

    def _header_source(self, request: Request) -> str | None:
        """The source of the write key in the Basic header, if it names a known one. Otherwise
        None: the request is then parsed here first, so that its errors come in the same order
        (a malformed body is a 400 before a bad key is a 401)."""
        try:
            key = _write_key(request, None)
            return None if key is None else self._credentials.source_for(key)
        except AuthError:
            return None

    def _prepare(self, request: Request, raw: bytes, kind: str | None) -> tuple[Rows, list[Any]]:
        """Parse, authenticate and validate a body (on the admission's worker thread)."""
        try:
            body = _parse(raw)
            source = self._authenticate(request, body)
        except (InvalidMessage, AuthError) as exc:
            self.rejections.refused(None, exc.code, getattr(exc, "field", None))
            raise
        received_at = now_micros()
        # The parsed JSON is freed when this returns, while it is still in the CPU cache, not
        # after the commit: freed late, cold, it took some 15% of the collector's time.
        try:
            rows, rejected = self._validate(
                body, kind, source, body_size=len(raw), received_at=received_at
            )
        except InvalidMessage as exc:
            self.rejections.refused(source, exc.code, exc.field)
            raise
        if rejected:
            self.rejections.rejected(source, rejected)
        if len(rows) >= _COLUMNAR_MIN_ROWS:
            return ColumnarRows(rows, source, received_at), rejected
        return rows, rejected

    def _authenticate(self, request: Request, body: Any) -> str:
        key = _write_key(request, body)
        if key is None:
            raise AuthError(
                "missing write key: send it as the HTTP Basic username or as writeKey in the body"
            )
        try:
            return self._credentials.source_for(key)
        except AuthError:
            raise AuthError("unknown write key") from None

    def _validate(
        self,
        body: Any,
        kind: str | None,
        source: str,
        *,
        body_size: int | None = None,
        received_at: int | None = None,
    ) -> tuple[list[EventRow], list[dict[str, Any]]]:
        """`body_size`: the request body's length. A message is never longer than the body
        that holds it, so within 32 KB no message is serialised again to be measured."""
        if not isinstance(body, dict):
            raise _refused("invalid_body", "the body must be a JSON object")
        received_at = now_micros() if received_at is None else received_at
        size = body_size if body_size is not None and body_size <= MAX_MESSAGE_BYTES else None
        if kind is not None:
            try:
                row = normalise(
                    body,
                    source=source,
                    received_at=received_at,
                    type_hint=kind,
                    size=size,
                    policy=self._policy,
                )
                return [row], []
            except InvalidMessage as exc:
                return [], [_rejection(0, body, exc)]
        messages = body.get("batch")
        if not isinstance(messages, list):
            raise _refused("invalid_body", "a batch body needs a `batch` array of messages")
        if len(messages) > MAX_BATCH_MESSAGES:
            raise _refused(
                "batch_too_large",
                f"the batch has {len(messages)} messages; "
                f"at most {MAX_BATCH_MESSAGES} are allowed per request",
            )
        sent_at = parse_time(body.get("sentAt"), "sentAt")  # InvalidMessage refuses the batch
        context = body.get("context") if isinstance(body.get("context"), dict) else None
        integrations = (
            body.get("integrations") if isinstance(body.get("integrations"), dict) else None
        )
        if context:  # shared by every message: refused with the batch
            check_representable(context, "context")
        if integrations:
            check_representable(integrations, "integrations")
        rows: list[EventRow] = []
        rejected: list[dict[str, Any]] = []
        for index, message in enumerate(messages):
            try:
                rows.append(
                    normalise(
                        message,
                        source=source,
                        received_at=received_at,
                        batch_sent_at=sent_at,
                        batch_context=context,
                        batch_integrations=integrations,
                        size=size,
                        policy=self._policy,
                    )
                )
            except InvalidMessage as exc:
                rejected.append(_rejection(index, message, exc))
        return rows, rejected


def _rejection(index: int, message: Any, exc: InvalidMessage) -> dict[str, Any]:
    mid = message.get("messageId") if isinstance(message, dict) else None
    return {
        "index": index,
        "messageId": mid,
        "field": exc.field,
        "code": exc.code,
        "message": str(exc),
    }
