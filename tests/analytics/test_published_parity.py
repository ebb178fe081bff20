"""Reports on the Spark cluster read the log two collectors published, and give the numbers a
DuckDB log holding the same rows gives.

Two collectors (one key, as `init --like` makes them) share the demo's traffic the way a load
balancer would, in random batches, and publish to one Parquet log (publish/). The reference is
a DuckDB workspace holding exactly the published rows in the log's order (arrival, collector,
seq). Each report of the journey, know-the-user and CX parity suites then runs on DuckDB over
that reference, and on the Spark standalone cluster (tests/conftest.py) over the published log
itself (`[analytics] source = "published"`: store/spark/published.py prepares its snapshot,
the identity graph rebuilt by large-star/small-star on the executors): figure for figure.

What is derived from raw personal values (a birth year, so a generation or an age) is not in
the published log, which is pseudonymised: those reports are refused there with a clear error,
not answered "unknown" for everyone.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from journeys import parity_voc_calls
from parity_order_lines import MESSAGES as AWKWARD_ORDERS
from test_engines_parity import REPORTS as CX_REPORTS
from test_spark_parity import CASES as JOURNEY_CASES

import empreinte
from empreinte.demo import generate
from empreinte.errors import AnalyticsError
from empreinte.publish.log import PublishedLog
from empreinte.store.columns import ROW_SCHEMA
from empreinte.store.engine_choice import AnalyticsEngine
from empreinte.workspace import Workspace

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.timeout(1500)]

PEOPLE = 300
# Understood verbatims are the workspace's results over its own events (voc_texts), not facts
# of the published log: those reports run on the workspace (test_spark_parity.py).
CASES = {
    **{k: v for k, v in JOURNEY_CASES.items() if k not in parity_voc_calls.CASES},
    **{f"cx: {k}": v for k, v in CX_REPORTS.items()},
}
# The reports that read a birth year (a generation, an age): refused on the published log.
FROM_BIRTH_DATES = {
    "segment: facts",
    "cx: nps by quarter and generation",
    "cx: kano by generation",
    "generations table",
    "partner counts by generation",
}


def _workspace(directory: Path, key: bytes, extra: str = "") -> Workspace:
    directory.mkdir()
    (directory / "pseudonym.key").write_bytes(key)
    (directory / "empreinte.toml").write_text(
        f'timezone = "Europe/Paris"\ndefault_region = "FR"\n{extra}'
    )
    return empreinte.open(directory)


def _run(log: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, case in CASES.items():
        try:
            out[name] = case(log)
        except AnalyticsError as exc:
            out[name] = exc
    return out


@pytest.fixture(scope="module")
def compared(
    tmp_path_factory: pytest.TempPathFactory, spark_cluster: str, cluster_session: Any
) -> Iterator[tuple[dict[str, Any], dict[str, Any], Workspace]]:
    """(each case on the DuckDB reference, each case on the published log, collector a)."""
    root = tmp_path_factory.mktemp("published-parity")
    key = secrets.token_bytes(32)
    url = str(root / "published")
    a, b = (
        _workspace(root / name, key, f'[publish]\nurl = "{url}"\ncollector_id = "{name}"\n')
        for name in ("a", "b")
    )
    messages = [*generate(PEOPLE), *AWKWARD_ORDERS]
    rng = random.Random(17)
    with a, b:
        at = 0
        while at < len(messages):  # a load balancer's batches, of varying size
            size = rng.randint(1, 400)
            report = rng.choice((a, b)).ingest(messages[at : at + size])
            assert not report.rejected
            at += size
        a.published.run(publish=False)
        b.published.run(publish=True)
        rows = PublishedLog(url).read()
        assert set(rows.column("collector").to_pylist()) == {"a", "b"}
        assert rows.num_rows == len(messages)

        with _workspace(root / "reference", key) as reference:
            order = pc.sort_indices(
                rows,
                [("received_at", "ascending"), ("collector", "ascending"), ("seq", "ascending")],
            )
            ordered = rows.take(order).drop_columns(["seq", "collector"])
            ordered = ordered.append_column("pii", pa.nulls(rows.num_rows, pa.string()))
            reference.engine.append(ordered.select(ROW_SCHEMA.names).cast(ROW_SCHEMA), 1)
            with reference.analytics("duckdb") as log:
                on_duckdb = _run(log)

        engine = AnalyticsEngine("spark", spark_cluster, "published")
        with a.analytics(engine) as log:
            on_spark = _run(log)
        yield on_duckdb, on_spark, a


def _frame(value: Any) -> pd.DataFrame:
    if isinstance(value, dict):
        value = [{"key": k, "value": repr(v)} for k, v in value.items()]
    return pd.DataFrame(value)


@pytest.mark.parametrize("name", sorted(set(CASES) - FROM_BIRTH_DATES))
def test_the_published_log_on_spark_gives_the_numbers_of_duckdb(
    name: str, compared: tuple[dict[str, Any], dict[str, Any], Workspace]
) -> None:
    on_duckdb, on_spark = compared[0][name], compared[1][name]
    assert not isinstance(on_duckdb, Exception), on_duckdb
    assert not isinstance(on_spark, Exception), on_spark
    assert len(on_duckdb) > 0, "the demo must give this report something to count"
    pd.testing.assert_frame_equal(_frame(on_spark), _frame(on_duckdb), check_exact=True)


@pytest.mark.parametrize("name", sorted(FROM_BIRTH_DATES))
def test_what_needs_a_birth_date_is_refused_on_the_published_log(
    name: str, compared: tuple[dict[str, Any], dict[str, Any], Workspace]
) -> None:
    refused = compared[1][name]
    assert isinstance(refused, AnalyticsError), refused
    assert "published log" in str(refused) and "birth date" in str(refused)
