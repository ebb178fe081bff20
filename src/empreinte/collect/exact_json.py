"""JSON numbers kept exact: what a message carries must be stored as sent, or refused.

orjson reads an integer beyond 64 bits as a double, silently rounded (and one beyond a double
as an error that would refuse the whole body). A body with 19 digits in a row is therefore
read again by the standard library with integers kept exact; an integer that does not fit in
64 bits becomes a `BeyondInt64`, which `unrepresentable` names with its field so that the
message is refused clearly ("send it as a string") while the rest of the batch is stored.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from empreinte.errors import InvalidMessage

# Nineteen digits in a row: maybe an integer beyond 64 bits (or in a string: no harm). Found
# by mapping every digit to "0" and searching for nineteen of them: both are single C passes
# over the body, some 15 times faster than the regular expression `[0-9]{19}` (which took as
# long as parsing the body with orjson).
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_ZEROS = b"0" * 19


class BeyondInt64:
    """An integer literal too large for 64 bits, as `read_exact` keeps it."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def has_long_digits(body: bytes) -> bool:
    """Whether `body` may hold an integer orjson would round (linear: a fixed-length run)."""
    return _NINETEEN_ZEROS in body.translate(_DIGITS_TO_ZERO)


def _exact_int(text: str) -> int | BeyondInt64:
    # 2**64 has 20 digits: longer literals are refused anyway, so never converted (CPython's
    # str -> int is quadratic in the number of digits).
    return int(text) if len(text) <= 21 else BeyondInt64(text)


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # as orjson: a number beyond a double is not read as infinity
        raise ValueError("number is infinity when parsed as double")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: the standard library's extension


def read_exact(body: bytes) -> tuple[bool, Any]:
    """`(True, value)` with integers kept exact, or `(False, None)` if `body` is not JSON."""
    try:
        return True, json.loads(
            body, parse_int=_exact_int, parse_float=_finite, parse_constant=_no_constant
        )
    except (ValueError, RecursionError):
        return False, None


def _dumps_alone(item: Any) -> bool:
    try:
        orjson.dumps(item)
    except TypeError:
        return False
    return True


def unrepresentable(value: Any, field: str | None) -> InvalidMessage:
    """The error for a value JSON cannot carry exactly, naming the first part at fault (an
    integer beyond 64 bits, a set, an object…). Walked without recursion: JSON nests deep."""
    stack: list[tuple[str | None, Any]] = [(field, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            items = [(f"{path}.{k}" if path else str(k), v) for k, v in item.items()]
            stack.extend(reversed(items))
        elif isinstance(item, list | tuple):
            items = [(f"{path}.{i}" if path else str(i), v) for i, v in enumerate(item)]
            stack.extend(reversed(items))
        elif isinstance(item, BeyondInt64) or (
            isinstance(item, int) and not isinstance(item, bool) and not -(2**63) <= item < 2**64
        ):
            text = item.text if isinstance(item, BeyondInt64) else str(item)
            shown = text if len(text) <= 24 else f"{text[:20]}… ({len(text)} digits)"
            return InvalidMessage(
                f"the integer {shown} does not fit in 64 bits and would lose digits; "
                "send it as a string",
                path,
                "integer_too_large",
            )
        elif not isinstance(item, str | int | float | type(None)) and not _dumps_alone(item):
            return InvalidMessage(
                f"a {type(item).__name__} is not representable as JSON", path, "invalid_message"
            )
    return InvalidMessage("not representable as JSON", field, "invalid_message")


def check_representable(value: Any, field: str) -> None:
    """Raise `InvalidMessage` naming the part of `value` that JSON cannot carry exactly."""
    try:
        orjson.dumps(value)
    except TypeError:
        raise unrepresentable(value, field) from None
