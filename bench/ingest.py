"""Ingest benchmark: the real HTTP collector under concurrent load, against the storage limit.

Not a test: it prints figures. One run measures, on the same events:

1. parsing and validation alone (`orjson.loads` of the batch bodies, `normalise()` per message),
2. the storage write limit: rows already validated, appended straight to a DuckDB engine in
   groups of 500, 5,000 and 10,000 rows, one COMMIT per group, no HTTP (the ratio is taken
   against 5,000-row commits);
3. the real server (`empreinte serve`, a subprocess) loaded by concurrent keep-alive clients on
   loopback posting pre-serialised 500-event batches to /v1/batch; a 200 means durably
   committed, so events/s counts acknowledged events only (after one warm-up batch and a
   pause, so that start-up work is not counted); its CPU time is reported per event, for the
   server process and its validation workers (`--workers`);

then kills the server with SIGKILL, reopens the log and checks that it holds exactly the
acknowledged events. The demo's events carry the voice of the customer: calls' and chats'
transcripts, reviews and survey comments, each redacted at the door by spaCy's named-entity
models (privacy/text_pii/); `--without-texts` leaves those events out, to measure the rest of
the path. The client is a raw-socket asyncio loop that only writes prepared bytes and
reads short answers, so that it leaves the CPU to the server.

    .venv/bin/python bench/ingest.py [--events 300000] [--clients 8] [--batch 500] [--gzip]
                                     [--workers N]   # the server's validation processes
                                     [--without-texts]   # no event that carries a text
                                     [--profile server.raw]   # py-spy, GIL-holding samples
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import itertools
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

import empreinte
from empreinte.collect.text_redaction import has_texts
from empreinte.collect.validate import normalise, now_micros
from empreinte.demo import generate
from empreinte.privacy.pii import IngestPolicy
from empreinte.privacy.pseudonym import Pseudonymiser
from empreinte.store.duckdb.engine import DuckDBEngine
from empreinte.store.records import EventFilter, EventRow

# The HTTP exchange is the open-loop load generator's (tests/openloop.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from openloop import exchange

VENV_BIN = Path(sys.executable).parent
SOURCE = "bench"
WARM_UP_EVENTS = 200

# -- the events -------------------------------------------------------------------------------


def demo_messages(count: int, seed: int, texts: bool = True) -> list[dict[str, Any]]:
    """`count` Segment messages from the demo generator, each with a unique messageId; without
    the messages that carry a text to redact when `texts` is false.

    Unique ids: a retry would be dropped as a duplicate, and the log must end up holding
    exactly what was acknowledged.
    """
    people = max(50, count // 40)  # about 50 events per person and year
    stream = generate(people=people, months=12, seed=seed)
    if not texts:
        stream = (m for m in stream if not has_texts(m.get("event"), m.get("properties")))
    messages = list(itertools.islice(stream, count))
    while len(messages) < count:  # never for the default sizes: the stream is long enough
        messages.extend(dict(m) for m in messages[: count - len(messages)])
    for index, message in enumerate(messages):
        message["messageId"] = f"bench-{seed}-{index}"
    return messages


# -- reference figures, in this process --------------------------------------------------------


@dataclass
class Rate:
    events: int
    seconds: float
    cpu: float = 0.0  # seconds of CPU of this process, every thread (DuckDB's too)

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else float("inf")


def validate_all(messages: list[dict[str, Any]], batch: int) -> tuple[list[EventRow], Rate]:
    """`normalise()` per message, as the collector calls it for a batch request."""
    rows: list[EventRow] = []
    policy = IngestPolicy(Pseudonymiser(b"bench-key-" * 4))
    started = time.perf_counter()
    for offset in range(0, len(messages), batch):
        received_at = now_micros()  # the bodies carry a batch-level sentAt: so does this
        for message in messages[offset : offset + batch]:
            rows.append(
                normalise(
                    message,
                    source=SOURCE,
                    received_at=received_at,
                    batch_sent_at=received_at,
                    policy=policy,
                )
            )
    return rows, Rate(len(rows), time.perf_counter() - started)


def collector_pass(bodies: list[bytes]) -> Callable[[], float]:
    """The collector's work on `bodies` before the writer, as its validation thread does it:
    parse (with the exact-integer check), validate and pseudonymise, encode as Arrow. Returns
    a function that runs one pass and answers its CPU seconds (bench/validate_cost.py times
    the same pass in its measured interpreters)."""
    from empreinte.collect.http import _parse
    from empreinte.collect.workers import _Validator
    from empreinte.store.columns import ColumnarRows

    validator = _Validator(IngestPolicy(Pseudonymiser(b"bench-key-" * 4)))
    received_at = now_micros()

    def one_pass() -> float:
        started = time.process_time()
        for body in bodies:
            rows, _ = validator._validate(
                _parse(body), None, SOURCE, body_size=len(body), received_at=received_at
            )
            ColumnarRows(rows, SOURCE, received_at).table()
        return time.process_time() - started

    return one_pass


def pipeline_cpu(bodies: list[bytes], events: int, passes: int = 3) -> float:
    """CPU µs per event of `collector_pass`: the best of `passes` after a first one that fills
    the caches: on a shared machine the fastest pass is the least disturbed, so this figure
    moves less than the rates."""
    one_pass = collector_pass(bodies)
    one_pass()
    return min(one_pass() for _ in range(passes)) / events * 1e6


def parse_all(bodies: list[bytes], events: int) -> Rate:
    started = time.perf_counter()
    for body in bodies:
        orjson.loads(body)
    return Rate(events, time.perf_counter() - started)


def storage_limit(rows: list[EventRow], group: int, directory: Path) -> Rate:
    """The same rows appended straight to a fresh engine, one COMMIT per `group` rows."""
    path = directory / f"storage-{group}.duckdb"
    engine = DuckDBEngine(path)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        for offset in range(0, len(rows), group):
            engine.append(rows[offset : offset + group], offset + 1)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert engine.count_events(EventFilter()) == len(rows)
    finally:
        engine.close()
        for leftover in directory.glob(f"storage-{group}.duckdb*"):
            leftover.unlink()
    return Rate(len(rows), elapsed, cpu)


# -- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_workspace(directory: Path) -> str:
    with empreinte.open(directory) as ws:
        return ws.credentials.create_write_key(SOURCE)


def start_server(
    directory: Path, port: int, log: Path, workers: int | None
) -> subprocess.Popen[bytes]:
    command = [str(VENV_BIN / "empreinte"), "serve", "-w", str(directory), "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited early:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("the server did not start listening within 30 s")


def start_profiler(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling the server's threads while they hold the GIL, until sent SIGINT."""
    command = [str(VENV_BIN / "py-spy"), "record", "--pid", str(pid), "--threads", "--gil"]
    command += ["--rate", "250", "--format", "raw", "--output", str(out)]
    profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # let it attach before the load starts
    return profiler


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User + system CPU time of a process, and of its live descendants (its validation
    workers), from Linux /proc; 0 where unavailable."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    ticks = {pid: 0, -1: 0}  # the process; its descendants
    todo = [pid]
    while todo:
        current = todo.pop()
        if (fields := _stat(current)) is not None:
            ticks[pid if current == pid else -1] += int(fields[11]) + int(fields[12])
        todo.extend(children.get(current, ()))
    return ticks[pid] / os.sysconf("SC_CLK_TCK"), ticks[-1] / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each live thread of a process, by thread id (Linux /proc)."""
    out: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        if (fields := _stat_path(task / "stat")) is not None:
            out[int(task.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def _stat_path(path: Path) -> list[str] | None:
    try:
        return path.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def thread_names(pid: int) -> dict[int, str]:
    """The names of a process's Python threads by thread id, from `py-spy dump` (empty when
    py-spy is missing or may not attach). Other threads are native: DuckDB's."""
    try:
        dump = subprocess.run(
            [str(VENV_BIN / "py-spy"), "dump", "--pid", str(pid)],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    names = {}
    for line in dump.splitlines():
        if line.startswith("Thread ") and '"' in line:
            tid, name = line.split()[1], line.split('"')[1]
            if tid.isdigit():
                names[int(tid)] = name
    return names


def _thread_kind(name: str | None) -> str:
    """A thread's part in the collector, from its Python name."""
    if name is None:
        return "DuckDB's own threads"
    if name == "MainThread":
        return "HTTP (event loop)"
    for prefix, kind in (
        ("empreinte-validate", "validation thread"),
        ("empreinte-writer", "writer (dedup, Arrow, DuckDB append)"),
        ("empreinte-identity", "identity sync"),
    ):
        if name.startswith(prefix):
            return kind
    return "other Python threads (worker pool feeders…)"


def cpu_breakdown(
    before: dict[int, float], after: dict[int, float], names: dict[int, str], total: float
) -> dict[str, float]:
    """CPU seconds during the load by part of the server; threads that ended are counted in
    the process total only (`total`), under "ended threads"."""
    parts: Counter[str] = Counter()
    for tid, seconds in after.items():
        parts[_thread_kind(names.get(tid))] += seconds - before.get(tid, 0.0)
    parts["ended threads"] += max(0.0, total - sum(parts.values()))
    return dict(parts)


# -- the load -----------------------------------------------------------------------------------


def request_bytes(body: bytes, port: int, write_key: str, gzipped: bool) -> bytes:
    """A complete HTTP/1.1 request, built before the clock starts."""
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    if gzipped:
        body = gzip.compress(body, compresslevel=1)
    head = (
        f"POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Basic {auth}\r\nContent-Type: application/json\r\n"
        + ("Content-Encoding: gzip\r\n" if gzipped else "")
        + f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class LoadResult:
    seconds: float = 0.0
    acknowledged: int = 0
    duplicates: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


async def _client(port: int, requests: Iterator[bytes], result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            while True:  # retry on 429/503 after Retry-After, as the official clients do
                started = time.perf_counter()
                status, headers, body = await exchange((reader, writer), request)
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] += 1
                if status not in (429, 503):
                    break
                await asyncio.sleep(float(headers.get("retry-after", "1")))
            if status == 200:
                answer = orjson.loads(body)
                result.acknowledged += answer["stored"]
                result.duplicates += answer["duplicates"]
            else:
                result.failures.append(f"{status}: {body[:200]!r}")
    finally:
        writer.close()


async def load(requests: list[bytes], port: int, clients: int) -> LoadResult:
    result = LoadResult()
    shared = iter(requests)  # every client takes the next request: no client idles early
    started = time.perf_counter()
    await asyncio.gather(*(_client(port, shared, result) for _ in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


def warm_up(port: int, write_key: str, seed: int) -> None:
    """One batch of other events before the clock starts, then a pause: the server's one-time
    start-up work (its workers' imports, the identity graph's first load) is not the rate."""
    messages = demo_messages(WARM_UP_EVENTS, seed + 1_000)
    for message in messages:
        message["messageId"] = "warm-up-" + message["messageId"]
    body = orjson.dumps({"batch": messages, "sentAt": now_iso()})
    result = run_load([request_bytes(body, port, write_key, False)], port, 1)
    if result.statuses[200] != 1:
        raise SystemExit(f"the warm-up batch failed: {result.failures}")
    time.sleep(3)


def run_load(requests: list[bytes], port: int, clients: int) -> LoadResult:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(load(requests, port, clients))
    return uvloop.run(load(requests, port, clients))


# -- the report ---------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300_000, help="events to send")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument("--batch", type=int, default=500, help="events per request")
    parser.add_argument("--gzip", action="store_true", help="gzip request bodies (level 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--workers", type=int, help="the server's validation processes (default: serve's)"
    )
    parser.add_argument(
        "--without-texts",
        action="store_true",
        help="leave out the events that carry a text to redact (transcripts, verbatims)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace")
    parser.add_argument(
        "--profile", type=Path, help="record the server with py-spy into this file (raw format)"
    )
    args = parser.parse_args()

    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, shared by the server and the load client (same host)")
    messages = demo_messages(args.events, args.seed, texts=not args.without_texts)
    with_texts = sum(has_texts(m.get("event"), m.get("properties")) for m in messages)
    bodies = [
        orjson.dumps({"batch": messages[i : i + args.batch], "sentAt": now_iso()})
        for i in range(0, len(messages), args.batch)
    ]
    mean_size = sum(len(b) for b in bodies) / len(messages)
    print(
        f"events: {len(messages):,} demo events (empreinte.demo.generate), "
        f"{len(bodies):,} requests of {args.batch}, "
        f"{mean_size:.0f} bytes of JSON per event" + (", gzip level 1" if args.gzip else "")
    )
    print(
        f"        {with_texts:,} of them ({with_texts / len(messages):.1%}) carry a text the "
        "collector redacts (transcripts, reviews, comments)"
    )

    root = Path(tempfile.mkdtemp(prefix="empreinte-bench-"))
    try:
        report(args, messages, bodies, root)
    finally:
        if args.keep:
            print(f"workspace kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def report(
    args: argparse.Namespace, messages: list[dict[str, Any]], bodies: list[bytes], root: Path
) -> None:
    cores = os.cpu_count() or 1
    print("\n-- in-process references (one core, no HTTP) --")
    parse = parse_all(bodies, len(messages))
    print(f"parse only (orjson.loads of the bodies):      {parse.per_second:>12,.0f} events/s")
    rows, validation = validate_all(messages, args.batch)
    print(f"validation only (normalise() per message):    {validation.per_second:>12,.0f} events/s")
    sample = bodies[: max(1, 50_000 // args.batch)]  # enough for a steady figure
    pipeline = pipeline_cpu(sample, sum(len(orjson.loads(b)["batch"]) for b in sample))
    print(f"parse + validate + Arrow, CPU (best of 3):    {pipeline:>12.1f} µs per event")
    storage = {group: storage_limit(rows, group, root) for group in (500, 5_000, 10_000)}
    for group, rate in storage.items():
        label = f"storage only ({group:,}-row appends + COMMIT):"
        print(
            f"{label:<46}{rate.per_second:>12,.0f} events/s, "
            f"{rate.cpu / rate.events * 1e6:.1f} µs CPU per event (Arrow + DuckDB)"
        )
    limit = storage[5_000].per_second
    del rows

    workers = "serve's default" if args.workers is None else args.workers
    print(
        f"\n-- HTTP: real server ({workers} validation workers), "
        f"{args.clients} keep-alive clients on loopback --"
    )
    workspace = root / "workspace"
    write_key = make_workspace(workspace)
    port = free_port()
    server = start_server(workspace, port, root / "server.log", args.workers)
    requests = [request_bytes(body, port, write_key, args.gzip) for body in bodies]
    warm_up(port, write_key, args.seed)
    names = thread_names(server.pid)
    profiler = start_profiler(server.pid, args.profile) if args.profile else None
    try:
        threads_before = thread_cpu(server.pid)
        (own_cpu, workers_cpu), client_cpu = cpu_seconds(server.pid), time.process_time()
        result = run_load(requests, port, args.clients)
        own_after, workers_after = cpu_seconds(server.pid)
        threads_after = thread_cpu(server.pid)
        own_cpu, workers_cpu = own_after - own_cpu, workers_after - workers_cpu
        client_cpu = time.process_time() - client_cpu
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait()
        server.send_signal(signal.SIGKILL)  # a crash: only what was committed may remain
        server.wait()

    http_rate = Rate(result.acknowledged, result.seconds).per_second
    acknowledged = max(result.acknowledged, 1)
    print(
        f"events sent: {len(messages):,} in {len(requests):,} requests; answers: "
        f"{dict(sorted(result.statuses.items()))}"
    )
    print(f"events acknowledged (200, durable): {result.acknowledged:,} in {result.seconds:.2f} s")
    print(f"sustained:  {http_rate:,.0f} events/s")
    print(
        f"latency:    p50 {_ms(_percentile(result.latencies, 0.5))}, "
        f"p99 {_ms(_percentile(result.latencies, 0.99))}, max {_ms(max(result.latencies))}"
    )
    backoff = result.statuses[429] + result.statuses[503]
    print(f"429/503 answers: {backoff} (each retried after Retry-After)")
    print(
        f"CPU during the load: server {own_cpu:.1f} s + workers {workers_cpu:.1f} s "
        f"({own_cpu / acknowledged * 1e6:.1f} + {workers_cpu / acknowledged * 1e6:.1f} = "
        f"{(own_cpu + workers_cpu) / acknowledged * 1e6:.1f} µs per event), "
        f"client {client_cpu:.1f} s, over {result.seconds:.1f} s wall on {cores} cores"
    )
    if names:
        parts = cpu_breakdown(threads_before, threads_after, names, own_cpu)
        parts["validation worker processes"] = workers_cpu
        print("CPU per event by part (µs):")
        for part, seconds in sorted(parts.items(), key=lambda item: -item[1]):
            if seconds > 0:
                print(f"  {part:<46}{seconds / acknowledged * 1e6:>7.1f}")
    else:
        print("(CPU by part: needs py-spy to name the server's threads)")
    if result.failures:
        print(f"failures: {len(result.failures)}, first: {result.failures[0]}")
    print(
        f"\nratio HTTP / storage (5,000-row commits): {http_rate / limit:.2f} "
        f"({http_rate:,.0f} / {limit:,.0f} events/s)"
    )
    print(f"ratio HTTP / validation:    {http_rate / validation.per_second:.2f}")

    with empreinte.open(workspace, create=False) as ws:
        in_log = ws.count() - WARM_UP_EVENTS
    verdict = "OK" if in_log == result.acknowledged and result.statuses[200] else "MISMATCH"
    print(
        f"after kill -9 and reopen: {in_log:,} events in the log, "
        f"{result.acknowledged:,} acknowledged, {result.duplicates} duplicates -> {verdict}"
    )
    if verdict != "OK":
        raise SystemExit(1)


if __name__ == "__main__":
    main()
