"""bench/funnel.py at a tiny size: its three implementations (empreinte's core on DuckDB,
ClickHouse windowFunnel in chdb, pandas) agree on generated data. Counts only, no timing."""

from __future__ import annotations

import importlib.util
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import duckdb
import ibis
import pyarrow.parquet as pq

BENCH = Path(__file__).resolve().parents[3] / "bench" / "funnel.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_funnel", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_funnel"] = module
    spec.loader.exec_module(module)
    return module


def test_the_three_implementations_agree(tmp_path: Path) -> None:
    import chdb.session

    bench = _bench()
    data = bench.generate(400, 6000, seed=3)
    parquet = tmp_path / "t.parquet"
    pq.write_table(data, parquet)
    raw = duckdb.connect()
    raw.execute(f"CREATE TABLE touchpoints AS SELECT * FROM read_parquet('{parquet}')")
    session = chdb.session.Session(str(tmp_path / "chdb"))
    try:
        session.query(
            f"CREATE TABLE touchpoints ENGINE = Memory AS SELECT * FROM file('{parquet}', Parquet)"
        )
        window = timedelta(days=2)
        ours = bench.engine_counts(ibis.duckdb.from_connection(raw), window, "ordered")
        walked = bench.walked_counts(raw, window)  # numeric ids: no hash
        clickhouse = bench.clickhouse_counts(session, window, "ordered")
        in_pandas = bench.pandas_counts(data.to_pandas(), window)
    finally:
        session.close()
    assert ours == walked == clickhouse == in_pandas
    assert ours[0] > ours[1] > ours[2] > 0  # a funnel that converts some, not all
