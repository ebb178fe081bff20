"""The dedup window saved beside the log, so that a restart reads it back instead of the log.

A directory holds one file per hour of the window (its sorted fingerprints, `.npy`) and a
manifest naming them, written last: the event number (`seq`) the files cover and that event's
fingerprint. At start the writer checks that fingerprint against the log, maps the files and
reads only the events numbered after it (those a `kill -9` left unsaved). A manifest that does
not match the log (a workspace restored from a backup, another engine's fingerprints) or a
missing or short file sends the writer back to reading the whole window from the log.

The writer saves the hours that changed when an hour ends, after `SAVE_EVERY` new ids, and
at close. Files are replaced by rename, never written in place. They hold only fingerprints
of stored events: a saved id that a later process could no longer find in the log is a hit
the log refutes, never a lost event.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from empreinte.collect.dedup import MessageLog, RecentIds

log = logging.getLogger(__name__)

#: The directory in a workspace.
DIRECTORY = "dedup-window"
MANIFEST = "manifest.json"
VERSION = 1
# About the ids a restart after `kill -9` reads from the log: 250,000 take about 0.1 s.
SAVE_EVERY = 250_000


@dataclass(frozen=True)
class Saved:
    """What a manifest says the files cover."""

    last_seq: int  # the files hold every event numbered up to this one, within the window
    anchor: int | None  # the fingerprint of event `last_seq`, to recognise the log
    counts: dict[int, int]  # hour -> ids in its file


class WindowFile:
    """The saved window of one workspace, in `directory`."""

    def __init__(self, directory: Path):
        self._dir = directory

    def manifest(self) -> Saved | None:
        """The manifest, or None when there is none or it cannot be read."""
        try:
            data = orjson.loads((self._dir / MANIFEST).read_bytes())
            if data["version"] != VERSION:
                return None
            return Saved(
                int(data["last_seq"]),
                None if data["anchor"] is None else int(data["anchor"]),
                {int(hour): int(count) for hour, count in data["hours"].items()},
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def read_into(self, window: RecentIds, events: MessageLog, last_seq: int) -> int:
        """Add the saved hours to `window` if they fit the log `events`, whose last event is
        `last_seq`: the last event they cover, or 0 (the window untouched) if they do not."""
        saved = self.manifest()
        if saved is None or saved.last_seq > last_seq:
            return 0  # none, or it covers events this log does not have (a backup?)
        if events.message_fingerprint_at(saved.last_seq) != saved.anchor:
            return 0  # another log, or another fingerprint function
        runs = {}
        for hour, count in saved.counts.items():
            try:
                # Mapped, not read: a start costs the same whatever the window holds, and
                # lookups page in what they touch. (A later save replaces the file by rename;
                # the mapping keeps the old one.)
                run = np.load(self._dir / f"{hour}.npy", mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as exc:
                log.warning("the saved dedup window is unreadable (%s): reading the log", exc)
                return 0
            # A file may be newer than the manifest (saved just before a crash): then it
            # holds more, never less.
            if run.dtype != np.uint64 or run.ndim != 1 or len(run) < count:
                log.warning("the saved dedup window is incomplete: reading the log")
                return 0
            runs[hour] = run
        for hour, run in runs.items():
            window.restore(hour, run)
        window.saved()
        return saved.last_seq

    def save(self, window: RecentIds, events: MessageLog, last_seq: int) -> None:
        """Write the hours that changed, then the manifest; remove the expired hours. A
        failure is logged: the window stays in memory, and a restart reads the log."""
        try:
            anchor = events.message_fingerprint_at(last_seq) if last_seq else None
            self._write(window, last_seq, anchor)
        except Exception:
            log.exception("could not save the dedup window (a restart will read the log)")

    def _write(self, window: RecentIds, last_seq: int, anchor: int | None) -> None:
        self._dir.mkdir(mode=0o700, exist_ok=True)
        hours = window.hours()
        for hour in window.changed & hours.keys():
            temporary = self._dir / f"{hour}.npy.tmp"
            with temporary.open("wb") as out:
                np.save(out, hours[hour], allow_pickle=False)
            os.replace(temporary, self._dir / f"{hour}.npy")
        manifest = {
            "version": VERSION,
            "last_seq": last_seq,
            "anchor": anchor,
            "hours": {str(hour): len(run) for hour, run in hours.items()},
        }
        temporary = self._dir / f"{MANIFEST}.tmp"
        temporary.write_bytes(orjson.dumps(manifest))
        os.replace(temporary, self._dir / MANIFEST)
        for path in self._dir.glob("*.npy"):
            if path.stem.isdigit() and int(path.stem) not in hours:
                path.unlink(missing_ok=True)
        window.saved()
