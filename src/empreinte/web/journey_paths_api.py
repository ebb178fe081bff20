"""Paths and retention over HTTP: `GET /api/journeys/paths`, `GET /api/journeys/retention`.

| route | who | what |
| --- | --- | --- |
| `GET /api/journeys/paths` | admin, analyst | the next or previous steps of a step (Sankey) |
| `GET /api/journeys/retention` | admin, analyst | cohort retention, N-day and unbounded |

Query parameters (unknown ones and repeated ones refused):

- paths: `from` or `to` (one of them: a step, `Product Viewed`, `Product Viewed[category=shoes]`,
  `Page Viewed: Checkout`), `depth` (1-20, default 3), `top` (1-100, default 5), `label`
  (step, page, channel, channel_step), `collapse` (true, false), `within` (session, or a
  duration: 90s, 30m, 2h, 7d), `session_gap_minutes` (default 30), `anchors` (every,
  first), `since`, `until`, `channel` (repeatable), `format` (json, csv, png, svg), `lang`.
- retention: `period` (week, month), `bucket` (day, week, month; default the period), `start`,
  `return` (steps; default any touchpoint), `periods` (1-400), `by` (an attribute of the person:
  country, generation, traits.<path>…, or of the start event: channel, properties.<path>),
  `unbounded` (the chart's rates), `since`, `until`, `channel`, `format`, `lang`.

Journeys follow individual people across channels: analysts and admins only (a viewer reads the
CX aggregates). The role is checked before anything is read; the report runs in a worker
thread; a request the report cannot answer is a 400 naming the parameter.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Role
from empreinte.errors import ChartError, EmpreinteError, InvalidInput
from empreinte.web.auth import require
from empreinte.web.cx_api import blamed_on, csv_answer
from empreinte.web.operation import JSON, ApiRoute, Operation, query
from empreinte.web.params import WINDOW, Choice, Flag, Query, Text, Texts, Whole
from empreinte.web.responses import strict_json_response
from empreinte.workspace import Workspace

# Ibis, pandas and matplotlib are imported when a report is first asked for.

ANALYSTS = (Role.ADMIN, Role.ANALYST)
_TAG = "journeys"
_IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
_MEDIA = (JSON, "text/csv", "image/png", "image/svg+xml")

FROM = Text("from", "the steps after this step (give from or to)", None)
TO = Text("to", "the steps before this step (give from or to)", None)
DEPTH = Whole("depth", 1, 20, "steps after (before) the step", 3)
TOP = Whole("top", 1, 100, "steps kept per level; the rest is (other)", 5)
LABEL = Choice("label", ("step", "page", "channel", "channel_step"), "what a step is", "step")
COLLAPSE = Flag("collapse", "repeats of the same step count once", False)
WITHIN = Text("within", "stop at the end of the session, or after 90s, 30m, 2h, 7d…", None)
SESSION_GAP = Whole("session_gap_minutes", 1, 24 * 60, "minutes of silence ending a session", 30)
ANCHORS = Choice(
    "anchors", ("every", "first"), "every occurrence of the step, or the first", "every"
)
CHANNELS = Texts("channel", "only these channels (repeatable)")
FORMAT = Choice("format", ("json", "csv", "png", "svg"), "JSON, CSV or the chart", "json")
LANG = Choice("lang", ("en", "fr"), "the language of the chart", "en")
PERIOD = Choice("period", ("week", "month"), "cohorts by week or month of the start", "week")
BUCKET = Choice("bucket", ("day", "week", "month"), "buckets (default: the period)", None)
START = Text("start", "the start step (default: any touchpoint)", None)
RETURN = Text("return", "the return step (default: any touchpoint)", None)
PERIODS = Whole("periods", 1, 400, "buckets after the start (default 30 days, 12 weeks)", None)
BY = Text("by", "break down by an attribute: country, generation, traits.<path>, channel…", None)
UNBOUNDED = Flag("unbounded", "chart unbounded retention (bucket N or later)", False)

PATHS = Operation(
    "The most frequent next or previous steps of a step (a Sankey table)",
    _TAG,
    roles=ANALYSTS,
    params=(
        FROM,
        TO,
        DEPTH,
        TOP,
        LABEL,
        COLLAPSE,
        WITHIN,
        SESSION_GAP,
        ANCHORS,
        *WINDOW,
        CHANNELS,
        FORMAT,
        LANG,
    ),
    media=_MEDIA,
)
RETENTION = Operation(
    "Cohort retention by week or month: N-day and unbounded",
    _TAG,
    roles=ANALYSTS,
    params=(PERIOD, BUCKET, START, RETURN, PERIODS, BY, UNBOUNDED, *WINDOW, CHANNELS, FORMAT, LANG),
    media=_MEDIA,
)

Work = Callable[[Query], Response]


def _chart(draw: Callable[[Path], Any], fmt: str, stem: str) -> Response:
    with tempfile.TemporaryDirectory(prefix="empreinte-chart-") as folder:
        path = Path(folder) / f"chart.{fmt}"
        try:
            draw(path)
        except ChartError as exc:
            if isinstance(exc.__cause__, OSError):
                raise EmpreinteError("the chart could not be written") from exc
            raise InvalidInput("format", str(exc)) from None
        data = path.read_bytes()
    return Response(
        data,
        200,
        {"Content-Disposition": f'inline; filename="{stem}.{fmt}"'},
        media_type=_IMAGE_TYPES[fmt],
    )


class JourneyPathsApi:
    """The paths and retention routes of one workspace."""

    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/journeys/paths", self.paths, "GET", PATHS),
            ApiRoute("/api/journeys/retention", self.retention, "GET", RETENTION),
        ]

    async def _guarded(self, request: Request, work: Work) -> Response:
        require(request, self._ws.credentials, *ANALYSTS)
        q = query(request, ZoneInfo(self._ws.config.timezone))
        return await run_in_threadpool(work, q)

    def _scope(self, q: Query) -> Any:
        from empreinte.analytics.journeys.touchpoints import JourneyScope

        since, until = q.window()
        return JourneyScope(since=since, until=until, channels=tuple(q.get(CHANNELS)))

    async def paths(self, request: Request) -> Response:
        def work(q: Query) -> Response:
            from empreinte.analytics.journeys.path_charts import sankey_chart
            from empreinte.analytics.journeys.paths import parse_within
            from empreinte.analytics.journeys.paths import paths as path_report

            after, before = q.get(FROM), q.get(TO)
            depth, top, label = q.get(DEPTH), q.get(TOP), q.get(LABEL)
            collapse, within_text = q.get(COLLAPSE), q.get(WITHIN)
            gap, anchors = q.get(SESSION_GAP), q.get(ANCHORS)
            scope = self._scope(q)
            fmt, language = q.get(FORMAT), q.get(LANG)
            q.done()
            if (after is None) == (before is None):
                raise InvalidInput("from", "give one of from (next steps) or to (previous steps)")
            with blamed_on("within"):
                within = parse_within(within_text)
            with blamed_on("from" if after else "to"), self._ws.analytics() as log:
                report = path_report(
                    log,
                    after or before or "",
                    direction="next" if after else "previous",
                    depth=depth,
                    top=top,
                    label=label,
                    collapse=collapse,
                    within=within,
                    session_gap=timedelta(minutes=gap),
                    anchors=anchors,
                    scope=scope,
                )
            if fmt == "csv":
                return csv_answer(report.to_rows(), "paths")
            if fmt in _IMAGE_TYPES:
                return _chart(lambda p: sankey_chart(report, p, language=language), fmt, "paths")
            return strict_json_response(
                {
                    "anchor": report.anchor.label,
                    "direction": report.direction,
                    "depth": report.depth,
                    "label": report.label,
                    "top": report.top,
                    "collapse": report.collapse,
                    "within": report.within,
                    "occurrences": report.occurrences,
                    "people": report.people,
                    "steps": report.step_rows(),
                    "sankey": report.to_rows(),
                }
            )

        return await self._guarded(request, work)

    async def retention(self, request: Request) -> Response:
        def work(q: Query) -> Response:
            from empreinte.analytics.journeys.path_charts import retention_chart
            from empreinte.analytics.journeys.retention import retention as retention_report

            period, bucket = q.get(PERIOD), q.get(BUCKET)
            start, returning = q.get(START), q.get(RETURN)
            periods, by, unbounded = q.get(PERIODS), q.get(BY), q.get(UNBOUNDED)
            scope = self._scope(q)
            fmt, language = q.get(FORMAT), q.get(LANG)
            q.done()
            if by is not None and fmt in _IMAGE_TYPES:
                raise InvalidInput(
                    "by", "a heat-map shows one population: drop by, or ask json/csv"
                )
            field = "by" if by else "start"
            if returning and not start:
                field = "return"
            with blamed_on(field), self._ws.analytics() as log:
                report = retention_report(
                    log,
                    period=period,
                    bucket=bucket,
                    start=start,
                    returning=returning,
                    periods=periods,
                    by=by,
                    scope=scope,
                )
            if fmt == "csv":
                return csv_answer(report.to_rows(), "retention")
            if fmt in _IMAGE_TYPES:
                return _chart(
                    lambda p: retention_chart(report, p, language=language, unbounded=unbounded),
                    fmt,
                    "retention",
                )
            return strict_json_response(
                {
                    "period": report.period,
                    "bucket": report.bucket,
                    "start": report.start,
                    "return": report.returning,
                    "by": report.by,
                    "periods": report.periods,
                    "cells": report.to_rows(),
                }
            )

        return await self._guarded(request, work)
