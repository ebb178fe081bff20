"""Saved segments of a workspace (`workspace.segments`): define, refresh, read.

A segment is a name and an expression of the segment language (docs/segments.md). Saving one
checks its expression (compiled against the log, unknown fields and cycles refused) and
computes its members. A refresh computes the members again from the log and, in one
transaction, writes who entered and who left, with the time (store/segment_store.py). A
segment with a `schedule` ("1h", "1d": the step syntax's durations) is due when that long has
passed since its last computation; `empreinte serve` refreshes due segments in the background
(web/know_segments_api.py's `SegmentScheduler`), `empreinte segment refresh --due` by hand.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from empreinte.analytics.know.segment_language import (
    Call,
    SegmentExists,
    SegmentExpressionError,
    SegmentNotFound,
    conditions,
    parse,
)
from empreinte.errors import AnalyticsError
from empreinte.store.segment_store import (
    HistoryStep,
    MembershipChange,
    SegmentDefinition,
    SegmentStore,
)

if TYPE_CHECKING:
    import pandas as pd

    from empreinte.analytics.log import AnalyticsLog
    from empreinte.workspace import Workspace

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,79}")
MIN_SCHEDULE = timedelta(minutes=1)
MAX_DESCRIPTION = 1000


@dataclass(frozen=True)
class SegmentSummary:
    """A saved segment and its current size."""

    definition: SegmentDefinition
    size: int

    def to_json(self) -> dict[str, Any]:
        return {**self.definition.to_json(), "size": self.size}


@dataclass(frozen=True)
class SegmentDetail:
    """A saved segment, its size and what its latest refreshes changed."""

    definition: SegmentDefinition
    size: int
    steps: tuple[HistoryStep, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.definition.to_json(),
            "size": self.size,
            "history": [
                {"changed_at": s.changed_at.isoformat(), "entered": s.entered, "left": s.left}
                for s in self.steps
            ],
        }


@dataclass(frozen=True)
class Refreshed:
    """What one refresh of one segment did."""

    name: str
    at: datetime
    size: int
    entered: int
    left: int

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "at": self.at.isoformat(),
            "size": self.size,
            "entered": self.entered,
            "left": self.left,
        }


@dataclass(frozen=True)
class OverlapRow:
    """Two segments: their sizes, the people in both, and Jaccard (both / either)."""

    a: str
    b: str
    size_a: int
    size_b: int
    both: int

    @property
    def either(self) -> int:
        return self.size_a + self.size_b - self.both

    @property
    def jaccard(self) -> float:
        return self.both / self.either if self.either else 0.0


@dataclass(frozen=True)
class OverlapReport:
    """Every pair of the segments asked for (a before b in the order given)."""

    names: tuple[str, ...]
    rows: tuple[OverlapRow, ...]

    def to_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "a": r.a,
                "b": r.b,
                "size_a": r.size_a,
                "size_b": r.size_b,
                "both": r.both,
                "either": r.either,
                "jaccard": r.jaccard,
            }
            for r in self.rows
        ]

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            self.to_rows(), columns=["a", "b", "size_a", "size_b", "both", "either", "jaccard"]
        )


@dataclass(frozen=True)
class Preview:
    """The live size of an unsaved expression, and a few of its members."""

    expression: str
    size: int
    sample: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"expression": self.expression, "size": self.size, "sample": list(self.sample)}


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise AnalyticsError(
            f"segment name {name!r}: 1 to 80 letters, digits, spaces, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_schedule(schedule: str | None) -> str | None:
    from empreinte.durations import parse_duration

    if schedule is None or not schedule.strip():
        return None
    every = parse_duration(schedule, "schedule")
    if every < MIN_SCHEDULE:
        raise AnalyticsError(f"schedule {schedule!r}: at least 1m between two refreshes")
    return schedule.strip().lower()


def named_segments(expression: str) -> set[str]:
    """The segments an expression names with `in_segment`."""
    found = set()
    for condition in conditions(parse(expression)):
        if isinstance(condition, Call) and condition.function == "in_segment":
            for arg in condition.args:
                if isinstance(arg.value.value, str):
                    found.add(arg.value.value)
    return found


class Segments:
    """The saved segments of one workspace."""

    def __init__(
        self,
        workspace: Workspace,
        store: SegmentStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._ws = workspace
        self._store = store
        self._clock = clock

    # -- evaluation ------------------------------------------------------------------------

    def _context(self, as_of: datetime | None) -> Any:
        from empreinte.analytics.know.segment_compile import default_context

        def resolve(name: str) -> str | None:
            found = self._store.get(name)
            return found.expression if found else None

        return default_context(as_of or self._clock(), self._ws.config.local, resolve)

    def _members(
        self, log: AnalyticsLog, expression: str, as_of: datetime | None, own: str | None
    ) -> Any:
        from empreinte.analytics.know.segment_compile import SegmentCompiler

        return SegmentCompiler(log, self._context(as_of)).members(expression, own)

    def evaluate(self, expression: str, as_of: datetime | None = None) -> list[str]:
        """The profile ids an expression selects now (or at `as_of`), sorted; nothing saved."""
        with self._ws.analytics() as log:
            table = self._members(log, expression, as_of, None)
            return sorted(str(p) for p in log.to_pyarrow(table)["profile_id"].to_pylist())

    def preview(self, expression: str, as_of: datetime | None = None, sample: int = 10) -> Preview:
        """The size of an unsaved expression (for a builder), and up to `sample` members."""
        with self._ws.analytics() as log:
            table = self._members(log, expression, as_of, None)
            size = int(log.execute(table.count()))
            first = log.execute(table.order_by("profile_id").limit(sample)) if sample else None
        ids = tuple(str(p) for p in first["profile_id"]) if first is not None else ()
        return Preview(expression, size, ids)

    def check(self, expression: str, own: str | None = None) -> None:
        """`SegmentExpressionError` when `expression` cannot be compiled (nothing runs)."""
        with self._ws.analytics() as log:
            self._members(log, expression, None, own)

    # -- definitions -----------------------------------------------------------------------

    def create(
        self,
        name: str,
        expression: str,
        *,
        description: str | None = None,
        schedule: str | None = None,
        by: str | None = None,
        refresh: bool = True,
    ) -> SegmentSummary:
        """Save a segment (its expression checked) and compute its members."""
        check_name(name)
        schedule = check_schedule(schedule)
        _check_description(description)
        if self._store.get(name) is not None:
            raise SegmentExists(f"a segment named {name!r} exists: update or delete it")
        self.check(expression, name)
        definition = SegmentDefinition(
            name, expression, description, schedule, self._clock(), by, None
        )
        if not self._store.create(definition):
            raise SegmentExists(f"a segment named {name!r} exists: update or delete it")
        if refresh:
            self.refresh(name)
        return self.summary(name)

    def update(
        self,
        name: str,
        *,
        expression: str | None = None,
        description: str | None = None,
        schedule: str | None = None,
        refresh: bool = True,
    ) -> SegmentSummary:
        """Change a segment's expression, description or schedule ("" removes a schedule);
        a new expression is checked and computed."""
        current = self.get(name)
        new_expression = expression if expression is not None else current.expression
        if expression is not None:
            self.check(expression, name)
        new_schedule = current.schedule if schedule is None else check_schedule(schedule)
        new_description = current.description if description is None else description or None
        _check_description(new_description)
        self._store.update(name, new_expression, new_description, new_schedule)
        if refresh and expression is not None and expression != current.expression:
            self.refresh(name)
        return self.summary(name)

    def delete(self, name: str) -> None:
        """Delete a segment, its members and history; refused while another names it."""
        self.get(name)
        users = sorted(
            other.name
            for other in self._store.list()
            if other.name != name and name in _names_in(other.expression)
        )
        if users:
            raise AnalyticsError(
                f"segment {name!r} is used by {', '.join(users)} (in_segment): change those first"
            )
        self._store.delete(name)

    def get(self, name: str) -> SegmentDefinition:
        found = self._store.get(name)
        if found is None:
            known = [s.name for s in self._store.list()]
            from empreinte.analytics.know.segment_language import suggestion

            raise SegmentNotFound(f"no segment named {name!r}{suggestion(name, known)}")
        return found

    def list(self) -> builtins.list[SegmentSummary]:
        sizes = self._store.sizes()
        return [SegmentSummary(d, sizes.get(d.name, 0)) for d in self._store.list()]

    def summary(self, name: str) -> SegmentSummary:
        return SegmentSummary(self.get(name), self._store.sizes().get(name, 0))

    def show(self, name: str, steps: int = 10) -> SegmentDetail:
        definition = self.get(name)
        return SegmentDetail(
            definition,
            self._store.sizes().get(name, 0),
            tuple(self._store.history_steps(name, steps)),
        )

    def size(self, name: str) -> int:
        self.get(name)
        return self._store.sizes().get(name, 0)

    def members(self, name: str, limit: int | None = None, offset: int = 0) -> builtins.list[str]:
        """The saved members (pseudonymous profile ids) as of the last refresh."""
        self.get(name)
        return self._store.members(name, limit, offset)

    def history(
        self, name: str, limit: int = 100, offset: int = 0, profile_id: str | None = None
    ) -> builtins.list[MembershipChange]:
        self.get(name)
        return self._store.history(name, limit, offset, profile_id)

    # -- refresh ---------------------------------------------------------------------------

    def refresh(self, name: str, as_of: datetime | None = None) -> Refreshed:
        """Compute `name`'s members now and record who entered and left."""
        definition = self.get(name)
        at = as_of or self._clock()
        with self._ws.analytics() as log:
            table = self._members(log, definition.expression, at, name)
            ids = [str(p) for p in log.to_pyarrow(table)["profile_id"].to_pylist()]
        counts = self._store.replace_members(name, ids, at)
        return Refreshed(name, at, counts.size, counts.entered, counts.left)

    def due(self, now: datetime | None = None) -> builtins.list[str]:
        """Segments whose schedule says they should be refreshed by `now`."""
        from empreinte.durations import parse_duration

        moment = now or self._clock()
        names = []
        for d in self._store.list():
            if d.schedule is None:
                continue
            every = parse_duration(d.schedule, "schedule")
            if d.last_computed_at is None or moment - d.last_computed_at >= every:
                names.append(d.name)
        return names

    def refresh_all(
        self, *, due: bool = False, now: datetime | None = None
    ) -> builtins.list[Refreshed]:
        """Refresh every segment (only those due, with `due`), by name."""
        names = self.due(now) if due else [d.name for d in self._store.list()]
        return [self.refresh(name, now) for name in names]

    # -- overlap ---------------------------------------------------------------------------

    def overlap(self, names: Sequence[str] | None = None) -> OverlapReport:
        """Pairwise overlap of `names` (every saved segment when None)."""
        chosen = tuple(names) if names else tuple(d.name for d in self._store.list())
        for name in chosen:
            self.get(name)
        if len(set(chosen)) != len(chosen):
            raise AnalyticsError("overlap: a segment is named twice")
        counts = self._store.overlap(chosen)
        sizes = {name: counts.get((name, name), 0) for name in chosen}
        rows = tuple(
            OverlapRow(a, b, sizes[a], sizes[b], counts.get((a, b), 0))
            for i, a in enumerate(chosen)
            for b in chosen[i + 1 :]
        )
        return OverlapReport(chosen, rows)


def _names_in(expression: str) -> set[str]:
    try:
        return named_segments(expression)
    except SegmentExpressionError:
        return set()


def _check_description(description: str | None) -> None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise AnalyticsError(f"a description is at most {MAX_DESCRIPTION} characters")
