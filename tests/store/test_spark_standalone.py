"""The standalone cluster launcher (store/spark/standalone.py) when a start fails: a clear error
with the process's last log lines, and nothing left running. The cluster that starts is
tests/conftest.py's `spark_cluster`, used by every parity suite."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from empreinte.errors import StorageError
from empreinte.store.spark.standalone import start_cluster

pytestmark = [pytest.mark.spark, pytest.mark.timeout(600)]


def _running_under(directory: Path) -> list[str]:
    found = subprocess.run(["pgrep", "-af", str(directory)], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if "pgrep" not in line]


def test_a_worker_that_cannot_start_stops_the_cluster_and_says_why(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as failed:
        start_cluster(tmp_path, workers=1, memory="plenty")
    assert "worker-1" in str(failed.value) and "ended" in str(failed.value)
    assert (tmp_path / "master.log").exists()
    assert _running_under(tmp_path) == []  # the master, started first, was stopped too
