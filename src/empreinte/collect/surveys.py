"""Survey answers and experiment exposures, checked at ingestion.

Answers arrive as `track` events with conventional names. A score out of its scale would skew
every NPS/CSAT/CES figure computed from the log, so such a message is refused (with the field
and the reason) instead of being stored:

=====================  =====================================================================
``NPS Answered``       ``score``: an integer 0-10
``CSAT Answered``      ``scale``: 5 or 7, 5 when absent; ``score``: an integer 1..scale
``CES Answered``       ``score``: an integer 1-7
``Kano Answered``      ``feature``: a non-empty string; ``functional`` and ``dysfunctional``:
                       each one of the five Kano answers (code 1-5, English or French label)
``Experiment Viewed``  ``experiment`` and ``variant``: non-empty strings (Segment's A/B
                       testing names ``experiment_id``/``experiment_name`` and
                       ``variation_id``/``variation_name`` are accepted in their place,
                       the ``_id`` ones also as integers)
=====================  =====================================================================

"An integer" is a JSON number with no fractional part: 9 and 9.0 are accepted (and stored as
sent); booleans, text ("9"), NaN, infinities and fractions (8.5) are not. Other properties
(comment, survey_id, touchpoint, ...) are free.

:func:`check_answer` is called by `normalise()` only for the names in :data:`SURVEY_EVENTS`
(one set-membership test), so other events pay nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import orjson

from empreinte.collect.kano_vocabulary import Answer, UnknownKanoAnswer, parse_answer
from empreinte.errors import InvalidMessage

__all__ = ["SURVEY_EVENTS", "check_answer"]

_Properties = dict[str, Any] | None

_KANO_ANSWERS = ", ".join(f"{a.code}/{a.label}" for a in Answer)


def _shown(value: Any) -> str:
    """A value as the sender wrote it in JSON, short enough for an error message."""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        text = orjson.dumps(value[:40]).decode()
        return f"{text}{'…' if len(value) > 40 else ''} (text)"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return repr(value)[:40]


def _integral(value: Any) -> int | None:
    """The integer a JSON number stands for (9 or 9.0), or None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():  # False for NaN and infinities
        return int(value)
    return None


def _score(event: str, properties: _Properties, low: int, high: int, note: str = "") -> None:
    """`properties.score` must be an integer from `low` to `high`."""
    value = properties.get("score") if properties else None
    expected = f"an integer from {low} to {high}{note}"
    if value is None:
        raise InvalidMessage(
            f"{event} needs a score: {expected}", "properties.score", "missing_field"
        )
    number = _integral(value)
    if number is None:
        raise InvalidMessage(
            f"{event}: score must be {expected}, got {_shown(value)}",
            "properties.score",
            "invalid_field",
        )
    if not low <= number <= high:
        raise InvalidMessage(
            f"{event}: score must be {expected}, got {_shown(value)}",
            "properties.score",
            "out_of_range",
        )


def _nps(event: str, properties: _Properties) -> None:
    _score(event, properties, 0, 10)


def _csat(event: str, properties: _Properties) -> None:
    raw = properties.get("scale") if properties else None
    if raw is None:
        # A 6 or 7 on an unspecified scale is most likely a 7-point survey: say how to send it.
        _score(event, properties, 1, 5, ' (5-point scale; send "scale": 7 for a 7-point survey)')
        return
    scale = _integral(raw)
    if scale not in (5, 7):
        raise InvalidMessage(
            f"{event}: scale must be 5 or 7 (or absent, meaning 5), got {_shown(raw)}",
            "properties.scale",
            "invalid_field" if scale is None else "out_of_range",
        )
    _score(event, properties, 1, scale, f" ({scale}-point scale)")


def _ces(event: str, properties: _Properties) -> None:
    _score(event, properties, 1, 7)


def _text(event: str, properties: _Properties, field: str, what: str) -> None:
    """`properties.<field>` must be a non-empty string."""
    value = properties.get(field) if properties else None
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidMessage(
            f"{event} needs {what} (a non-empty string)", f"properties.{field}", "missing_field"
        )
    if not isinstance(value, str):
        raise InvalidMessage(
            f"{event}: {field} must be a non-empty string, got {_shown(value)}",
            f"properties.{field}",
            "invalid_field",
        )


def _kano(event: str, properties: _Properties) -> None:
    _text(event, properties, "feature", "the feature the answers are about")
    assert properties is not None  # _text found the feature in it
    for question in ("functional", "dysfunctional"):
        value = properties.get(question)
        if value is None:
            raise InvalidMessage(
                f"{event} needs the {question} answer: {_KANO_ANSWERS} (or a French label)",
                f"properties.{question}",
                "missing_field",
            )
        number = _integral(value)  # 3.0 from a JSON exporter is the code 3
        try:
            parse_answer(value if number is None else number)
        except UnknownKanoAnswer:
            raise InvalidMessage(
                f"{event}: {question} must be one of the five Kano answers: {_KANO_ANSWERS}, "
                "or the French labels j'aime, je m'y attends, neutre, je peux m'en accommoder, "
                f"je n'aime pas; got {_shown(value)}",
                f"properties.{question}",
                "invalid_field",
            ) from None


# Segment's A/B testing spec names the experiment and the variation by id and/or name.
_EXPERIMENT_NAMES = ("experiment", "experiment_id", "experiment_name")
_VARIANT_NAMES = ("variant", "variation_id", "variation_name")


def _one_of(event: str, properties: _Properties, names: tuple[str, ...], what: str) -> None:
    """At least one of `names` is present; every one present is a non-empty string."""
    present = [name for name in names if properties and properties.get(name) is not None]
    if not present:
        alternatives = " / ".join(names[1:])
        raise InvalidMessage(
            f"{event} needs {what}: properties.{names[0]} (a non-empty string; "
            f"Segment's {alternatives} are accepted too)",
            f"properties.{names[0]}",
            "missing_field",
        )
    for name in present:
        value = properties[name] if properties else None
        if name.endswith("_id") and isinstance(value, int) and not isinstance(value, bool):
            continue  # a numeric id, as some testing tools send it
        _text(event, properties, name, what)


def _experiment(event: str, properties: _Properties) -> None:
    _one_of(event, properties, _EXPERIMENT_NAMES, "the experiment it exposes")
    _one_of(event, properties, _VARIANT_NAMES, "the variant shown")


_CHECKS: dict[str, Callable[[str, _Properties], None]] = {
    "NPS Answered": _nps,
    "CSAT Answered": _csat,
    "CES Answered": _ces,
    "Kano Answered": _kano,
    "Experiment Viewed": _experiment,
}

SURVEY_EVENTS: frozenset[str] = frozenset(_CHECKS)
"""The `track` event names whose properties are checked; test membership before calling."""


def check_answer(event: str, properties: dict[str, Any] | None) -> None:
    """Check the properties of a survey answer or experiment exposure named `event`.

    Raises `InvalidMessage` with the field (`properties.score`, ...), a reason naming the event,
    the rule and the value received, and the code `missing_field`, `invalid_field` (wrong type)
    or `out_of_range` (a number outside the scale).
    """
    _CHECKS[event](event, properties)
