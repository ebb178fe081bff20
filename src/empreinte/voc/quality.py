"""Quality-of-service signals of one conversation, from its turns' times.

- *silence ratio*: the share of the call where nobody speaks (the call's length minus the
  union of every turn's [start, end), over the length);
- *overtalk ratio*: the share where the agent and the customer speak at once (the total
  intersection of one speaker's turns with the other's, over the length).

The length is the event's `duration` when given, else the last turn's end (from 0). Turns
with missing, negative or reversed times are left out; times are clipped to the length.
O(n log n) in the number of turns (one sort), which `model.MAX_TURNS` bounds.

Repeated calls within 7 days (first-contact resolution) and the per-agent aggregates are
counted in the engine over `voc_texts` (store/duckdb/voc_store.py: `quality`, `agents`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: A second contact by the same caller within this many days means the first one did not
#: resolve the matter (first-contact resolution).
REPEAT_WINDOW_DAYS = 7


@dataclass(frozen=True)
class TimedTurn:
    speaker: str
    start: float
    end: float


@dataclass(frozen=True)
class CallQuality:
    length_s: float | None
    silence_ratio: float | None
    overtalk_ratio: float | None


def _union(intervals: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _length(intervals: Sequence[tuple[float, float]]) -> float:
    return sum(end - start for start, end in intervals)


def _overlap(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> float:
    """Total intersection of two sorted lists of disjoint intervals (a linear merge)."""
    i = j = 0
    total = 0.0
    while i < len(a) and j < len(b):
        low, high = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if high > low:
            total += high - low
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def timed_turns(turns: Sequence[object]) -> list[TimedTurn]:
    """The turns (dicts `{speaker, start, end}`) whose times are usable."""
    out = []
    for turn in turns:
        if not isinstance(turn, dict):
            continue
        start, end = _finite(turn.get("start")), _finite(turn.get("end"))
        if start is None or end is None or start < 0 or end < start:
            continue
        out.append(TimedTurn(str(turn.get("speaker")), start, end))
    return out


def measure(turns: Sequence[TimedTurn], duration_s: float | None) -> CallQuality:
    """Silence and overtalk ratios of a conversation (None when its length is unknown)."""
    length = duration_s if duration_s and duration_s > 0 else None
    if length is None:
        length = max((t.end for t in turns), default=0.0) or None
    if length is None:
        return CallQuality(None, None, None)
    clipped = [(t.speaker, min(t.start, length), min(t.end, length)) for t in turns]
    spoken = _union([(s, e) for _, s, e in clipped])
    agent = _union([(s, e) for who, s, e in clipped if who == "agent"])
    customer = _union([(s, e) for who, s, e in clipped if who == "customer"])
    silence = max(0.0, length - _length(spoken)) / length
    overtalk = _overlap(agent, customer) / length
    return CallQuality(length, round(silence, 4), round(overtalk, 4))
