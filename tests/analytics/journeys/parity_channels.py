"""The channels reports compared on DuckDB and Spark by test_spark_parity.py: name → a function
of an `AnalyticsLog` returning rows of numbers and labels (lists of dicts, or a dict)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from empreinte.analytics.journeys.channels import channel_classes, channel_mix
from empreinte.analytics.journeys.friction import called_after_web
from empreinte.analytics.journeys.ropo import ropo
from empreinte.analytics.log import AnalyticsLog


def _classes(log: AnalyticsLog) -> list[dict[str, Any]]:
    report = channel_classes(log)
    return [
        *report.to_rows(),
        {"channel_class": "(none)", "people": report.without_own_touchpoints},
    ]


def _mix(log: AnalyticsLog) -> list[dict[str, Any]]:
    report = channel_mix(log, by="country")
    return [*report.to_rows(), *report.combination_rows()]


def _ropo_by_country(log: AnalyticsLog) -> list[dict[str, Any]]:
    return ropo(log, by="country").to_rows()


def _called_after_web(log: AnalyticsLog) -> list[dict[str, Any]]:
    report = called_after_web(log)
    head = {"contacts": report.contacts, "after_web": report.after_web, "sessions": report.sessions}
    return [head, *report.to_rows()]


# Each Spark query costs seconds on a shared machine: the cases below are the ones the issue
# names. Showrooming, repeated errors, drop-off and classes by generation gave identical
# numbers on both engines when run by hand (docs/channels.md says how).
CASES: dict[str, Callable[[AnalyticsLog], Any]] = {
    "channel classes": _classes,
    "channel mix by country": _mix,
    "ropo by country": _ropo_by_country,
    "called after the web": _called_after_web,
}
