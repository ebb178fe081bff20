"""Compaction of the published log (publish/compaction.py): a closed hour's small files become
one (or a few), the rows exactly the same, and it composes with the dedup, the erasure and a
crash before its commit."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import empreinte
from empreinte.publish.erasure import PublishedErasure, apply_erasure
from empreinte.publish.log import FILE_SCHEMA, Manifest, PublishedLog, hour_of_partition
from empreinte.publish.publisher import Publisher
from empreinte.publish.settings import Compaction
from empreinte.publish.stage import stage
from empreinte.workspace import Workspace

from .test_publish import track, twin_workspaces

NEVER = Compaction(files=0)
SMALL = Compaction(files=4, rows=1_000, grace=timedelta(minutes=30))


class Clock:
    """The publisher's clock, moved by the tests (the hours of arrival stay real)."""

    def __init__(self) -> None:
        self.at = time.time()

    def __call__(self) -> float:
        return self.at

    def next_hour(self) -> None:
        self.at += 3600


def rows(log: PublishedLog) -> list[dict[str, Any]]:
    """Every published row, in one order whatever the files."""
    table = log.read().sort_by([("collector", "ascending"), ("seq", "ascending")])
    return table.to_pylist()


def arrival_keys(table: pa.Table) -> list[tuple[Any, ...]]:
    return list(
        zip(
            *(table.column(c).to_pylist() for c in ("received_at", "collector", "seq")), strict=True
        )
    )


def hour_files(log: PublishedLog) -> dict[int | None, list[str]]:
    out: dict[int | None, list[str]] = {}
    for path in sorted(log.manifest().files):
        out.setdefault(hour_of_partition(path), []).append(path)
    return out


@pytest.fixture
def collectors(tmp_path: Path) -> Iterator[tuple[Workspace, Workspace]]:
    a, b = twin_workspaces(tmp_path)
    with a, b:
        yield a, b


def publish_rounds(
    log: PublishedLog, a: Workspace, b: Workspace, rounds: int = 6
) -> list[dict[str, Any]]:
    """`rounds` rounds of both collectors publishing a few events each, uncompacted (one file
    per round in the current hour); the messages sent."""
    sent = []
    for r in range(rounds):
        batch_a = [track(f"u-{r}-{i}", i) for i in range(3)]
        batch_b = [track(f"v-{r}-{i}", i) for i in range(2)]
        a.ingest(batch_a)
        b.ingest(batch_b)
        stage(a.engine, log, "a")
        stage(b.engine, log, "b")
        Publisher(log, compaction=NEVER).publish()
        sent += batch_a + batch_b
    return sent


def test_a_closed_hour_becomes_one_file_of_the_same_rows(
    tmp_path: Path, collectors: tuple[Workspace, Workspace]
) -> None:
    log = PublishedLog(str(tmp_path / "published"))
    sent = publish_rounds(log, *collectors)
    ((hour, small),) = hour_files(log).items()
    assert len(small) == 6
    before = rows(log)
    clock = Clock()
    publisher = Publisher(log, compaction=SMALL, now=clock)
    assert publisher.publish().compacted == 0  # the hour is not over: left as it is
    clock.next_hour()
    report = publisher.publish()
    assert report.compacted == 6 and report.versions == 0
    manifest = log.manifest()
    ((same_hour, (compacted,)),) = hour_files(log).items()
    assert same_hour == hour and compacted not in small
    assert set(manifest.removed) == set(small) and manifest.added == (compacted,)
    assert manifest.files[compacted] == len(sent)
    assert rows(log) == before  # exactly the same rows
    ids = log.read().column("message_id").to_pylist()
    assert sorted(ids) == sorted(m["messageId"] for m in sent)  # each once
    table = pq.read_table(tmp_path / "published" / compacted)
    assert table.schema.equals(FILE_SCHEMA)
    keys = arrival_keys(table)
    assert keys == sorted(keys)  # in arrival order
    # The replaced files stay for readers of the previous version, then go.
    assert set(manifest.retired) == set(small)
    assert all((tmp_path / "published" / p).exists() for p in small)
    assert publisher.publish().compacted == 0  # one file: nothing more to do
    clock.at += SMALL.grace.total_seconds()
    publisher.publish()
    assert not any((tmp_path / "published" / p).exists() for p in small)
    assert sorted(log.event_files()) == [compacted]


def test_a_big_hour_is_cut_by_rows_and_not_rewritten_again(
    tmp_path: Path, collectors: tuple[Workspace, Workspace]
) -> None:
    log = PublishedLog(str(tmp_path / "published"))
    sent = publish_rounds(log, *collectors)
    before = rows(log)
    clock = Clock()
    clock.next_hour()
    publisher = Publisher(log, compaction=Compaction(files=2, rows=7), now=clock)
    assert publisher.publish().compacted == 6
    files = log.manifest().files
    assert sorted(files.values()) == [6, 6, 6, 6, 6]  # 30 rows: 5 files of at most 7
    assert rows(log) == before and len(before) == len(sent)
    # Arrival order runs across the files, in the order of their names.
    ordered = pa.concat_tables([log.read_table(p) for p in sorted(files)])
    keys = arrival_keys(ordered)
    assert keys == sorted(keys)
    # 5 files > 2, but fewer cannot hold 30 rows: not compacted again each round.
    assert publisher.publish().compacted == 0


def test_the_dedup_still_drops_a_retry_of_a_message_published_before(
    tmp_path: Path, collectors: tuple[Workspace, Workspace]
) -> None:
    a, b = collectors
    log = PublishedLog(str(tmp_path / "published"))
    sent = publish_rounds(log, a, b)
    clock = Clock()
    clock.next_hour()
    publisher = Publisher(log, compaction=SMALL, now=clock)
    publisher.publish()  # reads the small files' keys, then compacts them
    (compacted,) = log.manifest().files
    # The dedup cache holds the compacted file's keys, each once, and no replaced file.
    assert set(publisher._keys) == {compacted}
    assert len(publisher._published_keys(log.manifest(), 0)) == len(sent)
    retried = sent[0]  # first published by a, retried through b
    b.ingest([retried])
    stage(b.engine, log, "b")
    report = publisher.publish()
    assert (report.rows, report.duplicates) == (0, 1)
    # A fresh publisher (another process) reads the compacted file instead.
    b.ingest([sent[1]])
    stage(b.engine, log, "b")
    fresh = Publisher(log, compaction=SMALL, now=clock)
    assert (fresh.publish().duplicates, len(fresh._published_keys(log.manifest(), 0))) == (
        1,
        len(sent),
    )
    ids = log.read().column("message_id").to_pylist()
    assert sorted(ids) == sorted(m["messageId"] for m in sent)


def erasure_of(log: PublishedLog, user_prefix: str, erasure_id: str) -> PublishedErasure:
    """An erasure of the events whose user id starts with `user_prefix`: their seqs on
    collector a and their identifier keys (as a collector's erasure plan names them)."""
    table = log.read().to_pylist()
    mine = [r for r in table if (r["user_id"] or "").startswith(user_prefix)]
    assert mine and all(r["collector"] == "a" for r in mine)
    return PublishedErasure(
        erasure_id=erasure_id,
        collector="a",
        seqs=sorted(r["seq"] for r in mine),
        exclusive_keys=sorted({k for r in mine for k in r["identifiers"]}),
        scrub_keys=(),
        scrub_values=(),
        pseudonyms=(),
    )


def on_disk(root: Path) -> list[dict[str, Any]]:
    """Every row of every Parquet file under events/ (listed, retired or orphan)."""
    return [
        row
        for p in sorted(root.rglob("events/**/*.parquet"))
        for row in pq.read_table(p).to_pylist()
    ]


def check_erased(
    root: Path, log: PublishedLog, before: list[dict[str, Any]], erased: PublishedErasure
) -> None:
    gone = set(erased.seqs)
    assert not [r for r in on_disk(root) if r["collector"] == "a" and r["seq"] in gone]
    expected = [r for r in before if not (r["collector"] == "a" and r["seq"] in gone)]
    assert rows(log) == expected  # nobody else lost or doubled
    assert erased.erasure_id in log.manifest().erasures


def test_an_erasure_after_compaction_finds_the_person_in_the_compacted_file(
    tmp_path: Path, collectors: tuple[Workspace, Workspace]
) -> None:
    root = tmp_path / "published"
    log = PublishedLog(str(root))
    publish_rounds(log, *collectors)
    before = rows(log)
    clock = Clock()
    clock.next_hour()
    Publisher(log, compaction=SMALL, now=clock).publish()
    assert log.manifest().retired  # the replaced files, in their grace
    erasure = erasure_of(log, "u-2-", "erase-1")
    result = apply_erasure(log, erasure)
    assert result.files_rewritten == 1 and result.rows_removed == 3
    # The replaced files held the person too: deleted at once, not after the grace.
    assert log.manifest().retired == {}
    check_erased(root, log, before, erasure)
    assert sorted(log.event_files()) == sorted(log.manifest().files)


def test_an_erasure_committed_during_a_compaction_is_not_lost(
    tmp_path: Path, collectors: tuple[Workspace, Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compaction paused between its files and its commit (the crash tests' hook); an
    erasure commits meanwhile; the compaction's commit conflicts, and it redoes on the erased
    version."""
    root = tmp_path / "published"
    log = PublishedLog(str(root))
    publish_rounds(log, *collectors)
    before = rows(log)
    erasure = erasure_of(log, "u-4-", "erase-2")
    pause = tmp_path / "pause"
    pause.touch()
    monkeypatch.setenv("EMPREINTE_TEST_COMPACT_PAUSE", str(pause))
    clock = Clock()
    clock.next_hour()
    publisher = Publisher(log, compaction=SMALL, now=clock)
    done: list[int] = []
    compaction = threading.Thread(target=lambda: done.append(publisher.compact()))
    compaction.start()
    reached = Path(f"{pause}.reached")
    deadline = time.monotonic() + 30
    while not reached.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert reached.exists()
    assert log.manifest().version == 6  # the compaction has written its file, not committed
    apply_erasure(log, erasure)  # version 7
    pause.unlink()
    compaction.join(30)
    assert done == [6]
    manifest = log.manifest()
    assert manifest.version == 8 and len(manifest.files) == 1
    assert manifest.erasures == ("erase-2",)
    check_erased(root, log, before, erasure)


def test_a_compaction_committed_during_an_erasure_is_caught_by_its_retry(
    tmp_path: Path, collectors: tuple[Workspace, Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other order: the erasure has rewritten the small files; a compaction of the same
    (unerased) small files commits first; the erasure's retry erases the compacted file and
    deletes the replaced ones at once."""
    root = tmp_path / "published"
    log = PublishedLog(str(root))
    publish_rounds(log, *collectors)
    before = rows(log)
    erasure = erasure_of(log, "u-1-", "erase-3")
    clock = Clock()
    clock.next_hour()
    commit = PublishedLog.commit
    raced: list[int] = []

    def race(self: PublishedLog, manifest: Manifest) -> None:
        if manifest.erasure and not raced:
            raced.append(Publisher(PublishedLog(log.url), compaction=SMALL, now=clock).compact())
        commit(self, manifest)

    monkeypatch.setattr(PublishedLog, "commit", race)
    apply_erasure(log, erasure)
    assert raced == [6]
    manifest = log.manifest()
    assert manifest.erasure == "erase-3" and manifest.retired == {}
    check_erased(root, log, before, erasure)


def test_a_crash_before_the_commit_leaves_the_small_files_as_the_truth(
    tmp_path: Path, collectors: tuple[Workspace, Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = PublishedLog(str(tmp_path / "published"))
    publish_rounds(log, *collectors)
    before, listed = rows(log), log.manifest()
    clock = Clock()
    clock.next_hour()

    class Killed(BaseException):
        pass

    def die(self: PublishedLog, manifest: Manifest) -> None:
        raise Killed  # as if the process died after writing the compacted file

    with monkeypatch.context() as patch:
        patch.setattr(PublishedLog, "commit", die)
        with pytest.raises(Killed):
            Publisher(log, compaction=SMALL, now=clock).publish()
    assert log.manifest() == listed and rows(log) == before
    (orphan,) = set(log.event_files()) - set(listed.files)
    assert "-c0.parquet" in orphan
    # The next publisher compacts again, and its clean-up removes the orphan.
    Publisher(log, compaction=SMALL, now=clock).publish()
    assert rows(log) == before and len(log.manifest().files) == 1
    assert orphan not in log.event_files()
    assert set(log.event_files()) == set(log.manifest().files) | set(listed.files)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"compact_files": -1}, "compact_files must be a whole number >= 0"),
        ({"compact_files": "16"}, "compact_files must be a whole number"),
        ({"compact_rows": 0}, "compact_rows must be a whole number >= 1"),
        ({"compact_grace": "soon"}, "compact_grace"),
    ],
)
def test_bad_compaction_settings_are_named(section: dict[str, Any], message: str) -> None:
    from empreinte.errors import ConfigError
    from empreinte.publish.settings import PublishSettings

    with pytest.raises(ConfigError, match=message):
        PublishSettings.from_mapping(section)


def test_compaction_settings_reach_the_publisher() -> None:
    from empreinte.publish.settings import PublishSettings

    settings = PublishSettings.from_mapping(
        {"compact_files": 8, "compact_rows": 5000, "compact_grace": "6h"}
    )
    assert settings.compaction() == Compaction(8, 5000, timedelta(hours=6))
    assert PublishSettings.from_mapping({}).compaction() == Compaction()


def test_a_leading_collector_compacts_with_its_settings(tmp_path: Path) -> None:
    url = str(tmp_path / "published")
    directory = tmp_path / "ws"
    directory.mkdir()
    (directory / "empreinte.toml").write_text(
        f'[publish]\nurl = "{url}"\ncollector_id = "a"\nleader = true\n'
        'compact_files = 3\ncompact_rows = 500\ncompact_grace = "2h"\n'
    )
    with empreinte.open(directory) as ws:
        ws.ingest([track("u", 1)])
        done = ws.published.run()
        assert done.published is not None and done.published.rows == 1
        publisher = ws.published._publisher
        assert publisher is not None
        assert publisher.compaction == Compaction(3, 500, timedelta(hours=2))


def test_a_compaction_killed_at_its_hook_leaves_the_small_files_as_the_truth(
    tmp_path: Path, collectors: tuple[Workspace, Workspace]
) -> None:
    """A real process killed (SIGKILL) between its compacted file and its commit."""
    import os
    import signal
    import subprocess
    import sys

    log = PublishedLog(str(tmp_path / "published"))
    publish_rounds(log, *collectors)
    # The small files, as if published in an hour long over (the subprocess's clock is real).
    manifest = log.manifest()
    moved = {}
    for path, count in manifest.files.items():
        old = "events/date=2000-01-01/hour=00/" + path.rsplit("/", 1)[1]
        log.write_file(old, log.read_bytes(path))
        moved[old] = count
    log.commit(manifest.next(files=moved, removed=tuple(manifest.files), added=tuple(moved)))
    log.remove(manifest.files)
    before, listed = rows(log), log.manifest()
    pause = tmp_path / "pause"
    pause.touch()
    script = (
        "from empreinte.publish.log import PublishedLog\n"
        "from empreinte.publish.publisher import Publisher\n"
        "from empreinte.publish.settings import Compaction\n"
        f"Publisher(PublishedLog({str(log.url)!r}), compaction=Compaction(files=4)).publish()\n"
    )
    env = {**os.environ, "EMPREINTE_TEST_COMPACT_PAUSE": str(pause)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        reached = Path(f"{pause}.reached")
        deadline = time.monotonic() + 60
        while not reached.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reached.exists(), proc.poll()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert log.manifest() == listed and rows(log) == before
    (orphan,) = set(log.event_files()) - set(listed.files)
    assert orphan.endswith("-c0.parquet")
    Publisher(log, compaction=SMALL).publish()
    assert rows(log) == before and len(log.manifest().files) == 1
    assert orphan not in log.event_files()
