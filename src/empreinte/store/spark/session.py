"""Spark sessions: local (tests, a laptop) or on a cluster's master (store/spark/standalone.py
starts one on this machine)."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from empreinte.errors import StorageError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

INSTALL_HINT = (
    "Spark analytics need the `spark` extra (pip install 'empreinte[spark]') and Java 17 or"
    " newer on the PATH (e.g. apt-get install openjdk-17-jre-headless)"
)


def local_session(cores: int = 2, partitions: int = 4) -> SparkSession:
    """A `local[cores]` session with few shuffle partitions (the tables are small)."""
    return spark_session(f"local[{cores}]", partitions)


def spark_session(master: str, partitions: int = 4) -> SparkSession:
    """A session on `master` (`local[N]`, `spark://host:port`…; the running one when there is
    one), no web UI, and UTC as its time zone (timestamps in the log are instants; wall-clock
    time is asked for explicitly, per report)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise StorageError(f"pyspark is not installed: {INSTALL_HINT}") from exc
    if shutil.which("java") is None:
        raise StorageError(f"no `java` on the PATH: {INSTALL_HINT}")
    builder = SparkSession.builder.master(master)
    if master.startswith(("spark://127.0.0.1:", "spark://localhost:")):
        # A cluster on this machine (store/spark/standalone.py): executors call the driver
        # back on loopback, not on whatever address the host name resolves to; and every
        # executor is as near the files as another, so no task waits (3 s by default, per
        # locality level) for a "closer" one.
        builder = builder.config("spark.driver.host", "127.0.0.1")
        builder = builder.config("spark.locality.wait", "0s")
    session: SparkSession = (
        builder.appName("empreinte")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session
