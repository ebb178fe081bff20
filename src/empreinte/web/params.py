"""What a request carries, read and checked in one place: query parameters by type, and
JSON bodies. Every refusal is an `InvalidInput` naming the parameter (a 400 with `field`).

`Query` reads parameters by name and type; `done()` then refuses any it was not asked for,
so a typo (`?limt=5`) is an error, not a silent default. A parameter given twice is refused.

A route declares its parameters (`Text`, `Whole`, `Choice`… below: name, type, bounds,
default) and reads them with `Query.get`; the same declarations make the route's OpenAPI
parameters (web/openapi.py). A `Query` made with `declared` refuses to read a name the route did
not declare (an AssertionError: a bug of the route, not the caller's), so the document cannot
drift from what the route accepts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Generic, Protocol, TypeVar

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import Request

from empreinte.errors import InvalidBody, InvalidInput

MAX_BODY = 64 * 1024  # bytes of JSON a route that takes a body reads at most
_MAX_SEQ = 2**63 - 1


T = TypeVar("T", covariant=True)
# What a parameter that is not given reads as (its default): a value, or None.
S = TypeVar("S", str, None)
N = TypeVar("N", int, None)
B = TypeVar("B", bool, None)


class Param(Protocol[T]):
    """A declared query parameter: how a route reads it, and how the document describes it."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    def read(self, q: Query) -> T: ...

    def schema(self) -> dict[str, Any]:
        """Its JSON schema (OpenAPI 3.1)."""
        ...


def _with_default(schema: dict[str, Any], default: object) -> dict[str, Any]:
    return schema if default is None else {**schema, "default": default}


@dataclass(frozen=True)
class Text(Generic[S]):
    """Free text; empty is absent."""

    name: str
    description: str
    default: S

    def read(self, q: Query) -> str | S:
        value = q.text(self.name)
        return self.default if value is None else value

    def schema(self) -> dict[str, Any]:
        return _with_default({"type": "string"}, self.default)


@dataclass(frozen=True)
class Texts:
    """A repeatable parameter (`feature=a&feature=b`)."""

    name: str
    description: str

    def read(self, q: Query) -> list[str]:
        return q.texts(self.name)

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string"}}


@dataclass(frozen=True)
class Choice(Generic[S]):
    name: str
    choices: tuple[str, ...]
    description: str
    default: S

    def read(self, q: Query) -> str | S:
        value = q.choice(self.name, self.choices, None)
        return self.default if value is None else value

    def schema(self) -> dict[str, Any]:
        return _with_default({"type": "string", "enum": list(self.choices)}, self.default)


@dataclass(frozen=True)
class Whole(Generic[N]):
    """A whole number from `low` to `high`."""

    name: str
    low: int
    high: int
    description: str
    default: N

    def read(self, q: Query) -> int | N:
        value = q.whole(self.name, None, self.low, self.high)
        return self.default if value is None else value

    def schema(self) -> dict[str, Any]:
        schema = {"type": "integer", "minimum": self.low, "maximum": self.high}
        return _with_default(schema, self.default)


@dataclass(frozen=True)
class Number:
    """A number above `low` (excluded) up to `high`, or strictly between when not `closed`."""

    name: str
    low: float
    high: float
    default: float
    description: str
    closed: bool = True

    def read(self, q: Query) -> float:
        # The description is also the refusal's "must be …".
        return q._number(
            self.name, self.default, self.low, self.high, self.description, closed=self.closed
        )

    def schema(self) -> dict[str, Any]:
        upper = "maximum" if self.closed else "exclusiveMaximum"
        return {
            "type": "number",
            "exclusiveMinimum": self.low,
            upper: self.high,
            "default": self.default,
        }


@dataclass(frozen=True)
class Time:
    """An ISO date or date-time (the query's zone unless it has an offset)."""

    name: str
    description: str

    def read(self, q: Query) -> datetime | None:
        return q.time(self.name)

    def schema(self) -> dict[str, Any]:
        # A date or a date-time: neither JSON schema format covers both.
        return {"type": "string", "examples": ["2026-01-31", "2026-01-31T12:00:00+01:00"]}


@dataclass(frozen=True)
class Flag(Generic[B]):
    """true or false."""

    name: str
    description: str
    default: B

    def read(self, q: Query) -> bool | B:
        if q.text(self.name) is None:
            return self.default
        return q.flag(self.name, False)

    def schema(self) -> dict[str, Any]:
        return _with_default({"type": "boolean"}, self.default)


@dataclass(frozen=True)
class Seq:
    """A position in the event log (a page cursor)."""

    name: str
    description: str

    def read(self, q: Query) -> int | None:
        return q.seq(self.name)

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": 0, "maximum": _MAX_SEQ}


#: `since` (inclusive) and `until` (exclusive), read together by `Query.window`.
WINDOW: tuple[Time, Time] = (
    Time("since", "from this date or date-time on (inclusive)"),
    Time("until", "before this date or date-time (exclusive); after since"),
)


class Query:
    """The query parameters of one request. Naive date-times are read in `zone` (the
    workspace's time zone for reports; UTC, the log's, for raw events). With `declared`, only
    those parameters may be read, and only they are accepted."""

    def __init__(
        self,
        params: QueryParams,
        zone: tzinfo = UTC,
        declared: Sequence[Param[Any]] | None = None,
    ):
        self._params = params
        self._zone = zone
        self._known: set[str] = set()
        self._declared = None if declared is None else {p.name for p in declared}

    def get(self, param: Param[T]) -> T:
        """The value of a declared parameter."""
        return param.read(self)

    def _mark(self, name: str) -> None:
        if self._declared is not None and name not in self._declared:
            # A bug of the route, not of the request: a 500, the operator's log names it.
            raise AssertionError(f"the route reads {name!r} but does not declare it")
        self._known.add(name)

    def _one(self, name: str) -> str | None:
        self._mark(name)
        values = self._params.getlist(name)
        if len(values) > 1:
            raise InvalidInput(name, f"give it once (got {len(values)} values)")
        if not values or values[0] == "":
            return None
        return values[0]

    def given(self, name: str) -> bool:
        """Whether `name` is in the query (even empty); it counts as known from then on."""
        self._mark(name)
        return name in self._params

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self._one(name)
        return default if value is None else value

    def required(self, name: str) -> str:
        value = self._one(name)
        if value is None:
            raise InvalidInput(name, "is required")
        return value

    def texts(self, name: str) -> list[str]:
        """A repeatable parameter (`feature=a&feature=b`), empty values left out."""
        self._mark(name)
        return [value for value in self._params.getlist(name) if value]

    def choice(self, name: str, choices: Sequence[str], default: str | None) -> str | None:
        value = self._one(name)
        if value is None:
            return default
        if value not in choices:
            raise InvalidInput(name, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def whole(self, name: str, default: int | None, low: int, high: int) -> int | None:
        """A whole number from `low` to `high`."""
        value = self._one(name)
        if value is None:
            return default
        stripped = value.strip()
        digits = stripped.removeprefix("-").removeprefix("+")
        if not digits.isdecimal() or not low <= int(stripped) <= high:
            raise InvalidInput(name, f"must be a whole number from {low} to {high}, got {value!r}")
        return int(stripped)

    def seq(self, name: str) -> int | None:
        """A position in the event log (a page cursor): a whole number from 0."""
        return self.whole(name, None, 0, _MAX_SEQ)

    def number(self, name: str, default: float, low: float, high: float, what: str) -> float:
        """A number above `low`, at most `high`."""
        return self._number(name, default, low, high, what, closed=True)

    def share(self, name: str, default: float, what: str) -> float:
        """A number strictly between 0 and 1."""
        return self._number(name, default, 0.0, 1.0, what, closed=False)

    def _number(
        self, name: str, default: float, low: float, high: float, what: str, *, closed: bool
    ) -> float:
        value = self._one(name)
        if value is None:
            return default
        try:
            parsed = float(value)
        except ValueError:
            parsed = math.nan
        inside = low < parsed <= high if closed else low < parsed < high
        if not (math.isfinite(parsed) and inside):
            raise InvalidInput(name, f"must be {what}, got {value!r}")
        return parsed

    def time(self, name: str) -> datetime | None:
        """An ISO date or date-time, in the query's zone unless it has an offset."""
        value = self._one(name)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value.strip())
            # Out of range once in UTC (year 1 east of Greenwich…) is an OverflowError.
            if parsed.tzinfo:
                return parsed.astimezone(UTC)
            local = parsed.replace(tzinfo=self._zone)
            local.astimezone(UTC)
            return local
        except (ValueError, OverflowError):
            raise InvalidInput(
                name, f"{value!r} is not an ISO date (2026-01-31) or date-time"
            ) from None

    def window(self) -> tuple[datetime | None, datetime | None]:
        """`since` (inclusive) and `until` (exclusive); an empty window is refused."""
        since, until = self.time("since"), self.time("until")
        if since is not None and until is not None and since >= until:
            raise InvalidInput("until", "must be after since (the window is empty)")
        return since, until

    def flag(self, name: str, default: bool) -> bool:
        value = self._one(name)
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            raise InvalidInput(name, f"must be true or false, got {value!r}")
        return value.lower() == "true"

    def done(self) -> None:
        """Refuse every parameter nothing asked for (or, when declared, not declared)."""
        check_fields(self._params, self._known | (self._declared or set()), "parameter")


def check_fields(given: Mapping[str, Any], known: set[str], what: str = "field") -> None:
    """Refuse names of `given` (query parameters, body fields) that are not `known`."""
    unknown = sorted(set(given) - known)
    if unknown:
        raise InvalidInput(
            unknown[0],
            f"unknown {what}(s) {', '.join(unknown)}; known: {', '.join(sorted(known)) or 'none'}",
        )


async def json_object(
    request: Request, *, max_bytes: int = MAX_BODY, empty: bool = False
) -> dict[str, Any]:
    """The JSON object of the request body, read up to `max_bytes`; `{}` for an empty body
    when `empty` allows it."""
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > max_bytes:
            raise InvalidBody(f"the body may be at most {max_bytes} bytes")
    if empty and not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidBody(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidBody("the body must be a JSON object")
    return body


def text_field(body: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    """A string field of a JSON body; absent or empty is None (or refused when `required`)."""
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput(name, "is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(name, "must be a string")
    return value
