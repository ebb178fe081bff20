"""CX benchmark: NPS, CSAT and CES by month x 20 segments over a million answers.

Not a test: it prints figures. One run:

1. synthesises `--answers` survey answers (half NPS, 30 % CSAT, 20 % CES) from `--people`
   people over 12 months, each carrying one of 20 segments, with repeat answers (so the
   "latest answer per person, survey and month" rule has work to do), and writes them into a
   workspace's log the way ingestion stores them (one DuckDB statement from Arrow: the
   collector's own speed is bench/ingest.py's business), then builds the identity graph;
2. times the product: `score_report(survey, period="month", by="properties.segment")` for the
   three surveys — Ibis expressions run by DuckDB, from the raw log: owner of each answer
   through the identity graph, latest-answer rule, then the aggregate;
3. times the reference: the same figures with a plain pandas groupby on the same answers
   already in memory as a DataFrame (person id known, so no identity join): sort,
   drop_duplicates for the latest-answer rule, groupby month x segment;
4. checks both give the same n, promoters, detractors and sums for every cell, and prints
   both times and the ratio (best of `--repeat`).

    .venv/bin/python bench/cx.py [--answers 1000000] [--people 250000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

import empreinte
from empreinte.analytics.cx.scores import score_report
from empreinte.store.duckdb.engine import DuckDBEngine

SURVEYS = {"nps": ("NPS Answered", 0.5, 0, 10), "csat": ("CSAT Answered", 0.3, 1, 5)}
SURVEYS["ces"] = ("CES Answered", 0.2, 1, 7)
START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_US = 365 * 24 * 3600 * 1_000_000


def synthesise(answers: int, people: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    kinds = rng.choice(list(SURVEYS), size=answers, p=[v[1] for v in SURVEYS.values()])
    person = rng.integers(0, people, size=answers)
    segment = person % 20  # a person's segment does not change
    micros = np.sort(rng.integers(0, YEAR_US, size=answers))
    score = np.empty(answers, dtype=np.int64)
    for kind, (_, _, low, high) in SURVEYS.items():
        mask = kinds == kind
        # Segments differ: a mean that moves with the segment, as real segments do.
        mean = low + (high - low) * (0.55 + 0.02 * segment[mask])
        score[mask] = np.clip(np.rint(rng.normal(mean, (high - low) / 4)), low, high)
    return pd.DataFrame(
        {
            "seq": np.arange(1, answers + 1, dtype=np.int64),
            "survey": kinds,
            "person": person,
            "segment": segment,
            "micros": micros,
            "score": score,
        }
    )


def write_log(engine: DuckDBEngine, frame: pd.DataFrame) -> None:
    table = pa.table(
        {
            "seq": frame["seq"].to_numpy(),
            "event": frame["survey"].map({k: v[0] for k, v in SURVEYS.items()}).to_numpy(),
            "person": frame["person"].to_numpy(),
            "segment": frame["segment"].to_numpy(),
            "micros": frame["micros"].to_numpy(),
            "score": frame["score"].to_numpy(),
        }
    )
    cur = engine.cursor()
    cur.register("_bench", table)
    cur.execute(
        "INSERT INTO events (seq, message_id, source, type, event, user_id, timestamp,"
        " received_at, channel, is_bot, properties, identifiers)"
        " SELECT seq, 'bench-' || seq::VARCHAR, 'bench', 'track', event,"
        " 'u' || person::VARCHAR, make_timestamptz(micros + epoch_us(TIMESTAMPTZ '2025-01-01"
        " 00:00:00+00')), make_timestamptz(micros + epoch_us(TIMESTAMPTZ '2025-01-01"
        " 00:00:00+00')), 'email', false,"
        " json_object('score', score, 'segment', 's' || lpad(segment::VARCHAR, 2, '0')),"
        " ['user_id:u' || person::VARCHAR] FROM _bench ORDER BY seq"
    )
    cur.unregister("_bench")
    cur.execute("CHECKPOINT")
    cur.close()


def pandas_reference(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per survey: month x segment -> n, total, high, low, with the latest-answer rule."""
    out = {}
    month = pd.to_datetime(frame["micros"] + START.timestamp() * 1e6, unit="us", utc=True)
    frame = frame.assign(month=month.dt.tz_localize(None).dt.to_period("M"))
    for kind in SURVEYS:
        mine = frame[frame["survey"] == kind]
        latest = mine.sort_values(["micros", "seq"]).drop_duplicates(
            ["person", "month"], keep="last"
        )
        high = {"nps": 9, "csat": 4, "ces": 5}[kind]
        latest = latest.assign(
            high=latest["score"] >= high,
            low=(latest["score"] <= 6) if kind == "nps" else False,
        )
        out[kind] = latest.groupby(["month", "segment"]).agg(
            n=("score", "size"), total=("score", "sum"), high=("high", "sum"), low=("low", "sum")
        )
    return out


def engine_run(ws: empreinte.Workspace) -> dict[str, list[tuple[str, str, int, int, int, int]]]:
    out = {}
    for kind in SURVEYS:
        with ws.analytics() as log:
            report = score_report(log, kind, period="month", by="properties.segment", min_n=1)
        out[kind] = [
            (
                str(r.period),
                str(r.group),
                r.tally.n,
                int(r.tally.total),
                r.tally.high,
                r.tally.low,
            )
            for r in report.rows
        ]
    return out


def check(
    engine: dict[str, list[tuple[str, str, int, int, int, int]]], ref: dict[str, pd.DataFrame]
) -> int:
    cells = 0
    for kind, rows in engine.items():
        expected = {
            (str(month), f"s{segment:02d}"): (int(r.n), int(r.total), int(r.high), int(r.low))
            for (month, segment), r in ref[kind].iterrows()
        }
        got = {
            (period, group): (n, total, high, low) for period, group, n, total, high, low in rows
        }
        if got != expected:
            wrong = [k for k in expected if expected[k] != got.get(k)][:3]
            raise SystemExit(f"{kind}: engine and pandas disagree, e.g. {wrong}")
        cells += len(got)
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    frame = synthesise(args.answers, args.people, args.seed)
    root = Path(tempfile.mkdtemp(prefix="cx-bench-"))
    ws = empreinte.open(root / "ws")
    try:
        engine = ws.engine
        assert isinstance(engine, DuckDBEngine)
        t = time.perf_counter()
        write_log(engine, frame)
        ws.identity.rebuild()
        print(
            f"answers {args.answers:,} from {args.people:,} people, 12 months x 20 segments;"
            f" log and identity graph built in {time.perf_counter() - t:.1f} s"
        )
        engine_times, pandas_times = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            result = engine_run(ws)
            engine_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            reference = pandas_reference(frame)
            pandas_times.append(time.perf_counter() - t)
        cells = check(result, reference)
        best_engine, best_pandas = min(engine_times), min(pandas_times)
        print(f"cells checked equal (survey x month x segment): {cells}")
        print(
            f"engine (Ibis on DuckDB, from the raw log): best {best_engine:.2f} s"
            f"  (runs: {', '.join(f'{x:.2f}' for x in engine_times)})"
        )
        print(
            f"pandas groupby (answers already in memory): best {best_pandas:.2f} s"
            f"  (runs: {', '.join(f'{x:.2f}' for x in pandas_times)})"
        )
        print(f"ratio pandas / engine: {best_pandas / best_engine:.2f}x")
    finally:
        ws.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
