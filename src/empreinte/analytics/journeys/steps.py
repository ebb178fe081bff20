"""A step of a journey as users write it, and durations, in one syntax for every journey report
(funnels, paths, retention…), the CLI and the API.

    Product Viewed
    Product Viewed[category=shoes]              (a property: `properties.category`)
    Page Viewed: Checkout                       (a page or screen by its name)
    Order Completed[channel=store,properties.currency=EUR]

A step is the touchpoint's `step` (a track event's name, `Page Viewed` or `Screen Viewed`),
then optionally, in square brackets, comma-separated `key=value` filters, all of which must
hold: `channel=…`, `name=…` (a page or screen's name), `properties.<path>=…`,
`context.<path>=…`, or a bare `<path>` for a property. Values are compared as text
(`properties.amount=12.5`, `…=true`) and cannot hold `,` or `]`. Parsed with plain string
operations: linear in the text, no regular expression.

Durations are a whole number and a unit — `90s`, `30m`, `24h`, `7d`, `2w` — at most ten years.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ibis.expr.types as ir

from empreinte.analytics.journeys.touchpoints import PAGE_STEP, SCREEN_STEP
from empreinte.analytics.json import JsonDoc
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

FILTER_COLUMNS = ("channel", "name")
FILTER_ROOTS = ("properties.", "context.")
MAX_STEP_TEXT = 1_000


@dataclass(frozen=True)
class Step:
    """Touchpoints whose `step` is `event` and that match every filter of `where`."""

    event: str
    where: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.event.strip():
            raise AnalyticsError("a step needs an event name")
        for key, _ in self.where:
            _check_key(key, self.event)

    @classmethod
    def of(cls, event: str, where: Mapping[str, str] | None = None) -> Step:
        """The step, bare filter keys read as properties."""
        filters = {_full_key(key): str(value) for key, value in (where or {}).items()}
        return cls(event, tuple(sorted(filters.items())))

    @property
    def label(self) -> str:
        """The step as it is written (and parsed back by `parse_step`)."""
        if not self.where:
            return self.event
        return f"{self.event}[{','.join(f'{k}={v}' for k, v in self.where)}]"

    def matches(self, log: AnalyticsLog, table: ir.Table) -> ir.BooleanValue:
        """Which rows of a touchpoints table (`step`, `channel`, `name`, `properties`,
        `context`) are this step."""
        condition: ir.BooleanValue = table.step == self.event
        for key, value in self.where:
            if key in FILTER_COLUMNS:
                column: ir.StringValue = table[key]
            else:
                root, *path = key.split(".")
                column = JsonDoc(log, table[root]).text(*path)
            condition = condition & (column.fill_null("\x00") == value)
        return condition


def _full_key(key: str) -> str:
    key = key.strip()
    if key in FILTER_COLUMNS or key.startswith(FILTER_ROOTS):
        return key
    return f"properties.{key}"


def _check_key(key: str, event: str) -> None:
    if key in FILTER_COLUMNS:
        return
    # A property path becomes a JSON path in the engine: no quote or bracket may close it.
    plain = not any(c in key for c in "\"'[]\\")
    if key.startswith(FILTER_ROOTS) and all(key.split(".")) and plain:
        return
    raise AnalyticsError(
        f"step {event!r}: unknown filter {key!r}: use channel, name, properties.<key> or "
        "context.<key>"
    )


def parse_step(text: str) -> Step:
    """`Event Name[key=value,…]` or `Page Viewed: Name` → `Step`; `AnalyticsError` naming the
    step when malformed."""
    if len(text) > MAX_STEP_TEXT:
        raise AnalyticsError(f"a step is at most {MAX_STEP_TEXT} characters")
    source = text.strip()
    where: dict[str, str] = {}
    if "[" in source or "]" in source:
        opening = source.find("[")
        if opening < 0 or not source.endswith("]") or source.count("[") != 1:
            raise AnalyticsError(
                f"step {text!r}: write filters as Event Name[key=value,key=value] (one pair "
                "of brackets, at the end)"
            )
        if source.count("]") != 1:
            raise AnalyticsError(f"step {text!r}: a filter value cannot hold ']'")
        for part in source[opening + 1 : -1].split(","):
            key, equals, value = part.partition("=")
            if not equals or not key.strip():
                raise AnalyticsError(f"step {text!r}: filter {part.strip()!r} is not key=value")
            full = _full_key(key)
            if full in where:
                raise AnalyticsError(f"step {text!r}: filter {key.strip()!r} given twice")
            where[full] = value.strip()
        source = source[:opening].strip()
    for kind in (PAGE_STEP, SCREEN_STEP):
        if source.startswith(f"{kind}:"):
            name = source.removeprefix(f"{kind}:").strip()
            if "name" in where and where["name"] != name:
                raise AnalyticsError(f"step {text!r}: two page names")
            where["name"] = name
            source = kind
    if not source:
        raise AnalyticsError(f"step {text!r}: no event name")
    return Step(source, tuple(sorted(where.items())))


def parse_steps(texts: Sequence[str]) -> tuple[Step, ...]:
    return tuple(parse_step(text) for text in texts)
