"""The published log on a real S3 API: moto's S3 server over HTTP on a free port, reached by
s3fs (aiobotocore) exactly as a bucket on AWS would be. Not AWS itself: what these tests prove
of the store is what moto implements (conditional puts, strongly consistent listings).

Each test has its own bucket; the collectors' file systems are distinct objects where the
test stands for distinct processes (`skip_instance_cache`), so that no in-process cache can
hide what another process would not see.
"""

from __future__ import annotations

import logging
import secrets
import signal
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from aiobotocore.awsrequest import AioAWSResponse
from moto.s3.responses import S3Response
from moto.server import ThreadedMotoServer
from s3fs import S3FileSystem

import empreinte
from empreinte.errors import ManifestConflict
from empreinte.privacy import erasure
from empreinte.privacy.pseudonym import Pseudonymiser
from empreinte.publish.log import Manifest, PublishedLog
from empreinte.publish.publisher import Publisher
from empreinte.web.publish_loop import PublishLoop
from empreinte.workspace import Workspace
from servers import free_port

from .test_crashes import publisher, through_crashes, wait_for
from .test_erasure import EMAIL, USER, jane_on, others_on
from .test_publish import track

KEY_ID = "AKIAMOTOTESTKEY00001"
SECRET = "moto-secret-" + "9f2c" * 8  # searched for in logs and files


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    with pytest.MonkeyPatch.context() as patch:
        # Moto 5.2 checks `If-None-Match: *` and then stores the object, two steps another
        # request's thread may come between (none did in 60 eight-way races here, but it
        # may); AWS does both atomically, as documented, and that is what the log needs of
        # a store. One lock around moto's PutObject makes it so.
        atomic = threading.Lock()
        put_object = S3Response.put_object

        def locked(self: S3Response) -> Any:
            with atomic:
                return put_object(self)

        patch.setattr(S3Response, "put_object", locked)
        server.start()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
        yield f"http://127.0.0.1:{port}"
        server.stop()


@pytest.fixture
def url(endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """`s3://<a new bucket>/log`; the endpoint and credentials in the standard environment
    (botocore's), which subprocesses inherit."""
    # Nothing of the machine's own AWS set-up may leak in.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    bucket = f"empreinte-{secrets.token_hex(6)}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    yield f"s3://{bucket}/log"
    S3FileSystem.clear_instance_cache()  # bound to this test's environment


def own_process_log(url: str) -> PublishedLog:
    """The log as another process opens it: a file system object of its own."""
    return PublishedLog(url, skip_instance_cache=True)


def collectors(
    tmp_path: Path, url: str, options: str = "skip_instance_cache = true", b_url: str = ""
) -> Any:
    """Two collectors of `url` (b of `b_url` if given; one key), each with its own S3 file
    system object."""
    key = secrets.token_bytes(32)
    out = []
    for name, its_url in (("a", url), ("b", b_url or url)):
        directory = tmp_path / name
        directory.mkdir()
        (directory / "pseudonym.key").write_bytes(key)
        (directory / "empreinte.toml").write_text(
            f'[publish]\nurl = "{its_url}"\ncollector_id = "{name}"\n'
            f"[publish.storage_options]\n{options}\n"
        )
        out.append(empreinte.open(directory))
    return out


def every_object_text(log: PublishedLog) -> list[tuple[str, str]]:
    """Every object under the bucket (published, staged, orphans, manifests, notices), a
    Parquet file as the text of all its values, any other as its bytes."""
    bucket = log.root.split("/", 1)[0]
    out = []
    for key in sorted(log.fs.find(bucket)):
        data = log.fs.cat_file(key)
        if key.endswith(".parquet"):
            out.append((key, str(pq.read_table(pa.BufferReader(data)).to_pylist())))
        else:
            out.append((key, data.decode("utf-8", "replace")))
    return out


def test_two_collectors_publish_every_acknowledged_message_once(tmp_path: Path, url: str) -> None:
    a, b = collectors(tmp_path, url)
    acked: list[str] = []
    duplicates = 0

    def ingest(ws: Workspace, messages: list[dict[str, Any]]) -> None:
        report = ws.ingest(messages)
        assert report.stored == len(messages), report
        acked.extend(m["messageId"] for m in messages)

    with a, b:
        for round_no in range(3):
            only_a = [track(f"a{round_no}", n) for n in range(40)]
            only_b = [track(f"b{round_no}", n) for n in range(25)]
            ingest(a, only_a)
            ingest(b, only_b)
            # A client's retry that the load balancer sent to the other collector: both
            # acknowledged it.
            retried = only_a[:5] if round_no % 2 else only_b[:5]
            (b if round_no % 2 else a).ingest([{**m} for m in retried])
            # The publisher alternates: each collector's own S3 client must see the other's
            # versions (no listing cached across rounds).
            leader, other = (a, b) if round_no % 2 == 0 else (b, a)
            other.published.run(publish=False)
            done = leader.published.run(publish=True)
            assert done.published is not None and done.published.versions == 1
            duplicates += done.published.duplicates
    log = own_process_log(url)
    ids = log.read().column("message_id").to_pylist()
    assert len(ids) == len(set(ids)), "a message published twice"
    assert sorted(ids) == sorted(acked)
    manifest = log.manifest()
    # The retries are in their collectors' logs (a: rounds 0 and 2, b: round 1), published
    # by neither: each was dropped as a duplicate of the first acknowledgement.
    assert manifest.version == 3 and manifest.consumed == {"a": 40 * 3 + 10, "b": 25 * 3 + 5}
    assert duplicates == 15
    assert log.segments() == []  # consumed, then deleted
    assert sorted(log.event_files()) == sorted(manifest.files)
    assert all(f.startswith(f"{url}/events/date=") for f in log.files())


@pytest.mark.slow
def test_every_acknowledged_message_is_published_once_through_crashes_on_s3(
    tmp_path: Path, url: str
) -> None:
    """test_crashes.py's scenario with the log on S3: two real `empreinte serve` collectors
    staging (and the leader publishing) to the bucket every second, behind a random balancer
    that sends a fifth of the batches to both; the leader SIGKILLed under load twice;
    publishers killed at the hook before their commit and at random moments; then every
    acknowledged messageId is in the bucket's published log exactly once."""
    through_crashes(tmp_path, url)


def test_a_process_sees_what_another_one_committed(url: str) -> None:
    """s3fs caches every listing for the life of its file system object: a long-running
    collector must still see the versions, segments and files other processes write."""
    mine, theirs = own_process_log(url), own_process_log(url)

    def another_version(n: int) -> str:
        path = f"events/date=2026-01-01/hour=00/{n:012d}-abcd.parquet"
        theirs.write_file(path, f"file {n}".encode())
        theirs.commit(theirs.manifest().next(files={path: n}))
        theirs.write_file(f"staged/c/{n:020d}-{n:020d}.parquet", b"segment")
        return path

    another_version(1)
    assert mine.manifest().version == 1 and len(mine.segments()) == 1  # listed: cached?
    assert mine.event_files()
    newer = another_version(2)
    assert mine.manifest().version == 2
    assert [s.last_seq for s in mine.segments()] == [1, 2]
    assert newer in mine.event_files()
    assert mine.read_bytes(newer) == b"file 2"


def test_one_of_two_publishers_committing_one_version_wins(url: str) -> None:
    """The manifest's exclusive create on S3: s3fs's put carries `If-None-Match: *` and the
    store refuses the second one (412). Eight processes' clients race for version 1."""
    sent: list[dict[str, str]] = []
    first = own_process_log(url)
    first.fs.s3  # the client exists once the file system has connected  # noqa: B018

    def record(request: Any, **_: Any) -> None:
        if request.url.endswith("_manifest/000000000001.json"):
            sent.append(dict(request.headers))

    first.fs.s3.meta.events.register("before-send.s3.PutObject", record)
    logs = [first] + [own_process_log(url) for _ in range(7)]
    outcomes: dict[int, str] = {}
    start = threading.Barrier(len(logs))

    def commit(i: int) -> None:
        version = Manifest().next(files={f"events/x/000000000001-{i}.parquet": i})
        start.wait()
        try:
            logs[i].commit(version)
            outcomes[i] = "won"
        except ManifestConflict:
            outcomes[i] = "lost"

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(len(logs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == len(logs)
    (winner,) = [i for i, outcome in outcomes.items() if outcome == "won"]
    # The stored version is the winner's, whole.
    assert own_process_log(url).manifest().files == {
        f"events/x/000000000001-{winner}.parquet": winner
    }
    assert sent and all(h.get("If-None-Match") == b"*" for h in sent), sent
    # A loser's commit of the same version, sequentially: refused too.
    with pytest.raises(ManifestConflict):
        own_process_log(url).commit(Manifest().next())


def test_a_conflicting_publisher_retries_on_the_winners_version(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = collectors(tmp_path, url)
    with a, b:
        a.ingest([track("u-a", n) for n in range(3)])
        b.ingest([track("u-b", n) for n in range(4)])
        a.published.run(publish=False)
        b.published.run(publish=False)
    log = own_process_log(url)
    commit = PublishedLog.commit
    raced: list[bool] = []

    def race(self: PublishedLog, manifest: Manifest) -> None:
        if not raced:  # another process commits first, between our read and our commit
            raced.append(True)
            assert Publisher(own_process_log(url)).publish().rows == 7
        commit(self, manifest)

    monkeypatch.setattr(PublishedLog, "commit", race)
    report = Publisher(log).publish()
    assert report.rows == 0  # the other one published everything; ours was dropped
    assert len(own_process_log(url).read()) == 7 and log.manifest().version == 1
    assert sorted(log.event_files()) == sorted(log.manifest().files)  # its files removed


def test_a_publisher_killed_before_its_commit_leaves_nothing_visible(
    tmp_path: Path, url: str
) -> None:
    """`empreinte publish --log s3://…` in its own process, SIGKILLed between its files and
    its commit (the crash tests' hook)."""
    a, b = collectors(tmp_path, url)
    b.close()
    with a:
        messages = [track("u", n) for n in range(30)]
        assert a.ingest(messages).stored == 30
        a.published.run(publish=False)
    pause = tmp_path / "pause"
    pause.touch()
    reached = Path(f"{pause}.reached")
    proc = publisher(url, pause)
    try:
        wait_for(lambda: reached.exists() or proc.poll() is not None, timeout=120)
        assert reached.exists(), proc.communicate()[0].decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        pause.unlink()
    log = own_process_log(url)
    orphans = log.event_files()
    assert orphans, "the killed publisher wrote no file: the test proved nothing"
    assert log.manifest().version == 0 and log.files() == [] and len(log.read()) == 0
    assert len(log.segments()) == 1  # still pending
    report = Publisher(log).publish()
    assert report.rows == 30
    assert sorted(log.read().column("message_id").to_pylist()) == sorted(
        m["messageId"] for m in messages
    )
    # The clean-up removed the orphans: every object under events/ is listed.
    assert not set(orphans) & set(log.event_files())
    assert sorted(log.event_files()) == sorted(log.manifest().files)


def test_an_erasure_rewrites_the_published_objects(tmp_path: Path, url: str) -> None:
    """Erased on a: every object in the bucket (published, staged, manifests, notices) is
    searched for the person afterwards; b adopts the erasure through its notice."""
    a, b = collectors(tmp_path, url)
    with a, b:
        jane_on(a, "web-jane-a")
        jane_on(b, "web-jane-b")
        kept = others_on(a, "pa", 12) + others_on(b, "pb", 9)
        a.published.run(publish=True)
        b.published.run(publish=True)
        jane_on(b, "web-jane-b2")  # staged, not yet published
        kept += others_on(b, "pc", 4)
        b.published.run(publish=False)
        b_pages = [e["message_id"] for e in b.events(type="page")]
        log = own_process_log(url)
        pseudonym = Pseudonymiser.for_workspace(tmp_path / "a")
        email_pseudonym = pseudonym.pseudonym("email", EMAIL.lower())
        phone_pseudonym = pseudonym.pseudonym("phone", "+33612345678")
        needles = (email_pseudonym, phone_pseudonym, USER, EMAIL, EMAIL.lower(), "612345678")
        before = " ".join(text for _, text in every_object_text(log))
        assert email_pseudonym in before and phone_pseudonym in before and USER in before
        files_before = set(log.manifest().files)

        profile = a.profiles.find("email", EMAIL)
        assert profile is not None
        report = erasure.erase(a, profile, "dpo")
        assert report.counts["events"] == 3
        b.published.run(publish=True)  # publishes b's staged rows, minus Jane's
        after_a = sorted(log.read().column("message_id").to_pylist())
        # b hears of it through the notice on S3, erases her there (her own anonymous ids
        # included), and that erasure reaches the published objects in turn.
        (adopted,) = erasure.adopt_published(b)
        assert adopted.counts["events"] == 6
        b.published.run(publish=True)
    assert after_a == sorted(kept + b_pages)  # b's page views under its own ids: b's to erase
    for key, text in every_object_text(log):
        for needle in (*needles, "web-jane-a", "web-jane-b"):
            assert needle not in text, (needle, key)
    manifest = log.manifest()
    assert report.erasure_id in manifest.erasures and adopted.erasure_id in manifest.erasures
    assert files_before - set(manifest.files), "no published object was rewritten"
    assert sorted(log.read().column("message_id").to_pylist()) == sorted(kept)
    assert sorted(log.event_files()) == sorted(manifest.files)  # the old objects are gone
    for name in ("a", "b"):
        assert not list((tmp_path / name / "publish-erasures").iterdir())


def test_storage_options_reach_the_store_and_no_secret_reaches_a_log(
    tmp_path: Path,
    url: str,
    endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The endpoint and the credentials from `[publish] storage_options` alone (the standard
    environment emptied): the collector publishes; and neither its log records (every
    logger, at DEBUG: botocore's and s3fs's too), nor a failure's message and traceback, nor
    the settings' repr, nor any file it writes besides empreinte.toml holds the secret."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name)
    options = f'endpoint_url = "{endpoint}"\nkey = "{KEY_ID}"\nsecret = "{SECRET}"'
    # b publishes to a bucket that does not exist: its round fails, logged by the server's
    # loop with the traceback.
    a, b = collectors(tmp_path, url, options, b_url="s3://empreinte-no-such-bucket/log")
    caplog.set_level(logging.DEBUG)
    with a, b:
        messages = [track("u", n) for n in range(5)]
        a.ingest(messages)
        b.ingest([track("v", 1)])
        done = a.published.run(publish=True)
        assert done.published is not None and done.published.rows == 5
        PublishLoop(b)._round()
        assert "publishing to s3://empreinte-no-such-bucket/log failed" in caplog.text
        assert "NoSuchBucket" in caplog.text or "does not exist" in caplog.text, caplog.text
        settings_repr = repr(a.published.settings)
    log = PublishedLog(url, endpoint_url=endpoint, key=KEY_ID, secret=SECRET)
    assert sorted(log.read().column("message_id").to_pylist()) == sorted(
        m["messageId"] for m in messages
    )
    assert any(r.name.startswith("botocore") for r in caplog.records), "DEBUG not captured"
    files = [
        p
        for name in ("a", "b")
        for p in (tmp_path / name).rglob("*")
        if p.is_file() and p.name != "empreinte.toml"
    ]
    for where, text in [("logs", caplog.text), ("repr", settings_repr)] + [
        (str(p), p.read_bytes().decode("latin-1")) for p in files
    ]:
        assert SECRET not in text, where


def test_bad_storage_options_are_named(tmp_path: Path) -> None:
    from empreinte.errors import ConfigError

    for value, message in [
        ('"x"', "storage_options must be a table"),
        ("{ use_listings_cache = true }", "use_listings_cache cannot be set"),
    ]:
        directory = tmp_path / uuid.uuid4().hex
        directory.mkdir()
        (directory / "empreinte.toml").write_text(
            f'[publish]\nurl = "s3://b/log"\nstorage_options = {value}\n'
        )
        with pytest.raises(ConfigError, match=message):
            empreinte.open(directory).close()


def test_a_conditional_put_in_conflict_counts_as_lost(url: str) -> None:
    """S3 answers 409 ConditionalRequestConflict to a conditional put while another one of
    the same name is in flight (moto never does: the answer is made here, and parsed by
    botocore and s3fs as AWS's would be). The version is not created: the publisher takes
    it as a conflict, re-reads and tries again."""
    log = own_process_log(url)
    log.fs.s3  # noqa: B018
    answered: list[str] = []

    class Body:
        async def read(self) -> bytes:
            return (
                b'<?xml version="1.0" encoding="UTF-8"?><Error>'
                b"<Code>ConditionalRequestConflict</Code><Message>A conflicting operation "
                b"occurred. If using PutObject you can retry the request.</Message></Error>"
            )

    def conflict(request: Any, **_: Any) -> Any:
        if request.url.endswith("_manifest/000000000001.json") and not answered:
            answered.append(request.url)
            return AioAWSResponse(request.url, 409, {}, Body())
        return None

    log.fs.s3.meta.events.register("before-send.s3.PutObject", conflict)
    with pytest.raises(ManifestConflict):
        log.commit(Manifest().next())
    assert answered and log.manifest().version == 0
    log.commit(Manifest().next())  # the retry
    assert own_process_log(url).manifest().version == 1


def test_a_closed_hour_is_compacted_on_s3(tmp_path: Path, url: str) -> None:
    """Compaction with puts for writes (no rename): the same rows in one object, the replaced
    objects kept for the grace, then deleted."""
    from .test_compaction import SMALL, Clock, publish_rounds, rows

    a, b = collectors(tmp_path, url)
    log = own_process_log(url)
    with a, b:
        publish_rounds(log, a, b)
    before, small = rows(log), set(log.manifest().files)
    assert len(small) == 6
    clock = Clock()
    clock.next_hour()
    publisher = Publisher(own_process_log(url), compaction=SMALL, now=clock)
    assert publisher.publish().compacted == 6
    (compacted,) = log.manifest().files
    assert rows(log) == before
    assert set(log.event_files()) == small | {compacted}  # in their grace
    clock.at += SMALL.grace.total_seconds()
    publisher.publish()
    assert log.event_files() == [compacted]
