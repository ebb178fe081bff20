"""Generations by birth year (analytics/generations.py): Pew Research's boundaries by default,
a workspace's own from `[generations]` in empreinte.toml, used by `by="generation"`."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import empreinte
from empreinte.analytics.generations import PEW, Generations
from empreinte.errors import ConfigError

# Pew Research Center (2019), with Gen Alpha from 2013: the last birth year of each
# generation, written out independently of the module's table of first years.
PEW_RANGES = [
    ("Silent Generation", 1928, 1945),
    ("Baby Boomers", 1946, 1964),
    ("Gen X", 1965, 1980),
    ("Gen Y (Millennials)", 1981, 1996),
    ("Gen Z", 1997, 2012),
]


@pytest.mark.parametrize(("name", "first", "last"), PEW_RANGES)
def test_pew_boundaries(name: str, first: int, last: int) -> None:
    pew = Generations.from_mapping(None)
    assert pew.of(first) == name
    assert pew.of(last) == name
    assert pew.of(first - 1) != name
    assert pew.of(last + 1) != name


def test_around_the_table() -> None:
    pew = Generations.from_mapping({})
    assert pew.of(1990) == "Gen Y (Millennials)"
    assert pew.of(2013) == "Gen Alpha"
    assert pew.of(2030) == "Gen Alpha"
    assert pew.of(1927) is None  # before the first generation
    assert pew.of(None) is None


@given(st.integers(1928, 2100))
def test_every_year_from_the_first_has_exactly_the_generation_of_its_range(year: int) -> None:
    expected = next((n for n, first, last in PEW_RANGES if first <= year <= last), "Gen Alpha")
    assert Generations.from_mapping(PEW).of(year) == expected


def test_custom_boundaries_in_any_order() -> None:
    mine = Generations.from_mapping({"Gen Z": 1995, "Gen X": 1961, "Millennials": 1977})
    assert [mine.of(y) for y in (1960, 1961, 1976, 1977, 1994, 1995, 2020)] == [
        None,
        "Gen X",
        "Gen X",
        "Millennials",
        "Millennials",
        "Gen Z",
        "Gen Z",
    ]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"Gen X": "1965"}, "'Gen X' must be a first birth year"),
        ({"Gen X": True}, "'Gen X' must be a first birth year"),
        ({"Gen X": 1965.0}, "'Gen X' must be a first birth year"),
        ({"Gen X": 1700}, "'Gen X' must be a first birth year"),
        ({"Gen X": 1965, "Gen Y": 1965}, "two generations start the same year"),
    ],
)
def test_bad_sections(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Generations.from_mapping(section)


def test_a_workspace_uses_its_own_boundaries(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    # this workspace starts Millennials in 1980 and Gen Z in 1995
    (root / "empreinte.toml").write_text(
        '[generations]\n"Gen X" = 1965\n"Millennials" = 1980\n"Gen Z" = 1995\n'
    )
    with empreinte.open(root) as ws:
        report = ws.ingest(
            [
                {"type": "identify", "userId": "a", "traits": {"birthday": "1980-03-02"}},
                {"type": "identify", "userId": "b", "traits": {"birthday": "1996-05-01"}},
                {"type": "identify", "userId": "c", "traits": {"birth_year": 1979}},
                *(
                    {
                        "type": "track",
                        "event": "NPS Answered",
                        "userId": user,
                        "properties": {"score": score},
                        "timestamp": "2026-02-01T10:00:00Z",
                    }
                    for user, score in (("a", 10), ("b", 0), ("c", 8))
                ),
            ]
        )
        assert not report.rejected
        ws.flush()
        groups = {row.group: row.tally.total for row in ws.cx.nps(by="generation").rows}
    # with Pew's, 1980 would be Gen X and 1996 Gen Y
    assert groups == {"Millennials": 10.0, "Gen Z": 0.0, "Gen X": 8.0}


def test_a_bad_generations_section_stops_open(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "empreinte.toml").write_text('[generations]\n"Gen X" = "sixties"\n')
    with pytest.raises(ConfigError, match=r"empreinte\.toml.*\[generations\] 'Gen X'"):
        empreinte.open(root)
