"""Attribution on hand-built journeys, through real ingestion: textbook paths whose credit can
be worked out by hand under every model, the lookback's edge, values, repeat buyers, campaigns,
the identity graph, and the Markov model on a published example.

One workspace holds every scenario, each in its own quarter of 2026 (read through a
`JourneyScope` on that quarter), so the module ingests once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import empreinte
from empreinte.analytics.journeys.attribution import (
    HEURISTIC_MODELS,
    AttributionReport,
    attribution_report,
    model_names,
)
from empreinte.analytics.journeys.conversion_paths import PathRules
from empreinte.analytics.journeys.touchpoints import JourneyScope
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

Message = dict[str, Any]
DAY = timedelta(days=1)


def hit(
    who: str,
    at: datetime,
    channel: str,
    event: str = "Product Viewed",
    *,
    value: float | None = None,
    campaign: str | None = None,
    anonymous: bool = False,
) -> Message:
    context: Message = {"channel": channel}
    if campaign is not None:
        context["campaign"] = {"name": campaign, "source": "newsletter", "medium": "email"}
    message: Message = {
        "type": "track",
        "event": event,
        "anonymousId" if anonymous else "userId": who,
        "properties": {} if value is None else {"revenue": value, "total": value * 2},
        "context": context,
        "timestamp": at.isoformat(),
    }
    return message


def order(who: str, at: datetime, channel: str, value: float = 0.0) -> Message:
    return hit(who, at, channel, "Order Completed", value=value)


def consent(who: str, at: datetime) -> Message:
    return {
        "type": "track",
        "event": "Consent Updated",
        "userId": who,
        "properties": {"purpose": "analytics", "granted": True, "wording_version": "v1"},
        "timestamp": at.isoformat(),
    }


# Each scenario lives in its own two months of 2026, read through `scope(start)`.
TEXTBOOK = datetime(2026, 2, 10, 12, tzinfo=UTC)
EDGE = datetime(2026, 4, 15, 12, tzinfo=UTC)
REPEAT = datetime(2026, 6, 1, 12, tzinfo=UTC)
CAMPAIGN = datetime(2026, 8, 1, 12, tzinfo=UTC)
BRYL = datetime(2026, 10, 1, 12, tzinfo=UTC)
GRAPH = datetime(2026, 12, 1, 12, tzinfo=UTC)


def scope(start: datetime) -> JourneyScope:
    """The scenario around `start`: 35 days before it to 10 days after, everyone read."""
    return JourneyScope(start - 35 * DAY, start + 10 * DAY, (), consented_only=False)


def rounded(expected: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    return {k: (round(c, 9), round(v, 9)) for k, (c, v) in expected.items()}


def journeys() -> list[Message]:
    g = TEXTBOOK
    messages = [
        # email 14 days before, social 7 days before, the order on the web: email > social > web
        hit("text", g - 14 * DAY, "email", "Email Opened"),
        hit("text", g - 7 * DAY, "social", "Ad Clicked"),
        order("text", g, "web", 100.0),
        consent("text", g - 40 * DAY),
        # two visits on the web (two sessions: a day apart), an email, then the order on the
        # web: web > web > email > web is web > email > web once repeats are collapsed
        hit("rep", g - 5 * DAY, "web"),
        hit("rep", g - 4 * DAY, "web"),
        hit("rep", g - 3 * DAY, "email", "Email Opened"),
        order("rep", g, "web", 60.0),
        # a visit of someone who never ordered: a non-converting path (web)
        hit("idle", g - 2 * DAY, "web"),
    ]
    e = EDGE
    messages += [
        # a touch exactly 30 days before the order is in its path, one a second earlier is not
        hit("at-limit", e - 30 * DAY, "social", "Ad Clicked"),
        order("at-limit", e, "store", 10.0),
        hit("past-limit", e - 30 * DAY - timedelta(seconds=1), "social", "Ad Clicked"),
        order("past-limit", e, "store", 20.0),
    ]
    r = REPEAT
    messages += [
        # two orders: email > web (50), then app > phone (70); an SMS after: not converted
        hit("twice", r, "email", "Email Opened"),
        order("twice", r + DAY, "web", 50.0),
        hit("twice", r + 2 * DAY, "app", "Screen Viewed"),
        hit("twice", r + 3 * DAY, "phone", "Call Started"),
        order("twice", r + 3 * DAY + timedelta(minutes=5), "phone", 70.0),
        hit("twice", r + 5 * DAY, "sms", "SMS Delivered"),
        # ordered in the store, nothing else: without the goal as a touch, no touch at all
        order("walk-in", r + DAY, "store", 30.0),
    ]
    c = CAMPAIGN
    messages += [
        # the landing hit carries the campaign; the rest of the visit does not
        hit("utm", c - 2 * DAY, "web", "Page Landed", campaign="spring"),
        hit("utm", c - 2 * DAY + timedelta(minutes=3), "web"),
        hit("utm", c - DAY, "email", "Email Opened"),
        order("utm", c, "web", 40.0),
    ]
    b = BRYL
    # Bryl's three paths: c1 > c2 > c3 converts, c1 does not, c2 > c3 does not (email=c1,
    # social=c2, web=c3; the goal is not a touch there, so the paths are exactly those)
    messages += [
        hit("b1", b - 3 * DAY, "email"),
        hit("b1", b - 2 * DAY, "social"),
        hit("b1", b - DAY, "web"),
        order("b1", b, "store", 90.0),
        hit("b2", b - 3 * DAY, "email"),
        hit("b3", b - 2 * DAY, "social"),
        hit("b3", b - DAY, "web"),
    ]
    g2 = GRAPH
    messages += [
        # an anonymous visit, then the person logs in: one journey
        hit("anon-1", g2 - 3 * DAY, "web", anonymous=True),
        {
            "type": "identify",
            "userId": "known",
            "anonymousId": "anon-1",
            "timestamp": (g2 - 2 * DAY).isoformat(),
        },
        hit("known", g2 - DAY, "email", "Email Opened"),
        order("known", g2, "app", 25.0),
    ]
    return messages


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("attribution")
    with empreinte.open(root) as ws:
        report = ws.ingest(journeys())
        assert not report.rejected, report
    yield root


@pytest.fixture(scope="module")
def log(workspace: Path) -> Iterator[AnalyticsLog]:
    with empreinte.open(workspace) as ws, ws.analytics() as opened:
        yield opened


def credit(report: AttributionReport, model: str) -> dict[str, tuple[float, float]]:
    """touch → (conversions, value), leaving out the zeros."""
    return {
        c.touch: (round(c.conversions, 9), round(c.value, 9))
        for c in report.credits
        if c.model == model and (c.conversions or c.value)
    }


def text_report(log: AnalyticsLog, **rules: Any) -> AttributionReport:
    return attribution_report(log, PathRules(**rules), scope(TEXTBOOK), models="heuristic")


def test_a_three_touch_path_under_each_heuristic_model(log: AnalyticsLog) -> None:
    report = attribution_report(
        log,
        PathRules(),
        JourneyScope(TEXTBOOK - 30 * DAY, TEXTBOOK + DAY, consented_only=False),
        models="heuristic",
    )
    # "text" (email > social > web, 100) and "rep" (web > email > web, 60) converted
    assert (report.conversions, report.value) == (2, 160.0)
    assert report.non_converting == 1  # "idle"
    assert credit(report, "first_touch") == {"email": (1, 100), "web": (1, 60)}
    assert credit(report, "last_touch") == {"web": (2, 160)}
    assert credit(report, "linear") == rounded(
        {
            "email": (1 / 3 + 1 / 3, 100 / 3 + 60 / 3),
            "social": (1 / 3, 100 / 3),
            "web": (1 / 3 + 2 / 3, 100 / 3 + 2 * 60 / 3),
        }
    )
    assert credit(report, "position_based") == rounded(
        {"email": (0.4 + 0.2, 40 + 12.0), "social": (0.2, 20.0), "web": (0.4 + 0.8, 40 + 48.0)}
    )


def test_time_decay_halves_the_weight_every_half_life(log: AnalyticsLog) -> None:
    """Ages 14, 7 and 0 days with a 7-day half-life: weights 1/4, 1/2, 1, so 1/7, 2/7, 4/7."""
    report = attribution_report(
        log,
        PathRules(),
        JourneyScope(TEXTBOOK - 30 * DAY, TEXTBOOK + DAY, channels=("email", "social", "web")),
        models=["time_decay"],
    )
    # only "text" allows analytics: the other people of the quarter are not read
    assert report.conversions == 1
    assert credit(report, "time_decay") == rounded(
        {"email": (1 / 7, 100 / 7), "social": (2 / 7, 200 / 7), "web": (4 / 7, 400 / 7)}
    )
    # a 14-day half-life: weights 1/2, 1/√2, 1
    longer = attribution_report(
        log,
        PathRules(),
        JourneyScope(TEXTBOOK - 30 * DAY, TEXTBOOK + DAY),
        models=["time_decay"],
        half_life=14 * DAY,
    )
    weights = [0.5, 2**-0.5, 1.0]
    shares = [w / sum(weights) for w in weights]
    got = credit(longer, "time_decay")
    assert [got[c][0] for c in ("email", "social", "web")] == pytest.approx(shares)


def test_consecutive_repeats_are_one_touch_unless_asked(log: AnalyticsLog) -> None:
    collapsed = text_report(log)
    kept = text_report(log, collapse=False)
    # "rep": web > email > web collapsed, web > web > email > web kept
    assert credit(collapsed, "linear")["web"][0] == pytest.approx(1 / 3 + 2 / 3)
    assert credit(kept, "linear")["web"][0] == pytest.approx(1 / 3 + 3 / 4)
    assert credit(kept, "first_touch") == credit(collapsed, "first_touch")


def test_the_lookback_edge(log: AnalyticsLog) -> None:
    report = attribution_report(log, PathRules(), scope(EDGE), models=["first_touch"])
    # exactly 30 days before: in the path (social first); a second more: only the store
    assert credit(report, "first_touch") == {"social": (1, 10), "store": (1, 20)}
    shorter = attribution_report(
        log,
        PathRules(lookback=30 * DAY - timedelta(seconds=1)),
        scope(EDGE),
        models=["first_touch"],
    )
    assert credit(shorter, "first_touch") == {"store": (2, 30)}


def test_repeat_buyers_and_the_goal_as_a_touch(log: AnalyticsLog) -> None:
    report = attribution_report(log, PathRules(), scope(REPEAT), models="heuristic")
    # twice: email > web (50), app > phone (70); walk-in: store (30); the SMS after is a
    # non-converting tail
    assert (report.conversions, report.value, report.non_converting) == (3, 150.0, 1)
    assert credit(report, "first_touch") == {
        "email": (1, 50),
        "app": (1, 70),
        "store": (1, 30),
    }
    assert credit(report, "last_touch") == {"web": (1, 50), "phone": (1, 70), "store": (1, 30)}
    without = attribution_report(
        log, PathRules(goal_touch=False), scope(REPEAT), models="heuristic"
    )
    # the goal's own channel is no touch: email (50), app > phone (70: the call), walk-in none
    assert (without.conversions, without.value, without.without_touch) == (2, 120.0, 1)
    assert credit(without, "last_touch") == {"email": (1, 50), "phone": (1, 70)}


def test_another_value_property(log: AnalyticsLog) -> None:
    report = attribution_report(log, PathRules(value="total"), scope(REPEAT), models=["last_touch"])
    assert report.value == 300.0  # total is twice revenue in these orders
    no_value = attribution_report(log, PathRules(value=None), scope(REPEAT), models=["linear"])
    assert no_value.value == 0 and no_value.conversions == 3


def test_campaigns(log: AnalyticsLog) -> None:
    by_campaign = attribution_report(
        log, PathRules(by="campaign"), scope(CAMPAIGN), models=["first_touch", "linear"]
    )
    # spring (the landing visit) > (none): the email and the order carry no campaign
    assert credit(by_campaign, "first_touch") == {"spring": (1, 40)}
    assert credit(by_campaign, "linear") == {"spring": (0.5, 20), "(none)": (0.5, 20)}
    both = attribution_report(
        log, PathRules(by="channel_campaign"), scope(CAMPAIGN), models=["linear"]
    )
    assert {k: v[0] for k, v in credit(both, "linear").items()} == pytest.approx(
        {"web / spring": 1 / 3, "email / (none)": 1 / 3, "web / (none)": 1 / 3}
    )
    assert both.to_rows()[0]["channel_campaign"] == "email / (none)"


def test_the_published_markov_example_end_to_end(log: AnalyticsLog) -> None:
    """Bryl's example (test_markov.py cites it): email, social, web as c1, c2, c3."""
    report = attribution_report(
        log, PathRules(goal_touch=False), scope(BRYL), models=["markov_1", "last_touch"]
    )
    assert (report.conversions, report.non_converting, report.value) == (1, 2, 90.0)
    assert report.conversion_probability["markov_1"] == pytest.approx(1 / 3)
    assert report.removal_effects["markov_1"] == pytest.approx(
        {"email": 0.5, "social": 1.0, "web": 1.0}
    )
    got = credit(report, "markov_1")
    assert {k: v[0] for k, v in got.items()} == pytest.approx(
        {"email": 0.2, "social": 0.4, "web": 0.4}
    )
    assert {k: v[1] for k, v in got.items()} == pytest.approx(
        {"email": 18.0, "social": 36.0, "web": 36.0}
    )
    assert credit(report, "last_touch") == {"web": (1, 90)}


def test_higher_order_markov_end_to_end(log: AnalyticsLog) -> None:
    report = attribution_report(
        log, PathRules(goal_touch=False), scope(BRYL), models="markov", markov_orders=(2, 3)
    )
    assert report.models == ("markov_2", "markov_3")
    for model in report.models:
        total = sum(c.conversions for c in report.credits if c.model == model)
        assert total == pytest.approx(1.0)


def test_a_journey_across_identities(log: AnalyticsLog) -> None:
    report = attribution_report(log, PathRules(), scope(GRAPH), models=["first_touch", "linear"])
    # the anonymous web visit is the known person's first touch
    assert credit(report, "first_touch") == {"web": (1, 25)}
    assert set(credit(report, "linear")) == {"web", "email", "app"}


def test_wide_rows_side_by_side(log: AnalyticsLog) -> None:
    report = attribution_report(log, PathRules(), scope(REPEAT), markov_orders=(1,))
    rows = report.to_rows()
    assert [row["channel"] for row in rows] == sorted(row["channel"] for row in rows)
    assert set(rows[0]) == {
        "channel",
        *(f"{m}_{f}" for m in (*HEURISTIC_MODELS, "markov_1") for f in ("conversions", "value")),
        "markov_1_removal_effect",
    }
    frame = report.to_pandas()
    for model in report.models:
        assert frame[f"{model}_conversions"].sum() == pytest.approx(report.conversions)
        assert frame[f"{model}_value"].sum() == pytest.approx(report.value)


def test_bad_requests_name_what_is_wrong(log: AnalyticsLog) -> None:
    with pytest.raises(AnalyticsError, match="lookback"):
        PathRules(lookback=timedelta(0))
    with pytest.raises(AnalyticsError, match="goal"):
        PathRules(goal=" ")
    with pytest.raises(AnalyticsError, match="may not hold quotes"):
        PathRules(value="revenue']")
    with pytest.raises(AnalyticsError, match="unknown touch"):
        PathRules(by="country")  # type: ignore[arg-type]
    with pytest.raises(AnalyticsError, match="unknown model 'shapley'"):
        model_names(["shapley"])
    with pytest.raises(AnalyticsError, match="order 9"):
        model_names(["markov_9"])
    with pytest.raises(AnalyticsError, match="half-life"):
        attribution_report(log, half_life=timedelta(0))
