"""The register of refused events: what the collector turned away, per source and reason.

The collector answers every refusal in its response (the client learns why); this register
keeps a count of them for the operator (the dashboard's Sources page): per source and
reason, per hour over the last 24 hours, and the reasons of the last `examples` refusals.

Privacy: a reason is the rule (the error's `code`) and the field it names, never the value,
which can be personal data. Field paths are reduced to a fixed vocabulary (the Segment
fields and the property names the survey rules check): any other name in a path, which the
sender chose (a property key may be an e-mail), is shown as `…`. Nothing of the message is
kept: not its id, not its values.

Bounded: at most `MAX_SOURCES` sources (then `(other)`) and `MAX_REASONS` reasons per
source (then the reason `other`), 24 hourly counts each, `examples` recent reasons, so that
a hostile client sending millions of distinct bad fields cannot grow it.

Kept in memory by the server's process: it starts empty at each start and does not survive
a restart (the log keeps only stored events). The cost is on the refusal path only: the
collector's path for valid events does not touch it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_SOURCES = 64
MAX_REASONS = 32
HOURS = 24
EXAMPLES = 20
#: the source of requests refused before a write key was known (unknown key, bad JSON…)
NO_SOURCE = ""
OTHER_SOURCE = "(other)"
OTHER = "other"
MASK = "…"

#: Names a field path may show: the Segment message fields, and the properties the survey
#: and experiment rules check (collect/surveys.py). Anything else is the sender's own name.
_TOP_FIELDS = frozenset(
    {
        "type",
        "userId",
        "anonymousId",
        "previousId",
        "groupId",
        "event",
        "name",
        "timestamp",
        "originalTimestamp",
        "sentAt",
        "receivedAt",
        "context",
        "integrations",
        "properties",
        "traits",
        "messageId",
        "batch",
        "writeKey",
        "channel",
    }
)
_SUB_FIELDS = frozenset(
    {
        "score",
        "scale",
        "comment",
        "touchpoint",
        "feature",
        "functional",
        "dysfunctional",
        "experiment",
        "experiment_id",
        "experiment_name",
        "variant",
        "variation_id",
        "variation_name",
        "channel",
        "userAgent",
    }
)
_MAX_PATH = 4


def safe_field(field: str | None) -> str | None:
    """`field` with every name outside the fixed vocabulary replaced by `…` (at most four
    parts; array indices are names the sender chose too)."""
    if not field:
        return None
    parts = field[:512].split(".")
    shown: list[str] = []
    for i, part in enumerate(parts):
        known = _TOP_FIELDS if i == 0 else _SUB_FIELDS
        name = part if part in known else MASK
        if name == MASK and shown and shown[-1] == MASK:
            continue
        shown.append(name)
        if len(shown) >= _MAX_PATH:
            break
    return ".".join(shown)


def safe_code(code: Any) -> str:
    """A rule's code as the collector names it (`missing_field`…), or `other`."""
    if (
        isinstance(code, str)
        and 0 < len(code) <= 40
        and all("a" <= c <= "z" or c == "_" for c in code)
    ):
        return code
    return OTHER


@dataclass(frozen=True, order=True)
class Reason:
    source: str  # NO_SOURCE when the request had no valid write key
    code: str
    field: str | None


@dataclass(frozen=True)
class ReasonCount:
    reason: Reason
    total: int  # over the last 24 hours
    this_hour: int  # in the current clock hour (UTC)
    #: (start of the hour, refusals in it), oldest first, hours with none left out
    hours: tuple[tuple[datetime, int], ...]
    last_seen: datetime


@dataclass(frozen=True)
class Example:
    at: datetime
    reason: Reason


@dataclass(frozen=True)
class RejectionReport:
    started: datetime  # when this register started (the server's start)
    counts: tuple[ReasonCount, ...]  # most frequent first
    examples: tuple[Example, ...]  # newest first

    def total_for(self, source: str) -> int:
        return sum(c.total for c in self.counts if c.reason.source == source)


class RejectionRegister:
    """Counts of refusals per source and reason; thread-safe (the collector refuses on its
    admission thread and on the event loop)."""

    def __init__(
        self,
        *,
        max_sources: int = MAX_SOURCES,
        max_reasons: int = MAX_REASONS,
        examples: int = EXAMPLES,
        clock: Callable[[], float] = time.time,
    ):
        self._max_sources = max_sources
        self._max_reasons = max_reasons
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        self._hours: dict[Reason, dict[int, int]] = {}
        self._last: dict[Reason, float] = {}
        self._per_source: Counter[str] = Counter()  # distinct reasons per source
        self._examples: deque[tuple[float, Reason]] = deque(maxlen=examples)

    # -- recording (the refusal path) ----------------------------------------------------------

    def refused(self, source: str | None, code: str, field: str | None = None) -> None:
        """A whole request refused (`source` None: before a write key was known)."""
        self._add(source, [(code, field)])

    def rejected(self, source: str, rejections: Iterable[Mapping[str, Any]]) -> None:
        """The messages of a request refused one by one (the collector's `rejected` list:
        dicts with `code` and `field`; their `message` and `messageId` are not read)."""
        self._add(source, [(r.get("code"), r.get("field")) for r in rejections])

    def _add(self, source: str | None, items: list[tuple[Any, Any]]) -> None:
        if not items:
            return
        counted = Counter(
            (safe_code(code), safe_field(field if isinstance(field, str) else None))
            for code, field in items
        )
        now = self._clock()
        hour = int(now // 3600)
        with self._lock:
            name = self._source_name(source)
            for (code, field), n in counted.items():
                reason = self._slot(Reason(name, code, field))
                buckets = self._hours.setdefault(reason, {})
                buckets[hour] = buckets.get(hour, 0) + n
                if len(buckets) > HOURS + 1:
                    for old in [h for h in buckets if h <= hour - HOURS]:
                        del buckets[old]
                self._last[reason] = now
                self._examples.append((now, reason))

    def _source_name(self, source: str | None) -> str:
        name = source or NO_SOURCE
        if name in self._per_source:
            return name
        if len(self._per_source) >= self._max_sources:
            return OTHER_SOURCE
        return name

    def _slot(self, reason: Reason) -> Reason:
        """`reason`, or its source's `other` once the source has `max_reasons` reasons."""
        if reason in self._hours:
            return reason
        if self._per_source[reason.source] >= self._max_reasons:
            reason = Reason(reason.source, OTHER, None)
            if reason in self._hours:
                return reason
        self._per_source[reason.source] += 1
        return reason

    # -- reading -------------------------------------------------------------------------------

    def report(self) -> RejectionReport:
        now = self._clock()
        hour = int(now // 3600)
        with self._lock:
            items = [(r, dict(b)) for r, b in self._hours.items()]
            last = dict(self._last)
            examples = list(self._examples)
        counts = []
        for reason, buckets in items:
            kept = sorted((h, n) for h, n in buckets.items() if h > hour - HOURS)
            if not kept:
                continue
            recent = sum(n for h, n in kept if h == hour)
            counts.append(
                ReasonCount(
                    reason,
                    sum(n for _, n in kept),
                    recent,
                    tuple((_time(h * 3600), n) for h, n in kept),
                    _time(last[reason]),
                )
            )
        counts.sort(key=lambda c: (-c.total, c.reason))
        return RejectionReport(
            _time(self._started),
            tuple(counts),
            tuple(Example(_time(at), r) for at, r in reversed(examples)),
        )

    def size(self) -> int:
        """How many (reason, hour) counts are held: bounded whatever is sent."""
        with self._lock:
            return sum(len(b) for b in self._hours.values())


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
