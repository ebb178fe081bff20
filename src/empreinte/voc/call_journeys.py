"""The journeys before calls of a workspace, as one object (the CLI, the API and the page use
it; `VocService.calls` gives it):

    calls = CallJourneys.of(ws)
    calls.before(hours=24, reason="delivery").reason_rows()
    calls.avoidable().to_rows()          # with [voc.answers]
    calls.pages().to_rows()              # called-after-the-web rate per page
    calls.repeats(days=7).to_rows()

Every report is an aggregate: no call or person is listed (the aim is typical journeys and
broken processes, not watching individuals). Rules: docs/voc-journeys.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from empreinte.analytics.journeys.page_call_rates import PageRateReport
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError
from empreinte.voc.before_calls import MAX_WINDOW, CallScope
from empreinte.voc.call_reports import (
    DEFAULT_TOP,
    AvoidableReport,
    BeforeCallsReport,
    RepeatReport,
    avoidable_calls,
    before_calls,
    page_call_rates,
    repeat_calls,
)
from empreinte.voc.call_settings import CallSettings

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

MAX_HOURS = int(MAX_WINDOW / timedelta(hours=1))


class CallJourneys:
    """What people did online before calling, per reason, for one workspace."""

    def __init__(
        self,
        open_log: Callable[[], AnalyticsLog],
        local: Callable[[datetime], datetime],
        settings: CallSettings | None = None,
    ):
        self._open_log = open_log
        self._local = local
        self.settings = settings or CallSettings()

    @classmethod
    def of(cls, workspace: Workspace) -> CallJourneys:
        return cls(
            workspace.analytics,
            workspace.config.local,
            CallSettings.from_mapping(workspace.config.voc),
        )

    def scope(
        self,
        *,
        hours: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        reason: str | None = None,
    ) -> CallScope:
        """Calls of `reason` (all when None) at `since` ≤ time < `until`, with the web and app
        sessions of the `hours` before each ([voc.calls] hours by default)."""
        hours = self.settings.hours if hours is None else hours
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_HOURS:
            raise AnalyticsError(f"hours must be a whole number from 1 to {MAX_HOURS}")
        return CallScope(
            window=timedelta(hours=hours),
            since=None if since is None else self._local(since),
            until=None if until is None else self._local(until),
            reason=reason,
        )

    def before(self, *, top: int = DEFAULT_TOP, **scope: Any) -> BeforeCallsReport:
        """Per reason: calls, linked, errors, checkouts abandoned; top pages and steps.
        `scope`: the keywords of `scope()`."""
        chosen = self.scope(**scope)
        with self._open_log() as log:
            return before_calls(log, chosen, top=top)

    def avoidable(
        self, answers: Mapping[str, Sequence[str]] | None = None, **scope: Any
    ) -> AvoidableReport:
        """Calls whose answer page the person did not reach ([voc.answers] by default)."""
        chosen = self.scope(**scope)
        with self._open_log() as log:
            return avoidable_calls(
                log, self.settings.answers if answers is None else answers, chosen
            )

    def pages(self, **scope: Any) -> PageRateReport:
        """The called-after-the-web rate of each page."""
        chosen = self.scope(**scope)
        with self._open_log() as log:
            return page_call_rates(log, chosen)

    def repeats(self, *, days: int | None = None, **scope: Any) -> RepeatReport:
        """Per reason, the calls followed by another within `days` ([voc.calls] repeat_days)."""
        chosen = self.scope(**scope)
        with self._open_log() as log:
            return repeat_calls(
                log, chosen, days=self.settings.repeat_days if days is None else days
            )
