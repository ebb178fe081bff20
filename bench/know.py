"""Know-the-user benchmark: RFM, the BG/NBD + Gamma-Gamma summary and fit for a million
customers, against the `lifetimes` package fitting the same summary.

Not a test: it prints figures. One run:

1. simulates `--customers` customers with a known BG/NBD + Gamma-Gamma process (seeded; the
   CDNOW parameters of the papers by default, in weeks): first purchases spread over the first
   12 weeks, then purchases at rate λ ~ Gamma(r, α) until dropping out with probability
   p ~ Beta(a, b) after each, until the end of `--weeks` (calibration) plus `--holdout`
   weeks; each purchase worth Gamma(p, ν), ν ~ Gamma(q, γ). Written into a workspace's log the
   way ingestion stores events (`Order Completed`, one DuckDB statement from Arrow: the
   collector's own speed is bench/ingest.py's business), then the identity graph is built;
2. times, from the raw log (the owner of every order through the identity graph, as the
   product reads it):
   (a) a saved segment refreshed (`SEGMENT`: orders, recency, revenue and consent; everyone
       allows analytics and profiling by the workspace's `[consent] defaults`);
   (b) RFM in the engine (`rfm_report`: scores, segments, a million rows back to pandas);
   (c) the frequency/recency/T summary in the engine (`clv.summary`);
   (d) the BG/NBD fit (distinct triples, analytic gradient) and the Gamma-Gamma fit;
3. in the same run, `lifetimes`' BetaGeoFitter and GammaGammaFitter on the same summary;
   prints both times, the ratio, each parameter of both fits with their relative difference
   (goal: the same to 4 significant digits) and the total of the pass (goal: under 30 s).

    .venv/bin/python bench/know.py [--customers 1000000] [--seed 7] [--no-lifetimes]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

import empreinte
from empreinte.analytics.know import bgnbd, gamma_gamma
from empreinte.analytics.know.clv import summary
from empreinte.analytics.know.rfm import rfm_report
from empreinte.analytics.know.summary import Periods
from empreinte.store.duckdb.engine import DuckDBEngine

START = date(2025, 1, 6)
TRUE_BGNBD = (0.243, 4.414, 0.793, 2.426)  # r, α, a, b (per week): FHL 2005 on CDNOW
TRUE_GG = (6.25, 3.74, 15.44)  # p, q, γ: Fader & Hardie 2013 on CDNOW


def simulate(customers: int, weeks: float, seed: int) -> dict[str, np.ndarray]:
    """Purchases of `customers` BG/NBD customers over `weeks` from START: customer, day
    (from START), value."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = TRUE_BGNBD
    p, q, g = TRUE_GG
    rate = rng.gamma(r, 1 / alpha, size=customers)
    drop = rng.beta(a, b, size=customers)
    nu = rng.gamma(q, 1 / g, size=customers)
    birth = rng.uniform(0, 12, size=customers)
    who, when = [np.arange(customers)], [birth]
    active = np.arange(customers)
    clock = birth.copy()
    while len(active):
        clock = clock + rng.exponential(1 / rate[active])
        alive = clock < weeks
        active, clock = active[alive], clock[alive]
        who.append(active)
        when.append(clock)
        # After each purchase, drop out with probability p.
        stays = rng.random(len(active)) >= drop[active]
        active, clock = active[stays], clock[stays]
    customer = np.concatenate(who)
    day = np.floor(np.concatenate(when) * 7).astype(np.int64)
    value = np.round(rng.gamma(p, 1 / nu[customer]), 2)
    order = np.lexsort((day, customer))
    return {"customer": customer[order], "day": day[order], "value": value[order]}


def write_log(engine: DuckDBEngine, data: dict[str, np.ndarray]) -> None:
    n = len(data["customer"])
    noon = (
        (datetime.combine(START, datetime.min.time(), UTC) - datetime(1970, 1, 1, tzinfo=UTC))
        + timedelta(hours=12)
    ) // timedelta(microseconds=1)
    table = pa.table(
        {
            "seq": np.arange(1, n + 1, dtype=np.int64),
            "person": data["customer"],
            "micros": data["day"] * 86_400_000_000 + noon,
            "value": data["value"],
        }
    )
    cur = engine.cursor()
    cur.register("_bench", table)
    cur.execute(
        "INSERT INTO events (seq, message_id, source, type, event, user_id, timestamp,"
        " received_at, channel, is_bot, properties, identifiers)"
        " SELECT seq, 'bench-' || seq::VARCHAR, 'bench', 'track', 'Order Completed',"
        " 'u' || person::VARCHAR, make_timestamptz(micros), make_timestamptz(micros), 'web',"
        " false, json_object('revenue', value, 'currency', 'EUR'),"
        " ['user_id:u' || person::VARCHAR] FROM _bench ORDER BY seq"
    )
    cur.unregister("_bench")
    cur.execute("CHECKPOINT")
    cur.close()


SEGMENT = 'orders >= 2 and days_since_last_seen <= 90 and revenue >= 100 and consented("profiling")'


def segment_evaluation(ws: empreinte.Workspace, at: datetime) -> float:
    """A saved segment over the million customers, refreshed: the expression compiled, its
    members computed in the engine and written with their history; the seconds it took."""
    with ws.analytics() as log:  # the consent table is kept up to date by ingestion: not timed
        log.derived("consent_state")
    ws.segments.create("recent repeat buyers", SEGMENT)
    seconds, refreshed = timed(lambda: ws.segments.refresh("recent repeat buyers", at))
    print(f"segment {SEGMENT!r}: {refreshed.size:,} members")
    return float(seconds)


def timed(work: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    result = work()
    return time.perf_counter() - began, result


def differences(ours: tuple[float, ...], theirs: tuple[float, ...], names: str) -> list[str]:
    lines = []
    for name, mine, other in zip(names.split(), ours, theirs, strict=True):
        rel = abs(mine - other) / abs(other)
        same = f"{mine:.4g}" == f"{other:.4g}"
        lines.append(
            f"    {name:>6}: empreinte {mine:.6g}  lifetimes {other:.6g}  relative diff"
            f" {rel:.1e}  {'same to 4 significant digits' if same else 'DIFFERS at 4 digits'}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=52, help="calibration weeks")
    parser.add_argument("--holdout", type=int, default=26, help="holdout weeks")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-lifetimes", action="store_true", help="skip the reference")
    args = parser.parse_args()

    t = time.perf_counter()
    data = simulate(args.customers, args.weeks + args.holdout, args.seed)
    print(
        f"simulated {args.customers:,} customers, {len(data['day']):,} orders over"
        f" {args.weeks}+{args.holdout} weeks in {time.perf_counter() - t:.1f} s"
    )
    root = Path(tempfile.mkdtemp(prefix="know-bench-"))
    (root / "ws").mkdir()
    (root / "ws" / "empreinte.toml").write_text(
        "[consent]\ndefaults = { analytics = true, profiling = true }\n"
    )
    ws = empreinte.open(root / "ws")
    try:
        engine = ws.engine
        assert isinstance(engine, DuckDBEngine)
        t = time.perf_counter()
        write_log(engine, data)
        ws.identity.rebuild()
        print(f"log and identity graph built in {time.perf_counter() - t:.1f} s (not timed)")
        end = START + timedelta(weeks=args.weeks) - timedelta(days=1)
        periods = Periods(end, end + timedelta(weeks=args.holdout))
        reference = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)

        total = segment_evaluation(ws, reference)
        print(f"segment refreshed in {total:.2f} s")
        with ws.analytics() as log:
            t_rfm, rfm = timed(lambda: rfm_report(log, at=reference, consented_only=False))
            print(f"RFM in the engine ({len(rfm.customers):,} customers): {t_rfm:.2f} s")
            t_sum, (frame, _, _) = timed(lambda: summary(log, periods, consented_only=False))
            print(f"summary in the engine ({len(frame):,} customers): {t_sum:.2f} s")
        total += t_rfm + t_sum
        x, t_x, T, m = (frame[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary"))
        t_fit, fit = timed(lambda: bgnbd.fit(bgnbd.Triples.of(x, t_x, T)))
        t_gg, gg = timed(lambda: gamma_gamma.fit(x, m))
        total += t_fit + t_gg
        print(
            f"BG/NBD fit: {t_fit:.2f} s ({fit.triples:,} distinct triples, {fit.iterations}"
            f" iterations); Gamma-Gamma fit: {t_gg:.2f} s ({gg.customers:,} repeat customers)"
        )
        print(
            f"  BG/NBD  r, α, a, b = {', '.join(f'{v:.4g}' for v in fit.params.as_tuple())}"
            f"   (simulated with {', '.join(map(str, TRUE_BGNBD))}; days merged)"
        )
        print(
            f"  Gamma-Gamma p, q, γ = {', '.join(f'{v:.4g}' for v in gg.params.as_tuple())}"
            f"   (simulated with {', '.join(map(str, TRUE_GG))}; same-day orders summed)"
        )
        print(f"TOTAL (segments + RFM + summary + fits): {total:.2f} s  (goal: under 30 s)")
        if args.no_lifetimes:
            return
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        t_lbg, lbg = timed(lambda: BetaGeoFitter().fit(x, t_x, T))
        repeat = x > 0
        t_lgg, lgg = timed(lambda: GammaGammaFitter().fit(x[repeat], m[repeat]))
        print(f"lifetimes BetaGeoFitter: {t_lbg:.2f} s; GammaGammaFitter: {t_lgg:.2f} s")
        print(
            f"ratio lifetimes / empreinte: BG/NBD {t_lbg / t_fit:.1f}x, Gamma-Gamma"
            f" {t_lgg / t_gg:.1f}x, both {(t_lbg + t_lgg) / (t_fit + t_gg):.1f}x"
        )
        theirs = lbg.params_
        for line in differences(
            fit.params.as_tuple(),
            (theirs["r"], theirs["alpha"], theirs["a"], theirs["b"]),
            "r alpha a b",
        ):
            print(line)
        other = lgg.params_
        for line in differences(
            gg.params.as_tuple(), (other["p"], other["q"], other["v"]), "p q gamma"
        ):
            print(line)
        triples = bgnbd.Triples.of(x, t_x, T)
        at_theirs = (theirs["r"], theirs["alpha"], theirs["a"], theirs["b"])
        theirs_ll = float(np.sum(triples.weight * bgnbd.log_likelihood(at_theirs, triples)))
        print(
            f"BG/NBD log-likelihood: at empreinte's parameters {fit.log_likelihood:,.3f},"
            f" at lifetimes' {theirs_ll:,.3f}"
        )
    finally:
        ws.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
