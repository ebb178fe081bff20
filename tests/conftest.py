"""Shared fixtures: fresh workspaces, the real server as a subprocess, and an in-thread server
over a storage engine that a test can make fail or stall (a real server, a storage fault).

Everything here talks to the product through its public surfaces: `empreinte.open`, the
`empreinte serve` command, `create_app`, and HTTP.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

from dashboard_fixtures import browser, client_as, dashboard, page_as  # noqa: F401
from empreinte.demo import Person, generate_with_truth
from empreinte.store.duckdb.engine import DuckDBEngine
from empreinte.store.records import EventRow
from empreinte.workspace import DATABASE_FILE, Workspace
from servers import (  # re-exported: tests import them from here
    Keys,
    ServerProcess,
    make_workspace,
    wait_healthy,
)

# pytest-xdist's workers run with COLUMNS=80 and LINES=24 in their environment; rich would pin
# the CLI's console to 80 columns when it is imported, and the tables tests read (which set
# COLUMNS per command) would differ from a plain run's. Every run starts without them.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

# The machines are small and shared: judge properties on their results, not on their speed.
# The default profile is the inner loop's (fewer examples, new ones at every run, so the
# search goes on); `make test` runs "suite", the same examples at every run, so that one
# commit always gets one verdict (a regression still fails it); CI=true or
# EMPREINTE_HYPOTHESIS=ci runs the deeper one. Tests that need more or fewer examples than
# the rest scale `settings.default.max_examples` rather than pin a number.
settings.register_profile(
    "empreinte",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=30,
)
settings.register_profile(
    "suite", settings.get_profile("empreinte"), derandomize=True, database=None
)
settings.register_profile("ci", settings.get_profile("empreinte"), max_examples=200)


def _hypothesis_profile() -> str:
    chosen = os.environ.get("EMPREINTE_HYPOTHESIS")
    if chosen:
        return chosen
    return "ci" if os.environ.get("CI", "").lower() in ("true", "1", "yes") else "empreinte"


settings.load_profile(_hypothesis_profile())


@pytest.fixture(autouse=True)
def _cli_engine_forgotten() -> Iterator[None]:
    """`empreinte --engine/--source` is remembered for the run of one command; in a test
    process, commands run one after another, and a test that invokes a sub-app directly
    (without the root callback that sets the choice) must not inherit another test's."""
    yield
    common = sys.modules.get("empreinte.cli.common")
    if common is not None:
        common.select_engine(None)


# -- workspaces -----------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path) -> Keys:
    return make_workspace(tmp_path / "ws")


# -- the real server, as a subprocess (tests/servers.py) --------------------------------------


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[[Keys], ServerProcess]]:
    """Start the real server on a workspace; every server started is stopped at teardown."""
    started: list[ServerProcess] = []

    def start(keys: Keys) -> ServerProcess:
        server = ServerProcess(keys.path, tmp_path)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(workspace: Keys, start_server: Callable[[Keys], ServerProcess]) -> ServerProcess:
    """The real server on a fresh workspace of its own (for tests that restart it)."""
    return start_server(workspace)


# -- a client for the collector and the read API ---------------------------------------------


class Api:
    """httpx against one server, holding the workspace's keys."""

    def __init__(self, url: str, keys: Keys):
        self.url = url
        self.keys = keys
        self.http = httpx.Client(base_url=url, timeout=30.0)

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        write_key: str | None = None,
        auth: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """POST to the collector; the write key is sent as the Basic username by default."""
        if auth:
            kwargs["auth"] = (write_key or self.keys.write_key, "")
        if body is not None:
            kwargs["json"] = body
        return self.http.post(path, **kwargs)

    def get_events(self, token: str | None = None, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.keys.admin_token}"}
        return self.http.get("/api/events", params=params, headers=headers)

    def events(self, **params: Any) -> list[dict[str, Any]]:
        """The stored events matching `params` (admin token), asserting the call succeeds."""
        params.setdefault("limit", 1000)
        response = self.get_events(**params)
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["events"]
        return events

    def total(self, **params: Any) -> int:
        response = self.get_events(limit=1, **params)
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def connect() -> Iterator[Callable[[str, Keys], Api]]:
    """Make clients of any server (e.g. one the test restarts); closed at teardown."""
    clients: list[Api] = []

    def make(url: str, keys: Keys) -> Api:
        clients.append(Api(url, keys))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def shared_keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_workspace(tmp_path_factory.mktemp("shared") / "ws")


@pytest.fixture(scope="session")
def shared_server(
    shared_keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One real server for the tests that do not restart it; they use ids of their own."""
    server = ServerProcess(shared_keys.path, tmp_path_factory.mktemp("shared-logs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(shared_server: ServerProcess, shared_keys: Keys) -> Iterator[Api]:
    """A client of the shared real server."""
    client = Api(shared_server.url, shared_keys)
    yield client
    client.close()


@pytest.fixture
def uid() -> str:
    """An id no other test uses, to find this test's events in a shared workspace."""
    return f"t-{uuid.uuid4().hex[:12]}"


# -- fault injection: the real app over a storage that fails or stalls ------------------------


class FaultyEngine:
    """The workspace's real DuckDB engine, with an `append` a test can make fail or stall."""

    def __init__(self, inner: DuckDBEngine):
        self.inner = inner
        self.failing: BaseException | None = None  # raised by append while set
        self.gate = threading.Event()  # append waits for it: clear it to stall the storage
        self.gate.set()
        self.stalled = threading.Event()  # set once an append waits at the closed gate
        self.failed_appends = 0
        self.appends = 0

    def append(self, rows: Sequence[EventRow], first_seq: int) -> None:
        if not self.gate.is_set():
            self.stalled.set()
            self.gate.wait(timeout=60)
        failing = self.failing
        if failing is not None:
            self.failed_appends += 1
            raise failing
        self.inner.append(rows, first_seq)
        self.appends += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class StatusRecorder:
    """ASGI wrapper noting the status of every response (to see a client's retries)."""

    def __init__(self, app: Any):
        self.app = app
        self.statuses: list[tuple[str, int]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def recording_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.statuses.append((scope["path"], message["status"]))
            await send(message)

        await self.app(scope, receive, recording_send)

    def count(self, status: int) -> int:
        return Counter(s for _, s in self.statuses)[status]


class InThreadServer:
    """The real Starlette app of `create_app`, served by uvicorn in a background thread."""

    def __init__(self, keys: Keys, writer_options: dict[str, float]):
        import uvicorn

        from empreinte.web.app import create_app

        self.keys = keys
        self.engine = FaultyEngine(DuckDBEngine(keys.path / DATABASE_FILE))
        self.workspace = Workspace(keys.path, self.engine, writer_options=writer_options)  # type: ignore[arg-type]
        self.recorder = StatusRecorder(create_app(self.workspace))
        # The socket is bound here and handed to uvicorn: no other test (or xdist worker) can
        # take the port between choosing it and listening on it.
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listening.bind(("127.0.0.1", 0))
        self.port = int(listening.getsockname()[1])
        self._server = uvicorn.Server(
            uvicorn.Config(self.recorder, log_level="error", lifespan="on")
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [listening]}, name="uvicorn", daemon=True
        )
        self._thread.start()
        wait_healthy(self.url, self._thread.is_alive, lambda: "(in-thread server)")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.engine.failing = None
        self.engine.gate.set()
        self._server.should_exit = True
        self._thread.join(timeout=30)


@pytest.fixture
def faulty_server(workspace: Keys) -> Iterator[InThreadServer]:
    """A real server whose storage the test controls; short Retry-After and a small queue.
    The stalls these tests make last longer than the default latency budget: only the row
    cap refuses here (tests/collect/test_overload.py tests the budget)."""
    options = {"max_pending": 10, "storage_retry_after": 1, "queue_budget": 60.0}
    server = InThreadServer(workspace, options)
    yield server
    server.stop()


# -- a Spark cluster on loopback, for the parity suites ---------------------------------------


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The master URL of a Spark standalone cluster of two workers on loopback
    (store/spark/standalone.py), started once per xdist worker that runs a parity suite: the
    reports go through separate executor JVMs and shuffles between them, as on a real cluster.
    Without pyspark or java this fails with the way to install them: CI must run these."""
    from empreinte.store.spark.standalone import start_cluster

    with start_cluster(tmp_path_factory.mktemp("spark-cluster"), workers=2, memory="2g") as cluster:
        yield cluster.url


@pytest.fixture(scope="session")
def cluster_session(spark_cluster: str) -> Iterator[Any]:
    """A Spark session on that cluster, once both executors have joined it."""
    from empreinte.store.spark.session import spark_session

    session = spark_session(spark_cluster)
    if session.sparkContext.master != spark_cluster:
        # A test before, in this worker, left a `local[2]` session (`ws.analytics("spark")`),
        # which the builder would hand back: end it and start one on the cluster.
        session.stop()
        session = spark_session(spark_cluster)
    assert session.sparkContext.master == spark_cluster, session.sparkContext.master
    executors = session.sparkContext._jsc.sc().getExecutorMemoryStatus()  # driver + executors
    deadline = time.monotonic() + 300
    while executors.size() < 3 and time.monotonic() < deadline:
        time.sleep(0.5)
        executors = session.sparkContext._jsc.sc().getExecutorMemoryStatus()
    assert executors.size() == 3, f"{executors.size() - 1} executor(s) joined, not 2"
    yield session
    session.stop()


# -- the default demo, generated once for the demo tests -------------------------------------


@pytest.fixture(scope="session")
def truth() -> list[tuple[Person, list[dict[str, Any]]]]:
    """The default demo (2,000 people, 12 months) with ground truth.

    Under pytest-xdist each worker that runs a demo test file builds its own (about 2.5 s of
    CPU); a pickle shared between workers would save under 1 s (measured: 0.6 s to write it,
    1.2 s to read it), so none is kept."""
    return list(generate_with_truth(2_000))


# -- order ------------------------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files with slow tests first (otherwise in collection order): under `make test`'s
    `--dist loadfile` they start at once rather than end the run on one busy worker."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)
