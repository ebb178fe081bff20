"""The CLI reads while `empreinte serve` holds the workspace and goes on ingesting.

The server advertises itself in the workspace; a read command asks it for a snapshot and
reads that. Commands that change the workspace say the server holds it, without a trace.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

import empreinte
from conftest import Keys, ServerProcess, make_workspace
from empreinte.store.records import EventFilter
from servers import cli

SCORES = [10, 10, 10, 9, 9, 8, 7, 6, 3, 0]  # 5 promoters, 3 detractors of 10: NPS +20


@pytest.fixture
def held(
    tmp_path: Path, start_server: Callable[[Keys], ServerProcess]
) -> Iterator[tuple[Keys, ServerProcess, str, int]]:
    """A workspace with ten NPS answers and a known person, held by a running server that
    keeps receiving page views from a client thread until the test ends."""
    keys = make_workspace(tmp_path / "ws")
    with empreinte.open(keys.path) as ws:
        ws.identify("ada", traits={"email": "ada@example.com", "country": "FR"})
        for i, score in enumerate(SCORES):
            ws.track("NPS Answered", user_id=f"r{i}", properties={"score": score})
        profile_id = ws.profiles.find("userId", "ada")
        before = ws.engine.count_events(EventFilter())
    assert profile_id is not None
    server = start_server(keys)
    stop = threading.Event()
    sent: list[int] = []

    def send() -> None:
        with httpx.Client(base_url=server.url, auth=(keys.write_key, "")) as client:
            n = 0
            while not stop.is_set() and n < 20_000:
                batch = [{"type": "page", "anonymousId": f"a{n + i}"} for i in range(50)]
                answer = client.post("/v1/batch", json={"batch": batch}, timeout=30)
                assert answer.status_code == 200, answer.text
                n += len(batch)
                sent.append(n)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        yield keys, server, profile_id, before
    finally:
        stop.set()
        sender.join(timeout=60)
    assert sent, "the server received nothing while the CLI read"


@pytest.mark.slow
def test_reports_and_profiles_read_while_the_server_ingests(
    held: tuple[Keys, ServerProcess, str, int],
) -> None:
    keys, _, profile_id, before = held
    assert (keys.path / "server.json").exists()

    nps = cli("report", "nps", "-w", str(keys.path), "--json")
    assert nps.returncode == 0, nps.stderr
    (row,) = orjson.loads(nps.stdout)
    assert (row["n"], row["score"]) == (10, pytest.approx(20.0))

    shown = cli("profile", "show", profile_id, "-w", str(keys.path), "--json")
    assert shown.returncode == 0, shown.stderr
    doc = orjson.loads(shown.stdout)
    assert doc["profileId"] == profile_id

    first = cli("events", "count", "-w", str(keys.path))
    second = cli("events", "count", "-w", str(keys.path))
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    # Each read sees the log as it was when asked: never less than before the server, and
    # growing while the client keeps sending.
    assert before <= int(first.stdout) <= int(second.stdout)

    assert list((keys.path / "snapshots").iterdir()) == []  # each command removed its copy


def test_a_change_needs_the_server_stopped(held: tuple[Keys, ServerProcess, str, int]) -> None:
    keys, *_ = held
    made = cli("keys", "create", "--source", "tills", "-w", str(keys.path))
    assert made.returncode == 1
    assert "serve" in made.stderr and "Traceback" not in made.stderr


def test_the_advert_goes_with_the_server(
    tmp_path: Path, start_server: Callable[[Keys], ServerProcess]
) -> None:
    keys = make_workspace(tmp_path / "ws")
    server = start_server(keys)
    advert = orjson.loads((keys.path / "server.json").read_bytes())
    assert advert["url"] == server.url
    assert os.stat(keys.path / "server.json").st_mode & 0o077 == 0  # the owner's alone
    # Without the secret the snapshot route is an admin's only.
    assert httpx.post(f"{server.url}/api/snapshots").status_code == 401
    viewer = {"Authorization": f"Bearer {keys.viewer_token}"}
    assert httpx.post(f"{server.url}/api/snapshots", headers=viewer).status_code == 403
    server.stop()
    assert not (keys.path / "server.json").exists()
    # With no server, the CLI reads the workspace itself.
    counted = cli("events", "count", "-w", str(keys.path))
    assert (counted.returncode, counted.stdout.strip()) == (0, "0")
