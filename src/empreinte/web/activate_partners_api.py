"""Partner insights over HTTP (admins, analysts and viewers).

    GET /api/partners/brands?since=&until=&k=            brands with at least k buyers
    GET /api/partners/report?brand=Apple&by=generation&since=2025-01-01&until=2026-01-01
        &k=10&format=json|csv|parquet&lang=en|fr

The report is made to leave the company: no cell of fewer than k people, none recoverable
from the others (docs/partners.md). So viewers read it too, under the API's small-group rule
for viewers: no figure of fewer than `[cx] viewer_min_group` people — their k is at least
that (a smaller `k` asked by a viewer is refused, naming `k`).
"""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Principal, Role
from empreinte.errors import InvalidInput
from empreinte.web.auth import require
from empreinte.web.cx_api import _filename
from empreinte.web.operation import JSON, ApiRoute, Operation, query
from empreinte.web.params import Choice, Query, Text, Time, Whole
from empreinte.web.responses import strict_json_response
from empreinte.workspace import Workspace

ROLES = (Role.ADMIN, Role.ANALYST, Role.VIEWER)
_TAG = "partners"
PARQUET = "application/vnd.apache.parquet"

BRAND = Text("brand", "the brand (any case), one of GET /api/partners/brands", None)
BY = Choice("by", ("generation", "country", "city"), "breakdown of the customer base", None)
SINCE = Time("since", "orders from this date or date-time on (inclusive)")
UNTIL = Time("until", "orders before this date or date-time (exclusive)")
K = Whole("k", 1, 10_000, "minimum people per cell (at least [partners] k)", None)
FORMAT = Choice("format", ("json", "csv", "parquet"), "JSON, CSV or Parquet", "json")
LANG = Choice("lang", ("en", "fr"), "the CSV's headers and words", "en")

BRANDS = Operation(
    "Brands bought by at least k people in the period",
    _TAG,
    roles=ROLES,
    params=(SINCE, UNTIL, K),
)
REPORT = Operation(
    "A brand's penetration, repeat rate, share of wallet and switching per category, by "
    "generation, country or city; no cell below k (suppressed cells marked)",
    _TAG,
    roles=ROLES,
    params=(BRAND, BY, SINCE, UNTIL, K, FORMAT, LANG),
    media=(JSON, "text/csv", PARQUET),
)


class PartnersApi:
    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/partners/brands", self.brands, "GET", BRANDS),
            ApiRoute("/api/partners/report", self.report, "GET", REPORT),
        ]

    def _k(self, who: Principal, asked: int | None) -> int | None:
        """The k of this caller: a viewer's is at least `[cx] viewer_min_group`."""
        if who.role is not Role.VIEWER:
            return asked
        from empreinte.analytics.cx.settings import CxSettings

        floor = CxSettings.from_mapping(self._ws.config.cx).viewer_min_group
        if asked is None:
            return max(floor, self._ws.partners.settings.k)
        if asked < floor:
            raise InvalidInput("k", f"viewers see no cell of fewer than {floor} people")
        return asked

    async def brands(self, request: Request) -> Response:
        who = require(request, self._ws.credentials, *ROLES)
        q = query(request, ZoneInfo(self._ws.config.timezone))
        return await run_in_threadpool(self._brands, who, q)

    async def report(self, request: Request) -> Response:
        who = require(request, self._ws.credentials, *ROLES)
        q = query(request, ZoneInfo(self._ws.config.timezone))
        return await run_in_threadpool(self._report, who, q)

    def _brands(self, who: Principal, q: Query) -> Response:
        since, until, k = q.get(SINCE), q.get(UNTIL), q.get(K)
        q.done()
        found = self._ws.partners.brands(since=since, until=until, k=self._k(who, k))
        return strict_json_response({"k": found.k, "brands": found.to_rows()})

    def _report(self, who: Principal, q: Query) -> Response:
        brand, by, since, until = q.get(BRAND), q.get(BY), q.get(SINCE), q.get(UNTIL)
        k, fmt, lang = q.get(K), q.get(FORMAT), q.get(LANG)
        q.done()
        if brand is None:
            raise InvalidInput("brand", "is required (see GET /api/partners/brands)")
        found = self._ws.partners.report(brand, by=by, since=since, until=until, k=self._k(who, k))
        name = _filename(f"{found.brand}-partners")
        if fmt == "csv":
            return Response(
                found.to_csv(lang),
                200,
                {"Content-Disposition": f'attachment; filename="{name}.csv"'},
                media_type="text/csv",
            )
        if fmt == "parquet":
            import pyarrow.parquet as pq

            buffer = io.BytesIO()
            pq.write_table(found.to_arrow(), buffer)
            return Response(
                buffer.getvalue(),
                200,
                {"Content-Disposition": f'attachment; filename="{name}.parquet"'},
                media_type=PARQUET,
            )
        return strict_json_response(found.to_json())
