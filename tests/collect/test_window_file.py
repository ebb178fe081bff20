"""The saved dedup window: a restart reads it and only the events after it; a window that does
not match the log, or a damaged file, is set aside for the log, and retries stay duplicates."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from empreinte.collect.validate import normalise, now_micros
from empreinte.collect.window_file import DIRECTORY, MANIFEST
from empreinte.collect.writer import EventWriter
from empreinte.privacy.pii import IngestPolicy
from empreinte.privacy.pseudonym import Pseudonymiser
from empreinte.store.duckdb.engine import DuckDBEngine
from empreinte.store.records import EventRow

HOUR = 3_600 * 1_000_000


class Reads:
    """The real engine, noting which events each bulk read of the window asked for."""

    def __init__(self, path: Path):
        self.inner = DuckDBEngine(path / "events.duckdb")
        self.after: list[int] = []

    def recent_messages(self, since: datetime, after_seq: int = 0) -> tuple[np.ndarray, np.ndarray]:
        self.after.append(after_seq)
        return self.inner.recent_messages(since, after_seq)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def rows(prefix: str, count: int, hours_ago: int = 0) -> list[EventRow]:
    policy = IngestPolicy(Pseudonymiser(b"k" * 32), "FR")
    at = now_micros() - hours_ago * HOUR
    return [
        normalise(
            {"type": "track", "event": "E", "userId": "u", "messageId": f"{prefix}-{i}"},
            source="web",
            received_at=at,
            policy=policy,
        )
        for i in range(count)
    ]


def open_writer(path: Path) -> tuple[EventWriter, Reads]:
    engine = Reads(path)
    return EventWriter(engine, window_dir=path / DIRECTORY), engine  # type: ignore[arg-type]


def close(writer: EventWriter, engine: Reads) -> None:
    writer.close()
    engine.inner.close()


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, list[EventRow]]:
    """A log of 300 events over three hours, and its window saved at a graceful stop."""
    written = rows("a", 100, hours_ago=2) + rows("b", 100, hours_ago=1) + rows("c", 100)
    writer, engine = open_writer(tmp_path)
    for hour in range(3):
        assert writer.write(written[hour * 100 : hour * 100 + 100]).stored == 100
    close(writer, engine)
    assert (tmp_path / DIRECTORY / MANIFEST).exists()
    return tmp_path, written


def test_a_restart_reads_the_saved_window_and_only_the_events_after_it(
    saved: tuple[Path, list[EventRow]],
) -> None:
    path, written = saved
    writer, engine = open_writer(path)
    assert writer.write(written[::7]).duplicates == len(written[::7])
    assert engine.after == []  # nothing after the saved window: no read of the log
    before = path / "window-before"
    shutil.copytree(path / DIRECTORY, before)
    new = rows("d", 50)
    assert writer.write(new).stored == 50
    close(writer, engine)
    # As after a crash: the files saved before the last 50 events, which only the log holds.
    shutil.rmtree(path / DIRECTORY)
    before.rename(path / DIRECTORY)

    writer, engine = open_writer(path)
    result = writer.write(written[::7] + new)
    assert (result.stored, result.duplicates) == (0, len(written[::7]) + 50)
    assert engine.after == [300]  # the files, then the 50 events after them
    close(writer, engine)


@pytest.mark.parametrize("damage", ["anchor", "truncated file", "missing file", "manifest"])
def test_a_saved_window_that_does_not_fit_is_set_aside_for_the_log(
    saved: tuple[Path, list[EventRow]], damage: str
) -> None:
    path, written = saved
    folder = path / DIRECTORY
    hour_file = sorted(folder.glob("*.npy"))[1]
    if damage == "anchor":  # another log, or another fingerprint function
        manifest = (folder / MANIFEST).read_text()
        (folder / MANIFEST).write_text(manifest.replace('"anchor":', '"anchor":1'))
    elif damage == "truncated file":
        np.save(hour_file, np.load(hour_file)[:10])
    elif damage == "missing file":
        hour_file.unlink()
    else:
        (folder / MANIFEST).write_text("{")
    writer, engine = open_writer(path)
    assert writer.write(written).duplicates == 300
    assert engine.after == [0]  # the whole window, from the log
    close(writer, engine)
