"""The voice of the customer over HTTP (voc/service.py).

| route | who | what |
| --- | --- | --- |
| `GET /api/voc/texts` | admin, analyst | analysed texts, newest first, filtered, paged |
| `GET /api/voc/texts/{seq}` | admin, analyst | one text turn by turn (redacted as stored) |
| `GET /api/voc/topics` | every role | topics: label, terms, texts, merge |
| `PATCH /api/voc/topics/{topic_id}` | admin, analyst | `{"label"?, "merged_into"?}` (null undoes) |
| `GET /api/voc/topics/trend` | every role | texts per topic per period |
| `GET /api/voc/reasons` | every role | conversations per reason, and per period |
| `GET /api/voc/quality` | admin, analyst | per reason: FCR, length, silence, overtalk |
| `GET /api/voc/agents` | admin | per agent: contacts, length, sentiment change, FCR |
| `POST /api/voc/refresh` | admin | analyse the texts logged since the last refresh |

`VocRefresher` analyses new texts every minute in `empreinte serve` (a background thread, as
the segment scheduler); `POST /api/voc/refresh` and `empreinte voc refresh` do it on demand.

Texts are the customers' own words, redacted at ingestion: analysts read them (never raw
personal data), viewers see aggregates only. Agent-level figures are for coaching, by admins.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from empreinte.credentials import Role
from empreinte.errors import InvalidInput
from empreinte.web.auth import require
from empreinte.web.background import BackgroundLoop
from empreinte.web.operation import ApiRoute, Operation, query
from empreinte.web.params import Choice, Text, Whole, check_fields, json_object
from empreinte.web.responses import json_response
from empreinte.workspace import Workspace

log = logging.getLogger(__name__)

ANALYSTS = (Role.ADMIN, Role.ANALYST)
EVERYONE = tuple(Role)
_TAG = "voc"
_MAX_ID = 2**62

KIND = Choice("kind", ("call", "chat", "survey", "review"), "only texts of this kind", None)
REASON = Text("reason", "only conversations of this reason", None)
TOPIC = Whole("topic", 0, _MAX_ID, "only texts of this topic (merges followed)", None)
LANGUAGE = Choice("language", ("fr", "en"), "only texts in this language", None)
SENTIMENT = Choice(
    "sentiment", ("negative", "neutral", "positive"), "only texts of this sentiment", None
)
LIMIT = Whole("limit", 1, 1000, "at most this many", 50)
OFFSET = Whole("offset", 0, 1_000_000, "skip this many", 0)
PERIOD = Choice("period", ("day", "week", "month", "quarter", "year"), "the period", "week")

_NUMBER = {"type": ["number", "null"]}
_TEXT_ROW = {
    "type": "object",
    "properties": {
        "seq": {"type": "integer"},
        "kind": {"type": "string"},
        "sentiment": _NUMBER,
        "reason": {"type": ["string", "null"]},
        "topics": {"type": "array"},
    },
    "required": ["seq", "kind", "topics"],
}
TEXTS = Operation(
    "Analysed texts (conversations, verbatims), newest first",
    _TAG,
    roles=ANALYSTS,
    params=(KIND, REASON, TOPIC, LANGUAGE, SENTIMENT, LIMIT, OFFSET),
    answer={
        "type": "object",
        "properties": {
            "total": {"type": "integer"},
            "texts": {"type": "array", "items": _TEXT_ROW},
        },
        "required": ["total", "texts"],
    },
)
TEXT = Operation(
    "One text turn by turn, with each turn's sentiment (redacted as stored)",
    _TAG,
    roles=ANALYSTS,
    errors=(400, 404),
    path_params={"seq": "the text's event seq"},
    answer={
        "type": "object",
        "properties": {**_TEXT_ROW["properties"], "turns": {"type": "array"}},  # type: ignore[dict-item]
        "required": ["seq", "kind", "turns"],
    },
)
TOPICS = Operation(
    "Topics found in the texts (NMF): label, top terms, texts, merge",
    _TAG,
    roles=EVERYONE,
    answer={
        "type": "object",
        "properties": {"topics": {"type": "array"}},
        "required": ["topics"],
    },
)
TOPIC_BODY = {
    "type": "object",
    "properties": {
        "label": {"type": ["string", "null"], "description": "a name (null: its top terms)"},
        "merged_into": {
            "type": ["integer", "null"],
            "description": "count it as this topic (null: its own)",
        },
    },
    "minProperties": 1,
    "additionalProperties": False,
}
RENAME = Operation(
    "Name a topic or merge it into another",
    _TAG,
    roles=ANALYSTS,
    body=TOPIC_BODY,
    errors=(404,),
    path_params={"topic_id": "the topic's id"},
)
TOPIC_TREND = Operation(
    "Texts per topic per period, with mean sentiment", _TAG, roles=EVERYONE, params=(PERIOD,)
)
REASONS = Operation(
    "Conversations per reason for calling, and per period", _TAG, roles=EVERYONE, params=(PERIOD,)
)
QUALITY = Operation(
    "Per reason: contacts, first-contact resolution, length, silence, overtalk",
    _TAG,
    roles=ANALYSTS,
)
AGENTS = Operation(
    "Per agent: contacts, mean length, customer sentiment end − start, FCR (admins)",
    _TAG,
    roles=(Role.ADMIN,),
)
REFRESH = Operation(
    "Analyse the texts written to the log since the last refresh",
    _TAG,
    roles=(Role.ADMIN,),
    body={
        "type": "object",
        "properties": {"refit": {"type": "boolean"}},
        "additionalProperties": False,
    },
    body_required=False,
)


def _id(request: Request, name: str) -> int:
    raw = request.path_params[name]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(name, "must be a whole number")
    return int(raw)


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


class VocApi:
    """Routes of the voice of the customer of one workspace."""

    def __init__(self, workspace: Workspace):
        self._ws = workspace

    def routes(self) -> list[ApiRoute]:
        return [
            ApiRoute("/api/voc/texts", self.texts, "GET", TEXTS),
            ApiRoute("/api/voc/texts/{seq}", self.text, "GET", TEXT),
            ApiRoute("/api/voc/topics", self.topics, "GET", TOPICS),
            ApiRoute("/api/voc/topics/trend", self.topic_trend, "GET", TOPIC_TREND),
            ApiRoute("/api/voc/topics/{topic_id}", self.change_topic, "PATCH", RENAME),
            ApiRoute("/api/voc/reasons", self.reasons, "GET", REASONS),
            ApiRoute("/api/voc/quality", self.quality, "GET", QUALITY),
            ApiRoute("/api/voc/agents", self.agents, "GET", AGENTS),
            ApiRoute("/api/voc/refresh", self.refresh, "POST", REFRESH),
        ]

    async def texts(self, request: Request) -> Response:
        from empreinte.store.voc_store import TextFilter

        require(request, self._ws.credentials, *ANALYSTS)
        q = query(request)
        flt = TextFilter(
            kind=q.get(KIND),
            reason=q.get(REASON),
            topic_id=q.get(TOPIC),
            language=q.get(LANGUAGE),
            sentiment=q.get(SENTIMENT),
        )
        limit, offset = q.get(LIMIT), q.get(OFFSET)
        q.done()

        def work() -> dict[str, Any]:
            rows = self._ws.voc.conversations(flt, limit=limit, offset=offset)
            return {"total": self._ws.voc.count(flt), "texts": [_jsonable(r) for r in rows]}

        return json_response(200, await run_in_threadpool(work))

    async def text(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ANALYSTS)
        query(request).done()
        seq = _id(request, "seq")
        found = await run_in_threadpool(self._ws.voc.conversation, seq)
        return json_response(200, _jsonable(found))

    async def topics(self, request: Request) -> Response:
        require(request, self._ws.credentials, *EVERYONE)
        query(request).done()
        return json_response(200, {"topics": await run_in_threadpool(self._ws.voc.topics)})

    async def topic_trend(self, request: Request) -> Response:
        require(request, self._ws.credentials, *EVERYONE)
        q = query(request)
        period = q.get(PERIOD)
        q.done()
        rows = await run_in_threadpool(self._ws.voc.topic_trend, period)
        return json_response(200, {"period": period, "trend": rows})

    async def change_topic(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ANALYSTS)
        query(request).done()
        topic_id = _id(request, "topic_id")
        body = await json_object(request)
        check_fields(body, {"label", "merged_into"})
        if not body:
            raise InvalidInput("body", "give label or merged_into")
        label = body.get("label")
        if "label" in body and label is not None and not isinstance(label, str):
            raise InvalidInput("label", "must be a string or null")
        into = body.get("merged_into")
        if (
            "merged_into" in body
            and into is not None
            and (isinstance(into, bool) or not isinstance(into, int) or not 0 <= into < _MAX_ID)
        ):
            raise InvalidInput("merged_into", "must be a topic id or null")

        def work() -> dict[str, Any]:
            if "label" in body:
                self._ws.voc.rename_topic(topic_id, label or None)
            if "merged_into" in body:
                self._ws.voc.merge_topics(topic_id, into)
            return next(t for t in self._ws.voc.topics() if t["topic_id"] == topic_id)

        return json_response(200, await run_in_threadpool(work))

    async def reasons(self, request: Request) -> Response:
        require(request, self._ws.credentials, *EVERYONE)
        q = query(request)
        period = q.get(PERIOD)
        q.done()
        return json_response(200, await run_in_threadpool(self._ws.voc.reasons, period))

    async def quality(self, request: Request) -> Response:
        require(request, self._ws.credentials, *ANALYSTS)
        query(request).done()
        return json_response(200, {"reasons": await run_in_threadpool(self._ws.voc.quality)})

    async def agents(self, request: Request) -> Response:
        require(request, self._ws.credentials, Role.ADMIN)
        query(request).done()
        return json_response(200, {"agents": await run_in_threadpool(self._ws.voc.agents)})

    async def refresh(self, request: Request) -> Response:
        require(request, self._ws.credentials, Role.ADMIN)
        query(request).done()
        body = await json_object(request, empty=True)
        check_fields(body, {"refit"})
        refit = body.get("refit", False)
        if not isinstance(refit, bool):
            raise InvalidInput("refit", "must be true or false")
        report = await run_in_threadpool(lambda: self._ws.voc.refresh(refit=refit))
        return json_response(200, report.to_json())


class VocRefresher(BackgroundLoop):
    """A background thread of `empreinte serve` that analyses the texts logged since the last
    round every `interval` seconds (a round with nothing new is one query of the log). A
    failure is logged and the next round tries again."""

    thread_name = "empreinte-voc-refresher"

    def __init__(self, workspace: Workspace, interval: float = 60.0):
        super().__init__()
        self._ws = workspace
        self._interval = interval

    def run_once(self) -> int:
        """Refresh now; how many texts were analysed."""
        return self._ws.voc.refresh().texts

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.run_once()
            except Exception:
                log.exception("the voice-of-the-customer refresh failed; retried next round")
