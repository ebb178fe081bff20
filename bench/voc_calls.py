"""Journeys before calls benchmark: the reports of voc/call_reports.py on N calls, against a
hand-written DuckDB query of the same linking in the same run.

Not a test: it prints figures. One run:

1. generates `--people` people (consent, a phone in an `identify`, web and app sessions of
   3 to 8 pages over 30 days, some with a failed payment or an abandoned checkout) and
   `--calls` calls (`Call Completed`, the caller known by phone only for two in three, by
   userId for the others, one in ten from a number nobody gave), each a few hours after a
   session or days away from any; ingests them through `Workspace.ingest` (pseudonyms, the
   identity graph: the real path), and writes a reason per call into `voc_texts`;
2. times (best of `--repeat`, on DuckDB) each report from the raw log: `before_calls`
   (per reason: linked calls, errors, abandons, top pages and steps), `avoidable_calls`,
   `page_call_rates` and `repeat_calls` — each resolves the callers, applies consent and
   sessionises the touchpoints again;
3. the reference: the web/app touchpoints and the calls with their owners already resolved
   (materialised once, untimed), and one plain SQL statement — the range join of each call
   with the touchpoints of its person in the 24 h before — giving calls and linked calls
   per reason. Checks it gives the report's numbers, and prints each time against it.

    .venv/bin/python bench/voc_calls.py [--people 20000] [--calls 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import empreinte
from empreinte.voc.before_calls import CallScope, calls
from empreinte.voc.call_reports import avoidable_calls, before_calls, page_call_rates, repeat_calls

START = datetime(2026, 3, 1, tzinfo=UTC)
PAGES = ("Home", "Search", "Product", "Cart", "Checkout", "Tracking", "Help", "Account")
PATHS = {"Tracking": "/tracking", "Help": "/help/delivery", "Checkout": "/checkout"}
REASONS = ("delivery", "refund", "payment", "product", "complaint")
ANSWERS = {"delivery": ["/help/delivery"], "refund": ["/help/returns"]}


def phone(i: int) -> str:
    return f"+33 6 {10_000_000 + i:08d}"


def generate(people: int, n_calls: int, seed: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The messages, and each call's id → its reason."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    last_seen: dict[int, datetime] = {}
    for i in range(people):
        user = f"u{i}"
        out.append(
            {
                "type": "track",
                "event": "Consent Updated",
                "userId": user,
                "properties": {"purpose": "analytics", "granted": True},
                "timestamp": (START - timedelta(days=10)).isoformat(),
                "context": {"channel": "web"},
            }
        )
        out.append(
            {
                "type": "identify",
                "userId": user,
                "traits": {"phone": phone(i)},
                "timestamp": (START - timedelta(days=9)).isoformat(),
                "context": {"channel": "web"},
            }
        )
        for _ in range(rng.randint(1, 3)):
            at = START + timedelta(minutes=rng.randrange(30 * 24 * 60))
            channel = "web" if rng.random() < 0.7 else "app"
            for _ in range(rng.randint(3, 8)):
                name = rng.choice(PAGES)
                props = {"path": PATHS.get(name, "/" + name.lower())} if channel == "web" else {}
                out.append(
                    {
                        "type": "page" if channel == "web" else "screen",
                        "name": name,
                        "userId": user,
                        "properties": props,
                        "timestamp": at.isoformat(),
                        "context": {"channel": channel},
                    }
                )
                if name == "Checkout" and rng.random() < 0.3:
                    out.append(_track(user, "Payment Failed", at, channel))
                at += timedelta(seconds=rng.randint(10, 300))
            last_seen[i] = max(last_seen.get(i, at), at)
    reasons: dict[str, str] = {}
    for k in range(n_calls):
        i = rng.randrange(people)
        call_id = f"call-{k}"
        reasons[call_id] = rng.choice(REASONS)
        at = last_seen[i] + timedelta(minutes=rng.randint(5, 3 * 24 * 60))
        props: dict[str, Any] = {"duration": rng.randint(30, 900), "queue": "main"}
        message: dict[str, Any] = {
            "type": "track",
            "event": "Call Completed",
            "anonymousId": call_id,
            "properties": props,
            "timestamp": at.isoformat(),
            "context": {"channel": "phone"},
        }
        roll = rng.random()
        if roll < 0.1:
            props["callerNumber"] = phone(people + k)  # nobody gave it
        elif roll < 0.7:
            props["callerNumber"] = phone(i)
        else:
            message["userId"] = f"u{i}"
        out.append(message)
    return out, reasons


def _track(user: str, event: str, at: datetime, channel: str) -> dict[str, Any]:
    return {
        "type": "track",
        "event": event,
        "userId": user,
        "properties": {},
        "timestamp": at.isoformat(),
        "context": {"channel": channel},
    }


def best(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - began)
    return min(times), value


REFERENCE = """
SELECT c.reason, count(*) AS calls, count(l.seq) AS linked
FROM ref_calls c
LEFT JOIN (
    SELECT DISTINCT c.seq
    FROM ref_calls c JOIN ref_touchpoints t
      ON t.profile_id = c.profile_id AND t.at <= c.at AND t.at >= c.at - INTERVAL 24 HOUR
) l ON l.seq = c.seq
GROUP BY c.reason ORDER BY c.reason
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()

    messages, reasons = generate(args.people, args.calls, args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-voc-calls-") as folder:
        began = time.perf_counter()
        ws = empreinte.open(Path(folder) / "ws")
        report = ws.ingest(messages, source="bench")
        ws.flush()
        assert not report.rejected, report.rejected[:3]
        cursor = ws.engine.cursor()
        rows = cursor.execute(
            "SELECT seq, anonymous_id, timestamp FROM events WHERE event = 'Call Completed'"
        ).fetchall()
        cursor.executemany(
            "INSERT INTO voc_texts (seq, kind, occurred_at, turns, words, reason, analysed_at)"
            " VALUES (?, 'call', ?, 0, 0, ?, now())",
            [(seq, at, reasons[call_id]) for seq, call_id, at in rows],
        )
        print(
            f"{report.stored:,} events ({args.people:,} people, {len(rows):,} calls) ingested"
            f" in {time.perf_counter() - began:.1f} s"
        )
        with ws.analytics() as log:
            log.execute(calls(log, CallScope()).count())  # derived tables brought up to date
            timings = {}
            timings["before_calls"], before = best(args.repeat, lambda: before_calls(log))
            timings["avoidable_calls"], _ = best(args.repeat, lambda: avoidable_calls(log, ANSWERS))
            timings["page_call_rates"], _ = best(args.repeat, lambda: page_call_rates(log))
            timings["repeat_calls"], _ = best(args.repeat, lambda: repeat_calls(log))
            # The reference's inputs: owners resolved, consent applied (untimed).
            from empreinte.analytics.journeys.page_call_rates import digital_sessions

            scope = CallScope()
            touch = log.to_pyarrow(
                digital_sessions(log, scope.journey_scope()).select("profile_id", "at")
            )
            the_calls = log.to_pyarrow(
                calls(log, scope).select("seq", "profile_id", "at", "reason")
            )
        cursor.register("ref_touchpoints_arrow", touch)
        cursor.register("ref_calls_arrow", the_calls)
        cursor.execute("CREATE TEMP TABLE ref_touchpoints AS SELECT * FROM ref_touchpoints_arrow")
        cursor.execute("CREATE TEMP TABLE ref_calls AS SELECT * FROM ref_calls_arrow")
        reference, counted = best(args.repeat, lambda: cursor.execute(REFERENCE).fetchall())
        cursor.close()
        ws.close()
    ours = sorted((r.reason, r.calls, r.linked) for r in before.reasons)
    assert ours == sorted(counted), (ours, counted)
    linked = sum(r.linked for r in before.reasons)
    print(f"linked calls: {linked:,} of {before.calls:,} (the reference agrees, per reason)")
    print(f"reference (one SQL range join, owners resolved beforehand): {reference * 1000:.0f} ms")
    for name, seconds in timings.items():
        print(f"{name:>16}: {seconds * 1000:7.0f} ms  ({seconds / reference:5.1f}× the reference)")


if __name__ == "__main__":
    main()
