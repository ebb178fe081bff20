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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from journeys import parity_voc_calls
from parity_order_lines import MESSAGES as AWKWARD_ORDERS
from same_numbers import assert_same_numbers
from test_engines_parity import REPORTS as CX_REPORTS
from test_spark_parity import CASES as JOURNEY_CASES

import empreinte
from empreinte.demo import generate
from empreinte.errors import AnalyticsError
from empreinte.publish.log import PublishedLog
from empreinte.store.columns import ROW_SCHEMA
from empreinte.store.engine_choice import AnalyticsEngine
from empreinte.store.spark.published import PREFIX
from empreinte.workspace import EXPORTS_DIR, Workspace

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


@dataclass
class Compared:
    on_duckdb: dict[str, Any]  # each case on the DuckDB reference
    on_spark: dict[str, Any]  # each case on the published log, on the cluster
    a: Workspace  # collector a, open
    reference: Path  # the reference workspace (closed)
    engine: AnalyticsEngine
    users_on_a: list[str]  # userIds of identify calls collector a acknowledged


@pytest.fixture(scope="module")
def compared(
    tmp_path_factory: pytest.TempPathFactory, spark_cluster: str, cluster_session: Any
) -> Iterator[Compared]:
    root = tmp_path_factory.mktemp("published-parity")
    key = secrets.token_bytes(32)
    url = str(root / "published")
    a, b = (
        _workspace(root / name, key, f'[publish]\nurl = "{url}"\ncollector_id = "{name}"\n')
        for name in ("a", "b")
    )
    messages = [*generate(PEOPLE), *AWKWARD_ORDERS]
    rng = random.Random(17)
    users_on_a: list[str] = []
    with a, b:
        at = 0
        while at < len(messages):  # a load balancer's batches, of varying size
            batch = messages[at : at + rng.randint(1, 400)]
            collector = rng.choice((a, b))
            assert not collector.ingest(batch).rejected
            if collector is a:
                users_on_a += [m["userId"] for m in batch if m["type"] == "identify"]
            at += len(batch)
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
        yield Compared(on_duckdb, on_spark, a, root / "reference", engine, users_on_a)


@pytest.mark.parametrize("name", sorted(set(CASES) - FROM_BIRTH_DATES))
def test_the_published_log_on_spark_gives_the_numbers_of_duckdb(
    name: str, compared: Compared
) -> None:
    on_duckdb, on_spark = compared.on_duckdb[name], compared.on_spark[name]
    assert not isinstance(on_duckdb, Exception), on_duckdb
    assert not isinstance(on_spark, Exception), on_spark
    assert len(on_duckdb) > 0, "the demo must give this report something to count"
    assert_same_numbers(on_spark, on_duckdb)


@pytest.mark.parametrize("name", sorted(FROM_BIRTH_DATES))
def test_what_needs_a_birth_date_is_refused_on_the_published_log(
    name: str, compared: Compared
) -> None:
    refused = compared.on_spark[name]
    assert isinstance(refused, AnalyticsError), refused
    assert "published log" in str(refused) and "birth date" in str(refused)


def test_the_cli_reads_the_published_log_with_source_published(compared: Compared) -> None:
    """`empreinte --engine spark://… --source published` on a collector prints what DuckDB
    prints over the reference; the snapshot prepared for the fixture is reused, not rebuilt."""
    from typer.testing import CliRunner

    from empreinte.cli import app

    snapshots = sorted(p.name for p in (compared.a.path / EXPORTS_DIR).iterdir())
    assert len(snapshots) == 1 and snapshots[0].startswith(PREFIX), snapshots
    report = ["report", "nps", "--by", "channel"]
    on_duckdb = CliRunner().invoke(app, [*report, "-w", str(compared.reference)])
    master = compared.engine.spark_master
    command = ["--engine", f"spark:{master}", "--source", "published", *report]
    on_spark = CliRunner().invoke(app, [*command, "-w", str(compared.a.path)])
    assert on_duckdb.exit_code == 0, on_duckdb.output
    assert on_spark.exit_code == 0, on_spark.output
    assert "NPS" in on_duckdb.output and on_spark.output == on_duckdb.output
    assert sorted(p.name for p in (compared.a.path / EXPORTS_DIR).iterdir()) == snapshots
    # A report on DuckDB cannot read the published log: said so, no stack trace.
    refused = CliRunner().invoke(
        app, ["--source", "published", *report, "-w", str(compared.a.path)]
    )
    assert refused.exit_code != 0 and "Spark" in refused.output, refused.output
    assert "Traceback" not in refused.output


def test_an_erasure_reaches_the_reports_on_the_published_log(compared: Compared) -> None:
    """Erased on one collector, a person leaves the published files, the snapshot that copied
    them at once, and the next report on the published log (last: it changes the log)."""
    from empreinte.privacy.erasure import erase_by

    a, engine = compared.a, compared.engine
    with a.analytics(engine) as log:
        before = log.to_pyarrow(log.table("identities")).to_pylist()
    erased = erase_by(a, "userId", compared.users_on_a[0], "dpo")
    theirs = {
        row["id_key"]
        for row in before
        if row["profile_id"] == erased.profile_id and row["id_type"] in ("user_id", "email")
    }
    assert theirs, "the person had a user id and an e-mail in the published log"
    # The snapshot copied the person's rows: gone with the erasure, before any report.
    assert not [p for p in (a.path / EXPORTS_DIR).iterdir() if PREFIX in p.name]
    with a.analytics(engine) as log:
        identities = log.to_pyarrow(log.table("identities")).to_pylist()
        events = log.to_pyarrow(log.events(include_bots=True).select("identifiers"))
    assert erased.profile_id not in {row["profile_id"] for row in identities}
    assert len(identities) < len(before)
    carried = {key for ids in events["identifiers"].to_pylist() for key in ids or ()}
    assert carried.isdisjoint(theirs)
