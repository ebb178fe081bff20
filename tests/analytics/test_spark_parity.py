"""The journey and know-the-user reports give the same numbers on DuckDB and on Spark.

A small demo workspace (time zone with daylight saving) is reported on its DuckDB file,
exported to Parquet, and reported again through `SparkAnalytics` on a Spark standalone cluster
(a master and two workers on loopback: tests/conftest.py). Every case of journeys/parity_*.py
and know/parity_*.py must come out the same, figure for figure (same_numbers.py), and non-empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# One Spark session and one demo for every analytic (tests/analytics is not a package: pytest
# puts this directory on the path, so the case modules import by their folder's name).
from journeys import (
    parity_attribution,
    parity_channels,
    parity_funnels,
    parity_paths,
    parity_voc_calls,
)
from parity_order_lines import CASES as ORDER_LINES_CASES
from parity_order_lines import MESSAGES as AWKWARD_ORDERS
from same_numbers import assert_same_numbers

import empreinte
from empreinte.analytics.journeys.touchpoints import sessions, touchpoints
from empreinte.analytics.log import AnalyticsLog
from empreinte.demo import generate
from know import parity_personas, parity_predictions, parity_segments, parity_value
from partners import parity_partners

# The first test pays for the demo, a Spark session and every case on both engines: minutes
# on a loaded machine, more than the suite's 300 s per test.
pytestmark = [pytest.mark.spark, pytest.mark.timeout(1200)]

PEOPLE = 300


def _sessions_by_channel(log: AnalyticsLog) -> list[dict[str, Any]]:
    table = sessions(touchpoints(log))
    counts = table.group_by("channel").agg(
        touchpoints=table.count(), sessions=table.session_id.nunique()
    )
    return log.execute(counts.order_by("channel")).to_dict("records")  # type: ignore[no-any-return]


CASES: dict[str, Callable[[AnalyticsLog], Any]] = {
    "sessions by channel": _sessions_by_channel,
    **parity_funnels.CASES,
    **parity_paths.CASES,
    **parity_channels.CASES,
    **parity_attribution.CASES,
    **parity_segments.CASES,
    **parity_value.CASES,
    **parity_predictions.CASES,
    **parity_personas.CASES,
    **ORDER_LINES_CASES,
    **parity_partners.CASES,
    **parity_voc_calls.CASES,
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
    """(the workspace's analytics settings, each case on DuckDB, the Parquet export)."""
    root = tmp_path_factory.mktemp("journeys-parity")
    (root / "empreinte.toml").write_text('timezone = "Europe/Paris"\ndefault_region = "FR"\n')
    with empreinte.open(root) as ws:
        report = ws.ingest(generate(PEOPLE))
        assert report.stored > 10_000 and not report.rejected
        assert not ws.ingest(AWKWARD_ORDERS).rejected
        assert not ws.ingest(parity_voc_calls.MESSAGES).rejected
        ws.flush()
        parity_voc_calls.write_reasons(ws)
        parquet = root / "parquet"
        ws.export_analytics(parquet)
        with ws.analytics() as log:
            settings = log.settings
            on_duckdb = {name: run(log) for name, run in CASES.items()}
    yield settings, on_duckdb, parquet


@pytest.fixture(scope="module")
def on_spark(spark_session: Any, exported: tuple[Any, dict[str, Any], Path]) -> dict[str, Any]:
    from empreinte.store.spark.backend import SparkAnalytics

    settings, _, parquet = exported
    with AnalyticsLog(SparkAnalytics(spark_session, parquet), settings) as log:
        return {name: run(log) for name, run in CASES.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_same_numbers_on_duckdb_and_spark(
    name: str, exported: tuple[Any, dict[str, Any], Path], on_spark: dict[str, Any]
) -> None:
    duckdb_rows, spark_rows = exported[1][name], on_spark[name]
    assert len(duckdb_rows) > 0, "the demo must give this report something to count"
    assert_same_numbers(spark_rows, duckdb_rows)


def test_the_cli_on_spark_prints_what_it_prints_on_duckdb(
    spark_session: Any, exported: tuple[Any, dict[str, Any], Path]
) -> None:
    """`empreinte --engine spark …` exports the workspace, runs the report on the running
    Spark session and deletes the export: the same table as on DuckDB."""
    from typer.testing import CliRunner

    from empreinte.cli import app

    workspace = exported[2].parent
    command = ["report", "nps", "--by", "channel", "-w", str(workspace)]
    on_duckdb = CliRunner().invoke(app, command)
    on_spark = CliRunner().invoke(app, ["--engine", "spark", *command])
    assert on_duckdb.exit_code == 0, on_duckdb.output
    assert on_spark.exit_code == 0, on_spark.output
    assert "NPS" in on_duckdb.output and on_spark.output == on_duckdb.output
    assert list((workspace / "exports").iterdir()) == []
