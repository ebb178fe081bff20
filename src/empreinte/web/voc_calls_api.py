"""The journeys before calls over HTTP (voc/call_journeys.py; rules in docs/voc-journeys.md).

| route (admin, analyst) | what |
| --- | --- |
| `GET /api/voc/calls/reasons` | per reason: calls, linked, errors, abandons; top pages, steps |
| `GET /api/voc/calls/avoidable` | calls whose answer page (`[voc.answers]`) was not reached |
| `GET /api/voc/calls/pages` | the called-after-the-web rate per page |
| `GET /api/voc/calls/repeats` | per reason, calls followed by another within `days` |

Parameters: `hours` (1-720, default `[voc.calls] hours`), `reason`, `since`, `until`,
`format` (json, csv); `top` (1-100, default 10) on reasons, `days` (1-90, default
`[voc.calls] repeat_days`) on repeats. Linking calls to journeys links a person's actions:
analysts and admins only, as the journey reports; every answer is an aggregate (no call, no
person). Bad parameters are 400s naming the parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Role
from empreinte.web.auth import require
from empreinte.web.cx_api import blamed_on, csv_answer
from empreinte.web.operation import JSON, ApiRoute, Operation, query
from empreinte.web.params import WINDOW, Choice, Query, Text, Whole
from empreinte.web.responses import strict_json_response
from empreinte.workspace import Workspace

ANALYSTS = (Role.ADMIN, Role.ANALYST)
_TAG = "voc"
_MEDIA = (JSON, "text/csv")

FORMAT = Choice("format", ("json", "csv"), "JSON or CSV", "json")
HOURS = Whole("hours", 1, 720, "web/app sessions in these hours before a call ([voc.calls])", None)
REASON = Text("reason", "only calls of this reason for calling", None)
TOP = Whole("top", 1, 100, "pages and steps per reason", 10)
DAYS = Whole("days", 1, 90, "a repeated call: within these days ([voc.calls] repeat_days)", None)
_SCOPE = (HOURS, REASON, *WINDOW, FORMAT)

_ROWS = {"type": "array", "items": {"type": "object"}}


def _answer(required: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {"window_hours": {"type": "integer"}, **required},
    }


_NUMBER = {"type": ["number", "null"]}
_COUNT = {"type": "integer"}
REASONS = Operation(
    "Per reason for calling: calls linked to a web/app session, errors, abandoned checkouts,"
    " and the top pages and steps seen before the calls",
    _TAG,
    roles=ANALYSTS,
    params=(*_SCOPE, TOP),
    media=_MEDIA,
    answer=_answer(
        {
            "calls": _COUNT,
            "linked": _COUNT,
            "with_errors": _COUNT,
            "checkout_abandoned": _COUNT,
            "reasons": _ROWS,
            "seen": _ROWS,
        }
    ),
)
AVOIDABLE = Operation(
    "Calls that could have been avoided: the answer was on a page the caller did not reach",
    _TAG,
    roles=ANALYSTS,
    params=_SCOPE,
    media=_MEDIA,
    answer=_answer(
        {"calls": _COUNT, "linked": _COUNT, "avoidable": _COUNT, "share": _NUMBER, "rows": _ROWS}
    ),
)
PAGES = Operation(
    "Called after the web: per page, the share of the sessions that viewed it followed by a call",
    _TAG,
    roles=ANALYSTS,
    params=_SCOPE,
    media=_MEDIA,
    answer=_answer({"sessions": _COUNT, "called": _COUNT, "rows": _ROWS}),
)
REPEATS = Operation(
    "Repeated calls per reason: the processes that make people call twice",
    _TAG,
    roles=ANALYSTS,
    params=(*_SCOPE, DAYS),
    media=_MEDIA,
    answer=_answer(
        {"days": _COUNT, "calls": _COUNT, "repeated": _COUNT, "rate": _NUMBER, "rows": _ROWS}
    ),
)

Work = Callable[[Query], Response]


class VocCallsApi:
    """Routes of the journeys before calls of one workspace."""

    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/voc/calls/reasons", self.reasons, "GET", REASONS),
            ApiRoute("/api/voc/calls/avoidable", self.avoidable, "GET", AVOIDABLE),
            ApiRoute("/api/voc/calls/pages", self.pages, "GET", PAGES),
            ApiRoute("/api/voc/calls/repeats", self.repeats, "GET", REPEATS),
        ]

    async def _guarded(self, request: Request, work: Work) -> Response:
        require(request, self._ws.credentials, *ANALYSTS)
        q = query(request, ZoneInfo(self._ws.config.timezone))
        return await run_in_threadpool(work, q)

    def _journeys(self, q: Query) -> tuple[Any, dict[str, Any], int]:
        """(the CallJourneys, the scope's keywords, the window in hours)."""
        from empreinte.voc.call_journeys import CallJourneys

        journeys = CallJourneys.of(self._ws)
        since, until = q.window()
        hours = q.get(HOURS)
        scope: dict[str, Any] = {
            "hours": hours,
            "reason": q.get(REASON),
            "since": since,
            "until": until,
        }
        with blamed_on("reason"):
            journeys.scope(**scope)  # the scope's own checks, before any query
        return journeys, scope, journeys.settings.hours if hours is None else hours

    @staticmethod
    def _reply(fmt: str, rows: list[dict[str, Any]], body: dict[str, Any], stem: str) -> Response:
        return csv_answer(rows, stem) if fmt == "csv" else strict_json_response(body)

    async def reasons(self, request: Request) -> Response:
        def work(q: Query) -> Response:
            journeys, scope, hours = self._journeys(q)
            top, fmt = q.get(TOP), q.get(FORMAT)
            q.done()
            report = journeys.before(top=top, **scope)
            body = {
                "window_hours": hours,
                "calls": report.calls,
                "linked": report.linked,
                "with_errors": report.with_errors,
                "checkout_abandoned": report.checkout_abandoned,
                "reasons": report.reason_rows(),
                "seen": report.to_rows(),
            }
            return self._reply(fmt, report.reason_rows(), body, "calls-reasons")

        return await self._guarded(request, work)

    async def avoidable(self, request: Request) -> Response:
        def work(q: Query) -> Response:
            journeys, scope, hours = self._journeys(q)
            fmt = q.get(FORMAT)
            q.done()
            report = journeys.avoidable(**scope)
            body = {
                "window_hours": hours,
                "calls": report.calls,
                "linked": report.linked,
                "avoidable": report.avoidable,
                "share": report.share,
                "rows": report.to_rows(),
            }
            return self._reply(fmt, report.to_rows(), body, "calls-avoidable")

        return await self._guarded(request, work)

    async def pages(self, request: Request) -> Response:
        def work(q: Query) -> Response:
            journeys, scope, hours = self._journeys(q)
            fmt = q.get(FORMAT)
            q.done()
            report = journeys.pages(**scope)
            body = {
                "window_hours": hours,
                "sessions": report.sessions,
                "called": report.called,
                "rows": report.to_rows(),
            }
            return self._reply(fmt, report.to_rows(), body, "calls-pages")

        return await self._guarded(request, work)

    async def repeats(self, request: Request) -> Response:
        def work(q: Query) -> Response:
            journeys, scope, hours = self._journeys(q)
            days, fmt = q.get(DAYS), q.get(FORMAT)
            q.done()
            report = journeys.repeats(days=days, **scope)
            body = {
                "window_hours": hours,
                "days": report.days,
                "calls": report.calls,
                "repeated": report.repeated,
                "rate": report.rate,
                "rows": report.to_rows(),
            }
            return self._reply(fmt, report.to_rows(), body, "calls-repeats")

        return await self._guarded(request, work)
