"""Every report of `ws.cx`, `ws.journeys` and `ws.know` that takes a breakdown takes
`by="generation"`, and its groups are the generations (or "(none)" for an unknown birth year).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import empreinte
from empreinte.analytics.cx.reports import CxReports
from empreinte.analytics.generations import PEW
from empreinte.analytics.journeys.reports import JourneyReports
from empreinte.analytics.know.reports import KnowReports
from empreinte.demo import generate
from empreinte.workspace import Workspace

GENERATIONS = set(PEW)
# The reports with a breakdown (their own `by`, or passed on to the report's function).
CALLS: dict[str, Callable[[Workspace], Any]] = {
    "cx.score": lambda ws: ws.cx.score("nps", by="generation"),
    "cx.nps": lambda ws: ws.cx.nps(by="generation"),
    "cx.csat": lambda ws: ws.cx.csat(by="generation"),
    "cx.ces": lambda ws: ws.cx.ces(by="generation"),
    "cx.kano": lambda ws: ws.cx.kano(by="generation"),
    "journeys.funnel": lambda ws: ws.journeys.funnel(
        ["Product Viewed", "Order Completed"], by="generation"
    ),
    "journeys.retention": lambda ws: ws.journeys.retention(by="generation"),
    "journeys.channel_classes": lambda ws: ws.journeys.channel_classes(by="generation"),
    "journeys.channel_mix": lambda ws: ws.journeys.channel_mix(by="generation"),
    "journeys.ropo": lambda ws: ws.journeys.ropo(by="generation"),
    "journeys.showrooming": lambda ws: ws.journeys.showrooming(by="generation"),
    "know.rfm": lambda ws: ws.know.rfm(by="generation"),
}
# A `by` that is not a breakdown of people: attribution's is the touch credited (channel,
# campaign); a funnel's spec is built, then run by `funnel` above.
NOT_BREAKDOWNS = {"journeys.attribution", "journeys.funnel_spec"}


def test_every_report_with_a_breakdown_is_called_here() -> None:
    facades = {"cx": CxReports, "journeys": JourneyReports, "know": KnowReports}
    with_by = {
        f"{prefix}.{name}"
        for prefix, cls in facades.items()
        for name, method in inspect.getmembers(cls, inspect.isfunction)
        if "by" in inspect.signature(method).parameters
    }
    assert with_by - NOT_BREAKDOWNS <= set(CALLS)


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with empreinte.open(tmp_path_factory.mktemp("by-generation")) as ws:
        assert not ws.ingest(generate(120, months=6)).rejected
        ws.flush()
        yield ws


@pytest.mark.parametrize("name", list(CALLS))
def test_the_groups_are_the_generations(ws: Workspace, name: str) -> None:
    rows = CALLS[name](ws).to_rows()
    groups = {str(row["group"]) for row in rows}
    assert groups <= GENERATIONS | {"(none)"}, name
    assert len(groups & GENERATIONS) >= 2, f"{name}: {sorted(groups)}"


def test_the_generations_report_lists_the_generations(ws: Workspace) -> None:
    rows = ws.know.generations().to_rows()
    names = [row["generation"] for row in rows]
    assert set(names) <= GENERATIONS | {"(unknown)"}
    assert [n for n in PEW if n in names] == [n for n in names if n != "(unknown)"]  # in order
