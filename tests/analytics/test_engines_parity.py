"""The CX reports give the same numbers on DuckDB and on Spark.

A small demo workspace is reported on its DuckDB file, exported to Parquet, and reported again
through `SparkAnalytics` on a Spark standalone cluster of two workers (tests/conftest.py): NPS,
CSAT and CES by period and by an event or profile attribute (generation, country: traits read
from the log and the vault), Kano by generation, key drivers and the demo's experiment must
come out the same, figure for figure (same_numbers.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from same_numbers import assert_same_numbers

import empreinte
from empreinte.analytics.cx.answers import AnswerScope
from empreinte.analytics.cx.closed_loop import detractors
from empreinte.analytics.cx.drivers import driver_report
from empreinte.analytics.cx.exposures import experiment_report
from empreinte.analytics.cx.kano_answers import kano_results
from empreinte.analytics.cx.scores import score_report
from empreinte.analytics.log import AnalyticsLog
from empreinte.demo import generate
from empreinte.demo.cx import EXPERIMENT

pytestmark = pytest.mark.spark

PEOPLE = 300
END = datetime(2026, 1, 1, tzinfo=UTC)  # after the default demo's twelve months
Report = Callable[[AnalyticsLog], Any]

# Each report as rows of numbers (and labels), the way a user reads it.
REPORTS: dict[str, Report] = {
    "nps by quarter and generation": lambda log: score_report(
        log, "nps", period="quarter", by="generation"
    ).to_rows(),
    "csat by month and country": lambda log: score_report(
        log, "csat", period="month", by="country"
    ).to_rows(),
    "ces by week and touchpoint": lambda log: score_report(
        log, "ces", period="week", by="touchpoint"
    ).to_rows(),
    "nps of a window by channel": lambda log: score_report(
        log,
        "nps",
        by="channel",
        scope=AnswerScope(since=datetime(2025, 4, 1, tzinfo=UTC), until=END),
        answers="all",
    ).to_rows(),
    "kano by generation": lambda log: kano_results(log, by="generation", min_n=1).to_rows(),
    "kano by a property": lambda log: kano_results(log, by="survey_id").to_rows(),
    "experiment": lambda log: experiment_report(log, EXPERIMENT, now=END).to_dict(),
    "key drivers": lambda log: driver_report(log, "nps", bootstrap=20).to_rows(),
    "detractors": lambda log: [
        (a.profile_id, a.answered_at, a.score, a.survey_id, a.touchpoint, a.channel, a.comment)
        for a in detractors(log, days=90, now=END)
    ],
}


@pytest.fixture(scope="module")
def spark_session(cluster_session: Any) -> Any:
    """The session on the suite's Spark cluster (tests/conftest.py: a master and two workers
    on loopback)."""
    return cluster_session


@pytest.fixture(scope="module")
def exported(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Any, dict[str, Any], Path]]:
    """(the workspace's analytics settings, each report on DuckDB, the Parquet export)."""
    root = tmp_path_factory.mktemp("parity")
    # A zone with daylight saving time: periods start at local midnight, not UTC's.
    (root / "empreinte.toml").write_text('timezone = "Europe/Paris"\ndefault_region = "FR"\n')
    with empreinte.open(root) as ws:
        report = ws.ingest(generate(PEOPLE))
        assert report.stored > 10_000 and not report.rejected
        # Exported before any report has run: the export brings the derived tables up to date.
        parquet = root / "parquet"
        files = ws.export_analytics(parquet)
        assert {path.stat().st_mode & 0o777 for path in files.values()} == {0o600}
        with ws.analytics() as log:
            settings = log.settings
            on_duckdb = {name: run(log) for name, run in REPORTS.items()}
    yield settings, on_duckdb, parquet


@pytest.fixture(scope="module")
def on_spark(spark_session: Any, exported: tuple[Any, dict[str, Any], Path]) -> dict[str, Any]:
    from empreinte.store.spark.backend import SparkAnalytics

    settings, _, parquet = exported
    with AnalyticsLog(SparkAnalytics(spark_session, parquet), settings) as log:
        return {name: run(log) for name, run in REPORTS.items()}


@pytest.mark.parametrize("name", list(REPORTS))
def test_same_numbers_on_duckdb_and_spark(
    name: str, exported: tuple[Any, dict[str, Any], Path], on_spark: dict[str, Any]
) -> None:
    duckdb_rows, spark_rows = exported[1][name], on_spark[name]
    assert len(duckdb_rows) > 0, "the demo must give this report something to count"
    assert_same_numbers(spark_rows, duckdb_rows)


def test_the_reports_read_profile_attributes_and_local_periods(
    exported: tuple[Any, dict[str, Any], Path],
) -> None:
    """The parity is worth something only if the hard parts are in it: generations (traits
    from the vault), countries, several periods in local time."""
    rows = exported[1]["nps by quarter and generation"]
    groups = {row["group"] for row in rows}
    assert len(groups - {"(none)"}) >= 3
    assert len({row["period"] for row in rows}) >= 4
    countries = {row["group"] for row in exported[1]["csat by month and country"]}
    assert len(countries - {"(none)"}) >= 2
    assert len(exported[1]["experiment"]["variants"]) == 2


def test_rows_computed_in_this_process_are_read_back_alike(
    spark_session: Any, exported: tuple[Any, dict[str, Any], Path]
) -> None:
    """`register_arrow` (how the funnel walk hands its result back, on DuckDB today) gives
    the same rows to the next query on either engine: strings, integers, instants and nulls."""
    from empreinte.store.spark.backend import SparkAnalytics

    at = pa.timestamp("us", tz="UTC")
    rows = pa.table(
        {
            "profile_id": ["p-1", "p-2", "p-3", "p-é"],
            "depth": pa.array([1, 3, 2, 3], pa.int64()),
            "t1": pa.array(
                [datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC), None, END, END], at
            ),
        }
    )

    def read_back(log: AnalyticsLog) -> list[dict[str, Any]]:
        table = log.backend.register_arrow("_computed_here", rows)
        deep = table.filter(table.depth >= 2).order_by("profile_id")
        return log.backend.to_pyarrow(deep).to_pylist()

    settings, _, parquet = exported
    with AnalyticsLog(SparkAnalytics(spark_session, parquet), settings) as log:
        on_spark = read_back(log)
    with empreinte.open(parquet.parent, create=False) as ws, ws.analytics() as log:
        on_duckdb = read_back(log)
    expected = [r for r in rows.to_pylist() if r["depth"] >= 2]
    assert on_duckdb == on_spark == sorted(expected, key=lambda r: r["profile_id"])
