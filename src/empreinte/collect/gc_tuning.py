"""Garbage-collector settings for a process that ingests events at a high rate.

A batch request is parsed into thousands of dicts and validated into thousands of rows that
live until their group commit, some 50 ms later. With CPython's default thresholds the cyclic
GC runs every 700 new containers, finds all of them still alive, promotes them, and so keeps
triggering full collections that also walk every object of the loaded application. None of
these objects form cycles: reference counting frees them. Measured with bench/ingest.py on
2 cores: the server spent about a fifth of its time in the GC.
"""

from __future__ import annotations

import gc
import sys

# Young-generation threshold: a batch of 500 messages makes about 3,000 containers, so a young
# collection runs every dozen requests instead of several times per request.
_THRESHOLDS = (50_000, 20, 100)
_SWITCH_INTERVAL = 0.001


def tune_for_ingest() -> None:
    """Freeze what is loaded so far and collect less often. Call once, when the app is built.

    `gc.freeze()` moves every object alive now (modules, the app, caches) to a permanent
    generation that collections no longer walk. Cycles are still collected, just less often.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_THRESHOLDS)
    # The event loop shares the GIL with the validation and writer threads: a thread that
    # wants it waits up to one switch interval (5 ms by default) per wake-up, so /api/health
    # and the early 429s would queue behind ingestion work.
    sys.setswitchinterval(_SWITCH_INTERVAL)
