"""Analyses that link a person's behaviour to an outcome (key drivers, experiments) profile
people, so they read only people who allow `analytics` — the same rule as everywhere else
(`privacy.consent.allowed_profiles`). Survey scores themselves are the person's own answers,
given to be counted, and are read without it.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from empreinte.analytics.log import AnalyticsLog
from empreinte.privacy.consent import Purpose, allowed_profiles


def only_consenting(log: AnalyticsLog, table: ir.Table) -> ir.Table:
    """The rows of `table` (with `profile_id`) whose person allows analytics now."""
    allowed = allowed_profiles(log.workspace, Purpose.ANALYTICS)
    people = ibis.memtable(pa.table({"profile_id": pa.array(sorted(allowed), pa.string())}))
    return table.filter(table.profile_id.isin(people.profile_id))
