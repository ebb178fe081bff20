"""`workspace.journeys`: every journey report from one object, with steps and durations
written as text, local dates read in the workspace's time zone, and consent applied."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import empreinte
from empreinte.errors import AnalyticsError
from empreinte.workspace import Workspace

from .channel_messages import T0, consent, page, track

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """Ann researches on the web and buys in the store the next day (40 €); Bob only looks;
    Cy buys online but never allowed analytics: no report may count her."""
    root: Path = tmp_path_factory.mktemp("journeys")
    (root / "empreinte.toml").write_text('timezone = "Europe/Paris"\n')
    with empreinte.open(root) as workspace:
        report = workspace.ingest(
            [
                consent("ann"),
                consent("bob"),
                page("ann", "Shoes", T0),
                track("ann", "Product Viewed", T0 + timedelta(minutes=1), "web", sku="s1"),
                track("ann", "Order Completed", T0 + DAY, "store", revenue=40, sku="s1"),
                page("bob", "Shoes", T0),
                track("bob", "Product Viewed", T0 + timedelta(minutes=2), "web", sku="s1"),
                track("cy", "Product Viewed", T0, "web", sku="s1"),
                track("cy", "Order Completed", T0 + timedelta(hours=1), "web", revenue=90),
            ]
        )
        assert report.stored == 9 and not report.rejected
        yield workspace


def test_funnel_and_who_dropped(ws: Workspace) -> None:
    steps = ["Product Viewed[sku=s1]", "Order Completed"]
    report = ws.journeys.funnel(steps, window="2d")
    assert report.counts() == [2, 1]
    assert ws.journeys.funnel(steps, window="23h").counts() == [2, 0]
    dropped = ws.journeys.dropped(steps, 1, window="2d")
    assert dropped == [ws.profiles.find("userId", "bob")]


def test_paths_and_retention(ws: Workspace) -> None:
    report = ws.journeys.paths("Page Viewed: Shoes", depth=1)
    targets = {(t.target, t.people) for t in report.transitions}
    assert ("Product Viewed", 2) in targets
    cohort = ws.journeys.retention(period="week", returning="Order Completed")
    assert sum(cell.returned for cell in cohort.cells if cell.bucket == 0) >= 1


def test_omnichannel_ropo_and_attribution(ws: Workspace) -> None:
    classes = {row.channel_class: row.people for row in ws.journeys.channel_classes().rows}
    assert sum(classes.values()) == 2  # Ann and Bob; Cy did not consent
    assert classes.get("cross") == 1 and classes.get("mono") == 1
    ropo = ws.journeys.ropo(window="2d")
    assert ropo.total is not None
    assert (ropo.total.purchases, ropo.total.crossed_purchases) == (1, 1)
    credit = ws.journeys.attribution(lookback="30d", models=["first_touch", "last_touch"])
    assert credit.conversions == 1 and credit.value == 40


def test_local_dates_and_bad_input(ws: Workspace) -> None:
    # T0 is 10:00 UTC, 11:00 in Paris: from 11:00:30 Paris time the views (10:01 and 10:02
    # UTC) are in; read as UTC they would not be.
    since = datetime(2026, 3, 2, 11, 0, 30)
    late = ws.journeys.funnel(["Product Viewed", "Order Completed"], since=since, window="2d")
    assert late.counts() == [2, 1]
    with pytest.raises(AnalyticsError, match="window 'soon'"):
        ws.journeys.funnel(["Product Viewed"], window="soon")
    with pytest.raises(AnalyticsError, match="no event name"):
        ws.journeys.paths("[sku=s1]")


@pytest.mark.parametrize(
    ("window", "language", "text"),
    [
        (timedelta(days=7), "en", "7 days"),
        (timedelta(days=1), "fr", "1 jour"),
        (timedelta(days=7), "fr", "7 jours"),
        (timedelta(hours=36), "en", "36 h"),
        (timedelta(minutes=90), "fr", "90 min"),
        (timedelta(seconds=45), "en", "45 s"),
    ],
)
def test_the_funnel_chart_says_its_window_as_a_reader_would(
    window: timedelta, language: str, text: str
) -> None:
    from empreinte.analytics.journeys.funnels_chart import window_text

    assert window_text(window, language) == text


@pytest.mark.parametrize(
    "text",
    [
        "Product Viewed[a'b=1]",
        'Product Viewed[properties.a"b=1]',
        "Product Viewed[context.a\\b=1]",
        "Product Viewed[properties..a=1]",
    ],
)
def test_a_filter_key_cannot_close_the_json_path(text: str) -> None:
    """Filter keys become JSON paths in the engine: quotes, backslashes and empty parts are
    refused by name before any query is built."""
    from empreinte.analytics.journeys.steps import parse_step

    with pytest.raises(AnalyticsError, match="unknown filter"):
        parse_step(text)
