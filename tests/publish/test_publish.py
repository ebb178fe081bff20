"""The published Parquet log: staging, publication, the manifest, exactly once and dedup
across collectors, on a local directory and on fsspec's in-memory file system."""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

import empreinte
from empreinte.publish.log import FILE_SCHEMA, Manifest, PublishedLog
from empreinte.publish.publisher import Publisher
from empreinte.publish.stage import stage
from empreinte.workspace import Workspace


@pytest.fixture(params=["local", "memory"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PublishedLog]:
    if request.param == "local":
        yield PublishedLog(str(tmp_path / "published"))
        return
    url = f"memory://published-{secrets.token_hex(6)}"
    published = PublishedLog(url)
    yield published
    published.fs.rm(published.root, recursive=True)


def twin_workspaces(tmp_path: Path, n: int = 2) -> list[Workspace]:
    """Collectors of one published log share the pseudonymisation key (the same e-mail
    must make the same pseudonym on each)."""
    key = secrets.token_bytes(32)
    out = []
    for i in range(n):
        directory = tmp_path / f"collector-{i}"
        directory.mkdir()
        (directory / "pseudonym.key").write_bytes(key)
        out.append(empreinte.open(directory))
    return out


def track(user: str, n: int, message_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Item Viewed",
        "userId": user,
        "messageId": message_id or str(uuid.uuid4()),
        "properties": {"n": n},
    }


def published_ids(log: PublishedLog) -> list[str]:
    return log.read().column("message_id").to_pylist()


def test_stage_and_publish_once_each(tmp_path: Path, log: PublishedLog) -> None:
    (ws,) = twin_workspaces(tmp_path, 1)
    with ws:
        first = [track("u1", n) for n in range(30)]
        ws.ingest(first)
        assert [s.last_seq for s in stage(ws.engine, log, "a")] == [30]
        assert stage(ws.engine, log, "a") == []  # nothing new: nothing staged
        publisher = Publisher(log)
        report = publisher.publish()
        assert (report.rows, report.duplicates, report.segments) == (30, 0, 1)
        assert publisher.publish().versions == 0
        second = [track("u2", n) for n in range(12)]
        ws.ingest(second)
        # Staging resumes after the watermark the manifest records (the segment is gone).
        assert log.segments() == []
        assert [(s.first_seq, s.last_seq) for s in stage(ws.engine, log, "a")] == [(31, 42)]
        assert publisher.publish().rows == 12
    ids = published_ids(log)
    assert sorted(ids) == sorted(m["messageId"] for m in first + second)
    table = log.read()
    assert table.schema == FILE_SCHEMA
    assert set(table.column("collector").to_pylist()) == {"a"}
    assert sorted(table.column("seq").to_pylist()) == list(range(1, 43))
    manifest = log.manifest()
    assert manifest.version == 2 and manifest.consumed == {"a": 42}
    assert sum(manifest.files.values()) == 42
    # Files are partitioned by the hour of arrival.
    for path in manifest.files:
        assert path.startswith("events/date=") and "/hour=" in path
    prefix = "file://" if log.url.startswith("/") else "memory://"
    assert [f.removeprefix(prefix) for f in log.files()] == sorted(
        log.path(p) for p in manifest.files
    )


def test_small_segments_and_many_versions(tmp_path: Path, log: PublishedLog) -> None:
    (ws,) = twin_workspaces(tmp_path, 1)
    with ws:
        messages = [track("u", n) for n in range(57)]
        ws.ingest(messages)
        segments = stage(ws.engine, log, "a", segment_rows=10)
        assert [(s.first_seq, s.last_seq) for s in segments][-1] == (51, 57)
        report = Publisher(log).publish(batch_rows=25)
    assert report.rows == 57 and report.versions == 3
    assert sorted(published_ids(log)) == sorted(m["messageId"] for m in messages)


def test_a_message_two_collectors_acknowledged_is_published_once(
    tmp_path: Path, log: PublishedLog
) -> None:
    a, b = twin_workspaces(tmp_path)
    retried = [track("u-retry", n) for n in range(5)]
    only_a = [track("u-a", n) for n in range(7)]
    only_b = [track("u-b", n) for n in range(9)]
    with a, b:
        a.ingest(retried + only_a)
        publisher = Publisher(log)
        stage(a.engine, log, "a")
        assert publisher.publish().duplicates == 0
        # The client retried through the load balancer: b acknowledged the same messages,
        # after a published them, and a second time in the same batch.
        b.ingest(only_b + retried)
        stage(b.engine, log, "b")
        report = publisher.publish()
        assert (report.rows, report.duplicates) == (9, 5)
        # A fresh publisher (no cache of keys) reads the published keys back from the files.
        c_messages = [track("u-c", 0), retried[0]]
        a.ingest([c_messages[0]])
        b.ingest([{**retried[0]}])  # already in b: its own dedup drops it
        stage(a.engine, log, "a")
        stage(b.engine, log, "b")
        assert Publisher(log).publish().rows == 1
    ids = published_ids(log)
    assert len(ids) == len(set(ids)) == 5 + 7 + 9 + 1
    assert log.manifest().duplicates_dropped == 0  # the last version's count


def test_duplicates_within_one_batch_keep_the_first_arrival(
    tmp_path: Path, log: PublishedLog
) -> None:
    a, b = twin_workspaces(tmp_path)
    retried = [track("u-retry", n) for n in range(4)]
    with a, b:
        a.ingest(retried)
        b.ingest(retried)  # later arrival
        stage(a.engine, log, "a")
        stage(b.engine, log, "b")
        report = Publisher(log).publish()
    assert (report.rows, report.duplicates) == (4, 4)
    assert set(log.read().column("collector").to_pylist()) == {"a"}
    assert log.manifest().duplicates_dropped == 4


def test_a_publisher_killed_before_its_commit_leaves_nothing_visible(
    tmp_path: Path, log: PublishedLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ws,) = twin_workspaces(tmp_path, 1)
    with ws:
        messages = [track("u", n) for n in range(20)]
        ws.ingest(messages)
        stage(ws.engine, log, "a")

    class Killed(BaseException):
        pass

    def die(self: PublishedLog, manifest: Manifest) -> None:
        raise Killed  # as if the process died after writing its files

    with monkeypatch.context() as patch:
        patch.setattr(PublishedLog, "commit", die)
        with pytest.raises(Killed):
            Publisher(log).publish()
    assert log.manifest().version == 0 and log.files() == []
    assert log.event_files()  # the orphan is there, unlisted
    assert Publisher(log).publish().rows == 20
    assert sorted(published_ids(log)) == sorted(m["messageId"] for m in messages)
    # The clean-up removed the orphan: every file under events/ is listed.
    assert sorted(log.event_files()) == sorted(log.manifest().files)


def test_a_conflicting_publisher_retries_on_the_winners_version(
    tmp_path: Path, log: PublishedLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = twin_workspaces(tmp_path)
    with a, b:
        a.ingest([track("u-a", n) for n in range(3)])
        b.ingest([track("u-b", n) for n in range(4)])
        stage(a.engine, log, "a")
        stage(b.engine, log, "b")
        commit = PublishedLog.commit
        raced = []

        def race(self: PublishedLog, manifest: Manifest) -> None:
            if not raced:  # another publisher commits first, between our read and our commit
                raced.append(True)
                Publisher(PublishedLog(log.url)).publish()
            commit(self, manifest)

        monkeypatch.setattr(PublishedLog, "commit", race)
        report = Publisher(log).publish()
    assert report.rows == 0  # the other one published everything
    assert len(published_ids(log)) == 7 and log.manifest().version == 1


def test_manifest_versions_are_complete_json(tmp_path: Path) -> None:
    log = PublishedLog(f"file://{tmp_path}/pub")
    (ws,) = twin_workspaces(tmp_path, 1)
    with ws:
        ws.ingest([track("u", 1)])
        stage(ws.engine, log, "a")
    Publisher(log).publish()
    document = orjson.loads((tmp_path / "pub/_manifest/000000000001.json").read_bytes())
    assert document["consumed"] == {"a": 1} and document["segments"] == [
        "staged/a/00000000000000000001-00000000000000000001.parquet"
    ]
    (path,) = document["files"]
    assert pq.read_table(tmp_path / "pub" / path).num_rows == 1
    assert not list((tmp_path / "pub").rglob("*.tmp"))


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"url": ""}, "url must be a non-empty string"),
        ({"collector_id": "../x"}, "collector_id must be"),
        ({"leader": "yes"}, "leader must be true or false"),
        ({"interval": "soon"}, "interval"),
        ({"bucket": "x"}, "unknown setting(s) bucket"),
    ],
)
def test_bad_publish_settings_are_named(
    tmp_path: Path, section: dict[str, Any], message: str
) -> None:
    from empreinte.errors import ConfigError

    lines = "\n".join(f"{k} = {orjson.dumps(v).decode()}" for k, v in section.items())
    (tmp_path / "empreinte.toml").write_text(f"[publish]\n{lines}\n")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        empreinte.open(tmp_path)


def test_temporaries_of_killed_writers_are_removed_once_stale(tmp_path: Path) -> None:
    log = PublishedLog(str(tmp_path / "pub"))
    (ws,) = twin_workspaces(tmp_path, 1)
    with ws:
        ws.ingest([track("u", 1)])
        stage(ws.engine, log, "a")
    staged = tmp_path / "pub/staged/a"
    old = staged / "00000000000000000002-00000000000000000009.parquet.dead.tmp"
    fresh = staged / "00000000000000000002-00000000000000000009.parquet.live.tmp"
    old.write_bytes(b"half a file")
    fresh.write_bytes(b"being written")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert [s.last_seq for s in log.segments()] == [1]  # temporaries are not segments
    Publisher(log).publish()
    assert not old.exists() and fresh.exists()


def test_the_horizon_bounds_what_the_publisher_keeps(tmp_path: Path, log: PublishedLog) -> None:
    """Keys of files older than the horizon are neither read nor kept: a retry that late is
    published again, as a single collector would store it again."""
    (ws,) = twin_workspaces(tmp_path, 1)
    old = track("u", 1)
    publisher = Publisher(log)
    with ws:
        ws.ingest([old])
        stage(ws.engine, log, "a")
        publisher.publish()
        (first,) = log.manifest().files
        ws.ingest([track("u", 2)])
        stage(ws.engine, log, "a")
        publisher.publish()
    assert first in publisher._keys  # read to dedup the second version
    # The first file, as if it had arrived long ago: moved to that hour's partition.
    manifest = log.manifest()
    moved = "events/date=2000-01-01/hour=00/" + first.rsplit("/", 1)[1]
    log.write_file(moved, log.read_bytes(first))
    files = {p: n for p, n in manifest.files.items() if p != first} | {moved: 1}
    log.commit(manifest.next(files=files, removed=(first,), added=(moved,)))
    # As if it had been read when its hour was within the horizon (a long-running leader).
    publisher._keys[moved] = publisher._keys.pop(first)
    (tmp_path / "later").mkdir()
    (b,) = twin_workspaces(tmp_path / "later", 1)
    with b:
        b.ingest([old])  # the late retry, through another collector
        stage(b.engine, log, "b")
    assert publisher.publish().rows == 1
    assert moved not in publisher._keys and first not in publisher._keys
    assert sorted(log.read().column("message_id").to_pylist()).count(old["messageId"]) == 2


def test_the_published_log_holds_no_raw_personal_value_nor_the_key(tmp_path: Path) -> None:
    """Pseudonyms are made before publication: what reaches the URL (files decoded, and
    every other file's bytes) holds no e-mail, phone, name or street, and not the key."""
    from .test_erasure import every_file_text

    root = tmp_path / "published"
    (ws,) = twin_workspaces(tmp_path, 1)
    with ws:
        identify = {
            "type": "identify",
            "userId": "u-1",
            "messageId": str(uuid.uuid4()),
            "traits": {
                "email": "ada.lovelace@example.org",
                "phone": "+33 6 98 76 54 32",
                "name": "Ada Lovelace",
                "address": {"street": "12 rue Byron"},
            },
        }
        comment = track("u-1", 1) | {"properties": {"comment": "call me on 06 98 76 54 32"}}
        assert ws.ingest([identify, comment]).stored == 2
        stage(ws.engine, PublishedLog(str(root)), "c1")
        Publisher(PublishedLog(str(root))).publish()
    key = (tmp_path / "collector-0" / "pseudonym.key").read_bytes()
    texts = every_file_text(root)
    assert any("u-1" in text for _, text in texts)  # the rows are there
    for path, text in texts:
        for needle in ("ada.lovelace", "698765432", "98 76 54 32", "Lovelace", "rue Byron"):
            assert needle not in text, (needle, path)
        assert key.hex() not in text
    for path in root.rglob("*"):
        if path.is_file():
            assert key not in path.read_bytes(), path
