"""A Spark standalone cluster on this machine: one master and N workers on loopback, started from
the pyspark package's own launcher (`bin/spark-class`), as an operator starts them on their
machines (docs/spark.md). The test suite runs its Spark parity cases on one of two workers, so
the reports go through a real master, separate executor JVMs and shuffles between them, not
`local[N]`'s threads in the driver.

Each process runs in its own process group (stopping the cluster ends the JVMs and the
executors they launched) and logs to `directory`; a start that does not complete in time stops
what it started and raises `StorageError` with the log's last lines.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from empreinte.errors import StorageError
from empreinte.store.spark.session import INSTALL_HINT

LOOPBACK = "127.0.0.1"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
#: What the master and a worker write to their log once ready.
MASTER_READY = "I have been elected leader"
WORKER_READY = "Successfully registered with master"


def _spark_home() -> Path:
    try:
        import pyspark
    except ImportError as exc:
        raise StorageError(f"pyspark is not installed: {INSTALL_HINT}") from exc
    return Path(pyspark.__file__).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class StandaloneCluster:
    """A running cluster: `url` is its master (`spark://127.0.0.1:<port>`)."""

    url: str
    directory: Path
    workers: int
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)

    def stop(self, grace: float = 10.0) -> None:
        """End every process group (workers first, then the master), forcibly after `grace`."""
        for process in reversed(self._processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self._processes:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._processes.clear()

    def __enter__(self) -> StandaloneCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_cluster(
    directory: Path,
    workers: int = 2,
    *,
    cores: int = 1,
    memory: str = "1g",
    timeout: float = 300.0,
) -> StandaloneCluster:
    """Start a master and `workers` workers (each offering `cores` cores and `memory`) on
    loopback, logging and working under `directory`; return once every worker has registered.
    Executors run this interpreter (`PYSPARK_PYTHON`), so they import what the driver does."""
    home = _spark_home()
    directory.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": LOOPBACK,
        "SPARK_LOG_DIR": str(directory),
        "PYSPARK_PYTHON": sys.executable,
    }
    port = _free_port()
    cluster = StandaloneCluster(f"spark://{LOOPBACK}:{port}", directory, workers)
    launcher = str(home / "bin" / "spark-class")

    def launch(name: str, *args: str) -> Path:
        log = directory / f"{name}.log"
        with log.open("wb") as out:
            cluster._processes.append(
                subprocess.Popen(
                    [launcher, *args],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=directory,
                    start_new_session=True,
                )
            )
        return log

    master_args = ["--host", LOOPBACK, "--port", str(port), "--webui-port", str(_free_port())]
    worker_args = [cluster.url, "--host", LOOPBACK, "--cores", str(cores), "--memory", memory]
    try:
        master = launch("master", MASTER_CLASS, *master_args)
        _wait_for(MASTER_READY, master, timeout, cluster)
        logs = [
            launch(
                f"worker-{n}",
                WORKER_CLASS,
                *worker_args,
                *("--webui-port", "0", "--work-dir", str(directory / f"work-{n}")),
            )
            for n in range(1, workers + 1)
        ]
        for log in logs:
            _wait_for(WORKER_READY, log, timeout, cluster)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _read(log: Path) -> str:
    try:
        return log.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _wait_for(line: str, log: Path, timeout: float, cluster: StandaloneCluster) -> None:
    """Until `log` holds `line`; `StorageError` if a process of the cluster ended first."""
    deadline = time.monotonic() + timeout
    while line not in _read(log):
        ended = [p for p in cluster._processes if p.poll() is not None]
        if ended or time.monotonic() > deadline:
            tail = "\n".join(_read(log).splitlines()[-5:])
            why = "ended" if ended else f"was not ready after {timeout:.0f} s"
            raise StorageError(f"the Spark standalone {log.stem} {why}:\n{tail}")
        time.sleep(0.2)
