"""Attribution benchmark: the Markov-chain removal effect over a million conversion paths.

Not a test: it prints figures. One run:

1. generates `--paths` paths with numpy (1 to 8 touches over 5 channels, geometric lengths,
   channels drawn with unequal odds; a path converts with a probability that grows with the
   channels it holds, so removal effects differ), as the table of touches the engine builds
   from the log (analytics/journeys/conversion_paths.py: one row per touch, the path's
   facts beside it), held by DuckDB as an in-memory Arrow table;
2. times the product: `markov_transitions` (the transitions of every path counted by Ibis
   expressions in DuckDB: window functions, a group-by) then `markov.removal_effects` (the
   sparse linear systems) — for order 1, then orders 2 and 3;
3. times two references on the same paths in the same run: the five heuristic models
   (`heuristic_credits`, in the engine) and a plain numpy pass counting the order-1
   transitions from the arrays already in memory (np.unique over pair codes);
4. checks the engine's transition counts equal numpy's, and prints the times and ratios
   (best of `--repeat`). Goal (issue 12): Markov order 1 under 5 s.

    .venv/bin/python bench/attribution.py [--paths 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import ibis
import numpy as np
import pyarrow as pa

from empreinte.analytics.journeys import markov
from empreinte.analytics.journeys.attribution import (
    HEURISTIC_MODELS,
    heuristic_credits,
    markov_transitions,
)

CHANNELS = ("email", "web", "app", "store", "social")
ODDS = (0.25, 0.35, 0.15, 0.1, 0.15)
LIFT = np.array([0.02, 0.05, 0.04, 0.08, 0.01])  # what each channel adds to the odds
GOAL_AT = datetime(2026, 6, 1, tzinfo=UTC)


def generate(paths: int, seed: int) -> dict[str, np.ndarray]:
    """Touches of `paths` paths: path id, position, channel code, age; and per path whether
    it converted and its value."""
    rng = np.random.default_rng(seed)
    lengths = np.minimum(rng.geometric(0.45, size=paths), 8)
    path = np.repeat(np.arange(paths, dtype=np.int64), lengths)
    starts = np.cumsum(lengths) - lengths
    position = np.arange(len(path), dtype=np.int64) - np.repeat(starts, lengths)
    channel = rng.choice(len(CHANNELS), size=len(path), p=ODDS)
    # Consecutive repeats are one touch in the product: redraw them away (a few rounds).
    for _ in range(6):
        repeat = np.zeros(len(path), dtype=bool)
        repeat[1:] = (channel[1:] == channel[:-1]) & (position[1:] > 0)
        if not repeat.any():
            break
        channel[repeat] = rng.choice(len(CHANNELS), size=int(repeat.sum()), p=ODDS)
    keep = np.ones(len(path), dtype=bool)
    keep[1:] = ~((channel[1:] == channel[:-1]) & (position[1:] > 0))
    path, channel = path[keep], channel[keep]
    lengths = np.bincount(path, minlength=paths)
    starts = np.cumsum(lengths) - lengths
    position = np.arange(len(path), dtype=np.int64) - np.repeat(starts, lengths)
    present = np.zeros((paths, len(CHANNELS)), dtype=bool)
    present[path, channel] = True
    odds = 0.01 + present.astype(float) @ LIFT
    converted = rng.random(paths) < odds
    value = np.where(converted, np.round(rng.gamma(2.0, 40.0, size=paths), 2), 0.0)
    age_hours = rng.integers(0, 48, size=len(path))
    return {
        "path": path,
        "position": position,
        "channel": channel,
        "age_hours": age_hours,
        "lengths": lengths,
        "converted": converted,
        "value": value,
    }


def touches_table(data: dict[str, np.ndarray]) -> pa.Table:
    path, lengths = data["path"], data["lengths"]
    converted = data["converted"][path]
    goal = np.datetime64(GOAL_AT.replace(tzinfo=None), "us")
    # Each touch 1 to 3 days after the one before it, the last up to 2 days before the goal.
    hours_before = (lengths[path] - data["position"]) * 72 - data["age_hours"]
    touch_at = goal - hours_before.astype("timedelta64[h]")
    names = np.array(CHANNELS)
    return pa.table(
        {
            "profile_id": pa.array(path),
            "k": pa.array(np.zeros(len(path), dtype=np.int64)),
            "converted": pa.array(converted),
            "goal_at": pa.array(
                np.where(converted, goal, np.datetime64("NaT", "us")), pa.timestamp("us", "UTC")
            ),
            "value": pa.array(data["value"][path]),
            "label": pa.array(names[data["channel"]]),
            "touch_at": pa.array(touch_at.astype("datetime64[us]"), pa.timestamp("us", "UTC")),
            "position": pa.array(data["position"]),
            "touches": pa.array(lengths[path]),
        }
    )


def numpy_transitions(data: dict[str, np.ndarray]) -> dict[tuple[str, str], int]:
    """Order-1 transition counts straight from the arrays: START = -1, ends = -2/-3."""
    path, position, channel = data["path"], data["position"], data["channel"]
    lengths, converted = data["lengths"], data["converted"]
    source = np.where(position == 0, -1, np.roll(channel, 1))
    last = position == lengths[path] - 1
    end = np.where(converted[path[last]], -2, -3)
    sources = np.concatenate([source, channel[last]])
    targets = np.concatenate([channel, end])
    codes = (sources + 3) * 16 + (targets + 3)
    unique, counts = np.unique(codes, return_counts=True)
    name = {-1: "", -2: "+", -3: "-", **{i: c for i, c in enumerate(CHANNELS)}}
    return {
        (name[int(u // 16) - 3], name[int(u % 16) - 3]): int(n)
        for u, n in zip(unique, counts, strict=True)
    }


def engine_counts(transitions: list[markov.Transition]) -> dict[tuple[str, str], int]:
    def label(state: Any) -> str:
        if state == markov.CONVERSION:
            return "+"
        if state == markov.NULL:
            return "-"
        return "|".join(state)

    return {(label(s), label(t)): int(n) for s, t, n in transitions}


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - t)
    return min(times), times, result


def runs(times: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paths", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()

    t = time.perf_counter()
    data = generate(args.paths, args.seed)
    db = duckdb.connect()
    arrow = touches_table(data)
    db.register("generated", arrow)
    db.execute("CREATE TABLE touches AS SELECT * FROM generated")
    db.unregister("generated")
    con = ibis.duckdb.from_connection(db)
    touches = con.table("touches")
    conversions = int(data["converted"].sum())
    print(
        f"paths {args.paths:,} ({conversions:,} converting), touches {len(data['path']):,},"
        f" {len(CHANNELS)} channels; generated in {time.perf_counter() - t:.1f} s"
    )

    def markov_run(order: int) -> markov.RemovalEffects:
        transitions = markov_transitions(con.execute, touches, [order])[order]
        return markov.removal_effects(transitions)

    order1, order1_runs, effects = best(args.repeat, lambda: markov_run(1))
    expected = numpy_transitions(data)
    got = engine_counts(markov_transitions(con.execute, touches, [1])[1])
    if got != expected:
        wrong = [k for k in expected if expected[k] != got.get(k)][:3]
        raise SystemExit(f"engine and numpy transition counts disagree, e.g. {wrong}")
    print(f"order-1 transition counts checked equal to numpy's: {len(got)} transitions")
    shares = effects.shares()
    print(
        f"P(conversion) {effects.conversion_probability:.4f}; removal effects "
        + ", ".join(f"{c} {effects.effects[c]:.3f} ({100 * shares[c]:.1f} %)" for c in CHANNELS)
    )
    print(
        f"Markov order 1 (engine counts + sparse solve): best {order1:.2f} s"
        f"  (runs: {runs(order1_runs)})"
    )
    for order in (2, 3):
        seconds, times, result = best(args.repeat, lambda o=order: markov_run(o))
        print(
            f"Markov order {order}: best {seconds:.2f} s, {result.states} states"
            f"  (runs: {runs(times)})"
        )
    heuristic, heuristic_runs, _ = best(
        args.repeat,
        lambda: heuristic_credits(con.execute, touches, timedelta(days=7), HEURISTIC_MODELS),
    )
    print(f"five heuristic models (engine): best {heuristic:.2f} s  (runs: {runs(heuristic_runs)})")
    plain, plain_runs, _ = best(args.repeat, lambda: numpy_transitions(data))
    print(
        f"plain numpy order-1 counts (arrays in memory): best {plain:.2f} s"
        f"  (runs: {runs(plain_runs)})"
    )
    print(f"ratio Markov order 1 / heuristic models: {order1 / heuristic:.2f}x")
    print(f"ratio Markov order 1 / plain numpy pass: {order1 / plain:.2f}x")
    verdict = "met" if order1 < 5 else "NOT met"
    print(f"goal: Markov order 1 over {args.paths:,} paths under 5 s — {verdict}")


if __name__ == "__main__":
    main()
