"""JSON answers of the HTTP API: one encoder, strict JSON (no NaN), the same error body."""

from __future__ import annotations

import math
from typing import Any

import orjson
from starlette.responses import Response


def plain(value: Any) -> Any:
    """`value` as strict JSON data: NaN and infinities → None, numpy scalars → Python."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """`body` as JSON (orjson: datetimes as ISO 8601; NaN would become null)."""
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def strict_json_response(body: Any, status: int = 200) -> Response:
    """`body` as strict JSON: report figures may hold NaN or numpy scalars (see `plain`)."""
    return json_response(status, plain(body))


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """The error body every answer of the API shares: `{"code", "message"}`."""
    return json_response(status, {"code": code, "message": message}, headers)
