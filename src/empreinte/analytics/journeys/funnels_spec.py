"""What a funnel asks: its steps (journeys/steps.py: an event name and equality filters, in
the syntax every journey report shares), the conversion window, the ordering mode, exclusions,
breakdown and what is counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, get_args

from empreinte.analytics.journeys.steps import Step
from empreinte.durations import MAX_DURATION_DAYS
from empreinte.errors import AnalyticsError

Mode = Literal["ordered", "strict", "unordered"]
MODES: tuple[str, ...] = get_args(Mode)
Count = Literal["people", "entries"]
COUNTS: tuple[str, ...] = get_args(Count)
DEFAULT_WINDOW = timedelta(days=7)
MAX_STEPS = 20


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
        if not timedelta(0) < self.window <= timedelta(days=MAX_DURATION_DAYS):
            raise AnalyticsError(
                f"the conversion window must be positive and at most {MAX_DURATION_DAYS} days, "
                f"not {self.window}"
            )
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
