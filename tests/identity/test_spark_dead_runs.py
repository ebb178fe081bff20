"""What a killed Spark rebuild leaves in its output directory, and who removes it
(store/spark/identity.py, `remove_dead_runs`): runs whose lock no live process holds, never the
current one nor a live rebuild's; runs whose liveness is unknown (no lock file) only by age.
No Spark here: the runs are made by the module's own start, in this process (alive) and in a
child killed with SIGKILL (dead), as a killed driver leaves them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from empreinte.store.spark.identity import (
    CURRENT,
    STALE_AFTER,
    _release,
    _start_run,
    remove_dead_runs,
)

KILLED_DRIVER = """
import sys
from pathlib import Path
from empreinte.store.spark.identity import _start_run
run, _ = _start_run(Path(sys.argv[1]))
(run / "identities" / "_temporary").mkdir(parents=True)
(run / "identities" / "_temporary" / "part-0.parquet").write_bytes(b"half")
(Path(sys.argv[1]) / (".CURRENT." + run.name)).write_text(run.name)
print(run.name, flush=True)
sys.stdin.read()
"""


def killed_run(output: Path) -> str:
    """A run directory, half written, whose driver was killed with SIGKILL."""
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_DRIVER, str(output)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    name = child.stdout.readline().strip()
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    assert child.stdin is not None
    child.stdin.close()
    return name


def test_only_dead_runs_are_removed(tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.mkdir()
    current = output / "run-current"
    (current / "identities").mkdir(parents=True)
    (output / CURRENT).write_text(current.name)
    dead = killed_run(output)
    live, fd = _start_run(output)  # a rebuild running now, in this process
    other = killed_run(output)
    old, young = output / "run-old", output / "run-young"  # no lock file: known by age only
    for run in (old, young):
        (run / "identities").mkdir(parents=True)
    before = time.time() - STALE_AFTER - 60
    os.utime(old, (before, before))
    assert (output / f".{dead}.lock").exists() and (output / f".{CURRENT}.{dead}").exists()

    assert remove_dead_runs(output) == sorted([dead, other, old.name])
    assert sorted(p.name for p in output.iterdir()) == sorted(
        [CURRENT, current.name, live.name, f".{live.name}.lock", young.name]
    )
    # The live run, once ended (published or failed), is removable like any other.
    _release(fd, output / f".{live.name}.lock")
    assert remove_dead_runs(output, stale_after=0) == sorted([live.name, young.name])
    assert sorted(p.name for p in output.iterdir()) == [CURRENT, current.name]


def test_a_dead_run_that_was_published_is_kept(tmp_path: Path) -> None:
    """A driver killed between its rename of CURRENT and its unlock: its run is the result."""
    output = tmp_path / "out"
    output.mkdir()
    dead = killed_run(output)
    (output / CURRENT).write_text(dead)
    assert remove_dead_runs(output) == []
    assert (output / dead / "identities").is_dir()
