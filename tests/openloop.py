"""An open-loop load generator for the collector: requests leave on a fixed schedule, whatever
the server answers, as a crowd of independent clients would send them (a closed loop of N
clients slows down with the server and hides overload). Used by tests/collect/test_overload.py
and bench/overload.py.

Raw HTTP/1.1 over asyncio sockets, bodies serialised before the clock starts, so that the
client leaves the CPU to the server. A request's latency runs from its scheduled departure, so
time spent waiting for a free connection counts (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import base64
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def batch_bodies(label: str, requests: int, size: int) -> list[tuple[list[str], bytes]]:
    """`requests` batch bodies of `size` track messages with unique messageIds: (ids, body)."""
    sent_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    out = []
    for r in range(requests):
        ids = [f"{label}-{r}-{k}" for k in range(size)]
        batch = [
            {
                "type": "track",
                "event": "Product Viewed",
                "userId": f"user-{r % 997}-{k % 13}",
                "messageId": mid,
                "timestamp": sent_at,
                "properties": {"sku": f"SKU-{k}", "price": 19.9, "list": "search results"},
                "context": {"channel": "web", "page": {"path": "/catalogue", "title": "Shop"}},
            }
            for k, mid in enumerate(ids)
        ]
        out.append((ids, orjson.dumps({"batch": batch, "sentAt": sent_at})))
    return out


def post_bytes(port: int, write_key: str, body: bytes) -> bytes:
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    head = (
        f"POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def health_bytes(port: int) -> bytes:
    return f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


@dataclass
class Outcome:
    index: int
    status: int  # 0: the connection failed
    latency: float  # seconds from the scheduled departure to the full answer
    retry_after: str | None = None
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    """What one open-loop run saw."""

    offered_rate: float  # requests a second, as scheduled
    seconds: float
    outcomes: list[Outcome]
    health: list[float]  # latencies of /api/health probes during the run

    def with_status(self, status: int) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def statuses(self) -> Counter[int]:
        return Counter(o.status for o in self.outcomes)


async def exchange(conn: Connection, request: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = conn
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


# uvicorn closes a keep-alive connection idle for 5 s: one idle for 4 s is not reused.
_MAX_IDLE = 4.0


class Pool:
    """Keep-alive connections: an idle one when there is one, else a new one."""

    def __init__(self, port: int):
        self._port = port
        self._idle: list[tuple[Connection, float]] = []
        self.opened = 0

    async def take(self) -> Connection:
        while self._idle:
            conn, since = self._idle.pop()
            if time.perf_counter() - since < _MAX_IDLE:
                return conn
            conn[1].close()
        self.opened += 1
        return await asyncio.open_connection("127.0.0.1", self._port)

    def give_back(self, conn: Connection, headers: dict[str, str]) -> None:
        if headers.get("connection", "").lower() == "close":
            conn[1].close()
        else:
            self._idle.append((conn, time.perf_counter()))

    def close(self) -> None:
        for (_, writer), _ in self._idle:
            writer.close()


async def _send(pool: Pool, index: int, request: bytes, departure: float) -> Outcome:
    try:
        conn = await pool.take()
        status, headers, body = await exchange(conn, request)
    except (OSError, asyncio.IncompleteReadError):
        return Outcome(index, 0, time.perf_counter() - departure)
    latency = time.perf_counter() - departure
    pool.give_back(conn, headers)
    answer = orjson.loads(body) if body.startswith(b"{") else {}
    return Outcome(index, status, latency, headers.get("retry-after"), answer)


async def probe_health(port: int, count: int, interval: float) -> list[float]:
    """`count` GET /api/health on one keep-alive connection, `interval` seconds apart."""
    conn = await asyncio.open_connection("127.0.0.1", port)
    latencies = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            status, _, _ = await exchange(conn, health_bytes(port))
            latencies.append(time.perf_counter() - started)
            assert status == 200, f"/api/health answered {status}"
            await asyncio.sleep(interval)
    finally:
        conn[1].close()
    return latencies


async def open_loop(
    port: int | Sequence[int], requests: list[bytes], rate: float, health_interval: float = 0.05
) -> Run:
    """Send `requests` at `rate` a second on schedule, probing /api/health meanwhile.

    Several ports: request i goes to `port[i % len(port)]`, round-robin as a load balancer in
    front of several collectors would spread them (each request must be built for its port's
    workspace); /api/health is probed on the first."""
    ports = [port] if isinstance(port, int) else list(port)
    pools = [Pool(p) for p in ports]
    started = time.perf_counter()
    health = asyncio.ensure_future(
        probe_health(ports[0], max(1, int(len(requests) / rate / health_interval)), health_interval)
    )
    tasks = []
    for index, request in enumerate(requests):
        departure = started + index / rate
        delay = departure - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pool = pools[index % len(pools)]
        tasks.append(asyncio.ensure_future(_send(pool, index, request, departure)))
    outcomes = await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    for pool in pools:
        pool.close()
    return Run(rate, seconds, list(outcomes), await health)


async def closed_loop(port: int, requests: list[bytes], clients: int) -> float:
    """Requests a second that `clients` back-to-back clients get answered 200 (the capacity).
    A request refused with 429 is sent again after a short pause: on a busy machine even a
    closed loop can exceed the latency budget now and then."""
    shared = iter(requests)

    async def client() -> None:
        conn = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in shared:
                while (answer := await exchange(conn, request))[0] == 429:
                    await asyncio.sleep(0.05)
                assert answer[0] == 200, f"the capacity run got {answer[0]}: {answer[2]!r}"
        finally:
            conn[1].close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return len(requests) / (time.perf_counter() - started)


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]
