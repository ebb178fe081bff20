"""Paths and retention on random journeys, against a plain-Python reading of the same
touchpoints (the rules of docs/paths.md written out again, person by person), and the
properties every report keeps: shares of one source sum to 1, people never exceed
transitions, retention never exceeds 100 % and unbounded ≥ N-day."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from empreinte.analytics.journeys.paths import END, OTHER, START, PathReport, labelled, paths
from empreinte.analytics.journeys.retention import retention
from empreinte.analytics.journeys.touchpoints import touchpoints
from empreinte.analytics.log import AnalyticsLog

from .paths_journeys import Message, at, page, track

ALPHABET = ["A", "B", "C", "D"]
# Each example runs a report (a compile and a query): a third of the profile's examples.
EXAMPLES = settings(max_examples=max(10, settings.default.max_examples // 3))
GAPS = [0, 1, 5, 20, 40, 120, 60 * 24 * 3]  # minutes: same instant … three days


def _log(seed: int = 12) -> list[Message]:
    rng = random.Random(seed)
    messages: list[Message] = []
    for person in range(40):
        when = at(0, days=rng.randrange(0, 60))
        for _ in range(rng.randrange(1, 9)):
            when += timedelta(minutes=rng.choice(GAPS))
            channel = rng.choice(["web", "web", "app"])
            if rng.random() < 0.2:
                messages.append(page(f"r{person}", rng.choice(["Home", "Cart"]), when, channel))
            else:
                messages.append(track(f"r{person}", rng.choice(ALPHABET), when, channel))
    return messages


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsLog]:
    from .paths_journeys import journeys

    with journeys(tmp_path_factory.mktemp("random-paths"), _log()) as opened:
        yield opened


@pytest.fixture(scope="module")
def frame(log: AnalyticsLog) -> pd.DataFrame:
    table = touchpoints(log)
    table = table.mutate(page_label=labelled(table, "page"))
    return log.execute(table.order_by(["profile_id", "at", "seq"]))  # type: ignore[no-any-return]


def reference(frame: pd.DataFrame, anchor: str, options: dict[str, Any]) -> dict[Any, Any]:
    """(level, source, target) → (transitions, people), computed person by person."""
    forward = options["direction"] == "next"
    depth, top, within = options["depth"], options["top"], options["within"]
    column = {"step": "step", "page": "page_label", "channel": "channel"}[options["label"]]
    paths_of: list[tuple[str, list[str]]] = []
    for person, rows in frame.groupby("profile_id", sort=True):
        records = rows.to_dict("records")
        units: list[list[dict[str, Any]]] = [[]]
        for r in records:
            silent = units[-1] and r["at"] - units[-1][-1]["at"] >= timedelta(minutes=30)
            if within == "session" and silent:
                units.append([])
            units[-1].append(r)
        for unit in units:
            if options["collapse"]:
                unit = [r for i, r in enumerate(unit) if i == 0 or unit[i - 1][column] != r[column]]
            for i, r in enumerate(unit):
                if r["step"] != anchor:
                    continue
                path = [r[column]]
                for k in range(1, depth + 1):
                    j = i + k if forward else i - k
                    ok = 0 <= j < len(unit)
                    if ok and isinstance(within, timedelta):
                        ok = abs(unit[j]["at"] - r["at"]) <= within
                    if not ok:
                        path.append(END if forward else START)
                        break
                    path.append(unit[j][column])
                paths_of.append((str(person), path))
    kept: dict[int, set[str]] = {}
    for k in range(depth + 1):
        counts = Counter(p[k] for _, p in paths_of if len(p) > k and p[k] not in (END, START))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept[k] = {label for label, _ in ranked[:top]}
    found: dict[Any, list[Any]] = {}
    for person, path in paths_of:
        nodes = [n if n in (END, START) or n in kept[k] else OTHER for k, n in enumerate(path)]
        for k in range(1, len(nodes)):
            pair = (nodes[k - 1], nodes[k]) if forward else (nodes[k], nodes[k - 1])
            key = (k if forward else -k, *pair)
            entry = found.setdefault(key, [0, set()])
            entry[0] += 1
            entry[1].add(person)
    return {key: (n, len(people)) for key, (n, people) in found.items()}


def edges(report: PathReport) -> dict[Any, tuple[int, int]]:
    return {(t.level, t.source, t.target): (t.transitions, t.people) for t in report.transitions}


@EXAMPLES
@given(
    anchor=st.sampled_from(["A", "B", "Page Viewed"]),
    direction=st.sampled_from(["next", "previous"]),
    depth=st.integers(1, 4),
    top=st.integers(1, 4),
    label=st.sampled_from(["step", "page", "channel"]),
    collapse=st.booleans(),
    within=st.sampled_from([None, "session", timedelta(minutes=5), timedelta(days=1)]),
)
def test_paths_as_read_person_by_person(
    log: AnalyticsLog, frame: pd.DataFrame, anchor: str, **options: Any
) -> None:
    report = paths(log, anchor, **options)
    assert edges(report) == reference(frame, anchor, options)
    # the shares of each source's targets sum to 1; people never exceed transitions
    out: dict[tuple[int, str], float] = {}
    for t in report.transitions:
        assert 1 <= t.people <= t.transitions
        key = (t.level, t.source if options["direction"] == "next" else t.target)
        out[key] = out.get(key, 0.0) + t.share
    assert all(abs(total - 1.0) < 1e-9 for total in out.values())
    for level in {s.level for s in report.steps}:
        assert abs(sum(s.share for s in report.steps if s.level == level) - 1.0) < 1e-9


@EXAMPLES
@given(
    period=st.sampled_from(["week", "month"]),
    bucket=st.sampled_from(["day", "week", "month"]),
    start=st.sampled_from([None, "A", "B"]),
    returning=st.sampled_from([None, "C", "D"]),
    periods=st.integers(1, 12),
)
def test_retention_is_a_share_and_unbounded_dominates(log: AnalyticsLog, **options: Any) -> None:
    report = retention(log, **options)
    cohorts: dict[str, list[int]] = {}
    for c in report.cells:
        assert 0 <= c.returned <= c.unbounded <= c.size
        assert 0.0 <= c.rate <= c.unbounded_rate <= 1.0
        cohorts.setdefault(c.cohort, []).append(c.unbounded)
    for unbounded in cohorts.values():
        assert unbounded == sorted(unbounded, reverse=True)  # never rises with N
