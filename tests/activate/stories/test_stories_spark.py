"""Every buyer's year gives the same figures on Spark as on DuckDB (the hand-built workspace
of stories_planted.py, exported to Parquet with its catalogue, read by a local Spark
session). Marked `spark`: `make test` runs it, `make check` leaves it out."""

from __future__ import annotations

from pathlib import Path

import pytest
from stories_planted import build

import empreinte
from empreinte.activate.stories.figures import year_report
from empreinte.analytics.log import AnalyticsLog

pytestmark = [pytest.mark.spark, pytest.mark.timeout(900)]


def test_the_year_in_review_on_spark(tmp_path: Path) -> None:
    from empreinte.store.spark.backend import SparkAnalytics
    from empreinte.store.spark.session import local_session

    build(tmp_path / "ws")
    with empreinte.open(tmp_path / "ws", create=False) as ws:
        ws.export_analytics(tmp_path / "parquet")
        with ws.analytics() as log:
            settings = log.settings
            on_duckdb = year_report(log, 2025, personalised_only=False)
    session = local_session()
    try:
        with AnalyticsLog(SparkAnalytics(session, tmp_path / "parquet"), settings) as log:
            on_spark = year_report(log, 2025, personalised_only=False)
    finally:
        session.stop()
    assert len(on_duckdb.people) == 4
    assert on_spark.community == on_duckdb.community
    assert on_spark.people.keys() == on_duckdb.people.keys()
    for profile, figures in on_duckdb.people.items():
        other = on_spark.people[profile]
        assert other.co2_avoided_kg == pytest.approx(figures.co2_avoided_kg)
        assert other.saved == pytest.approx(figures.saved)
        assert other == figures.__class__(
            **{**figures.__dict__, "co2_avoided_kg": other.co2_avoided_kg, "saved": other.saved}
        )
