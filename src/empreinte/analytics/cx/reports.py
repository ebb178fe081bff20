"""The CX reports of a workspace, as one object: `workspace.cx`.

    ws = empreinte.open("shop")
    ws.cx.nps(period="quarter", by="channel").to_pandas()
    ws.cx.nps(period="quarter").compare("2026-Q2", "2026-Q3")
    ws.cx.drivers("nps").to_rows()
    ws.cx.detractors(days=30)
    ws.cx.kano().features
    ws.cx.experiment("checkout-countdown", goal="Order Completed", window_days=7).result
    ws.cx.experiments()  # the experiments found in the log

Every method computes in the engine over the log as it is now and returns typed results
(`to_rows()` for tables, `to_pandas()` where a dataframe helps). A `since` or `until` without
an offset (a date, 2026-10-01) is read in the workspace's time zone (`timezone`, default UTC),
as the periods are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from empreinte.analytics.cx.answers import AnswerScope, Kind
from empreinte.analytics.cx.closed_loop import LowAnswer, detractors
from empreinte.analytics.cx.drivers import KeyDriverReport, driver_report
from empreinte.analytics.cx.exposures import (
    ExperimentReport,
    ExperimentSeen,
    experiment_report,
    experiments_seen,
)
from empreinte.analytics.cx.kano_answers import KanoReport, kano_results
from empreinte.analytics.cx.scores import ScoreReport, score_report
from empreinte.analytics.log import AnalyticsLog


class CxReports:
    """NPS, CSAT, CES, key drivers, closed loop, Kano and experiments of one workspace."""

    def __init__(self, open_log: Callable[[], AnalyticsLog], local: Callable[[datetime], datetime]):
        """`open_log()` opens the log for one report (`Workspace.analytics`); `local` reads
        a datetime without an offset in the workspace's time zone."""
        self._open_log = open_log
        self._local_time = local

    def _local(self, moment: datetime | None) -> datetime | None:
        return None if moment is None else self._local_time(moment)

    def _scope(
        self,
        since: datetime | None,
        until: datetime | None,
        survey_id: str | None = None,
        touchpoint: str | None = None,
        kind: Kind = "all",
    ) -> AnswerScope:
        return AnswerScope(self._local(since), self._local(until), survey_id, touchpoint, kind)

    def score(
        self,
        survey: str,
        *,
        period: str | None = None,
        by: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        survey_id: str | None = None,
        touchpoint: str | None = None,
        kind: Kind = "all",
        scale: int = 5,
        min_n: int | None = None,
        answers: str | None = None,
    ) -> ScoreReport:
        scope = self._scope(since, until, survey_id, touchpoint, kind)
        with self._open_log() as log:
            return score_report(
                log,
                survey,
                period=period,
                by=by,
                scope=scope,
                scale=scale,
                min_n=min_n,
                answers=answers,
            )

    def nps(self, **options: Any) -> ScoreReport:
        """`score("nps", ...)`."""
        return self.score("nps", **options)

    def csat(self, **options: Any) -> ScoreReport:
        """`score("csat", ...)`."""
        return self.score("csat", **options)

    def ces(self, **options: Any) -> ScoreReport:
        """`score("ces", ...)`."""
        return self.score("ces", **options)

    def drivers(
        self,
        survey: str = "nps",
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        survey_id: str | None = None,
        touchpoint: str | None = None,
        kind: Kind = "all",
        window_days: int = 30,
        bootstrap: int = 200,
    ) -> KeyDriverReport:
        scope = self._scope(since, until, survey_id, touchpoint, kind)
        with self._open_log() as log:
            return driver_report(
                log, survey, scope=scope, window=timedelta(days=window_days), bootstrap=bootstrap
            )

    def detractors(
        self,
        survey: str = "nps",
        *,
        days: int = 30,
        touchpoint: str | None = None,
        with_comment: bool = False,
        limit: int = 500,
        until: datetime | None = None,
        scale: int = 5,
    ) -> list[LowAnswer]:
        with self._open_log() as log:
            return detractors(
                log,
                survey,
                days=days,
                touchpoint=touchpoint,
                with_comment=with_comment,
                limit=limit,
                now=self._local(until),
                scale=scale,
            )

    def kano(
        self,
        *,
        by: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        survey_id: str | None = None,
        features: list[str] | None = None,
        min_n: int | None = None,
    ) -> KanoReport:
        scope = self._scope(since, until, survey_id)
        with self._open_log() as log:
            return kano_results(log, by=by, scope=scope, features=features, min_n=min_n)

    def experiment(
        self,
        name: str,
        *,
        goal: str = "Order Completed",
        window_days: float = 7,
        control: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        mde: float = 0.01,
    ) -> ExperimentReport:
        with self._open_log() as log:
            return experiment_report(
                log,
                name,
                goal=goal,
                window=timedelta(days=window_days),
                control=control,
                scope=self._scope(since, until),
                mde=mde,
            )

    def experiments(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[ExperimentSeen]:
        """The experiments with an exposure in the window, the most recently seen first."""
        with self._open_log() as log:
            return experiments_seen(log, self._scope(since, until))
