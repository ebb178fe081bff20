"""The real server under an open-loop load above its capacity: it refuses what it cannot keep
up with (429 with Retry-After) instead of letting every request wait, keeps what it
acknowledged, stores nothing it refused, and keeps answering /api/health.

Every bound is relative to figures measured in the same test (the capacity, the idle health
latency) or to the configured latency budget."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

from empreinte.workspace import DATABASE_FILE
from openloop import batch_bodies, closed_loop, open_loop, percentile, post_bytes, probe_health

BUDGET = 1.0  # [collector] latency_budget of the test's workspace, seconds
BATCH = 200  # messages a request


def stored_ids(workspace: Path) -> Counter[str]:
    con = duckdb.connect(str(workspace / DATABASE_FILE), read_only=True)
    try:
        rows = con.execute("SELECT message_id, count(*) FROM events GROUP BY ALL").fetchall()
    finally:
        con.close()
    return Counter(dict(rows))


@pytest.mark.slow
def test_overload_is_refused_early_and_nothing_acknowledged_is_lost(
    workspace: Any, start_server: Any
) -> None:
    (workspace.path / "empreinte.toml").write_text(f"[collector]\nlatency_budget = {BUDGET}\n")
    server = start_server(workspace)
    key, port = workspace.write_key, server.port

    # A first closed-loop run warms the server up (Arrow, DuckDB, caches); the second measures.
    warm, measure = batch_bodies("warm", 30, BATCH), batch_bodies("capacity", 120, BATCH)
    asyncio.run(closed_loop(port, [post_bytes(port, key, b) for _, b in warm], 16))
    capacity = asyncio.run(closed_loop(port, [post_bytes(port, key, b) for _, b in measure], 16))
    idle = asyncio.run(probe_health(port, 60, 0.01))

    # Three times the capacity for long enough that the queues would grow far past the budget.
    rate = 3 * capacity
    bodies = batch_bodies("load", round(rate * 8 * BUDGET), BATCH)
    run = asyncio.run(open_loop(port, [post_bytes(port, key, b) for _, b in bodies], rate))
    server.stop()

    assert set(run.statuses) <= {200, 429}, run.statuses
    refused = run.with_status(429)
    accepted = run.with_status(200)
    assert refused and accepted, run.statuses
    assert all(o.retry_after is not None and int(o.retry_after) >= 1 for o in refused)
    assert all(o.answer["code"] == "overloaded" for o in refused)

    stored = stored_ids(workspace.path)
    assert max(stored.values()) == 1
    for outcome in accepted:
        ids = bodies[outcome.index][0]
        assert all(i in stored for i in ids), "an acknowledged message is not in the log"
    for outcome in refused:
        ids = bodies[outcome.index][0]
        assert not any(i in stored for i in ids), "a message refused with 429 was stored"

    # Accepted requests waited about the budget, not for ever (without back-pressure: over
    # 15 s). The budget is a forecast made at admission from rates measured so far; on a
    # shared 2-core machine the CPU the server gets can halve after it (another test worker
    # starting a server), and far less when other suites share it (p99 4.5 s seen at load 13),
    # hence the margin: still a third of what it is without back-pressure.
    p99 = percentile([o.latency for o in accepted], 0.99)
    assert p99 < 5 * BUDGET, f"accepted p99 {p99:.2f} s for a budget of {BUDGET} s"
    # /api/health does not queue behind ingestion work (validation on the event loop made it
    # wait for up to the validation budget, half of BUDGET). What is left is waiting for a core
    # and the GIL, shared with the validation, writer and sync threads and the load generator
    # on a 2-core machine: a slack of a fifth of the budget on top of the idle latency.
    health, idle_p95 = percentile(run.health, 0.95), percentile(idle, 0.95)
    assert health < 5 * idle_p95 + BUDGET / 5, (
        f"/api/health p95 {health * 1000:.1f} ms under load, {idle_p95 * 1000:.1f} ms idle"
    )
