"""Every buyer's year gives the same figures on Spark as on DuckDB (the hand-built workspace
of stories_planted.py, exported to Parquet with its catalogue, read on the suite's Spark
standalone cluster: tests/conftest.py). Marked `spark`: `make test` runs it, `make check`
leaves it out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from stories_planted import build

import empreinte
from empreinte.activate.stories.figures import year_report
from empreinte.analytics.log import AnalyticsLog

pytestmark = [pytest.mark.spark, pytest.mark.timeout(900)]


def test_the_year_in_review_on_spark(tmp_path: Path, cluster_session: Any) -> None:
    from empreinte.store.spark.backend import SparkAnalytics

    build(tmp_path / "ws")
    with empreinte.open(tmp_path / "ws", create=False) as ws:
        ws.export_analytics(tmp_path / "parquet")
        with ws.analytics() as log:
            settings = log.settings
            on_duckdb = year_report(log, 2025, personalised_only=False)
    with AnalyticsLog(SparkAnalytics(cluster_session, tmp_path / "parquet"), settings) as log:
        on_spark = year_report(log, 2025, personalised_only=False)
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
