"""RFM and customer value over HTTP: `GET /api/know/rfm`, `GET /api/know/clv` (admin,
analyst).

    GET /api/know/rfm?at=2026-04-01&by=generation&format=json
    GET /api/know/rfm?format=png&lang=fr                    # the RFM grid as a heat map
    GET /api/know/clv?calibration_end=2026-03-31&holdout_end=2026-06-30&top=50
    GET /api/know/clv?format=csv                            # every customer's scores

RFM parameters: `at` (reference; default the day after the latest order), `since`,
`currency` (default the most frequent), `by` (a profile attribute), `format` (json, csv,
png, svg), `lang`. CLV parameters: `calibration_end`, `holdout_end` (dates), `unit` (week,
day, month), `since`, `currency`, `horizon` (months), `discount` (monthly rate), `top` (the
customers of highest CLV listed in JSON), `format` (json, csv: every customer; png, svg: the
holdout chart), `lang`. Both profile people (scores per pseudonymous profile id), so they are
for admins and analysts; only people who allow analytics are read, and the CLV models score
only people who allow profiling (docs/value.md).
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
from empreinte.web.params import Choice, Number, Query, Text, Time, Whole
from empreinte.web.responses import strict_json_response
from empreinte.workspace import Workspace

ROLES = (Role.ADMIN, Role.ANALYST)
_IMAGES = {"png": "image/png", "svg": "image/svg+xml"}

AT = Time("at", "the reference moment (default: the day after the latest order)")
SINCE = Time("since", "orders from this date or date-time on (inclusive)")
CURRENCY = Text("currency", "orders in this currency only (default: the most frequent)", None)
BY = Text("by", "breakdown: generation, country, preferred_channel, traits.<key>", None)
FORMAT = Choice("format", ("json", "csv", "png", "svg"), "JSON, CSV or the chart", "json")
LANG = Choice("lang", ("en", "fr"), "the language of the chart", "en")
CALIBRATION_END = Time("calibration_end", "last day of the calibration (default: latest order)")
HOLDOUT_END = Time("holdout_end", "last day of a holdout period, to check the predictions")
UNIT = Choice("unit", ("week", "day", "month"), "the models' time unit", "week")
HORIZON = Whole("horizon", 1, 120, "CLV horizon in months", 12)
DISCOUNT = Number("discount", -1.0, 1.0, 0.01, "a monthly discount rate below 1", closed=False)
TOP = Whole("top", 1, 100_000, "the customers of highest CLV listed", 100)

RFM = Operation(
    "RFM scores and named segments: sizes, shares, revenue, by a profile attribute",
    "know",
    roles=ROLES,
    params=(AT, SINCE, CURRENCY, BY, FORMAT, LANG),
    media=(JSON, "text/csv", "image/png", "image/svg+xml"),
)
CLV = Operation(
    "Customer lifetime value (BG/NBD + Gamma-Gamma): fit, holdout check, top customers",
    "know",
    roles=ROLES,
    params=(
        CALIBRATION_END,
        HOLDOUT_END,
        UNIT,
        SINCE,
        CURRENCY,
        HORIZON,
        DISCOUNT,
        TOP,
        FORMAT,
        LANG,
    ),
    media=(JSON, "text/csv", "image/png", "image/svg+xml"),
)


class KnowValueApi:
    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/know/rfm", self.rfm, "GET", RFM),
            ApiRoute("/api/know/clv", self.clv, "GET", CLV),
        ]

    async def rfm(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        q = query(request, ZoneInfo(self._ws.config.timezone))
        return await run_in_threadpool(self._rfm, q)

    async def clv(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ROLES)
        q = query(request, ZoneInfo(self._ws.config.timezone))
        return await run_in_threadpool(self._clv, q)

    def _rfm(self, q: Query) -> Response:
        at, since, currency, by = q.get(AT), q.get(SINCE), q.get(CURRENCY), q.get(BY)
        fmt, language = q.get(FORMAT), q.get(LANG)
        q.done()
        with blamed_on("by" if by is not None else "currency"):
            report = self._ws.know.rfm(at=at, since=since, currency=currency, by=by)
        rows = report.to_rows()
        if fmt == "csv":
            return csv_answer(rows, "rfm")
        if fmt in _IMAGES:
            from empreinte.analytics.know.value_charts import rfm_grid_chart

            with tempfile.TemporaryDirectory(prefix="empreinte-chart-") as folder:
                path = rfm_grid_chart(report, Path(folder) / f"rfm.{fmt}", language=language)
                return Response(path.read_bytes(), media_type=_IMAGES[fmt])
        return strict_json_response(
            {
                "reference": report.reference.isoformat(),
                "currency": report.currency,
                "excluded_orders": report.excluded_orders,
                "customers": len(report.customers),
                "by": by,
                "rows": rows,
            }
        )

    def _clv(self, q: Query) -> Response:
        calibration_end, holdout_end = q.get(CALIBRATION_END), q.get(HOLDOUT_END)
        options: dict[str, Any] = {
            "calibration_end": None if calibration_end is None else calibration_end.date(),
            "holdout_end": None if holdout_end is None else holdout_end.date(),
            "unit": q.get(UNIT),
            "since": q.get(SINCE),
            "currency": q.get(CURRENCY),
            "horizon_months": q.get(HORIZON),
            "discount_rate": q.get(DISCOUNT),
        }
        top, fmt, language = q.get(TOP), q.get(FORMAT), q.get(LANG)
        q.done()
        if fmt in _IMAGES and holdout_end is None:
            raise InvalidInput("format", "the holdout chart needs holdout_end")
        with blamed_on("calibration_end"):
            report = self._ws.know.clv(**options)
        if fmt == "csv":
            return csv_answer(report.to_rows(), "clv")
        if fmt in _IMAGES:
            from empreinte.analytics.know.value_charts import holdout_chart

            with tempfile.TemporaryDirectory(prefix="empreinte-chart-") as folder:
                path = holdout_chart(report, Path(folder) / f"clv.{fmt}", language=language)
                return Response(path.read_bytes(), media_type=_IMAGES[fmt])
        return strict_json_response({**report.diagnostics(), "top": report.to_rows()[:top]})
