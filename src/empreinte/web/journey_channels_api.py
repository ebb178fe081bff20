"""Omnichannel journeys over HTTP: classes, channel mix, ROPO and friction (analytics/journeys).

| route | who | what |
| --- | --- | --- |
| `GET /api/journeys/channels` | admin, analyst | omnichannel classes, or the channel mix (`view`) |
| `GET /api/journeys/ropo` | admin, analyst | ROPO or showrooming rates, per purchase and person |
| `GET /api/journeys/friction` | admin, analyst | calls after the web, repeated errors, drop-off |

Parameters (each route refuses the ones it does not declare):

- channels: `view` (classes, mix, combinations), `by` (a profile attribute), `since`, `until`,
  `journey_gap_days`, `continuity_days` (1-365, default 7), `format`, `lang`;
- ropo: `direction` (ropo, showrooming), `window_days` (above 0, at most 3650, default 7),
  `match` (a property path), `by`, `since`, `until`, `format`, `lang`;
- friction: `kind` (calls, errors, drop_off), `within_hours` (above 0, default 24), `chat`,
  `error_step` (repeatable), `min_errors` (1-1000, default 2), `funnel` (repeatable),
  `period`, `baseline` (others, previous), `alpha`, `since`, `until`, `format`, `lang`.

`format` is json (default), csv, or png/svg where a chart exists (classes, mix, ropo, calls).
Journeys link each person's actions: these reports are for analysts and admins, not viewers
(the issue's "analyst role"). Bad parameters and reports that cannot be computed as asked are
400s naming the parameter.
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

from empreinte.credentials import Principal, Role
from empreinte.errors import ChartError, EmpreinteError, InvalidInput
from empreinte.web.auth import require
from empreinte.web.cx_api import blamed_on, csv_answer
from empreinte.web.operation import JSON, ApiRoute, Operation, query
from empreinte.web.params import WINDOW, Choice, Flag, Number, Query, Text, Texts, Whole
from empreinte.web.responses import strict_json_response
from empreinte.workspace import Workspace

ANALYSTS = (Role.ADMIN, Role.ANALYST)
_TAG = "journeys"
_IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
_MEDIA = (JSON, "text/csv", "image/png", "image/svg+xml")
MAX_DAYS = 3650

FORMAT = Choice("format", ("json", "csv", "png", "svg"), "JSON, CSV, or a chart", "json")
LANG = Choice("lang", ("en", "fr"), "the language of the chart", "en")
VIEW = Choice(
    "view",
    ("classes", "mix", "combinations"),
    "classes, mix per channel or combinations",
    "classes",
)
PROFILE_BY = Text("by", "one figure per value of a profile attribute: country, generation…", None)
JOURNEY_GAP = Whole("journey_gap_days", 1, 365, "days without a touchpoint that end a journey", 7)
CONTINUITY = Whole("continuity_days", 1, 365, "most days between two channels of a thread", 7)
DIRECTION = Choice("direction", ("ropo", "showrooming"), "ROPO or its reverse", "ropo")
WINDOW_DAYS = Number(
    "window_days", 0.0, MAX_DAYS, 7.0, f"a number of days above 0, at most {MAX_DAYS}"
)
MATCH = Text("match", "only research with the purchase's value of this property", None)
PURCHASE_BY = Text("by", "a profile attribute or one of the purchase (channel…)", None)
KIND = Choice("kind", ("calls", "errors", "drop_off"), "which friction report", "calls")
WITHIN = Number("within_hours", 0.0, 24.0 * 365, 24.0, "hours above 0, at most a year")
CHAT = Flag("chat", "count chats as contacts too", False)
ERROR_STEPS = Texts("error_step", "an error step (repeatable)")
MIN_ERRORS = Whole("min_errors", 1, 1000, "errors in one session to count", 2)
FUNNEL = Texts("funnel", "a funnel step (repeatable)")
PERIOD = Choice("period", ("week", "month", "quarter", "year"), "the period compared", "week")
BASELINE = Choice("baseline", ("others", "previous"), "what a period is compared with", "others")
ALPHA = Number("alpha", 0.0, 1.0, 0.05, "between 0 and 1, both excluded", closed=False)

CHANNELS = Operation(
    "Omnichannel classes or the channel mix",
    _TAG,
    roles=ANALYSTS,
    params=(VIEW, PROFILE_BY, *WINDOW, JOURNEY_GAP, CONTINUITY, FORMAT, LANG),
    media=_MEDIA,
)
ROPO = Operation(
    "ROPO or showrooming rates",
    _TAG,
    roles=ANALYSTS,
    params=(DIRECTION, WINDOW_DAYS, MATCH, PURCHASE_BY, *WINDOW, FORMAT, LANG),
    media=_MEDIA,
)
FRICTION = Operation(
    "Friction: calls after the web, repeated errors, abnormal drop-off",
    _TAG,
    roles=ANALYSTS,
    params=(
        KIND,
        WITHIN,
        CHAT,
        ERROR_STEPS,
        MIN_ERRORS,
        FUNNEL,
        PERIOD,
        BASELINE,
        ALPHA,
        *WINDOW,
        FORMAT,
        LANG,
    ),
    media=_MEDIA,
)

Work = Callable[[Query, Principal], Response]


def _chart(draw: Callable[..., Path], report: Any, fmt: str, language: str, stem: str) -> Response:
    with tempfile.TemporaryDirectory(prefix="empreinte-chart-") as folder:
        path = Path(folder) / f"chart.{fmt}"
        with blamed_on("format"):
            try:
                draw(report, path, language)
            except ChartError as exc:
                if isinstance(exc.__cause__, OSError):
                    raise EmpreinteError("the chart could not be written") from exc
                raise
        data = path.read_bytes()
    return Response(
        data,
        200,
        {"Content-Disposition": f'inline; filename="{stem}.{fmt}"'},
        media_type=_IMAGE_TYPES[fmt],
    )


def _answer(
    rows: list[dict[str, Any]],
    body: Callable[[], dict[str, Any]],
    fmt: str,
    stem: str,
    chart: Callable[[], Response] | None,
) -> Response:
    if fmt == "json":
        return strict_json_response(body())
    if fmt == "csv":
        return csv_answer(rows, stem)
    if chart is None:
        raise InvalidInput("format", "this report has no chart: ask for json or csv")
    if not rows:
        raise InvalidInput("format", "nothing to draw: the report is empty in this scope")
    return chart()


class JourneyChannelsApi:
    """Routes of the omnichannel journey reports of one workspace."""

    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/journeys/channels", self.channels, "GET", CHANNELS),
            ApiRoute("/api/journeys/ropo", self.ropo, "GET", ROPO),
            ApiRoute("/api/journeys/friction", self.friction, "GET", FRICTION),
        ]

    async def _guarded(self, request: Request, work: Work) -> Response:
        who = require(request, self._ws.credentials, *ANALYSTS)
        q = query(request, ZoneInfo(self._ws.config.timezone))
        return await run_in_threadpool(work, q, who)

    def _scope(self, q: Query) -> Any:
        from empreinte.analytics.journeys.touchpoints import JourneyScope

        since, until = q.window()
        return JourneyScope(since=since, until=until)

    async def channels(self, request: Request) -> Response:
        def work(q: Query, who: Principal) -> Response:
            from empreinte.analytics.journeys import channel_charts as charts
            from empreinte.analytics.journeys.channels import (
                ChannelRules,
                channel_classes,
                channel_mix,
            )

            view, by = q.get(VIEW), q.get(PROFILE_BY)
            scope = self._scope(q)
            rules = ChannelRules(
                journey_gap=timedelta(days=q.get(JOURNEY_GAP)),
                continuity_window=timedelta(days=q.get(CONTINUITY)),
            )
            fmt, language = q.get(FORMAT), q.get(LANG)
            q.done()
            with blamed_on("by"), self._ws.analytics() as log:
                if view == "classes":
                    classes = channel_classes(log, scope, rules, by=by)
                else:
                    mix = channel_mix(log, scope, rules, by=by)
            if view == "classes":
                return _answer(
                    classes.to_rows(),
                    lambda: {
                        "by": by,
                        "people": classes.people,
                        "without_own_touchpoints": classes.without_own_touchpoints,
                        "rows": classes.to_rows(),
                    },
                    fmt,
                    "channel-classes",
                    lambda: _chart(charts.draw_classes, classes, fmt, language, "classes"),
                )
            rows = mix.combination_rows() if view == "combinations" else mix.to_rows()
            return _answer(
                rows,
                lambda: {
                    "by": by,
                    "people": mix.people,
                    "touchpoints": mix.touchpoints,
                    "channels": mix.to_rows(),
                    "combinations": mix.combination_rows(),
                },
                fmt,
                f"channel-{view}",
                lambda: _chart(charts.draw_mix, mix, fmt, language, "channel-mix"),
            )

        return await self._guarded(request, work)

    async def ropo(self, request: Request) -> Response:
        def work(q: Query, who: Principal) -> Response:
            from empreinte.analytics.journeys.channel_charts import draw_cross
            from empreinte.analytics.journeys.ropo import cross_channel_purchases, rule_for

            direction = q.get(DIRECTION)
            window = timedelta(days=q.get(WINDOW_DAYS))
            match, by = q.get(MATCH), q.get(PURCHASE_BY)
            scope = self._scope(q)
            fmt, language = q.get(FORMAT), q.get(LANG)
            q.done()
            with blamed_on("match"):
                rule = rule_for(direction, window, match)
            with blamed_on("by"), self._ws.analytics() as log:
                report = cross_channel_purchases(log, direction, by=by, scope=scope, rule=rule)
            return _answer(
                report.to_rows(),
                lambda: {
                    "direction": direction,
                    "window_days": window / timedelta(days=1),
                    "match": match,
                    "by": by,
                    "rows": report.to_rows(),
                },
                fmt,
                direction,
                lambda: _chart(draw_cross, report, fmt, language, direction),
            )

        return await self._guarded(request, work)

    async def friction(self, request: Request) -> Response:
        def work(q: Query, who: Principal) -> Response:
            from empreinte.analytics.journeys import friction
            from empreinte.analytics.journeys.channel_charts import draw_calls

            kind = q.get(KIND)
            within = timedelta(hours=q.get(WITHIN))
            chat = q.get(CHAT)
            error_steps = q.get(ERROR_STEPS) or list(friction.ERROR_STEPS)
            min_errors = q.get(MIN_ERRORS)
            funnel = q.get(FUNNEL) or None
            period, baseline, alpha = q.get(PERIOD), q.get(BASELINE), q.get(ALPHA)
            scope = self._scope(q)
            fmt, language = q.get(FORMAT), q.get(LANG)
            q.done()
            if kind == "calls":
                steps = ("Call Started", "Chat Started") if chat else ("Call Started",)
                channels = ("phone", "chat") if chat else ("phone",)
                with self._ws.analytics() as log:
                    calls = friction.called_after_web(
                        log,
                        scope,
                        within=within,
                        contact_steps=steps,
                        contact_channels=channels,
                    )
                return _answer(
                    calls.to_rows(),
                    lambda: {
                        "within_hours": within / timedelta(hours=1),
                        "contacts": calls.contacts,
                        "after_web": calls.after_web,
                        "share": calls.share,
                        "share_low": calls.share_low,
                        "share_high": calls.share_high,
                        "people": calls.people,
                        "people_after_web": calls.people_after_web,
                        "sessions": calls.sessions,
                        "ranking": calls.to_rows(),
                    },
                    fmt,
                    "called-after-web",
                    lambda: _chart(draw_calls, calls, fmt, language, "called-after-web"),
                )
            if kind == "errors":
                with blamed_on("error_step"), self._ws.analytics() as log:
                    errors = friction.repeated_errors(
                        log, scope, error_steps=error_steps, min_errors=min_errors
                    )
                return _answer(
                    errors.to_rows(),
                    lambda: {
                        "error_steps": list(errors.error_steps),
                        "min_errors": errors.min_errors,
                        "people_with_errors": errors.people_with_errors,
                        "people_repeated": errors.people_repeated,
                        "sessions_with_errors": errors.sessions_with_errors,
                        "sessions_repeated": errors.sessions_repeated,
                        "rows": errors.to_rows(),
                    },
                    fmt,
                    "repeated-errors",
                    None,
                )
            with blamed_on("funnel"), self._ws.analytics() as log:
                drops = friction.drop_off(
                    log, scope, funnel=funnel, period=period, baseline=baseline, alpha=alpha
                )
            return _answer(
                drops.to_rows(),
                lambda: {
                    "funnel": funnel,
                    "period": period,
                    "baseline": baseline,
                    "alpha": alpha,
                    "abnormal": [dict(r.__dict__) for r in drops.abnormal()],
                    "rows": drops.to_rows(),
                },
                fmt,
                "drop-off",
                None,
            )

        return await self._guarded(request, work)
