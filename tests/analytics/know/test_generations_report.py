"""The customer base by generation (analytics/know/generations_report.py): every Pew boundary
year on both sides, in the engine and on the profile view; a workspace's own boundaries; the
figures of each row read off hand-built people."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import empreinte
from empreinte.analytics.know.generations_report import UNKNOWN, GenerationsReport
from empreinte.profiles.views import profile_json
from empreinte.workspace import Workspace

from .predictions_messages import Message, customer, identify, order, track

T = datetime(2025, 5, 1, tzinfo=UTC)
TODAY = date(2026, 1, 1)
# Pew Research Center (2019) and Gen Alpha from 2013, written out here: (name, first, last).
PEW = [
    ("Silent Generation", 1928, 1945),
    ("Baby Boomers", 1946, 1964),
    ("Gen X", 1965, 1980),
    ("Gen Y (Millennials)", 1981, 1996),
    ("Gen Z", 1997, 2012),
    ("Gen Alpha", 2013, None),
]


def _person(user: str, year: int | None) -> list[Message]:
    traits: dict[str, Any] = {} if year is None else {"birth_year": year}
    return [*customer(user, profiling=False), identify(user, T, **traits)]


def _people() -> list[Message]:
    m: list[Message] = []
    for name, first, last in PEW:
        m += _person(f"{name}-first", first)
        m += _person(f"{name}-last", last if last is not None else 2030)
    m += _person("before-pew", 1927) + _person("unknown", None)
    # Figures: two orders of the first Gen Z, NPS answers of Gen Z (latest 3) and Gen X (9).
    m += [order("Gen Z-first", T, 10.0), order("Gen Z-first", T + timedelta(days=1), 15.5)]
    m += [track("Gen Z-first", "NPS Answered", T, "email", score=10, survey_id="s")]
    m += [track("Gen Z-first", "NPS Answered", T + timedelta(days=2), "email", score=3)]
    m += [track("Gen X-last", "NPS Answered", T, "email", score=9, survey_id="s")]
    return m


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with empreinte.open(tmp_path_factory.mktemp("generations")) as ws:
        assert not ws.ingest(_people(), source="web").rejected
        ws.flush()
        yield ws


@pytest.fixture(scope="module")
def report(ws: Workspace) -> GenerationsReport:
    return ws.know.generations(TODAY)


def test_every_boundary_year_on_both_sides_in_the_engine(report: GenerationsReport) -> None:
    rows = {row.generation: row for row in report.rows}
    assert list(rows) == [name for name, _, _ in PEW] + [UNKNOWN]
    for name, first, last in PEW:
        row = rows[name]
        # Born in the first and in the last year: both in, the years around them out.
        assert row.people == 2, name
        assert (row.born_from, row.born_until) == (first, last)
        assert row.oldest == TODAY.year - first
        assert row.youngest == TODAY.year - (last if last is not None else 2030)
    assert rows[UNKNOWN].people == 2  # born 1927, before the first generation, and unknown
    assert rows[UNKNOWN].share is None
    assert sum(row.share or 0 for row in report.rows) == pytest.approx(1.0)


def test_the_figures_of_a_generation(report: GenerationsReport) -> None:
    rows = {row.generation: row for row in report.rows}
    gen_z, gen_x = rows["Gen Z"], rows["Gen X"]
    assert (gen_z.customers, gen_z.revenue) == (1, 25.5)
    assert (gen_z.respondents, gen_z.nps) == (1, -100.0)  # the latest answer, a 3
    assert (gen_x.customers, gen_x.respondents, gen_x.nps) == (0, 1, 100.0)
    assert rows["Baby Boomers"].nps is None and rows["Baby Boomers"].revenue == 0.0


@pytest.mark.parametrize(("name", "first", "last"), PEW)
def test_the_profile_view_shows_the_generation(
    ws: Workspace, name: str, first: int, last: int | None
) -> None:
    for user in (f"{name}-first", f"{name}-last"):
        found = ws.profiles.find("userId", user)
        assert found is not None
        assert profile_json(ws.profiles.get(found))["computed"]["generation"] == name


def test_a_workspace_sets_its_own_boundaries(tmp_path: Path) -> None:
    (tmp_path / "empreinte.toml").write_text(
        '[generations]\n"Elders" = 1900\n"Youngsters" = 1990\n'
    )
    with empreinte.open(tmp_path) as ws:
        messages = _person("a", 1989) + _person("b", 1990) + _person("c", 1899)
        assert not ws.ingest(messages, source="web").rejected
        ws.flush()
        rows = ws.know.generations(TODAY).to_rows()
    assert [(r["generation"], r["people"], r["born_until"]) for r in rows] == [
        ("Elders", 1, 1989),
        ("Youngsters", 1, None),
        (UNKNOWN, 1, None),
    ]
