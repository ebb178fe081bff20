"""Issue 17's last crash test: the Spark job on the published log (the identity rebuild) killed
with SIGKILL mid-run, driver and JVM together, as a lost machine kills them.

A published log from two collectors and a first complete rebuild (R1); more events published;
a second rebuild started in a process of its own (`spark_rebuild_driver.py`, `local[2]`: the
driver and its JVM) and its whole process group killed once its first checkpoint is on disk.
Then: `read_result` still gives R1 whole; the killed run's directory is left behind (nothing
could remove it) until the next rebuild, which removes it and equals the DuckDB rebuild of the
published rows; and every acknowledged messageId is exactly once in the events it read.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from empreinte.identity.at_scale import rebuild_on_spark
from empreinte.identity.graph import Overrides
from empreinte.identity.rules import MergeRules
from empreinte.publish.log import PublishedLog
from empreinte.store.spark.identity import CURRENT, current_run
from empreinte.workspace import Workspace

from .test_erasure import collectors
from .test_identity_at_scale import duckdb_reference, journeys, spark_result

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.timeout(1200)]

DRIVER = Path(__file__).with_name("spark_rebuild_driver.py")


def publish(rng: random.Random, a: Workspace, b: Workspace, people: int) -> set[str]:
    """`people` journeys, each message to one collector at random, then published; returns
    the acknowledged messageIds."""
    acked = set()
    for message in journeys(rng, people):
        assert rng.choice((a, b)).ingest([message]).stored == 1
        acked.add(message["messageId"])
    a.published.run(publish=False)
    b.published.run(publish=True)
    return acked


def group_processes(group: int) -> dict[int, str]:
    """pid → command name of the live (not zombie) processes of process group `group`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, _, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == group and state not in ("Z", "X"):
            found[int(entry.name)] = name
    return found


def first_checkpoint(checkpoints: Path, driver: subprocess.Popen[bytes], log: Path) -> Path:
    """Wait (polling the disk) until the driver has written a checkpoint file."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        written = sorted(checkpoints.glob("*/rdd-*/part-*"))
        if written:
            return written[0]
        assert driver.poll() is None, f"the driver ended: {log.read_text()[-3000:]}"
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint in 600 s: {log.read_text()[-3000:]}")


def test_spark_rebuild_killed_mid_run(cluster_session: Any, tmp_path: Path) -> None:
    rng = random.Random(17)
    root = tmp_path / "published"
    log = PublishedLog(str(root))
    output = tmp_path / "identities"
    rules = MergeRules()
    a, b = collectors(tmp_path, str(root))
    with a, b:
        acked = publish(rng, a, b, 20)
        rebuild_on_spark(
            cluster_session, log.files(), output, rules, Overrides(), salt="s", order="arrival"
        )
        first = current_run(output)
        r1 = spark_result(output)
        acked |= publish(rng, a, b, 30)  # people 0..19 again, and ten new ones
    files = log.files()
    published = log.read()

    # The second rebuild, in its own process group, killed (driver and JVM) after its first
    # checkpoint.
    checkpoints, driver_log = tmp_path / "checkpoints", tmp_path / "driver.log"
    with open(driver_log, "wb") as sink:
        driver = subprocess.Popen(
            [sys.executable, str(DRIVER), str(output), str(checkpoints), *files],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        first_checkpoint(checkpoints, driver, driver_log)
        killed = group_processes(driver.pid)
        assert "java" in killed.values(), killed  # the JVM is in the group: it dies too
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait(60)
    deadline = time.monotonic() + 60
    while group_processes(driver.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not group_processes(driver.pid), "a process of the killed driver survived"
    assert driver.returncode == -signal.SIGKILL

    # The previous result, whole; the killed run's directory and lock file, left behind.
    assert current_run(output) == first, "the rebuild finished before it was killed"
    assert spark_result(output) == r1
    assert first is not None
    left = sorted(p.name for p in output.iterdir() if p.name not in (CURRENT, first.name))
    assert len(left) == 2 and left[0] == f".{left[1]}.lock", left

    # A fresh rebuild removes it, and equals the DuckDB rebuild of everything published.
    expected = duckdb_reference(published, tmp_path / "reference", rules)
    assert expected.replayed_components > 0 and expected.conflicts, "no tablet made a conflict"
    done = rebuild_on_spark(
        cluster_session, files, output, rules, Overrides(), salt="s", order="arrival"
    )
    again = current_run(output)
    assert again not in (None, first)
    assert sorted(p.name for p in output.iterdir()) == sorted([CURRENT, again.name])  # type: ignore[union-attr]
    result = spark_result(output)
    assert result == (expected.identities, expected.conflicts)
    assert result != r1
    assert done.profiles == expected.profiles

    # Issue 17's count: every acknowledged messageId exactly once in the events it read.
    read: Counter[str] = Counter()
    for file in files:
        read.update(pq.read_table(file, columns=["message_id"]).column(0).to_pylist())
    assert read == Counter(acked)
    assert done.events == len(acked)  # every message has an identifier: all were counted
