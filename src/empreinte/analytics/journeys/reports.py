"""The journey reports of a workspace, as one object: `workspace.journeys`.

    ws = empreinte.open("shop")
    ws.journeys.funnel(["Product Viewed", "Checkout Started", "Order Completed"], window="7d")
    ws.journeys.paths("Page Viewed: Checkout", direction="previous", depth=2)
    ws.journeys.retention(period="month", returning="Order Completed")
    ws.journeys.channel_classes(by="generation").to_pandas()
    ws.journeys.ropo(by="country")
    ws.journeys.called_after_web().to_rows()
    ws.journeys.called_after_web_rates().to_rows()
    ws.journeys.attribution(goal="Order Completed", value="revenue", lookback="30d")

Each method opens the log (on the workspace's analytics engine: DuckDB, or Spark when chosen),
computes in the engine and returns the typed report of its module (`to_rows()`,
`to_pandas()`). Steps and durations are written as everywhere (journeys/steps.py): a string or
a `Step`, `"7d"` or a `timedelta`. A `since`/`until` without an offset is read in the
workspace's time zone. The options of each report are those of its function, documented in
docs/funnels.md, docs/paths.md, docs/channels.md and docs/attribution.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from empreinte.analytics.journeys import attribution as attribution_module
from empreinte.analytics.journeys import channels, friction, funnels, page_call_rates
from empreinte.analytics.journeys import paths as paths_module
from empreinte.analytics.journeys import retention as retention_module
from empreinte.analytics.journeys import ropo as ropo_module
from empreinte.analytics.journeys.conversion_paths import DEFAULT_GOAL, DEFAULT_VALUE, PathRules
from empreinte.analytics.journeys.funnels_spec import Count, Exclusion, FunnelSpec, Mode
from empreinte.analytics.journeys.steps import Step, parse_step
from empreinte.analytics.journeys.touchpoints import JourneyScope
from empreinte.analytics.log import AnalyticsLog
from empreinte.durations import parse_duration

Duration = timedelta | str


def duration(value: Duration, what: str = "duration") -> timedelta:
    return value if isinstance(value, timedelta) else parse_duration(value, what)


def step(value: Step | str) -> Step:
    return value if isinstance(value, Step) else parse_step(value)


class JourneyReports:
    """Funnels, paths, retention, omnichannel classes and mix, ROPO, friction and attribution
    of one workspace."""

    def __init__(self, open_log: Callable[[], AnalyticsLog], local: Callable[[datetime], datetime]):
        """`open_log()` opens the log for one report (`Workspace.analytics`); `local` reads
        a datetime without an offset in the workspace's time zone."""
        self._open_log = open_log
        self._local = local

    def scope(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        channels: Sequence[str] = (),
    ) -> JourneyScope:
        """The touchpoints a report reads (people who allow analytics, always)."""
        return JourneyScope(
            since=None if since is None else self._local(since),
            until=None if until is None else self._local(until),
            channels=tuple(channels),
        )

    # -- funnels ------------------------------------------------------------------------

    def funnel_spec(
        self,
        steps: Sequence[Step | str],
        *,
        window: Duration = "7d",
        mode: Mode = "ordered",
        exclusions: Sequence[Exclusion] = (),
        by: str | None = None,
        count: Count = "people",
    ) -> FunnelSpec:
        return FunnelSpec(
            steps=tuple(step(s) for s in steps),
            window=duration(window, "window"),
            mode=mode,
            exclusions=tuple(exclusions),
            by=by,
            count=count,
        )

    def funnel(
        self,
        steps: Sequence[Step | str],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        channels: Sequence[str] = (),
        **spec: Any,
    ) -> funnels.FunnelReport:
        """People (or entries) at each step, conversion, drop-off, times between steps."""
        funnel = self.funnel_spec(steps, **spec)
        with self._open_log() as log:
            return funnels.funnel_report(log, funnel, self.scope(since, until, channels))

    def dropped(
        self,
        steps: Sequence[Step | str],
        at: int,
        *,
        group: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        channels: Sequence[str] = (),
        **spec: Any,
    ) -> list[str]:
        """The profile ids who reached step `at` (1-based) and not the next one."""
        funnel = self.funnel_spec(steps, **spec)
        with self._open_log() as log:
            scope = self.scope(since, until, channels)
            return funnels.dropped(log, funnel, at, scope, group=group)

    # -- paths and retention ------------------------------------------------------------

    def paths(
        self,
        anchor: Step | str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        channels: Sequence[str] = (),
        **options: Any,
    ) -> paths_module.PathReport:
        """The most frequent next (or previous) steps from `anchor`, as a Sankey table."""
        with self._open_log() as log:
            scope = self.scope(since, until, channels)
            return paths_module.paths(log, step(anchor), scope=scope, **options)

    def retention(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        channels: Sequence[str] = (),
        **options: Any,
    ) -> retention_module.RetentionReport:
        """Cohort retention by first-event week or month (N-day and unbounded)."""
        with self._open_log() as log:
            scope = self.scope(since, until, channels)
            return retention_module.retention(log, scope=scope, **options)

    # -- omnichannel --------------------------------------------------------------------

    def channel_classes(
        self,
        *,
        by: str | None = None,
        rules: channels.ChannelRules | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> channels.ClassReport:
        """Mono-, multi-, cross- and omnichannel people (docs/channels.md)."""
        with self._open_log() as log:
            return channels.channel_classes(log, self.scope(since, until), rules, by=by)

    def channel_mix(
        self,
        *,
        by: str | None = None,
        rules: channels.ChannelRules | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> channels.MixReport:
        """The share of people and touchpoints per channel and per channel combination."""
        with self._open_log() as log:
            return channels.channel_mix(log, self.scope(since, until), rules, by=by)

    def ropo(
        self,
        *,
        window: Duration = "7d",
        since: datetime | None = None,
        until: datetime | None = None,
        **options: Any,
    ) -> ropo_module.CrossReport:
        """Research online, purchase offline within `window`: per purchase and per person."""
        return self._cross("ropo", window, since, until, options)

    def showrooming(
        self,
        *,
        window: Duration = "7d",
        since: datetime | None = None,
        until: datetime | None = None,
        **options: Any,
    ) -> ropo_module.CrossReport:
        """Visit the store, purchase online within `window`."""
        return self._cross("showrooming", window, since, until, options)

    def _cross(
        self,
        direction: str,
        window: Duration,
        since: datetime | None,
        until: datetime | None,
        options: dict[str, Any],
    ) -> ropo_module.CrossReport:
        with self._open_log() as log:
            return ropo_module.cross_channel_purchases(
                log,
                direction,
                window=duration(window, "window"),
                scope=self.scope(since, until),
                **options,
            )

    # -- friction -----------------------------------------------------------------------

    def drop_off(
        self, *, since: datetime | None = None, until: datetime | None = None, **options: Any
    ) -> friction.DropOffReport:
        """Steps whose drop-off in a period is significantly above their usual rate."""
        with self._open_log() as log:
            return friction.drop_off(log, self.scope(since, until), **options)

    def repeated_errors(
        self, *, since: datetime | None = None, until: datetime | None = None, **options: Any
    ) -> friction.ErrorReport:
        """People who met the same error again within one session."""
        with self._open_log() as log:
            return friction.repeated_errors(log, self.scope(since, until), **options)

    def called_after_web(
        self, *, since: datetime | None = None, until: datetime | None = None, **options: Any
    ) -> friction.CalledAfterWebReport:
        """Calls within 24 h of a web or app session, and the pages that led to them."""
        with self._open_log() as log:
            return friction.called_after_web(log, self.scope(since, until), **options)

    def called_after_web_rates(
        self, *, since: datetime | None = None, until: datetime | None = None, **options: Any
    ) -> page_call_rates.PageRateReport:
        """Per page, the share of the sessions that viewed it followed by a call within 24 h."""
        with self._open_log() as log:
            return page_call_rates.called_after_web_rates(log, self.scope(since, until), **options)

    # -- attribution --------------------------------------------------------------------

    def attribution(
        self,
        *,
        goal: str = DEFAULT_GOAL,
        value: str | None = DEFAULT_VALUE,
        lookback: Duration = "30d",
        by: str = "channel",
        models: Sequence[str] | str = "all",
        since: datetime | None = None,
        until: datetime | None = None,
        **options: Any,
    ) -> attribution_module.AttributionReport:
        """Conversions and value per channel (or campaign) under every model, side by side."""
        rules = PathRules(
            goal=goal,
            value=value,
            lookback=duration(lookback, "lookback"),
            by=by,  # type: ignore[arg-type]  # checked by PathRules
        )
        with self._open_log() as log:
            return attribution_module.attribution_report(
                log, rules, self.scope(since, until), models=models, **options
            )
