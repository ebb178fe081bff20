"""Segments on hand-built people (segment_people.py): what each field and function selects,
the errors a user sees, saved segments with their history, overlap, schedules, and segments
as a breakdown of CX scores and funnels. One workspace for the module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import empreinte
from empreinte.analytics.know.segment_language import (
    SegmentExists,
    SegmentExpressionError,
    SegmentNotFound,
)
from empreinte.errors import AnalyticsError
from empreinte.workspace import Workspace

from .segment_people import AS_OF, people

NAMES = ("ann", "bob", "cleo", "dan", "eve")


@dataclass
class World:
    ws: Workspace
    ids: dict[str, str]  # user id → profile id
    names: dict[str, str]  # profile id → user id

    def who(self, expression: str) -> set[str]:
        return {self.names[p] for p in self.ws.segments.evaluate(expression, as_of=AS_OF)}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = Path(tmp_path_factory.mktemp("segments")) / "ws"
    with empreinte.open(path) as ws:
        report = ws.ingest(people(), source="python")
        assert not report.rejected, report.rejected
        ws.flush()
        ids = {name: ws.profiles.find("userId", name) for name in NAMES}
        assert all(ids.values())
        # Model-computed traits, as the predictions part writes them.
        cur = ws.engine.cursor()  # type: ignore[attr-defined]
        rows = [
            (ids["ann"], "clv", 500.0, None),
            (ids["bob"], "clv", 50.0, None),
            (ids["cleo"], "clv", 120.0, None),
            (ids["ann"], "persona", None, "Omnichannel explorer"),
            (ids["cleo"], "persona", None, "App loyalist"),
            (ids["dan"], "clv", 900.0, None),
        ]
        for profile, trait, number, text in rows:
            cur.execute(
                "INSERT INTO computed_traits VALUES (?, ?, ?, ?, now())",
                [profile, trait, number, text],
            )
        # An older value of ann's clv: the latest row counts.
        cur.execute(
            "INSERT INTO computed_traits VALUES (?, 'clv', 1.0, NULL, now() - INTERVAL 1 DAY)",
            [ids["ann"]],
        )
        cur.close()
        yield World(ws, {k: str(v) for k, v in ids.items()}, {str(v): k for k, v in ids.items()})


@pytest.fixture(autouse=True)
def no_saved_segment_left(world: World) -> Iterator[None]:
    """Each test starts without saved segments (those that use others deleted first)."""
    yield
    left = [s.definition.name for s in world.ws.segments.list()]
    engine_store = world.ws.engine.segment_store()
    for name in left:
        engine_store.delete(name)


# -- what each field and function selects ---------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "members"),
    [
        ('country = "FR"', {"ann", "bob"}),
        ('country != "FR"', {"cleo"}),
        ('not country = "FR"', {"cleo", "eve"}),
        ('country in ["DE", "IT"]', {"cleo"}),
        ('country not in ["DE"]', {"ann", "bob"}),
        ("country is null", {"eve"}),
        ("country is not null", {"ann", "bob", "cleo"}),
        ('generation = "Gen Z"', {"ann", "cleo"}),
        ("birth_year >= 2001", {"ann", "cleo"}),
        ("age < 30", {"ann", "cleo"}),  # 2026 - birth year
        ('preferred_channel = "store"', {"ann"}),
        ('traits.plan = "pro"', {"ann", "cleo"}),
        ('traits.city = "Paris" or traits.city = "Lyon"', {"ann", "bob"}),
        ("traits.city is null", {"cleo", "eve"}),
        ("orders >= 1", {"ann", "bob", "cleo"}),
        ("orders = 3", {"cleo"}),
        ("revenue > 100", {"bob"}),
        ("revenue = 30", {"cleo"}),  # `total` when there is no `revenue`
        ("revenue = 80", {"ann"}),
        ('channel_class = "omni"', {"ann"}),
        ("channels >= 2", {"ann"}),
        ("channels = 1", {"bob", "cleo", "eve"}),
        ('last_seen >= "2026-05-25"', {"ann", "eve"}),
        ('first_seen < "2025-01-03"', {"ann", "bob", "cleo", "eve"}),  # their NPS answers
        ('first_seen >= "2025-01-03"', set()),
        ("days_since_last_seen > 100", {"cleo"}),
        ('did("Order Completed")', {"ann", "bob", "cleo"}),
        ('did("Order Completed", within="90d")', {"ann", "bob"}),
        ('did("Order Completed", within="90d", count>=2)', {"ann"}),
        ('did("Order Completed", count=3)', {"cleo"}),
        # A count that 0 satisfies holds for people who never did it.
        ('did("Order Completed", within="90d", count<2)', {"bob", "cleo", "eve"}),
        ('did("Order Completed[channel=store]")', {"ann"}),
        ('did("Page Viewed: Home")', {"bob", "eve"}),
        ('did_not("Order Completed")', {"eve"}),
        ('consented("marketing_sms")', {"ann"}),
        ('not consented("marketing_sms")', {"bob", "cleo", "eve"}),
        ('consented("personalisation") or consented("marketing_sms")', {"ann", "cleo"}),
        ("clv > 100", {"ann", "cleo"}),  # dan has the highest clv, but refuses analytics
        ("clv < 10", set()),  # ann's older value of 1 is not her current one
        ('persona = "App loyalist"', {"cleo"}),
        ("persona is null", {"bob", "eve"}),
        ('(country = "FR" or country = "DE") and not traits.plan = "free"', {"ann", "cleo"}),
    ],
)
def test_what_each_field_and_function_selects(
    world: World, expression: str, members: set[str]
) -> None:
    assert world.who(expression) == members


def test_the_issue_example(world: World) -> None:
    expression = (
        'country = "FR" and generation = "Gen Z" and '
        'did("Order Completed", within="90d", count>=2) and not consented("marketing_sms")'
    )
    assert world.who(expression) == set()
    assert world.who(expression.replace("and not consented", "and consented")) == {"ann"}


def test_gen_z_omnichannel_customers_at_risk_with_high_value(world: World) -> None:
    expression = (
        'generation = "Gen Z" and channel_class = "omni" and days_since_last_seen < 30 '
        "and clv >= 100"
    )
    assert world.who(expression) == {"ann"}


def test_people_who_refuse_analytics_are_never_members(world: World) -> None:
    assert "dan" not in world.who("orders >= 1 or country is null or country is not null")
    assert world.who("country is null or country is not null") == {"ann", "bob", "cleo", "eve"}


# -- errors ---------------------------------------------------------------------------------


def _error(world: World, expression: str) -> str:
    with pytest.raises(SegmentExpressionError) as caught:
        world.ws.segments.evaluate(expression, as_of=AS_OF)
    return str(caught.value)


def test_an_unknown_field_is_named_with_a_suggestion_and_a_caret(world: World) -> None:
    message = _error(world, 'generation = "Gen Z" and contry = "FR"')
    lines = message.splitlines()
    assert lines[0].startswith(
        "line 1, column 26: unknown field 'contry' (did you mean 'country'?)"
    )
    assert "clv" in lines[0] and "persona" in lines[0]  # the computed traits are listed
    assert lines[2] == "  " + " " * 25 + "^"
    assert "did you mean 'clv'" in _error(world, "clvv > 1")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("country > 1", "country is text"),
        ('country > "A"', "compare it with = or !="),
        ('orders = "two"', "orders is a number"),
        ("clv = true", "clv is a number"),
        ('last_seen > "yesterday"', "is not a date"),
        ("last_seen > 3", "is a time"),
        ("country in []", "empty list"),
        ('consented("marketing")', "unknown purpose 'marketing'"),
        ('consented("marketing_emails")', "did you mean 'marketing_email'"),
        ("consented()", "consented() takes 1 value first"),
        ('did("Order Completed", within="ninety days")', "within 'ninety days'"),
        ('did("Order Completed", within="90d", within="1d")', "within given twice"),
        ('did("Order Completed", since="90d")', "has no argument 'since'"),
        ('did("Order Completed", count>=1.5)', "count takes a whole number"),
        ('did("Order Completed", within>"1d")', "write within=…"),
        ('did("Order[x")', "step 'Order[x'"),
        ('bought("x")', "unknown function 'bought'"),
        ('in_segment("nobody")', "no saved segment named 'nobody'"),
        ('traits.email = "a@b.c"', "personal data"),
    ],
)
def test_mistakes_are_refused_by_name(world: World, expression: str, message: str) -> None:
    assert message in _error(world, expression)


# -- hostile values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["'; drop table events; --", '" or "1" = "1', "Zoë 東京 🎉", "\\", "%", "_"]
)
def test_values_are_literals_never_sql(world: World, value: str) -> None:
    before = world.ws.count()
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    assert world.who(f'traits.city = "{escaped}" or country = "{escaped}"') == set()
    assert world.ws.count() == before


def test_a_4_kb_expression_of_distinct_conditions_is_evaluated(world: World) -> None:
    conditions = [f'traits.city = "town-{i:04d}"' for i in range(140)]
    expression = " or ".join([*conditions, 'traits.city = "Paris"'])
    expression += " " * (4096 - len(expression))
    assert len(expression) == 4096
    assert world.who(expression) == {"ann"}


# -- saved segments -------------------------------------------------------------------------


def test_saved_segment_members_history_and_overlap(world: World) -> None:
    segments = world.ws.segments
    created = segments.create("fr", 'country = "FR"', description="French customers", by="tess")
    assert created.size == 2 and created.definition.created_by == "tess"
    assert {world.names[p] for p in segments.members("fr")} == {"ann", "bob"}
    assert segments.members("fr", limit=1, offset=1) == sorted(segments.members("fr"))[1:]
    with pytest.raises(SegmentExists):
        segments.create("fr", "orders >= 1")
    segments.create("buyers", "orders >= 1")
    segments.create("fr buyers", 'in_segment("fr") and in_segment("buyers")')
    assert segments.size("fr buyers") == 2

    later = datetime.now(UTC) + timedelta(days=1)  # after the creation's refresh
    segments.update("fr", expression='country = "DE" or country = "FR"', refresh=False)
    refreshed = segments.refresh("fr", as_of=later)
    assert (refreshed.size, refreshed.entered, refreshed.left) == (3, 1, 0)
    segments.update("fr", expression='country = "DE"', refresh=False)
    refreshed = segments.refresh("fr", as_of=later + timedelta(days=1))
    assert (refreshed.size, refreshed.entered, refreshed.left) == (1, 0, 2)

    history = segments.history("fr")
    assert [(world.names[h.profile_id], h.change) for h in history[:2]] == [
        ("ann", "left"),
        ("bob", "left"),
    ] or [(world.names[h.profile_id], h.change) for h in history[:2]] == [
        ("bob", "left"),
        ("ann", "left"),
    ]
    cleo = segments.history("fr", profile_id=world.ids["cleo"])
    assert [(h.change, h.changed_at) for h in cleo] == [("entered", later)]
    steps = segments.show("fr").steps
    assert [(s.entered, s.left) for s in steps[:2]] == [(0, 2), (1, 0)]
    assert sum(s.entered for s in steps) - sum(s.left for s in steps) == 1

    overlap = {(r.a, r.b): r for r in segments.overlap(["fr", "buyers", "fr buyers"]).rows}
    fr_buyers = overlap["fr", "buyers"]
    assert (fr_buyers.size_a, fr_buyers.size_b, fr_buyers.both) == (1, 3, 1)
    assert fr_buyers.jaccard == pytest.approx(1 / 3)
    assert overlap["fr", "fr buyers"].both == 0
    assert overlap["buyers", "fr buyers"].jaccard == pytest.approx(2 / 3)

    # A cycle through in_segment is refused, and so is deleting a segment in use.
    with pytest.raises(SegmentExpressionError, match="cycle: fr -> fr buyers -> fr"):
        segments.update("fr", expression='in_segment("fr buyers")')
    with pytest.raises(SegmentExpressionError, match="cycle"):
        segments.update("fr", expression='in_segment("fr")')
    with pytest.raises(AnalyticsError, match="used by fr buyers"):
        segments.delete("buyers")
    segments.delete("fr buyers")
    segments.delete("buyers")
    assert [s.definition.name for s in segments.list()] == ["fr"]
    with pytest.raises(SegmentNotFound, match="did you mean 'fr'"):
        segments.members("frr")
    segments.delete("fr")


def test_a_refresh_saves_what_the_expression_selects(world: World) -> None:
    segments = world.ws.segments
    segments.create("pro", 'traits.plan = "pro"')
    try:
        assert segments.members("pro") == sorted(segments.evaluate('traits.plan = "pro"'))
    finally:
        segments.delete("pro")


def test_schedules_say_when_a_segment_is_due(world: World) -> None:
    segments = world.ws.segments
    segments.create("hourly", "orders >= 1", schedule="1h", refresh=False)
    segments.create("by hand", "orders >= 1")
    try:
        assert segments.due() == ["hourly"]  # never computed
        done = segments.refresh("hourly", as_of=AS_OF)
        assert segments.due(AS_OF + timedelta(minutes=59)) == []
        assert segments.due(AS_OF + timedelta(hours=1)) == ["hourly"]
        assert [r.name for r in segments.refresh_all(due=True, now=AS_OF + timedelta(hours=2))] == [
            "hourly"
        ]
        assert done.size == 3
        with pytest.raises(AnalyticsError, match="schedule"):
            segments.update("hourly", schedule="30s")
        with pytest.raises(AnalyticsError, match="schedule"):
            segments.create("bad", "orders >= 1", schedule="often")
    finally:
        segments.delete("hourly")
        segments.delete("by hand")


@pytest.mark.parametrize("name", ["", " x", "a/b", "x" * 81, "drop;table"])
def test_segment_names_are_checked(world: World, name: str) -> None:
    with pytest.raises(AnalyticsError, match="segment name"):
        world.ws.segments.create(name, "orders >= 1")


def test_preview_gives_the_live_size_of_an_unsaved_expression(world: World) -> None:
    preview = world.ws.segments.preview('country = "FR"', as_of=AS_OF, sample=1)
    assert preview.size == 2 and len(preview.sample) == 1
    assert world.names[preview.sample[0]] in {"ann", "bob"}


# -- segments as a breakdown ----------------------------------------------------------------


def test_nps_and_a_funnel_break_down_by_segment(world: World) -> None:
    segments = world.ws.segments
    segments.create("fr", 'country = "FR"')
    try:
        nps = {row["group"]: row for row in world.ws.cx.nps(by="segment:fr").to_rows()}
        # members: ann 10, bob 3 → 1 promoter, 1 detractor; others: cleo 9, eve 7 (a passive).
        assert nps["member"]["n"] == 2 and nps["member"]["score"] == pytest.approx(0)
        assert nps["non-member"]["n"] == 2 and nps["non-member"]["score"] == pytest.approx(50)
        funnel = world.ws.journeys.funnel(
            ["Page Viewed", "Order Completed"], window="30d", by="segment:fr"
        )
        assert funnel.counts("member") == [1, 1]  # bob
        assert funnel.counts("non-member") == [1, 0]  # eve
        with pytest.raises(AnalyticsError, match="no members"):
            world.ws.cx.nps(by="segment:nobody")
    finally:
        segments.delete("fr")
