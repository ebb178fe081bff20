"""Funnels over HTTP: `GET /api/journeys/funnel` (admin, analyst).

    GET /api/journeys/funnel?step=Product%20Viewed&step=Order%20Completed%5Bchannel%3Dstore%5D
        &window=7d&mode=ordered&by=country&count=people&since=2026-01-01
    GET /api/journeys/funnel?step=…&step=…&dropped=1      # who reached step 1, not step 2

Parameters: `step` (repeatable, in order; `Event[key=value,…]`, docs/funnels.md), `window`
(7d, 24h, 30m, 90s; default 7d), `mode` (ordered, strict, unordered), `by`, `count` (people,
entries), `since`, `until` (in the workspace's time zone without an offset), `dropped` (a
step number: the answer lists the pseudonymous profile ids that reached it but not the next
step, at most `limit`, default 10,000), `group` (with dropped), `format` (json, csv, png, svg),
`lang` (chart titles). A funnel follows people through their journey, so it is for admins and
analysts, as lists of people are; only people who allow analytics are counted.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Principal, Role
from empreinte.errors import InvalidInput
from empreinte.web.auth import require
from empreinte.web.cx_api import blamed_on, csv_answer
from empreinte.web.operation import JSON, ApiRoute, Operation, query
from empreinte.web.params import WINDOW, Choice, Query, Text, Texts, Whole
from empreinte.web.responses import strict_json_response
from empreinte.workspace import Workspace

ROLES = (Role.ADMIN, Role.ANALYST)
MAX_LIST = 100_000
_IMAGES = {"png": "image/png", "svg": "image/svg+xml"}

STEPS = Texts("step", "a step, in order: Event Name[key=value,…] (repeat the parameter)")
FUNNEL_WINDOW = Text("window", "conversion window from the first step: 7d, 24h, 30m, 90s", "7d")
MODE = Choice("mode", ("ordered", "strict", "unordered"), "how steps must follow", "ordered")
BY = Text("by", "breakdown: country, generation, channel, properties.<key>, traits.<key>…", None)
COUNT = Choice("count", ("people", "entries"), "count people or entries", "people")
DROPPED = Whole("dropped", 1, 19, "list who reached this step but not the next", None)
GROUP = Text("group", "with dropped: only this breakdown group", None)
LIMIT = Whole("limit", 1, MAX_LIST, "with dropped: at most this many ids", 10_000)
FORMAT = Choice("format", ("json", "csv", "png", "svg"), "JSON, CSV or the funnel chart", "json")
LANG = Choice("lang", ("en", "fr"), "the language of the chart", "en")

FUNNEL = Operation(
    "A funnel: people reaching each step, conversion, drop-off, time between steps",
    "journeys",
    roles=ROLES,
    params=(STEPS, FUNNEL_WINDOW, MODE, BY, COUNT, *WINDOW, DROPPED, GROUP, LIMIT, FORMAT, LANG),
    media=(JSON, "text/csv", "image/png", "image/svg+xml"),
)


class JourneyFunnelsApi:
    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [ApiRoute("/api/journeys/funnel", self.funnel, "GET", FUNNEL)]

    async def funnel(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        q = query(request, ZoneInfo(self._ws.config.timezone))
        return await run_in_threadpool(self._funnel, q)

    def _spec(self, q: Query) -> Any:
        from empreinte.analytics.journeys.funnels_spec import FunnelSpec
        from empreinte.analytics.journeys.steps import parse_step
        from empreinte.durations import parse_duration

        texts = q.get(STEPS)
        if not texts:
            raise InvalidInput("step", "give the funnel's steps: step=A&step=B…")
        with blamed_on("step"):
            steps = tuple(parse_step(text) for text in texts)
        with blamed_on("window"):
            window = parse_duration(q.get(FUNNEL_WINDOW), "window")
        mode, count = q.get(MODE), q.get(COUNT)
        with blamed_on("step"):
            return FunnelSpec(
                steps=steps,
                window=window,
                mode=mode,  # type: ignore[arg-type]  # one of MODE's choices
                by=q.get(BY),
                count=count,  # type: ignore[arg-type]
            )

    def _funnel(self, q: Query, who: Principal | None = None) -> Response:
        from empreinte.analytics.journeys import funnels
        from empreinte.analytics.journeys.touchpoints import JourneyScope

        spec = self._spec(q)
        since, until = q.window()
        step, group, limit = q.get(DROPPED), q.get(GROUP), q.get(LIMIT)
        fmt, language = q.get(FORMAT), q.get(LANG)
        q.done()
        scope = JourneyScope(since=since, until=until)
        with self._ws.analytics() as log:
            if step is not None:
                if fmt in _IMAGES:
                    raise InvalidInput("format", "a list of people has no chart: json or csv")
                with blamed_on("dropped" if spec.by is None else "by"):
                    ids = funnels.dropped(log, spec, step, scope, group=group)
                rows = [{"profile_id": profile} for profile in ids[:limit]]
                if fmt == "csv":
                    return csv_answer(rows, f"funnel-dropped-{step}")
                return strict_json_response(
                    {"step": step, "total": len(ids), "people": [r["profile_id"] for r in rows]}
                )
            with blamed_on("by"):
                report = funnels.funnel_report(log, spec, scope)
        if fmt == "csv":
            return csv_answer(report.to_rows(), "funnel")
        if fmt in _IMAGES:
            from empreinte.analytics.journeys.funnels_chart import funnel_chart

            with tempfile.TemporaryDirectory(prefix="empreinte-chart-") as folder:
                path = funnel_chart(report, Path(folder) / f"funnel.{fmt}", language=language)
                return Response(path.read_bytes(), media_type=_IMAGES[fmt])
        return strict_json_response(
            {
                "steps": spec.labels,
                "window_seconds": int(spec.window.total_seconds()),
                "mode": spec.mode,
                "count": spec.count,
                "by": spec.by,
                "rows": report.to_rows(),
            }
        )
