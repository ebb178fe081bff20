"""A real full disk: the workspace on a small tmpfs, the real `empreinte serve` on it.

No fault is injected: the collector writes until the kernel answers ENOSPC. It must then answer
503 with `Retry-After` (never a 500, never a path in the body), acknowledge only what it stored,
keep its log readable, and accept again without a restart once space returns.

Mounting needs root; CI runs the suite as root, so without it the test fails (a skip would hide
that the promise went unchecked).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import httpx
import orjson
import pytest

import empreinte
from empreinte.errors import StorageError
from empreinte.workspace import DATABASE_FILE
from servers import ServerProcess, make_workspace

pytestmark = pytest.mark.slow

MB = 1024 * 1024
BATCH = 200


@contextlib.contextmanager
def small_disk(where: Path, size: int) -> Iterator[Path]:
    """A tmpfs of `size` bytes mounted at `where`, unmounted afterwards whatever happens."""
    where.mkdir()
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mount.returncode != 0:
        pytest.fail(
            "the disk-full test mounts a small tmpfs and needs root (CI runs the suite as "
            f"root): `mount` failed (uid {os.getuid()}): {mount.stderr.strip()}"
        )
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(path: Path, leave: int) -> int:
    """Write a filler file leaving about `leave` bytes free on its file system; its size."""
    stat = os.statvfs(path.parent)
    size = max(0, stat.f_bavail * stat.f_frsize - leave)
    chunk = b"\0" * (1 << 20)
    with path.open("wb") as out:
        written = 0
        while written < size:
            written += out.write(chunk[: min(len(chunk), size - written)])
    return size


def batch(label: str, n: int) -> tuple[list[str], bytes]:
    sent_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    ids = [f"{label}-{k}" for k in range(n)]
    messages = [
        {
            "type": "track",
            "event": "Product Viewed",
            "userId": f"user-{k % 50}",
            "messageId": mid,
            "timestamp": sent_at,
            # Incompressible enough that the WAL grows by what is sent.
            "properties": {"sku": f"SKU-{k}", "note": os.urandom(96).hex()},
        }
        for k, mid in enumerate(ids)
    ]
    return ids, orjson.dumps({"batch": messages, "sentAt": sent_at})


def assert_refused_cleanly(response: httpx.Response, paths: list[str]) -> int:
    """A 503 with `Retry-After`, a short JSON body naming no file; the seconds to wait."""
    assert response.status_code == 503, (response.status_code, response.text)
    body = response.json()
    assert body["code"] == "storage_unavailable", body
    assert "Traceback" not in response.text
    for path in paths:
        assert path not in response.text, response.text
    assert "/" not in body["message"], body  # no path, whatever its name
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    return retry_after


def stored_counts(database: Path) -> dict[str, int]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute("SELECT message_id, count(*) FROM events GROUP BY ALL").fetchall()
    finally:
        con.close()
    return {str(mid): int(n) for mid, n in rows}


# The room the collector gets once the filler is written: the disk fills while the WAL grows
# towards DuckDB's checkpoint size (16 MB), or after it passed it (the checkpoint is deferred).
@pytest.mark.parametrize("headroom", [3 * MB, 24 * MB], ids=["small-wal", "past-checkpoint"])
def test_a_full_disk_is_503_then_the_same_server_recovers(tmp_path: Path, headroom: int) -> None:
    with small_disk(tmp_path / "disk", 64 * MB) as disk:
        keys = make_workspace(disk / "ws")
        server = ServerProcess(keys.path, tmp_path).start()  # its own log off the small disk
        pid = server.proc.pid if server.proc else None
        filler = disk / "filler"
        acked: list[str] = []
        refused: list[tuple[list[str], bytes]] = []
        statuses: list[int] = []
        try:
            client = httpx.Client(base_url=server.url, auth=(keys.write_key, ""), timeout=30)
            first_ids, first = batch("before", BATCH)
            assert client.post("/v1/batch", content=first).status_code == 200
            acked += first_ids
            fill(filler, headroom)

            # Send until the disk is full, then a few more: each is refused the same way.
            for n in range(2_000):
                ids, body = batch(f"b{n}", BATCH)
                response = client.post("/v1/batch", content=body)
                statuses.append(response.status_code)
                if response.status_code == 200:
                    assert response.json().get("success") is True, response.text
                    acked += ids
                    continue
                assert_refused_cleanly(response, [str(disk), str(tmp_path), DATABASE_FILE])
                refused.append((ids, body))
                if len(refused) >= 5:
                    break
            assert refused, f"the disk never filled: {len(acked)} events acknowledged"
            assert acked[BATCH:], "the disk was full before any batch: no headroom to test"
            assert server.alive(), server.log()
            assert httpx.get(f"{server.url}/api/health", timeout=10).status_code == 200

            # Space returns; the same process accepts again, and the refused batches, retried
            # as clients would, are stored once.
            filler.unlink()
            deadline = time.monotonic() + 60
            for ids, body in refused:
                while (response := client.post("/v1/batch", content=body)).status_code != 200:
                    assert time.monotonic() < deadline, (response.status_code, response.text)
                    assert_refused_cleanly(response, [str(disk), str(tmp_path), DATABASE_FILE])
                    time.sleep(min(1.0, int(response.headers["Retry-After"])))
                acked += ids
            assert server.alive() and server.proc and server.proc.pid == pid, "restarted?"
            client.close()
        finally:
            server.stop()
            server.kill()

        # The log reopens and holds every acknowledged message once.
        stored = stored_counts(keys.path / DATABASE_FILE)
        missing = [mid for mid in acked if mid not in stored]
        twice = {mid: n for mid, n in stored.items() if n > 1}
        assert not missing, f"{len(missing)} acknowledged messages missing, e.g. {missing[:3]}"
        assert not twice, f"stored more than once: {list(twice.items())[:3]}"
        assert set(stored) == set(acked), "the log holds messages never acknowledged"
        assert set(statuses) <= {200, 503}, statuses


def messages(label: str, n: int) -> list[dict[str, object]]:
    return [
        {
            "type": "track",
            "event": "Product Viewed",
            "userId": f"user-{k % 50}",
            "messageId": f"{label}-{k}",
            "properties": {"sku": f"SKU-{k}", "note": os.urandom(96).hex()},
        }
        for k in range(n)
    ]


def test_a_checkpoint_never_meets_a_full_disk_in_process(tmp_path: Path) -> None:
    """The Python API's writer alone on the disk, so that DuckDB's checkpoint (at 16 MB of WAL)
    falls when the disk has room for the WAL but not for the checkpoint: a checkpoint that
    fails there invalidates the DuckDB instance (only a restart recovers), even when it runs
    inside a COMMIT that was already durable."""
    with small_disk(tmp_path / "disk", 40 * MB) as disk:
        keys = make_workspace(disk / "ws")
        ws = empreinte.open(keys.path)
        filler = disk / "filler"
        acked: list[str] = []
        refused: list[list[dict[str, object]]] = []
        try:
            fill(filler, 22 * MB)
            for n in range(2_000):
                chunk = messages(f"c{n}", 500)
                try:
                    report = ws.ingest(chunk)
                except StorageError as exc:
                    assert exc.status == 503 and exc.retry_after, exc
                    refused.append(chunk)
                    if len(refused) >= 3:
                        break
                    continue
                assert report.stored == len(chunk), report
                acked += [str(m["messageId"]) for m in chunk]
            assert refused, "the disk never filled"
            filler.unlink()
            deadline = time.monotonic() + 60
            for chunk in refused:  # the same workspace object, once space is back
                while True:
                    try:
                        ws.ingest(chunk)
                        break
                    except StorageError:
                        assert time.monotonic() < deadline, "no recovery once space returned"
                        time.sleep(0.5)
                acked += [str(m["messageId"]) for m in chunk]
            more = messages("after", 500)
            assert ws.ingest(more).stored == 500
            acked += [str(m["messageId"]) for m in more]
        finally:
            ws.close()
        stored = stored_counts(keys.path / DATABASE_FILE)
        assert all(stored.get(mid) == 1 for mid in acked)
        assert set(stored) == set(acked)
