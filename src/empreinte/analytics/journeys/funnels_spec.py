"""What a funnel asks: its steps (an event name and equality filters), the conversion window,
the ordering mode, exclusions, breakdown and what is counted; and the small text syntax the
CLI and the API write steps in.

    Page Viewed[name=Checkout]
    Order Completed[channel=store,properties.currency=EUR]

A step is the touchpoint's `step` (a track event's name, `Page Viewed` or `Screen Viewed`),
then optionally, in square brackets, comma-separated `key=value` filters, all of which must
hold: `channel=…`, `name=…` (a page or screen's name), `properties.<path>=…` or
`context.<path>=…` (the value compared as text: `properties.amount=12.5`, `…=true`). Values
cannot hold `,` or `]`. Parsed with plain string operations (no regular expression).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, get_args

from empreinte.errors import AnalyticsError

Mode = Literal["ordered", "strict", "unordered"]
MODES: tuple[str, ...] = get_args(Mode)
Count = Literal["people", "entries"]
COUNTS: tuple[str, ...] = get_args(Count)
FILTER_COLUMNS = ("channel", "name")
FILTER_ROOTS = ("properties.", "context.")
DEFAULT_WINDOW = timedelta(days=7)
MAX_STEPS = 20


@dataclass(frozen=True)
class Step:
    """One step: touchpoints whose `step` is `event` and that match every filter."""

    event: str
    where: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.event.strip():
            raise AnalyticsError("a funnel step needs an event name")
        for key, _ in self.where:
            _check_key(key, self.event)

    @classmethod
    def of(cls, event: str, where: Mapping[str, str] | None = None) -> Step:
        return cls(event, tuple(sorted((where or {}).items())))

    @property
    def label(self) -> str:
        if not self.where:
            return self.event
        return f"{self.event}[{','.join(f'{k}={v}' for k, v in self.where)}]"


@dataclass(frozen=True)
class Exclusion:
    """Drop the attempt (and so the person, or the entry) when a touchpoint matching `step`
    happens strictly between the attempt's step `after` and step `before` (1-based; `before`
    defaults to the last step). Only attempts that reached step `before` are checked."""

    step: Step
    after: int = 1
    before: int | None = None


@dataclass(frozen=True)
class FunnelSpec:
    """A funnel: `steps` in `mode` within `window` of the first step (see docs/funnels.md)."""

    steps: tuple[Step, ...]
    window: timedelta = DEFAULT_WINDOW
    mode: Mode = "ordered"
    exclusions: tuple[Exclusion, ...] = ()
    by: str | None = None
    count: Count = "people"

    def __post_init__(self) -> None:
        if len(self.steps) < 1:
            raise AnalyticsError("a funnel needs at least one step")
        if len(self.steps) > MAX_STEPS:
            raise AnalyticsError(f"a funnel has at most {MAX_STEPS} steps, not {len(self.steps)}")
        if self.window <= timedelta(0):
            raise AnalyticsError(f"the conversion window must be positive, not {self.window}")
        if self.mode not in MODES:
            raise AnalyticsError(f"unknown funnel mode {self.mode!r}: use {', '.join(MODES)}")
        if self.count not in COUNTS:
            raise AnalyticsError(f"unknown count {self.count!r}: use {', '.join(COUNTS)}")
        n = len(self.steps)
        for exclusion in self.exclusions:
            before = self.last_of(exclusion)
            if not 1 <= exclusion.after < before <= n:
                raise AnalyticsError(
                    f"exclusion {exclusion.step.label}: between steps {exclusion.after} and "
                    f"{before} is not a range of this {n}-step funnel"
                )

    def last_of(self, exclusion: Exclusion) -> int:
        return len(self.steps) if exclusion.before is None else exclusion.before

    @property
    def labels(self) -> list[str]:
        return [step.label for step in self.steps]


def _check_key(key: str, event: str) -> None:
    if key in FILTER_COLUMNS:
        return
    if key.startswith(FILTER_ROOTS) and all(key.split(".")) and key.count(".") >= 1:
        return
    raise AnalyticsError(
        f"step {event!r}: unknown filter {key!r}: use channel, name, properties.<key> or "
        "context.<key>"
    )


def parse_step(text: str) -> Step:
    """`Event Name[key=value,…]` → `Step`; `AnalyticsError` naming the step when malformed."""
    source = text.strip()
    if "[" not in source and "]" not in source:
        return Step(source)
    opening = source.find("[")
    if opening < 0 or not source.endswith("]") or source.count("[") != 1 or source.count("]") != 1:
        raise AnalyticsError(
            f"step {text!r}: write filters as Event Name[key=value,key=value] (one pair of "
            "brackets, at the end)"
        )
    event = source[:opening].strip()
    if not event:
        raise AnalyticsError(f"step {text!r}: no event name before the filters")
    where: dict[str, str] = {}
    for part in source[opening + 1 : -1].split(","):
        key, equals, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not equals or not key:
            raise AnalyticsError(f"step {text!r}: filter {part.strip()!r} is not key=value")
        if key in where:
            raise AnalyticsError(f"step {text!r}: filter {key!r} given twice")
        _check_key(key, event)
        where[key] = value
    return Step.of(event, where)


def parse_steps(texts: Sequence[str]) -> tuple[Step, ...]:
    return tuple(parse_step(text) for text in texts)


def parse_window(text: str) -> timedelta:
    """`7d`, `24h`, `30m`, `90s` or a number of seconds → a timedelta (positive)."""
    source = text.strip().lower()
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    scale = units.get(source[-1:])
    number = source[:-1] if scale is not None else source
    try:
        value = float(number)
    except ValueError:
        raise AnalyticsError(
            f"window {text!r}: write a number and a unit, e.g. 7d, 24h, 30m, 90s"
        ) from None
    seconds = value * (scale or 1)
    if not seconds > 0 or seconds != seconds:
        raise AnalyticsError(f"window {text!r} must be positive")
    return timedelta(seconds=seconds)
