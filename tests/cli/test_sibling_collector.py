"""Collectors side by side: `empreinte init --like` and `empreinte keys copy`.

Behind one load balancer a client's write key must open every collector, and the same e-mail
must become the same pseudonym on each, or the published log would hold one person as
strangers. Run against real servers: the first one serving while its sibling is made.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

import httpx

import empreinte
from empreinte.credentials import key_digest
from empreinte.privacy.pseudonym import KEY_FILE
from empreinte.store.records import EventFilter
from servers import Keys, ServerProcess, cli, make_workspace


def _send(server: ServerProcess, write_key: str, message_id: str) -> httpx.Response:
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    body = {
        "type": "identify",
        "userId": "u-ines",
        "messageId": message_id,
        "traits": {"email": "ines@example.org", "phone": "+33 6 11 22 33 44"},
    }
    return httpx.post(
        f"{server.url}/v1/identify", json=body, headers={"Authorization": f"Basic {auth}"}
    )


def _identifiers(path: Path, message_id: str) -> list[str]:
    with empreinte.open(path, create=False) as ws:
        events = ws.engine.find_events(EventFilter(user_id="u-ines"), limit=10)
    found = [e for e in events if e["message_id"] == message_id]
    assert len(found) == 1, events
    return sorted(found[0]["identifiers"])


def test_a_collector_made_like_another_accepts_its_keys_and_pseudonymises_alike(
    tmp_path: Path, start_server: Callable[[Keys], ServerProcess]
) -> None:
    first = make_workspace(tmp_path / "a")
    (first.path / "empreinte.toml").write_text('timezone = "Europe/Paris"\n')
    with empreinte.open(first.path) as ws:
        revoked_later = ws.credentials.create_write_key("shop")
    a = start_server(first)

    made = cli("init", str(tmp_path / "b"), "--like", str(first.path))
    assert made.returncode == 0, made.stderr + made.stdout
    assert "3 write key(s)" in made.stdout and "3 API token(s)" in made.stdout, made.stdout
    assert not re.search(r"wk_|emp_", made.stdout)  # no secret is shown: none was made
    second = dataclasses.replace(first, path=tmp_path / "b")  # the same secrets open it
    assert (second.path / KEY_FILE).read_bytes() == (first.path / KEY_FILE).read_bytes()
    assert (second.path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert (second.path / "empreinte.toml").read_text() == 'timezone = "Europe/Paris"\n'
    b = start_server(second)

    # One client, one key, two collectors: both store, and identically.
    assert _send(a, first.write_key, "m-a").status_code == 200
    assert _send(b, first.write_key, "m-b").status_code == 200
    for token, status in ((first.admin_token, 200), (first.viewer_token, 403), ("emp_x", 401)):
        answer = httpx.get(f"{b.url}/api/events", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == status, (token, answer.text)
    a.stop()
    b.stop()
    on_a, on_b = _identifiers(first.path, "m-a"), _identifiers(second.path, "m-b")
    assert on_a == on_b
    assert any(k.startswith("email:pii_") for k in on_a), on_a  # pseudonymised, not raw
    assert not any("ines@example.org" in k for k in on_a)

    # Later: a key made on the first, another revoked there; `keys copy` carries both.
    with empreinte.open(first.path) as ws:
        new_key = ws.credentials.create_write_key("kiosk")
        ws.credentials.revoke_write_key(key_digest(revoked_later))
    copied = cli("keys", "copy", "--from", str(first.path), "-w", str(second.path))
    assert copied.returncode == 0, copied.stderr + copied.stdout
    assert "1 write key(s)" in copied.stdout and "1 write key(s) revoked" in copied.stdout
    with empreinte.open(second.path, create=False) as ws:
        assert ws.credentials.source_for(new_key) == "kiosk"
        keys = {k.key_hash: k for k in ws.credentials.write_key_list()}
        assert keys[key_digest(revoked_later)].revoked_at is not None
    again = cli("keys", "copy", "--from", str(first.path), "-w", str(second.path))
    assert "0 write key(s) and 0 API token(s) added, 0 write key(s) revoked" in again.stdout


def test_init_like_refuses_what_is_not_a_workspace_or_a_directory_with_a_key(
    tmp_path: Path,
) -> None:
    nowhere = cli("init", str(tmp_path / "b"), "--like", str(tmp_path / "nowhere"))
    assert nowhere.returncode == 1
    assert "is not a workspace" in nowhere.stderr + nowhere.stdout
    assert "Traceback" not in nowhere.stderr
    first = make_workspace(tmp_path / "a")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / KEY_FILE).write_bytes(b"x" * 32)
    clash = cli("init", str(tmp_path / "c"), "--like", str(first.path))
    assert clash.returncode == 1
    assert "already has a pseudonym key" in clash.stderr + clash.stdout
    assert "Traceback" not in clash.stderr
