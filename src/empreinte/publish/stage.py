"""Step 1, in each collector's own process: what it committed, after its watermark, becomes
staged segments at the published log's URL.

The watermark is read back from the log itself (the last seq of the collector's staged
segments or, once they are published and removed, of the manifest), never kept apart from
it: a crash after a segment is written and before anything else leaves a watermark that
already counts it, and a crash before leaves one that does not. Either way the next run
writes each seq once, under a name fixed by its first and last seq.
"""

from __future__ import annotations

from empreinte.publish.log import PublishedLog, Segment, with_collector
from empreinte.publish.settings import check_collector_id
from empreinte.store.engine import Engine

#: Rows per staged segment: ~ tens of MB of Parquet at most, one Arrow read of the log.
SEGMENT_ROWS = 200_000


def stage(
    engine: Engine, log: PublishedLog, collector: str, segment_rows: int = SEGMENT_ROWS
) -> list[Segment]:
    """Stage every committed event of `engine` after the collector's watermark; the segments
    written (none when there is nothing new)."""
    check_collector_id(collector)
    watermark = log.watermark(collector)
    written: list[Segment] = []
    while True:
        table = engine.log_slice(watermark, segment_rows)
        if not table.num_rows:
            return written
        segment = log.write_segment(collector, with_collector(table, collector))
        written.append(segment)
        watermark = segment.last_seq
