"""A Spark rebuild of the identity graph in a process of its own (the driver, with its JVM as a
child), for tests/publish/test_spark_crash.py to kill: `python spark_rebuild_driver.py OUTPUT
CHECKPOINTS FILE...` rebuilds the published files FILE... into OUTPUT on `local[2]`, with
reliable checkpoints (they show on disk when the job is under way) under CHECKPOINTS."""

from __future__ import annotations

import sys

from empreinte.identity.at_scale import rebuild_on_spark
from empreinte.identity.graph import Overrides
from empreinte.identity.rules import MergeRules
from empreinte.store.spark.session import local_session


def main(output: str, checkpoints: str, files: list[str]) -> None:
    spark = local_session(2)
    spark.sparkContext.setCheckpointDir(checkpoints)
    rebuild_on_spark(spark, files, output, MergeRules(), Overrides(), salt="s", order="arrival")
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
