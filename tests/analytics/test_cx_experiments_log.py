"""A/B tests read from the log (cx/exposures.py through `workspace.cx`): who saw which variant
first, who reached the goal within the window, and who is set aside (crossovers, open
windows, no analytics consent), on hand-built logs with known counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from statsmodels.stats.proportion import proportions_ztest

import empreinte
from empreinte.analytics.cx.exposures import experiment_report as experiment_report_of_log
from empreinte.errors import AnalyticsError
from empreinte.workspace import Workspace


def experiment_report(ws: Any, *args: Any, **kwargs: Any) -> Any:
    """`experiment_report` over the workspace's log, opened as the workspace's reports open it."""
    with ws.analytics() as log:
        return experiment_report_of_log(log, *args, **kwargs)


NOW = datetime(2026, 6, 1, tzinfo=UTC)
START = datetime(2026, 3, 1, 10, tzinfo=UTC)
Message = dict[str, Any]


def person(who: str, anon: bool = False) -> dict[str, str]:
    return {"anonymousId" if anon else "userId": who}


def viewed(
    who: str, at: datetime, variant: str, experiment: str = "checkout", anon: bool = False
) -> Message:
    return {
        "type": "track",
        "event": "Experiment Viewed",
        **person(who, anon),
        "properties": {"experiment": experiment, "variant": variant},
        "timestamp": at.isoformat(),
    }


def ordered(who: str, at: datetime) -> Message:
    return {
        "type": "track",
        "event": "Order Completed",
        **person(who),
        "properties": {"revenue": 30},
        "timestamp": at.isoformat(),
    }


def consent(who: str, granted: bool, at: datetime = START - timedelta(days=30)) -> Message:
    return {
        "type": "track",
        "event": "Consent Updated",
        **person(who),
        "properties": {"purpose": "analytics", "granted": granted, "wording_version": "v1"},
        "timestamp": at.isoformat(),
    }


def checkout_log() -> list[Message]:
    messages: list[Message] = []
    for i in range(40):
        at = START + timedelta(hours=i)
        c, t = f"c{i}", f"t{i}"
        messages += [consent(c, True), consent(t, True)]
        messages.append(viewed(c, at, "control"))
        # t0 is anonymous when exposed, identified later, and orders as a user
        messages.append(viewed("anon-t0" if i == 0 else t, at, "countdown", anon=i == 0))
        if i < 10:  # control: c0-c9 convert 2 days after exposure
            messages.append(ordered(c, at + timedelta(days=2)))
        if i < 5:  # treatment: t0-t4 convert 3 days after exposure
            messages.append(ordered(t, at + timedelta(days=3)))
        if i in (10, 11):  # ordered the day before exposure: not a conversion
            messages.append(ordered(c, at - timedelta(days=1)))
        if i in (12, 13):  # ordered 8 days after: outside the 7-day window
            messages.append(ordered(c, at + timedelta(days=8)))
        if i == 14:
            # seen again a day later, orders 6.5 days after that second view: 7.5 days after
            # the first exposure, which is the one that counts
            messages.append(viewed(c, at + timedelta(days=1), "control"))
            messages.append(ordered(c, at + timedelta(days=7, hours=12)))
        if i in (15, 16):  # orders of another experiment's window do not matter: ordered late
            messages.append(ordered(t, at + timedelta(days=9)))
    messages.append({"type": "identify", "userId": "t0", "anonymousId": "anon-t0"})
    # x0, x1 saw both variants: set aside, even though x0 converted
    for x in ("x0", "x1"):
        messages += [
            consent(x, True),
            viewed(x, START, "control"),
            viewed(x, START + timedelta(hours=1), "countdown"),
        ]
    messages.append(ordered("x0", START + timedelta(days=1)))
    # n0-n2 never said yes to analytics, n3 said yes then no: not read
    for n in ("n0", "n1", "n2", "n3"):
        messages += [viewed(n, START, "countdown"), ordered(n, START + timedelta(days=1))]
    messages += [consent("n3", True), consent("n3", False, START)]
    # o0-o2 were exposed 3 days before the end: their 7-day window is still open
    for o in ("o0", "o1", "o2"):
        messages += [consent(o, True), viewed(o, NOW - timedelta(days=3), "countdown")]
    # the same experiment under Segment's names: A 2 of 5 converted, B 4 of 5
    for i in range(5):
        for variant, converters in (("A", 2), ("B", 4)):
            who = f"s{variant}{i}"
            messages += [
                consent(who, True),
                {
                    "type": "track",
                    "event": "Experiment Viewed",
                    "userId": who,
                    "properties": {"experiment_name": "segment-names", "variation_name": variant},
                    "timestamp": START.isoformat(),
                },
            ]
            if i < converters:
                messages.append(ordered(who, START + timedelta(hours=5)))
    return messages


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = empreinte.open(Path(tmp_path_factory.mktemp("experiments")) / "ws")
    report = workspace.ingest(checkout_log(), source="web")
    assert not report.rejected, report.rejected
    workspace.flush()
    yield workspace
    workspace.close()


def test_known_counts_rates_and_p_value(ws: Workspace) -> None:
    report = ws.cx.experiment("checkout", until=NOW)
    result = report.result
    control, countdown = result.variant("control"), result.variant("countdown")
    assert result.control == "control"
    assert (control.exposed, control.converted) == (40, 10)
    assert (countdown.exposed, countdown.converted) == (40, 5)
    assert (control.rate, countdown.rate) == (pytest.approx(0.25), pytest.approx(0.125))
    comparison = result.comparison("countdown")
    z, p = proportions_ztest([5, 10], [40, 40])
    assert comparison.z == pytest.approx(z)
    assert comparison.p_value == pytest.approx(p)  # ≈ 0.152: not significant
    assert comparison.absolute_lift == pytest.approx(-0.125)
    assert not comparison.significant


def test_who_is_set_aside(ws: Workspace) -> None:
    report = experiment_report(ws, "checkout", now=NOW)
    assert report.crossed_over == 2  # x0, x1
    assert report.without_consent == 4  # n0-n2 (silence), n3 (withdrawn)
    assert report.window_open == 3  # o0-o2
    summary = report.to_dict()
    assert (summary["crossed_over"], summary["without_consent"], summary["window_open"]) == (
        2,
        4,
        3,
    )
    assert summary["window_days"] == 7


def test_open_windows_close_with_time(ws: Workspace) -> None:
    later = experiment_report(ws, "checkout", now=NOW + timedelta(days=7))
    assert later.window_open == 0
    assert later.result.variant("countdown").exposed == 43  # o0-o2 now read, unconverted
    assert later.result.variant("countdown").converted == 5


def test_a_longer_window_counts_later_goals(ws: Workspace) -> None:
    report = experiment_report(ws, "checkout", now=NOW, window=timedelta(days=10))
    # within 10 days: c12, c13 (8 days) and c14 (7.5 days) for control; t15, t16 (9 days)
    assert report.result.variant("control").converted == 13
    assert report.result.variant("countdown").converted == 7
    # the day-before orders of c10, c11 still do not count
    assert report.window_open == 3


def test_a_window_of_days_and_hours(ws: Workspace) -> None:
    # 7 days 18 hours (window_days=7.75 over HTTP): c14's order at 7.5 days now counts, the
    # 8-day ones of c12, c13 do not. Mixed units once failed in ibis (a 500 over HTTP).
    seven = experiment_report(ws, "checkout", now=NOW, window=timedelta(days=7))
    longer = experiment_report(ws, "checkout", now=NOW, window=timedelta(days=7.75))
    control, countdown = longer.result.variant("control"), longer.result.variant("countdown")
    assert control.converted == seven.result.variant("control").converted + 1
    assert countdown.converted == seven.result.variant("countdown").converted


def test_segment_names_are_read(ws: Workspace) -> None:
    report = ws.cx.experiment("segment-names", until=NOW)
    result = report.result
    assert result.control == "A"  # no "control": the first name
    assert (result.variant("A").exposed, result.variant("A").converted) == (5, 2)
    assert (result.variant("B").exposed, result.variant("B").converted) == (5, 4)
    z, p = proportions_ztest([4, 2], [5, 5])
    assert (result.comparison("B").z, result.comparison("B").p_value) == pytest.approx((z, p))


def test_unknown_experiment_and_bad_window(ws: Workspace) -> None:
    with pytest.raises(AnalyticsError, match="'nope'"):
        ws.cx.experiment("nope", until=NOW)
    with pytest.raises(AnalyticsError, match="window"):
        ws.cx.experiment("checkout", window_days=0, until=NOW)


def test_consent_by_default_reads_everyone_but_who_said_no(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "empreinte.toml").write_text("[consent]\ndefaults = { analytics = true }\n")
    messages: list[Message] = []
    for i in range(6):
        variant = "control" if i % 2 == 0 else "treatment"
        messages.append(viewed(f"d{i}", START, variant))
        if i < 4:
            messages.append(ordered(f"d{i}", START + timedelta(days=1)))
    messages.append(consent("d0", False, START - timedelta(days=1)))  # d0 says no
    with empreinte.open(root) as ws:
        report = ws.ingest(messages, source="web")
        assert not report.rejected
        ws.flush()
        result = experiment_report(ws, "checkout", now=NOW)
    # control: d2 (converted), d4; treatment: d1, d3 (converted), d5
    assert result.without_consent == 1
    control, treatment = result.result.variant("control"), result.result.variant("treatment")
    assert (control.exposed, control.converted) == (2, 1)
    assert (treatment.exposed, treatment.converted) == (3, 2)


def test_the_experiments_found_in_the_log(ws: Workspace) -> None:
    checkout, segment_names = ws.cx.experiments()  # the most recently seen first
    assert checkout.name == "checkout" and checkout.variants == ("control", "countdown")
    # 40 + 40 first views, c14's second, x0 and x1 twice, n0-n3, o0-o2
    assert checkout.exposures == 40 + 40 + 1 + 4 + 4 + 3
    assert checkout.first_seen == START and checkout.last_seen == NOW - timedelta(days=3)
    assert segment_names.name == "segment-names" and segment_names.variants == ("A", "B")
    assert segment_names.exposures == 10
    assert segment_names.first_seen == segment_names.last_seen == START
    # A window: exposures within it only.
    [later] = ws.cx.experiments(since=START + timedelta(hours=1), until=NOW)
    # at START: c0, anon-t0, x0 and x1's first views, n0-n3
    assert later.name == "checkout" and later.exposures == 92 - 8
