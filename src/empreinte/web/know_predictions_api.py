"""Predictions and who the customers are, over HTTP (analysts and admins; viewers 403):

    GET  /api/know/churn?horizon=90d&top=20&format=json|csv|png|svg&lang=en
    GET  /api/know/generations?format=json|csv
    GET  /api/know/icp?industry=technology&employees=10-200&country=FR&format=json|csv
    POST /api/know/predict {"only": ["churn_risk"]}     # admins: it writes computed traits

`churn` answers the evaluation (AUC, Brier, base rates, calibration by decile, against a
recency-only baseline) and the `top` highest risks (pseudonymous profile ids); as CSV, everyone's
risk; as an image, the calibration chart. `icp` reads `[icp]` from empreinte.toml unless
criteria are given. Only people who allow analytics (and profiling, for churn) are read;
docs/predictions.md has the rules.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Role
from empreinte.errors import InvalidInput
from empreinte.web.auth import require
from empreinte.web.cx_api import blamed_on, csv_answer
from empreinte.web.operation import JSON, ApiRoute, Operation, query
from empreinte.web.params import Choice, Query, Text, Texts, Whole, check_fields, json_object
from empreinte.web.responses import json_response, strict_json_response
from empreinte.workspace import Workspace

READERS = (Role.ADMIN, Role.ANALYST)
ADMIN = (Role.ADMIN,)
_IMAGES = {"png": "image/png", "svg": "image/svg+xml"}
_TAG = "know"

HORIZON = Text("horizon", "no order within this long: 90d, 60d, 8w", "90d")
TOP = Whole("top", 0, 100_000, "the highest risks listed", 20)
CHURN_FORMAT = Choice(
    "format", ("json", "csv", "png", "svg"), "JSON, CSV (everyone) or the calibration chart", "json"
)
TABLE_FORMAT = Choice("format", ("json", "csv"), "JSON or CSV", "json")
LANG = Choice("lang", ("en", "fr"), "the language of the chart", "en")
INDUSTRY = Texts("industry", "an ideal industry (repeat); default: [icp] of empreinte.toml")
EMPLOYEES = Text("employees", "the ideal head count, e.g. 10-200", None)
COUNTRY = Texts("country", "an ideal country (repeat)")

CHURN = Operation(
    "Churn risk: the model's evaluation in time and the highest risks",
    _TAG,
    roles=READERS,
    params=(HORIZON, TOP, CHURN_FORMAT, LANG),
    media=(JSON, "text/csv", "image/png", "image/svg+xml"),
)
GENERATIONS = Operation(
    "The customer base by generation: people, share, ages, customers, revenue, NPS",
    _TAG,
    roles=READERS,
    params=(TABLE_FORMAT,),
    media=(JSON, "text/csv"),
)
ICP = Operation(
    "B2B accounts by fit to the ideal customer profile, with reasons and engagement",
    _TAG,
    roles=READERS,
    params=(INDUSTRY, EMPLOYEES, COUNTRY, TABLE_FORMAT),
    media=(JSON, "text/csv"),
)
PREDICT = Operation(
    "Run the model scorers and store their computed traits (churn risk…)",
    _TAG,
    roles=ADMIN,
    body={
        "type": "object",
        "properties": {"only": {"type": "array", "items": {"type": "string"}}},
        "additionalProperties": False,
    },
    body_required=False,
)


class KnowPredictionsApi:
    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/know/churn", self.churn, "GET", CHURN),
            ApiRoute("/api/know/generations", self.generations, "GET", GENERATIONS),
            ApiRoute("/api/know/icp", self.icp, "GET", ICP),
            ApiRoute("/api/know/predict", self.predict, "POST", PREDICT),
        ]

    def _query(self, request: Request) -> Query:
        require(request, self._ws.credentials, *READERS)
        return query(request, ZoneInfo(self._ws.config.timezone))

    async def churn(self, request: Request) -> Response:
        return await run_in_threadpool(self._churn, self._query(request))

    def _churn(self, q: Query) -> Response:
        horizon, top, fmt, language = q.get(HORIZON), q.get(TOP), q.get(CHURN_FORMAT), q.get(LANG)
        q.done()
        with blamed_on("horizon"):
            report = self._ws.know.churn(horizon)
        if fmt == "csv":
            return csv_answer(report.to_rows(), "churn-risk")
        if fmt in _IMAGES:
            from empreinte.analytics.know.churn_chart import calibration_chart

            with tempfile.TemporaryDirectory(prefix="empreinte-chart-") as folder:
                path = Path(folder) / f"churn-calibration.{fmt}"
                calibration_chart(report, path, language=language)
                return Response(path.read_bytes(), media_type=_IMAGES[fmt])
        return strict_json_response(
            {
                **report.summary(),
                "features": list(report.features),
                "calibration": report.calibration_rows(),
                "top": report.to_rows()[:top],
            }
        )

    async def generations(self, request: Request) -> Response:
        return await run_in_threadpool(self._generations, self._query(request))

    def _generations(self, q: Query) -> Response:
        fmt = q.get(TABLE_FORMAT)
        q.done()
        report = self._ws.know.generations()
        if fmt == "csv":
            return csv_answer(report.to_rows(), "generations")
        return strict_json_response({"year": report.year, "rows": report.to_rows()})

    async def icp(self, request: Request) -> Response:
        return await run_in_threadpool(self._icp, self._query(request))

    def _icp(self, q: Query) -> Response:
        industries, countries = q.get(INDUSTRY), q.get(COUNTRY)
        employees_text, fmt = q.get(EMPLOYEES), q.get(TABLE_FORMAT)
        q.done()
        employees = None
        if employees_text is not None:
            low, _, high = employees_text.partition("-")
            if not (low.isdigit() and high.isdigit()):
                raise InvalidInput("employees", "write a range such as 10-200")
            employees = (int(low), int(high))
        with blamed_on("industry"):
            report = self._ws.know.icp(
                industries=industries, employees=employees, countries=countries
            )
        if fmt == "csv":
            return csv_answer(report.to_rows(), "icp")
        profile = report.profile
        return strict_json_response(
            {
                "profile": {
                    "industries": list(profile.industries),
                    "employees": None if profile.employees is None else list(profile.employees),
                    "countries": list(profile.countries),
                    "weights": {c: profile.weight(c) for c in profile.stated},
                },
                "accounts": report.to_rows(),
            }
        )

    async def predict(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ADMIN)
        query(request).done()
        body = await json_object(request, empty=True)
        check_fields(body, {"only"})
        only = body.get("only")
        if only is not None and (
            not isinstance(only, list) or not all(isinstance(n, str) for n in only)
        ):
            raise InvalidInput("only", 'a list of scorer names, e.g. ["churn_risk"]')

        def work() -> dict[str, Any]:
            with blamed_on("only"):
                return self._ws.predict(only).to_json()

        return json_response(200, await run_in_threadpool(work))
