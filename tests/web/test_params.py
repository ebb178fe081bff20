"""The shared reading of query parameters (web/params.py): types, bounds, the workspace's
time zone, and refusals that name the parameter."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.datastructures import QueryParams

from empreinte.errors import InvalidInput
from empreinte.web.params import Query, check_fields

PARIS = ZoneInfo("Europe/Paris")


def query(text: str, zone: ZoneInfo | None = None) -> Query:
    return Query(QueryParams(text), zone or UTC)


def refused(field: str) -> AbstractContextManager[Any]:
    return pytest.raises(InvalidInput, match=rf"^{field}: ")


def test_whole_numbers_within_bounds() -> None:
    q = query("limit=25&days=-3&n=%2B7")
    assert q.whole("limit", 100, 1, 1000) == 25
    assert q.whole("days", 0, -10, 10) == -3
    assert q.whole("n", 0, 0, 10) == 7
    assert q.whole("absent", 100, 1, 1000) == 100
    for text in ("limit=0", "limit=1001", "limit=2.5", "limit=ten", "limit=1e3"):
        with refused("limit"):
            query(text).whole("limit", 100, 1, 1000)


def test_flags_choices_and_numbers() -> None:
    q = query("pii=FALSE&order=asc&mde=0.05")
    assert q.flag("pii", True) is False
    assert q.choice("order", ("asc", "desc"), "desc") == "asc"
    assert q.share("mde", 0.01, "a share") == 0.05
    with refused("pii"):
        query("pii=yes").flag("pii", False)
    with refused("order"):
        query("order=up").choice("order", ("asc", "desc"), "desc")
    for text in ("mde=0", "mde=1", "mde=nan", "mde=x"):
        with refused("mde"):
            query(text).share("mde", 0.01, "a share")


def test_naive_times_are_read_in_the_given_zone() -> None:
    since = query("since=2026-03-01", PARIS).time("since")
    assert since == datetime(2026, 3, 1, tzinfo=PARIS)
    assert since is not None and since.astimezone(UTC).hour == 23  # Paris is UTC+1 in March
    offset = query("since=2026-03-01T12:00:00%2B02:00", PARIS).time("since")
    assert offset == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert query("since=2026-03-01").time("since") == datetime(2026, 3, 1, tzinfo=UTC)
    for text in ("since=yesterday", "since=0001-01-01T00:00%2B05:00"):
        with refused("since"):
            query(text, PARIS).time("since")


def test_an_empty_window_is_refused() -> None:
    with refused("until"):
        query("since=2026-03-02&until=2026-03-01").window()
    assert query("since=2026-03-01").window() == (datetime(2026, 3, 1, tzinfo=UTC), None)


def test_unknown_and_repeated_parameters_are_refused() -> None:
    q = query("limit=5&limt=6")
    q.whole("limit", 100, 1, 1000)
    with refused("limt"):
        q.done()
    with refused("limit"):
        query("limit=5&limit=6").whole("limit", 100, 1, 1000)
    query("feature=a&feature=b").texts("feature")  # repeatable where asked so
    with refused("extra"):
        check_fields({"reason": "x", "extra": 1}, {"reason"})


def test_required_and_empty_values() -> None:
    assert query("name=").text("name", "default") == "default"
    with refused("name"):
        query("name=").required("name")
    assert query("name=x").required("name") == "x"
