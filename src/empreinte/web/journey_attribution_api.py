"""Attribution over HTTP: `GET /api/journeys/attribution`, the figures of
analytics/journeys/attribution.py (docs/attribution.md).

Query parameters (unknown ones and repeats are refused):

- `goal` (default "Order Completed"), `value` (the goal's property holding its value, default
  revenue; `none` for none), `lookback` (30d, 12h, 2w…; default 30d), `by` (channel, campaign,
  channel_campaign), `models` (comma-separated: all, heuristic, markov, first_touch,
  last_touch, linear, time_decay, position_based, markov_<order>; default all),
  `markov_orders` (default 1,2), `half_life` (default 7d), `session_gap` (default 30m),
  `goal_touch` and `collapse` (true/false, default true), `since`, `until`;
- `format`: json (default), csv (one row per channel, every figure), png or svg (the grouped
  bar chart, titled in `lang`: en or fr).

For admins and analysts: paths link a person's actions across channels. The report is computed
in a worker thread; a parameter it cannot use is a 400 naming it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Role
from empreinte.errors import ChartError, EmpreinteError, InvalidInput
from empreinte.web.auth import require
from empreinte.web.cx_api import blamed_on, csv_answer
from empreinte.web.operation import JSON, ApiRoute, Operation, query
from empreinte.web.params import WINDOW, Choice, Flag, Query, Text
from empreinte.web.responses import strict_json_response
from empreinte.workspace import Workspace

if TYPE_CHECKING:
    from empreinte.analytics.journeys.attribution import AttributionReport

READERS = (Role.ADMIN, Role.ANALYST)
_TAG = "journeys"
_IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}

GOAL = Text("goal", "the conversion event", "Order Completed")
VALUE = Text("value", "the goal's property holding its value; none for none", "revenue")
LOOKBACK = Text("lookback", "touches this long before a conversion count (30d, 12h, 2w)", "30d")
BY = Choice("by", ("channel", "campaign", "channel_campaign"), "what a touch is", "channel")
MODELS = Text(
    "models",
    "comma-separated: all, heuristic, markov, first_touch, last_touch, linear, time_decay,"
    " position_based, markov_<order>",
    "all",
)
ORDERS = Text("markov_orders", "the orders of the Markov models, comma-separated", "1,2")
HALF_LIFE = Text("half_life", "the half-life of the time-decay model", "7d")
SESSION_GAP = Text("session_gap", "inactivity that ends a touch (a session)", "30m")
GOAL_TOUCH = Flag("goal_touch", "the goal's own channel is its last touch", True)
COLLAPSE = Flag("collapse", "consecutive repeats of a channel are one touch", True)
FORMAT = Choice("format", ("json", "csv", "png", "svg"), "JSON, CSV or the chart", "json")
LANG = Choice("lang", ("en", "fr"), "the language of the chart", "en")

ATTRIBUTION = Operation(
    "Conversions and value per channel or campaign under every attribution model",
    _TAG,
    roles=READERS,
    params=(
        GOAL,
        VALUE,
        LOOKBACK,
        BY,
        MODELS,
        ORDERS,
        HALF_LIFE,
        SESSION_GAP,
        GOAL_TOUCH,
        COLLAPSE,
        *WINDOW,
        FORMAT,
        LANG,
    ),
    media=(JSON, "text/csv", "image/png", "image/svg+xml"),
)


class JourneyAttributionApi:
    """The attribution route of one workspace, behind API tokens."""

    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [ApiRoute("/api/journeys/attribution", self.attribution, "GET", ATTRIBUTION)]

    async def attribution(self, request: Request) -> Response:
        require(request, self._ws.credentials, *READERS)
        q = query(request, ZoneInfo(self._ws.config.timezone))
        return await run_in_threadpool(self._work, q)

    def _work(self, q: Query) -> Response:
        from empreinte.analytics.journeys.attribution import attribution_report, model_names
        from empreinte.analytics.journeys.conversion_paths import PathRules, check_property
        from empreinte.analytics.journeys.touchpoints import JourneyScope
        from empreinte.durations import parse_duration

        goal, value, by = q.get(GOAL), q.get(VALUE), q.get(BY)
        lookback_text, models, orders_text = q.get(LOOKBACK), q.get(MODELS), q.get(ORDERS)
        half_life_text, gap_text = q.get(HALF_LIFE), q.get(SESSION_GAP)
        goal_touch, collapse = q.get(GOAL_TOUCH), q.get(COLLAPSE)
        since, until = q.window()
        fmt, language = q.get(FORMAT), q.get(LANG)
        q.done()
        with blamed_on("lookback"):
            lookback = parse_duration(lookback_text, "lookback")
        with blamed_on("half_life"):
            half_life = parse_duration(half_life_text, "half_life")
        with blamed_on("session_gap"):
            gap = parse_duration(gap_text, "session_gap")
        try:
            orders = [int(o) for o in orders_text.split(",") if o.strip()]
        except ValueError:
            raise InvalidInput("markov_orders", "must be whole numbers, comma-separated") from None
        if value.lower() != "none":
            with blamed_on("value"):
                check_property(value)
        with blamed_on("goal"):
            rules = PathRules(
                goal=goal,
                value=None if value.lower() == "none" else value,
                lookback=lookback,
                by=by,  # type: ignore[arg-type]  # one of BY's choices
                session_gap=gap,
                goal_touch=bool(goal_touch),
                collapse=bool(collapse),
            )
        chosen = [m.strip() for m in models.split(",") if m.strip()]
        with blamed_on("markov_orders"):
            model_names("markov", orders)
        with blamed_on("models"):
            model_names(chosen, orders)
        with self._ws.analytics() as log:
            report = attribution_report(
                log,
                rules,
                JourneyScope(since, until),
                models=chosen,
                markov_orders=orders,
                half_life=half_life,
            )
        if fmt == "csv":
            return csv_answer(report.to_rows(), f"attribution-{by}")
        if fmt in _IMAGE_TYPES:
            return _chart(report, fmt, language)
        return strict_json_response(_body(report))


def _body(report: AttributionReport) -> dict[str, Any]:
    return {
        "goal": report.goal,
        "value_property": report.value_property,
        "by": report.by,
        "lookback_seconds": report.lookback.total_seconds(),
        "half_life_seconds": report.half_life.total_seconds(),
        "models": list(report.models),
        "conversions": report.conversions,
        "value": report.value,
        "non_converting": report.non_converting,
        "without_touch": report.without_touch,
        "conversion_probability": report.conversion_probability,
        "rows": report.to_rows(),
    }


def _chart(report: AttributionReport, fmt: str, language: str) -> Response:
    from empreinte.analytics.journeys.attribution_chart import attribution_chart

    with tempfile.TemporaryDirectory(prefix="empreinte-chart-") as folder:
        path = Path(folder) / f"chart.{fmt}"
        try:
            attribution_chart(report, path, language=language)
        except ChartError as exc:
            if isinstance(exc.__cause__, OSError):
                raise EmpreinteError("the chart could not be written") from exc
            raise InvalidInput("format", f"{exc} (ask for json or csv)") from None
        data = path.read_bytes()
    return Response(
        data,
        200,
        {"Content-Disposition": f'inline; filename="attribution-{report.by}.{fmt}"'},
        media_type=_IMAGE_TYPES[fmt],
    )
