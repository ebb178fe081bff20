"""The CX reports over HTTP: `GET /api/cx/…`, the figures of `workspace.cx` (analytics/cx).

| route | who | what |
| --- | --- | --- |
| `GET /api/cx/nps`, `/api/cx/csat`, `/api/cx/ces` | any role | a score by period and/or attribute |
| `GET /api/cx/drivers` | any role | what moves a score: journey features' shares of R² |
| `GET /api/cx/kano` | any role | Kano categories and Better/Worse per feature |
| `GET /api/cx/experiments/{name}` | any role | an A/B test: conversion per variant, verdict |
| `GET /api/cx/detractors` | admin, analyst | the unhappy respondents of the last days |

Query parameters (every route refuses the ones it does not know, and a parameter given twice):

- scores: `period` (week, month, quarter, year), `by` (an attribute: channel, touchpoint,
  country, generation, properties.<path>, traits.<path>…), `since`, `until` (an ISO date or
  date-time, in the workspace's time zone unless it has an offset; since inclusive, until
  exclusive), `survey_id`, `touchpoint`, `kind` (all, relational, transactional), `scale`
  (CSAT only: 5 or 7), `min_n`,
  `answers` (latest, all), `compare=A,B` (two labels of the report: groups, periods or
  "period/group"; adds a `comparison` object), `format`, `lang`.
- drivers: `survey` (nps, csat, ces), `since`, `until`, `survey_id`, `touchpoint`, `kind`,
  `window_days` (1-3650, default 30), `bootstrap` (0-2000 resamples, default 200),
  `format`, `lang`.
- kano: `by`, `since`, `until`, `survey_id`, `feature` (repeatable), `min_n`, `format`, `lang`.
- experiments: `goal` (default "Order Completed"), `window_days` (a number of days above 0, at
  most 3650, default 7), `control`, `since`, `until`, `mde` (strictly between 0 and 1, default
  0.01), `format`, `lang`.
- detractors: `survey`, `days` (1-3650, default 30), `touchpoint`, `with_comment`
  (true, false), `limit` (1-1000, default 500), `format` (json, csv).

`format` is json (default), csv (text/csv, as a download), png or svg (the report's chart,
titled in `lang`: en or fr). JSON is strict: a missing figure (NaN) is null.

The role is checked before anything else. Aggregates are for every role (a viewer reads the
dashboards that show them); the detractors list names people (pseudonymous profile ids, their
comments) and is for admins and analysts. Reports are computed in a worker thread. A bad
parameter, or a report that cannot be computed as asked, is a 400 whose `field` names the
parameter: never a stack trace.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Principal, Role
from empreinte.errors import (
    AuthError,
    ChartError,
    DriverInputError,
    EmpreinteError,
    ExperimentInputError,
    InvalidInput,
)
from empreinte.web.auth import require
from empreinte.web.operation import JSON, ApiRoute, Operation, query
from empreinte.web.params import WINDOW, Choice, Flag, Number, Query, Text, Texts, Whole
from empreinte.web.responses import strict_json_response
from empreinte.workspace import Workspace

if TYPE_CHECKING:
    from empreinte.analytics.cx.answers import Kind
    from empreinte.analytics.cx.rendering import Report
    from empreinte.analytics.cx.scores import ScoreReport

# The analytics (Ibis, pandas, scipy, matplotlib) are imported when a report is first asked
# for, not when the app starts: the collector starts in a fraction of a second.

AGGREGATES = (Role.ADMIN, Role.ANALYST, Role.VIEWER)
PEOPLE = (Role.ADMIN, Role.ANALYST)

SURVEYS = ("nps", "csat", "ces")
KINDS = ("all", "relational", "transactional")
ANSWER_RULES = ("latest", "all")
LANGUAGES = ("en", "fr")
TABLES = ("json", "csv")
CHARTS = ("json", "csv", "png", "svg")
MAX_DAYS = 3650
MAX_BOOTSTRAP = 2000
MAX_PEOPLE = 1000
MAX_MIN_N = 1_000_000
DEFAULT_GOAL = "Order Completed"
PERIODS = ("week", "month", "quarter", "year")  # as analytics/attributes.py (checked again)

# Errors that are not about what the request asked (credentials), or that already name their
# parameter. Any other 4xx EmpreinteError of the analytics (AnalyticsError, ChartError,
# DriverInputError, ExperimentInputError) says the request cannot be answered.
_NOT_THE_REQUEST = (AuthError, InvalidInput)

_IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}

# -- what the routes declare (web/operation.py) ------------------------------------------------

_TAG = "cx"
PERIOD = Choice("period", PERIODS, "one figure per period", None)
BY = Text(
    "by",
    "one figure per value of an attribute: channel, touchpoint, country, generation, "
    "properties.<path>, traits.<path>… (free-text fields are refused)",
    None,
)
SURVEY_ID = Text("survey_id", "only the answers to this survey", None)
TOUCHPOINT = Text("touchpoint", "only the answers given at this touchpoint", None)
KIND = Choice("kind", KINDS, "relational, transactional or all surveys", "all")
SCALE = Choice("scale", ("5", "7"), "the CSAT scale", "5")
MIN_N = Whole("min_n", 1, MAX_MIN_N, "answers below which a figure is not shown", None)
ANSWERS = Choice("answers", ANSWER_RULES, "each person's latest answer, or all of them", None)
COMPARE = Text("compare", "two labels of the report, A,B: adds a significance test", None)
CHART_FORMAT = Choice("format", CHARTS, "JSON, CSV, or the report's chart", "json")
TABLE_FORMAT = Choice("format", TABLES, "JSON or CSV", "json")
LANG = Choice("lang", LANGUAGES, "the language of the chart", "en")
SURVEY = Choice("survey", SURVEYS, "the survey", "nps")
WINDOW_DAYS = Whole("window_days", 1, MAX_DAYS, "days of journey before each answer", 30)
BOOTSTRAP = Whole("bootstrap", 0, MAX_BOOTSTRAP, "bootstrap resamples of the shares", 200)
DAYS = Whole("days", 1, MAX_DAYS, "answers of the last days", 30)
WITH_COMMENT = Flag("with_comment", "only the answers with a comment", False)
PEOPLE_LIMIT = Whole("limit", 1, MAX_PEOPLE, "people per answer", 500)
FEATURES = Texts("feature", "only these features (repeatable)")
GOAL = Text("goal", "the conversion event", DEFAULT_GOAL)
EXPOSURE_DAYS = Number(
    "window_days", 0.0, MAX_DAYS, 7.0, f"a number of days above 0, at most {MAX_DAYS}"
)
CONTROL = Text("control", "the control variant", None)
MDE = Number(
    "mde", 0.0, 1.0, 0.01, "between 0 and 1, both excluded (0.01 = one point)", closed=False
)
_CHARTS = (JSON, "text/csv", "image/png", "image/svg+xml")
_SCORE = (PERIOD, BY, *WINDOW, SURVEY_ID, TOUCHPOINT, KIND, MIN_N, ANSWERS, COMPARE)


def _score_operation(survey: str) -> Operation:
    scale = (SCALE,) if survey == "csat" else ()
    return Operation(
        f"{survey.upper()} by period and/or attribute",
        _TAG,
        roles=AGGREGATES,
        params=(*_SCORE, *scale, CHART_FORMAT, LANG),
        media=_CHARTS,
        description="A viewer sees no figure of fewer answers than [cx] viewer_min_group.",
    )


DRIVERS = Operation(
    "What moves a score: journey features' shares of R²",
    _TAG,
    roles=AGGREGATES,
    params=(
        SURVEY,
        *WINDOW,
        SURVEY_ID,
        TOUCHPOINT,
        KIND,
        WINDOW_DAYS,
        BOOTSTRAP,
        CHART_FORMAT,
        LANG,
    ),
    media=_CHARTS,
)
DETRACTORS = Operation(
    "The unhappy respondents of the last days",
    _TAG,
    roles=PEOPLE,
    params=(SURVEY, DAYS, TOUCHPOINT, WITH_COMMENT, PEOPLE_LIMIT, TABLE_FORMAT),
    media=(JSON, "text/csv"),
)
KANO = Operation(
    "Kano categories and Better/Worse per feature",
    _TAG,
    roles=AGGREGATES,
    params=(BY, *WINDOW, SURVEY_ID, FEATURES, MIN_N, CHART_FORMAT, LANG),
    media=_CHARTS,
)
EXPERIMENT = Operation(
    "An A/B test: conversion per variant, and a verdict",
    _TAG,
    roles=AGGREGATES,
    params=(GOAL, EXPOSURE_DAYS, CONTROL, *WINDOW, MDE, CHART_FORMAT, LANG),
    media=_CHARTS,
    path_params={"name": "the experiment's name"},
)


@contextmanager
def blamed_on(field: str) -> Iterator[None]:
    """Errors of the analytics inside the block become a 400 on parameter `field`: those that
    are about the request but name no parameter (an unknown attribute, a label not in the
    report). Credentials, parameters already named and server-side errors pass through."""
    try:
        yield
    except EmpreinteError as exc:
        if isinstance(exc, _NOT_THE_REQUEST) or not exc.exposed:
            raise
        raise InvalidInput(field, str(exc)) from None


def _filename(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "report"


def csv_answer(rows: list[dict[str, Any]], stem: str) -> Response:
    from empreinte.analytics.cx.rendering import to_csv

    return Response(
        to_csv(rows),
        200,
        {"Content-Disposition": f'attachment; filename="{_filename(stem)}.csv"'},
        media_type="text/csv",
    )


def chart_answer(report: Report, fmt: str, language: str, stem: str) -> Response:
    """The chart of `report`, drawn to a private temporary file and sent."""
    from empreinte.analytics.cx.rendering import draw

    with tempfile.TemporaryDirectory(prefix="empreinte-chart-") as folder:
        path = Path(folder) / f"chart.{fmt}"
        with blamed_on("format"):
            try:
                draw(report, path, language=language)
            except ChartError as exc:
                if isinstance(exc.__cause__, OSError):
                    # The server's disk, not the request; the message names the file.
                    raise EmpreinteError("the chart could not be written") from exc
                raise
        data = path.read_bytes()
    return Response(
        data,
        200,
        {"Content-Disposition": f'inline; filename="{_filename(stem)}.{fmt}"'},
        media_type=_IMAGE_TYPES[fmt],
    )


def answer(
    report: Report,
    fmt: str,
    language: str,
    stem: str,
    body: Callable[[], dict[str, Any]],
    drawable: bool,
) -> Response:
    """The report as JSON (`body()`), CSV or a chart."""
    if fmt == "json":
        return strict_json_response(body())
    if fmt == "csv":
        return csv_answer(report.to_rows(), stem)
    if not drawable:
        raise InvalidInput(
            "format", "nothing to draw: the report is empty in this scope (ask for json or csv)"
        )
    return chart_answer(report, fmt, language, stem)


def _kind(value: str | None) -> Kind:
    return cast("Kind", value or "all")


# -- the routes ---------------------------------------------------------------------------------

Work = Callable[[Query, Principal], Response]  # the parameters, and who asks


class CxApi:
    """Routes of the CX reports of one workspace, behind API tokens."""

    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            *(
                ApiRoute(
                    f"/api/cx/{survey}", self._score_route(survey), "GET", _score_operation(survey)
                )
                for survey in SURVEYS
            ),
            ApiRoute("/api/cx/drivers", self.drivers, "GET", DRIVERS),
            ApiRoute("/api/cx/detractors", self.detractors, "GET", DETRACTORS),
            ApiRoute("/api/cx/kano", self.kano, "GET", KANO),
            ApiRoute("/api/cx/experiments/{name}", self.experiment, "GET", EXPERIMENT),
        ]

    def _viewer_min_group(self) -> int:
        from empreinte.analytics.cx.settings import CxSettings

        return CxSettings.from_mapping(self._ws.config.cx).viewer_min_group

    async def _guarded(self, request: Request, roles: tuple[Role, ...], work: Work) -> Response:
        """The role first (nothing is read before), then `work` in a worker thread. Errors
        answer through the app's handler (web/errors.py)."""
        who = require(request, self._ws.credentials, *roles)
        # Dates without an offset are read in the workspace's time zone.
        q = query(request, ZoneInfo(self._ws.config.timezone))
        return await run_in_threadpool(work, q, who)

    # -- NPS, CSAT, CES -------------------------------------------------------------------------

    def _score_route(self, survey: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            return await self._guarded(
                request, AGGREGATES, lambda q, who: self._score(survey, q, who)
            )

        endpoint.__name__ = survey
        return endpoint

    def _score(self, survey: str, q: Query, who: Principal) -> Response:
        period = q.get(PERIOD)
        by = q.get(BY)
        since, until = q.window()
        survey_id, touchpoint = q.get(SURVEY_ID), q.get(TOUCHPOINT)
        kind = _kind(q.get(KIND))
        # Only CSAT declares a scale: elsewhere `done()` refuses it.
        scale = int(q.get(SCALE)) if survey == "csat" else 5
        min_n = q.get(MIN_N)
        rule = q.get(ANSWERS)
        pair = _pair(q.get(COMPARE))
        fmt = q.get(CHART_FORMAT)
        language = q.get(LANG)
        q.done()
        # What is left for the analytics to refuse is the attribute.
        with blamed_on("by"):
            report = self._ws.cx.score(
                survey,
                period=period,
                by=by,
                since=since,
                until=until,
                survey_id=survey_id,
                touchpoint=touchpoint,
                kind=kind,
                scale=scale,
                min_n=min_n,
                answers=rule,
            )
        if who.role is Role.VIEWER:
            from empreinte.analytics.cx.disclosure import score_for_viewers

            report = score_for_viewers(report, self._viewer_min_group())
        comparison = None
        if pair is not None:
            with blamed_on("compare"):
                difference = report.compare(*pair)
            comparison = {
                "a": pair[0],
                "b": pair[1],
                "delta": difference.delta,
                "p_value": difference.p_value,
                "significant": difference.significant,
                "test": difference.test,
            }
        return answer(
            report,
            fmt,
            language,
            survey,
            lambda: _score_json(report, comparison),
            bool(report.rows),
        )

    # -- key drivers ----------------------------------------------------------------------------

    async def drivers(self, request: Request) -> Response:
        def work(q: Query, who: Principal) -> Response:
            survey = q.get(SURVEY)
            since, until = q.window()
            survey_id, touchpoint = q.get(SURVEY_ID), q.get(TOUCHPOINT)
            kind = _kind(q.get(KIND))
            window_days = q.get(WINDOW_DAYS)
            bootstrap = q.get(BOOTSTRAP)
            fmt = q.get(CHART_FORMAT)
            language = q.get(LANG)
            q.done()
            try:
                report = self._ws.cx.drivers(
                    survey,
                    since=since,
                    until=until,
                    survey_id=survey_id,
                    touchpoint=touchpoint,
                    kind=kind,
                    window_days=window_days,
                    bootstrap=bootstrap,
                )
            except DriverInputError as exc:
                # Too few answers in the scope, or scores that do not vary: no parameter is
                # wrong as such, the answers they select cannot be analysed.
                raise DriverInputError(f"no key drivers for these answers: {exc}") from None
            fit = report.drivers

            def body() -> dict[str, Any]:
                return {
                    "survey": report.survey,
                    "window_days": window_days,
                    "n": fit.n,
                    "r_squared": fit.r_squared,
                    "reliable": fit.reliable,
                    "without_consent": report.without_consent,
                    "drivers": report.to_rows(),
                }

            return answer(report, fmt, language, f"drivers-{survey}", body, bool(fit.drivers))

        return await self._guarded(request, AGGREGATES, work)

    # -- closed loop ----------------------------------------------------------------------------

    async def detractors(self, request: Request) -> Response:
        def work(q: Query, who: Principal) -> Response:
            survey = q.get(SURVEY)
            days = q.get(DAYS)
            touchpoint = q.get(TOUCHPOINT)
            with_comment = q.get(WITH_COMMENT)
            limit = q.get(PEOPLE_LIMIT)
            fmt = q.get(TABLE_FORMAT)
            q.done()
            people = self._ws.cx.detractors(
                survey, days=days, touchpoint=touchpoint, with_comment=with_comment, limit=limit
            )
            rows = [person.to_dict() for person in people]
            if fmt == "csv":
                return csv_answer(rows, f"detractors-{survey}")
            return strict_json_response({"survey": survey, "days": days, "people": rows})

        return await self._guarded(request, PEOPLE, work)

    # -- Kano -----------------------------------------------------------------------------------

    async def kano(self, request: Request) -> Response:
        def work(q: Query, who: Principal) -> Response:
            by = q.get(BY)
            since, until = q.window()
            survey_id = q.get(SURVEY_ID)
            features = q.get(FEATURES) or None
            min_n = q.get(MIN_N)
            fmt = q.get(CHART_FORMAT)
            language = q.get(LANG)
            q.done()
            if by is not None and fmt in _IMAGE_TYPES:
                # The Better-Worse chart places one population's features.
                raise InvalidInput("by", "a Kano chart shows everyone: drop by, or ask json/csv")
            with blamed_on("by"):
                report = self._ws.cx.kano(
                    by=by,
                    since=since,
                    until=until,
                    survey_id=survey_id,
                    features=features,
                    min_n=min_n,
                )
            if who.role is Role.VIEWER:
                from empreinte.analytics.cx.disclosure import kano_for_viewers

                report = kano_for_viewers(report, self._viewer_min_group())

            def body() -> dict[str, Any]:
                return {
                    "by": report.by,
                    "unreadable": report.unreadable,
                    "features": report.to_rows(),
                }

            return answer(report, fmt, language, "kano", body, bool(report.features))

        return await self._guarded(request, AGGREGATES, work)

    # -- experiments ----------------------------------------------------------------------------

    async def experiment(self, request: Request) -> Response:
        name = request.path_params["name"]

        def work(q: Query, who: Principal) -> Response:
            goal = q.get(GOAL)
            window_days = q.get(EXPOSURE_DAYS)
            control = q.get(CONTROL)
            since, until = q.window()
            mde = q.get(MDE)
            fmt = q.get(CHART_FORMAT)
            language = q.get(LANG)
            q.done()
            try:
                report = self._ws.cx.experiment(
                    name,
                    goal=goal,
                    window_days=window_days,
                    control=control,
                    since=since,
                    until=until,
                    mde=mde,
                )
            except ExperimentInputError as exc:
                # The counts come from the log and mde is checked above, so what is left to
                # refuse is a control that is not one of the variants.
                raise InvalidInput("control" if control else "name", str(exc)) from None
            except EmpreinteError as exc:
                if isinstance(exc, _NOT_THE_REQUEST) or not exc.exposed:
                    raise
                # AnalyticsError: no exposures, or a single variant to read.
                raise InvalidInput("name", str(exc)) from None
            return answer(report, fmt, language, f"experiment-{name}", report.to_dict, True)

        return await self._guarded(request, AGGREGATES, work)


def _pair(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    labels = [label.strip() for label in value.split(",")]
    if len(labels) != 2 or not all(labels):
        raise InvalidInput(
            "compare", f"give two labels as A,B (e.g. 2026-Q1,2026-Q2), got {value!r}"
        )
    return labels[0], labels[1]


def _score_json(report: ScoreReport, comparison: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "survey": report.survey,
        "headline": report.headline,
        "period": report.period,
        "by": report.by,
        "min_n": report.min_n,
        "n": report.n,
        "rows": report.to_rows(),
    }
    if comparison is not None:
        body["comparison"] = comparison
    return body
