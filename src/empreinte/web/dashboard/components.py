"""What pages put on screen: tables, charts and empty states, each downloadable.

A page's `build` returns these in its template context; the page's template shows them with
the macros of `templates/_macros.html`. Any `Table` or `Chart` in the context can be
downloaded as CSV by its id (`?download=<id>`), through the same code as the API's CSV
(no cell a spreadsheet would run as a formula); a chart is downloaded as PNG in the browser
by Plotly, exactly as shown.

Charts are Plotly figures as plain dicts (https://plotly.com/javascript/reference/): the
page embeds them as JSON and `static/dashboard.js` draws them with the Plotly.js served by
the app itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

ColumnKind = Literal["text", "number", "percent", "date", "datetime", "link", "badge"]

#: Rows a table sends to the browser at most (it pages and sorts them there); a page that
#: may have more pages them on the server.
MAX_TABLE_ROWS = 2_000


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # already in the page's language
    kind: ColumnKind = "text"
    digits: int = 0  # decimals shown for numbers and percentages
    #: for kind "link": the key of the row holding the link's address (a local path)
    href: str | None = None


@dataclass(frozen=True)
class EmptyState:
    """What to send to fill an empty table or chart: a sentence and copyable snippets."""

    message: str
    #: the events to send, as Segment calls: {"analytics.js": "...", "Python": "..."}
    snippets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]]
    page_size: int = 20
    empty: EmptyState | None = None
    #: a line under the title (a definition, the n, a caveat)
    caption: str = ""

    def __post_init__(self) -> None:
        if len(self.rows) > MAX_TABLE_ROWS:
            object.__setattr__(self, "rows", list(self.rows[:MAX_TABLE_ROWS]))

    def csv_rows(self) -> list[dict[str, Any]]:
        """The rows for a CSV download: one column per table column, headed by its label."""
        out = []
        for row in self.rows:
            out.append({c.label: _plain(row.get(c.key)) for c in self.columns})
        if not out:
            out.append({c.label: None for c in self.columns})
        return out


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    figure: Mapping[str, Any]  # {"data": [...], "layout": {...}}
    #: the numbers behind the chart, for the CSV download and for screen readers
    table: Table
    height: int = 360
    caption: str = ""
    empty: EmptyState | None = None

    @property
    def is_empty(self) -> bool:
        return not self.table.rows

    def csv_rows(self) -> list[dict[str, Any]]:
        return self.table.csv_rows()


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def downloadables(context: Mapping[str, Any]) -> Iterator[Table | Chart]:
    """Every table and chart in a page's context (in lists, tuples and dicts too)."""

    def walk(value: Any, depth: int) -> Iterator[Table | Chart]:
        if isinstance(value, Table | Chart):
            yield value
        elif depth < 4 and isinstance(value, Mapping):
            for item in value.values():
                yield from walk(item, depth + 1)
        elif depth < 4 and isinstance(value, list | tuple):
            for item in value:
                yield from walk(item, depth + 1)

    yield from walk(context, 0)


# -- figure builders (plain Plotly dicts) ---------------------------------------------------

#: Twelve colours told apart by most readers (the "Paired"-like order of ColorBrewer's
#: qualitative schemes, darker first): the demo has ten channels.
PALETTE = (
    "#1f5fae",
    "#d9822b",
    "#2e8b57",
    "#b03a48",
    "#7a5195",
    "#4d8fa8",
    "#8c6d31",
    "#555555",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#9c9ede",
)


def bars(
    x: Sequence[Any],
    series: Mapping[str, Sequence[Any]],
    *,
    horizontal: bool = False,
    stacked: bool = False,
    percent_axis: bool = False,
) -> dict[str, Any]:
    data = []
    for i, (name, values) in enumerate(series.items()):
        trace: dict[str, Any] = {
            "type": "bar",
            "name": name,
            "marker": {"color": PALETTE[i % len(PALETTE)]},
        }
        if horizontal:
            trace.update(x=list(values), y=list(x), orientation="h")
        else:
            trace.update(x=list(x), y=list(values))
        data.append(trace)
    layout: dict[str, Any] = {"barmode": "stack" if stacked else "group"}
    value_axis = "xaxis" if horizontal else "yaxis"
    if percent_axis:
        layout[value_axis] = {"tickformat": ".0%"}
    if horizontal:
        layout["yaxis"] = {"automargin": True, "autorange": "reversed"}
    return {"data": data, "layout": layout}


def lines(
    x: Sequence[Any],
    series: Mapping[str, Sequence[Any]],
    *,
    bands: Mapping[str, tuple[Sequence[Any], Sequence[Any]]] | None = None,
    percent_axis: bool = False,
) -> dict[str, Any]:
    """Lines over `x`, each with an optional shaded band (a confidence interval)."""
    data: list[dict[str, Any]] = []
    for i, (name, values) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        band = (bands or {}).get(name)
        if band is not None:
            low, high = band
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": [*x, *reversed(x)],
                    "y": [*high, *reversed(low)],
                    "fill": "toself",
                    "fillcolor": color + "33",
                    "line": {"width": 0},
                    "hoverinfo": "skip",
                    "showlegend": False,
                    "name": name,
                }
            )
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": list(x),
                "y": list(values),
                "line": {"color": color},
            }
        )
    layout: dict[str, Any] = {}
    if percent_axis:
        layout["yaxis"] = {"tickformat": ".0%"}
    return {"data": data, "layout": layout}


def sankey(labels: Sequence[str], links: Iterable[tuple[int, int, float]]) -> dict[str, Any]:
    source, target, value = [], [], []
    for s, t, v in links:
        source.append(s)
        target.append(t)
        value.append(v)
    return {
        "data": [
            {
                "type": "sankey",
                "node": {"label": list(labels), "pad": 14, "thickness": 14},
                "link": {"source": source, "target": target, "value": value},
            }
        ],
        "layout": {},
    }


def json_ready(value: Any) -> Any:
    """`value` with NaN and infinities as None (JSON has no NaN; Plotly leaves a gap)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
