"""Funnels on small hand-built journeys whose answers can be checked by eye (funnels.py):
every mode, the window edge, exclusions, re-entry, filters, breakdowns, people and entries,
steps on two channels of one person, and bad input."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import empreinte
from empreinte.analytics.journeys.funnels import dropped, funnel_report
from empreinte.analytics.journeys.funnels_spec import Exclusion, FunnelSpec
from empreinte.analytics.journeys.steps import Step, parse_step, parse_steps
from empreinte.analytics.journeys.touchpoints import JourneyScope
from empreinte.analytics.log import AnalyticsLog
from empreinte.durations import parse_duration
from empreinte.errors import AnalyticsError
from empreinte.workspace import Workspace

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALL = JourneyScope(consented_only=False)
HOUR, DAY = 3600, 86400


def ev(
    who: str,
    event: str,
    seconds: float,
    *,
    channel: str = "web",
    anon: bool = False,
    **properties: Any,
) -> dict[str, Any]:
    return {
        "type": "track",
        "event": event,
        "anonymousId" if anon else "userId": who,
        "properties": properties,
        "context": {"channel": channel},
        "timestamp": (T0 + timedelta(seconds=seconds)).isoformat(),
    }


def page(who: str, name: str, seconds: float) -> dict[str, Any]:
    return {**ev(who, "", seconds), "type": "page", "name": name, "event": None}


MESSAGES: list[dict[str, Any]] = [
    # modes: A → B → C
    *[ev("m1", f"mode {e}", s) for e, s in (("A", 0), ("B", 10), ("C", 20))],
    *[ev("m2", f"mode {e}", s) for e, s in (("A", 0), ("noise", 5), ("B", 10), ("C", 20))],
    *[ev("m3", f"mode {e}", s) for e, s in (("B", 0), ("A", 10), ("C", 20))],
    ev("m4", "mode A", 0),
    *[ev("m5", f"mode {e}", s) for e, s in (("C", 0), ("B", 10))],
    # the window edge (1 h): exactly at the end counts, one second after does not
    ev("e-at", "edge A", 0),
    ev("e-at", "edge B", HOUR),
    ev("e-after", "edge A", 0),
    ev("e-after", "edge B", HOUR + 1),
    # exclusion of "exc X"
    *[ev("x-clean", f"exc {e}", s) for e, s in (("A", 0), ("B", 10), ("C", 20))],
    *[ev("x-between", f"exc {e}", s) for e, s in (("A", 0), ("X", 5), ("B", 10), ("C", 20))],
    *[ev("x-late", f"exc {e}", s) for e, s in (("A", 0), ("B", 10), ("C", 20), ("X", 30))],
    *[ev("x-short", f"exc {e}", s) for e, s in (("A", 0), ("X", 5))],
    # re-entry (window 1 day): a first attempt reaching B, a second reaching C 3 days later
    *[ev("r1", f"re {e}", s) for e, s in (("A", 0), ("B", HOUR))],
    *[ev("r1", f"re {e}", 3 * DAY + s) for e, s in (("A", 0), ("B", 600), ("C", 1200))],
    # two step-1 touchpoints before B: the latest one is the attempt's start
    *[ev("r2", f"re {e}", s) for e, s in (("A", 0), ("A", 100), ("B", 200))],
    # property filters: shoes, then the Checkout page
    ev("f1", "filt Product Viewed", 0, category="shoes"),
    page("f1", "Home", 10),
    page("f1", "Checkout", 20),
    ev("f2", "filt Product Viewed", 0, category="hats"),
    page("f2", "Checkout", 20),
    ev("f3", "filt Product Viewed", 0, category="shoes"),
    page("f3", "Home", 20),
    # breakdown: plan on the first step, country of the person
    {"type": "identify", "userId": "b1", "traits": {"country": "FR"}, "timestamp": T0.isoformat()},
    {"type": "identify", "userId": "b2", "traits": {"country": "DE"}, "timestamp": T0.isoformat()},
    {"type": "identify", "userId": "b3", "traits": {"country": "FR"}, "timestamp": T0.isoformat()},
    ev("b1", "brk A", 10, plan="pro"),
    ev("b1", "brk B", 20),
    ev("b2", "brk A", 10, plan="free"),
    ev("b2", "brk B", 20),
    ev("b3", "brk A", 10, plan="free"),
    # across channels: viewed on the web anonymously, identified, bought in the store
    ev("anon-z", "cc Product Viewed", 0, anon=True),
    {"type": "identify", "userId": "z", "anonymousId": "anon-z", "timestamp": T0.isoformat()},
    ev("z", "cc Order Completed", DAY, channel="store"),
    # and a known customer on both channels
    ev("y", "cc Product Viewed", 0),
    ev("y", "cc Order Completed", 2 * DAY, channel="store"),
    # bought in the store without viewing first
    ev("w", "cc Order Completed", 0, channel="store"),
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = empreinte.open(Path(tmp_path_factory.mktemp("funnels")) / "ws")
    try:
        report = workspace.ingest(MESSAGES, source="web")
        assert not report.rejected, report.rejected
        workspace.flush()
        yield workspace
    finally:
        workspace.close()


@pytest.fixture(scope="module")
def log(ws: Workspace) -> Iterator[AnalyticsLog]:
    with ws.analytics() as analytics:
        yield analytics


def spec(prefix: str, names: str, **kwargs: Any) -> FunnelSpec:
    return FunnelSpec(steps=tuple(Step(f"{prefix} {n}") for n in names.split()), **kwargs)


def counts(log: AnalyticsLog, funnel: FunnelSpec, group: str | None = None) -> list[int]:
    return funnel_report(log, funnel, ALL).counts(group)


def person(ws: Workspace, user: str) -> str:
    found = ws.profiles.find("userId", user)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("ordered", [4, 2, 2]), ("strict", [4, 1, 1]), ("unordered", [4, 3, 3])],
)
def test_the_three_modes(log: AnalyticsLog, mode: str, expected: list[int]) -> None:
    # m2 has another touchpoint between A and B (not strict); m3 does B before A (unordered
    # only); m5 never does A (outside the funnel).
    assert counts(log, spec("mode", "A B C", mode=mode)) == expected


def test_strict_counts_any_touchpoint_between(ws: Workspace, log: AnalyticsLog) -> None:
    funnel = spec("mode", "A B C", mode="strict")
    assert dropped(log, funnel, 1, ALL) == sorted(person(ws, p) for p in ("m2", "m3", "m4"))


def test_window_edge_exactly_at_counts_one_second_after_does_not(
    ws: Workspace, log: AnalyticsLog
) -> None:
    for mode in ("ordered", "strict", "unordered"):
        funnel = spec("edge", "A B", window=timedelta(hours=1), mode=mode)
        assert counts(log, funnel) == [2, 1], mode
        assert dropped(log, funnel, 1, ALL) == [person(ws, "e-after")]
    assert counts(log, spec("edge", "A B", window=timedelta(seconds=HOUR + 1))) == [2, 2]


def test_exclusion_drops_people_who_did_x_between_the_steps(
    ws: Workspace, log: AnalyticsLog
) -> None:
    x = Step("exc X")
    whole = spec("exc", "A B C", exclusions=(Exclusion(x),))
    # x-between did X between A and C: out of the funnel; x-late after C and x-short, who
    # never reached C, stay.
    assert counts(log, whole) == [3, 2, 2]
    late = spec("exc", "A B C", exclusions=(Exclusion(x, after=2, before=3),))
    assert counts(log, late) == [4, 3, 3]
    assert counts(log, spec("exc", "A B C")) == [4, 3, 3]


def test_re_entry_the_furthest_attempt_counts_with_its_own_times(log: AnalyticsLog) -> None:
    funnel = spec("re", "A B C", window=timedelta(days=1))
    report = funnel_report(log, funnel, ALL)
    assert report.counts() == [2, 2, 1]
    # r1's second attempt (B 600 s after A, C 600 s after B); r2 started again at 100 s,
    # 100 s before B.
    step2, step3 = report.rows[1], report.rows[2]
    assert step2.median_seconds == pytest.approx(350.0)
    assert step2.p90_seconds == pytest.approx(100 + 0.9 * 500)
    assert step3.median_seconds == pytest.approx(600.0)
    assert step3.drop_off == 1 and step3.step_conversion == pytest.approx(0.5)


def test_entries_count_each_return_after_the_window(log: AnalyticsLog) -> None:
    funnel = spec("re", "A B C", window=timedelta(days=1), count="entries")
    report = funnel_report(log, funnel, ALL)
    # r1 entered twice (3 days apart), r2 once (its two A are 100 s apart)
    assert report.counts() == [3, 3, 1]
    assert report.rows[1].median_seconds == pytest.approx(600.0)  # 3600, 600, 100


def test_property_and_page_name_filters(ws: Workspace, log: AnalyticsLog) -> None:
    funnel = FunnelSpec(
        steps=parse_steps(
            ["filt Product Viewed[properties.category=shoes]", "Page Viewed[name=Checkout]"]
        )
    )
    assert counts(log, funnel) == [2, 1]
    assert dropped(log, funnel, 1, ALL) == [person(ws, "f3")]
    strict = FunnelSpec(steps=funnel.steps, mode="strict")
    assert counts(log, strict) == [2, 0]  # f1 saw Home between


def test_breakdown_by_event_property_and_profile_attribute(log: AnalyticsLog) -> None:
    by_plan = funnel_report(log, spec("brk", "A B", by="properties.plan"), ALL)
    assert by_plan.groups == ["free", "pro"]
    assert by_plan.counts("free") == [2, 1] and by_plan.counts("pro") == [1, 1]
    by_country = funnel_report(log, spec("brk", "A B", by="country"), ALL)
    assert by_country.counts("FR") == [2, 1] and by_country.counts("DE") == [1, 1]
    rows = by_country.to_pandas()
    assert list(rows["group"]) == ["DE", "DE", "FR", "FR"]


def test_steps_across_channels_through_one_profile(ws: Workspace, log: AnalyticsLog) -> None:
    funnel = FunnelSpec(
        steps=parse_steps(["cc Product Viewed[channel=web]", "cc Order Completed[channel=store]"])
    )
    report = funnel_report(log, funnel, ALL)
    assert report.counts() == [2, 2]  # z (anonymous then identified) and y; w never viewed
    assert report.rows[1].median_seconds == pytest.approx(1.5 * DAY)
    short = FunnelSpec(steps=funnel.steps, window=timedelta(days=1))
    assert counts(log, short) == [2, 1]
    assert dropped(log, short, 1, ALL) == [person(ws, "y")]


def test_people_and_entries_differ_only_by_re_entries(log: AnalyticsLog) -> None:
    people = counts(log, spec("mode", "A B C"))
    entries = counts(log, spec("mode", "A B C", count="entries"))
    assert people == entries  # nobody entered twice


def test_report_rows(log: AnalyticsLog) -> None:
    rows = funnel_report(log, spec("mode", "A B C"), ALL).to_rows()
    assert [r["label"] for r in rows] == ["mode A", "mode B", "mode C"]
    assert [r["conversion"] for r in rows] == [1.0, 0.5, 0.5]
    assert [r["drop_off"] for r in rows] == [0, 2, 0]


def test_a_funnel_nobody_enters(log: AnalyticsLog) -> None:
    report = funnel_report(log, spec("nobody", "A B"), ALL)
    assert report.counts() == [0, 0]
    assert report.rows[1].conversion is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: FunnelSpec(steps=()), "at least one step"),
        (lambda: spec("mode", "A B", window=timedelta(seconds=-1)), "positive"),
        (lambda: spec("mode", "A B", window=timedelta(days=3651)), "at most 3650 days"),
        (lambda: spec("mode", "A B", window=timedelta.max), "at most 3650 days"),
        (lambda: spec("mode", "A B", mode="sideways"), "sideways"),
        (lambda: spec("mode", "A B", count="visits"), "visits"),
        (lambda: spec("mode", "A B", exclusions=(Exclusion(Step("x"), 2, 2),)), "exclusion x"),
        (lambda: parse_step("Page Viewed[name]"), "'Page Viewed[name]'"),
        (lambda: parse_step("Page Viewed[name=a"), "one pair of brackets"),
        (lambda: parse_step("[name=a]"), "no event name"),
        (lambda: parse_step("Viewed[properties.=red]"), "unknown filter 'properties.'"),
        (lambda: parse_duration("7 weeks", "window"), "7 weeks"),
        (lambda: parse_duration("-1d", "window"), "positive"),
    ],
)
def test_bad_input_names_what_is_wrong(make: Any, message: str) -> None:
    with pytest.raises(AnalyticsError, match=re.escape(message)):
        make()


def test_unknown_breakdown_and_dropped_step(log: AnalyticsLog) -> None:
    with pytest.raises(AnalyticsError, match="colour"):
        funnel_report(log, spec("brk", "A B", by="colour"), ALL)
    with pytest.raises(AnalyticsError, match="between 1 and 1"):
        dropped(log, spec("brk", "A B"), 2, ALL)


def test_step_syntax() -> None:
    step = parse_step(" Page Viewed[ name = Checkout , properties.plan=pro ] ")
    assert step == Step.of("Page Viewed", {"name": "Checkout", "properties.plan": "pro"})
    assert step.label == "Page Viewed[name=Checkout,properties.plan=pro]"
    assert parse_step(step.label) == step
    assert parse_duration("7d") == timedelta(days=7) and parse_duration("90s") == timedelta(
        seconds=90
    )
