"""Paths (analytics/journeys/paths.py) on hand-built journeys whose counts are read by eye.

p1: Home, Product Viewed (shoes), Cart, Checkout          one minute apart
p2: Product Viewed ×3, Cart                               one minute apart
p3: Product Viewed, Cart 45 minutes later                 (another session)
p4: Product Viewed                                        nothing after
p5: Search, Product Viewed (hats), Wishlist
p6: page Home, page Checkout (web), screen Receipt (app), Order Completed (store)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from empreinte.analytics.journeys.paths import (
    END,
    OTHER,
    START,
    PathReport,
    paths,
)
from empreinte.analytics.journeys.steps import Step, parse_step
from empreinte.analytics.journeys.touchpoints import JourneyScope
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

from .paths_journeys import Message, at, journeys, page, screen, steps, track

PV = "Product Viewed"


def _log() -> list[Message]:
    messages = steps("p1", ["Home", PV, "Cart", "Checkout"], at(0))
    messages[1]["properties"] = {"category": "shoes"}
    messages += steps("p2", [PV, PV, PV, "Cart"], at(0))
    messages += [track("p3", PV, at(0)), track("p3", "Cart", at(45))]
    messages += [track("p4", PV, at(0))]
    messages += steps("p5", ["Search", PV, "Wishlist"], at(0))
    messages[-2]["properties"] = {"category": "hats"}
    messages += [
        page("p6", "Home", at(0)),
        page("p6", "Checkout", at(1)),
        screen("p6", "Receipt", at(2)),
        track("p6", "Order Completed", at(3), channel="store"),
    ]
    return messages


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsLog]:
    with journeys(tmp_path_factory.mktemp("paths"), _log()) as opened:
        yield opened


def edges(report: PathReport) -> dict[tuple[int, str, str], tuple[int, int]]:
    """(level, source, target) → (transitions, people)."""
    return {(t.level, t.source, t.target): (t.transitions, t.people) for t in report.transitions}


def level(report: PathReport, n: int) -> dict[str, int]:
    return {s.step: s.transitions for s in report.steps if s.level == n}


def test_next_steps_and_their_counts(log: AnalyticsLog) -> None:
    report = paths(log, PV, depth=2)
    assert (report.occurrences, report.people) == (7, 5)  # p2's three views are three paths
    assert edges(report) == {
        (1, PV, "Cart"): (3, 3),  # p1, p2's third view, p3
        (1, PV, PV): (2, 1),  # p2's first and second views
        (1, PV, END): (1, 1),  # p4
        (1, PV, "Wishlist"): (1, 1),  # p5
        (2, "Cart", "Checkout"): (1, 1),
        (2, "Cart", END): (2, 2),
        (2, PV, PV): (1, 1),
        (2, PV, "Cart"): (1, 1),
        (2, "Wishlist", END): (1, 1),
    }
    assert level(report, 0) == {PV: 7}
    assert level(report, 1) == {"Cart": 3, PV: 2, END: 1, "Wishlist": 1}
    top = [s for s in report.steps if s.level == 1]
    assert [(s.rank, s.step, s.share) for s in top[:2]] == [(1, "Cart", 3 / 7), (2, PV, 2 / 7)]


def test_previous_steps_run_towards_the_anchor(log: AnalyticsLog) -> None:
    report = paths(log, "Cart", direction="previous", depth=2)
    assert report.occurrences == 3
    assert edges(report) == {
        (-1, PV, "Cart"): (3, 3),
        (-2, "Home", PV): (1, 1),
        (-2, PV, PV): (1, 1),
        (-2, START, PV): (1, 1),  # p3 has nothing before
    }


def test_the_rest_is_other_and_terminals_take_no_place(log: AnalyticsLog) -> None:
    report = paths(log, PV, depth=2, top=2)
    assert level(report, 1) == {"Cart": 3, PV: 2, END: 1, OTHER: 1}  # Wishlist
    # level 2: Cart, Checkout, Product Viewed once each: the first two by name are kept
    assert level(report, 2) == {END: 3, "Cart": 1, "Checkout": 1, OTHER: 1}
    assert edges(report)[(2, OTHER, END)] == (1, 1)  # p5's wishlist, then nothing
    assert edges(report)[(2, PV, OTHER)] == (1, 1)  # p2's second view, then a third


def test_collapse_repeats(log: AnalyticsLog) -> None:
    report = paths(log, PV, depth=1, collapse=True)
    assert (report.occurrences, report.people) == (5, 5)
    assert level(report, 1) == {"Cart": 3, END: 1, "Wishlist": 1}


def test_the_session_cuts_the_path(log: AnalyticsLog) -> None:
    report = paths(log, PV, depth=1, within="session")
    assert level(report, 1) == {"Cart": 2, PV: 2, END: 2, "Wishlist": 1}  # p3's cart is later
    longer = paths(log, PV, depth=1, within="session", session_gap=timedelta(hours=1))
    assert level(longer, 1)["Cart"] == 3


def test_a_time_limit_includes_its_edge(log: AnalyticsLog) -> None:
    # p1's checkout comes exactly 2 minutes after the view
    exactly = paths(log, "Product Viewed[category=shoes]", depth=2, within=timedelta(minutes=2))
    assert edges(exactly)[(2, "Cart", "Checkout")] == (1, 1)
    before = paths(log, "Product Viewed[category=shoes]", depth=2, within=timedelta(seconds=119))
    assert edges(before)[(2, "Cart", END)] == (1, 1)


def test_anchor_filters_and_first_anchors(log: AnalyticsLog) -> None:
    shoes = paths(log, Step.of(PV, {"category": "shoes"}), depth=1)
    assert (shoes.occurrences, edges(shoes)) == (1, {(1, PV, "Cart"): (1, 1)})
    first = paths(log, PV, depth=1, anchors="first")
    assert (first.occurrences, first.people) == (5, 5)
    assert level(first, 1) == {"Cart": 2, PV: 1, END: 1, "Wishlist": 1}


def test_step_labels(log: AnalyticsLog) -> None:
    home = "Page Viewed: Home"
    by_page = paths(log, home, depth=3, label="page")
    assert [t.target for t in by_page.transitions] == [
        "Page Viewed: Checkout",
        "Screen Viewed: Receipt",
        "Order Completed",
    ]
    by_channel = paths(log, home, depth=3, label="channel")
    assert [(t.source, t.target) for t in by_channel.transitions] == [
        ("web", "web"),
        ("web", "app"),
        ("app", "store"),
    ]
    collapsed = paths(log, home, depth=3, label="channel", collapse=True)
    assert [t.target for t in collapsed.transitions] == ["app", "store", END]
    both = paths(log, home, depth=1, label="channel_step")
    assert both.transitions[0].source == "web: Page Viewed"
    assert both.transitions[0].target == "web: Page Viewed"


def test_scope(log: AnalyticsLog) -> None:
    report = paths(log, PV, depth=1, scope=JourneyScope(until=at(30)))
    assert level(report, 1) == {"Cart": 2, PV: 2, END: 2, "Wishlist": 1}  # p3's cart is out


def test_shares_of_each_source_sum_to_one(log: AnalyticsLog) -> None:
    for direction in ("next", "previous"):
        report = paths(log, PV, depth=3, top=2, direction=direction)
        out: dict[tuple[int, str], float] = {}
        for t in report.transitions:
            key = (t.level, t.source if direction == "next" else t.target)
            out[key] = out.get(key, 0.0) + t.share
        assert out and all(abs(total - 1.0) < 1e-9 for total in out.values())


@pytest.mark.parametrize(
    ("text", "step", "where"),
    [
        ("Product Viewed", PV, {}),
        ("Product Viewed[category=shoes, size=42]", PV, {"category": "shoes", "size": "42"}),
        ("Page Viewed: Checkout", "Page Viewed", {"name": "Checkout"}),
        ("Screen Viewed: Cart[channel=app]", "Screen Viewed", {"name": "Cart", "channel": "app"}),
        (
            "Order Completed[channel=store,properties.currency=EUR,context.locale=fr-FR]",
            "Order Completed",
            {"channel": "store", "currency": "EUR", "context.locale": "fr-FR"},
        ),
    ],
)
def test_parse_step(text: str, step: str, where: dict[str, str]) -> None:
    parsed = parse_step(text)
    assert parsed == Step.of(step, where)
    assert parse_step(parsed.label) == parsed


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"anchor": "Nothing Like This"}, "unknown step 'Nothing Like This'"),
        ({"depth": 0}, "depth"),
        ({"top": 0}, "top"),
        ({"direction": "sideways"}, "direction"),
        ({"label": "colour"}, "label"),
        ({"within": timedelta(0)}, "positive"),
        ({"anchors": "last"}, "anchors"),
        ({"anchor": "Product Viewed[category]"}, "key=value"),
    ],
)
def test_bad_input_names_what_is_wrong(
    log: AnalyticsLog, kwargs: dict[str, object], message: str
) -> None:
    anchor = kwargs.pop("anchor", PV)
    with pytest.raises(AnalyticsError, match=message):
        paths(log, anchor, **kwargs)  # type: ignore[arg-type]
