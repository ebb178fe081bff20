"""Analyses that link a person's behaviour to an outcome (key drivers, experiments) profile
people, so they read only people who allow `analytics` — the same rule as everywhere else
(`privacy.consent.allowed_profiles`), read from the engine table `consent_state` that the
consent sync writes before a report opens. Survey scores themselves are the person's own
answers, given to be counted, and are read without it.
"""

from __future__ import annotations

import ibis.expr.types as ir

from empreinte.analytics.log import AnalyticsLog

ANALYTICS_PURPOSE = "analytics"


PROFILING_PURPOSE = "profiling"


def allowing(log: AnalyticsLog, table: ir.Table, purpose: str) -> ir.Table:
    """The rows of `table` (with `profile_id`) whose person allows `purpose` now. Silence is
    a no, as for every purpose (privacy/consent.py)."""
    state = log.derived("consent_state")
    people = state.filter((state.purpose == purpose) & state.allowed)
    return table.filter(table.profile_id.isin(people.profile_id))


def only_consenting(log: AnalyticsLog, table: ir.Table) -> ir.Table:
    """The rows of `table` (with `profile_id`) whose person allows analytics now."""
    return allowing(log, table, ANALYTICS_PURPOSE)


def only_profiled(log: AnalyticsLog, table: ir.Table) -> ir.Table:
    """The rows of `table` whose person allows `profiling` now: models that score people
    (churn risk, customer value, personas) read and score no one else."""
    return allowing(log, table, PROFILING_PURPOSE)
