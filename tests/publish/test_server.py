"""The real server publishes by itself when `[publish] url` is set, and an erasure through its
HTTP API reaches the published log at once."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from empreinte.publish.log import PublishedLog
from servers import ServerProcess, make_workspace

EMAIL = "erin.example@example.org"


@pytest.mark.slow
def test_serve_publishes_and_an_api_erasure_reaches_the_log(tmp_path: Path) -> None:
    url = str(tmp_path / "published")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "empreinte.toml").write_text(
        f'[publish]\nurl = "{url}"\ncollector_id = "solo"\nleader = true\ninterval = "1s"\n'
    )
    keys = make_workspace(tmp_path / "ws")
    server = ServerProcess(keys.path, tmp_path).start()
    log = PublishedLog(url)
    try:
        batch = [
            {"type": "identify", "userId": "erin-1", "traits": {"email": EMAIL}},
            {"type": "track", "userId": "erin-1", "event": "Order Completed"},
            {"type": "track", "userId": "someone-else", "event": "Order Completed"},
        ]
        for message in batch:
            message["messageId"] = str(uuid.uuid4())
        response = httpx.post(
            f"{server.url}/v1/batch", json={"batch": batch}, auth=(keys.write_key, "")
        )
        assert response.status_code == 200, response.text
        deadline = time.monotonic() + 30
        while log.read().num_rows < 3:
            assert time.monotonic() < deadline, "the server did not publish"
            time.sleep(0.2)
        admin = {"Authorization": f"Bearer {keys.admin_token}"}
        found = httpx.get(f"{server.url}/api/profiles", params={"email": EMAIL}, headers=admin)
        assert found.status_code == 200, found.text
        profile_id = found.json()["profileId"]
        erased = httpx.delete(f"{server.url}/api/profiles/{profile_id}", headers=admin)
        assert erased.status_code == 200, erased.text
        # At once: the erasure is applied before the answer, not at the next round.
        rows = log.read().to_pylist()
        assert [r["user_id"] for r in rows] == ["someone-else"]
        assert log.manifest().erasures == (erased.json()["erasureId"],)
    finally:
        server.stop()
