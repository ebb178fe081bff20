"""Nothing personal and no secret in what the server writes outside its database.

Issue 17's "security at scale": the workspace's HMAC key never leaves the server process, and
no personal data or secret reaches a log file. A real `empreinte serve` receives people's
e-mails, phones and names (valid events, invalid ones that quote them in the wrong place, a
body over the limits), wrong and right credentials; then its whole output and every file the
workspace holds besides the database and the key itself are searched, as bytes, for each of
them. The database holds the vault's raw values by design (docs/privacy.md); the key file is
where the key lives.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import httpx

import empreinte
from empreinte.privacy.pseudonym import KEY_FILE
from empreinte.privacy.users import Users
from servers import Keys, ServerProcess

PASSWORD = "tr0ub4dor-and-3-horses"
EMAIL = "jeanne.planted@example.org"
PHONE_TYPED = "06 12 34 56 78"
PHONE_E164 = "+33612345678"
NAME = "Jeanne Plantedname"
STREET = "17 rue des Secrets"


def _basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def _send_everything(server: ServerProcess, keys: Keys) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        good = {
            "batch": [
                {
                    "type": "identify",
                    "userId": "u-jeanne",
                    "messageId": "m-1",
                    "traits": {
                        "email": EMAIL,
                        "phone": PHONE_TYPED,
                        "name": NAME,
                        "address": {"street": STREET, "city": "Lyon"},
                    },
                },
                {
                    "type": "track",
                    "userId": "u-jeanne",
                    "messageId": "m-2",
                    "event": "Form Submitted",
                    "properties": {"comment": f"write to me at {EMAIL} or {PHONE_TYPED}"},
                },
                # Invalid: personal values where they do not belong, so that the refusals
                # (answered to the client, counted for the Sources page) are exercised.
                {"type": "track", "userId": {"email": EMAIL}, "event": "Bad"},
                {"type": "identify", "anonymousId": "a-1", "timestamp": EMAIL},
                {"type": NAME, "userId": "u-jeanne"},
            ]
        }
        answer = http.post("/v1/batch", json=good, headers=_basic(keys.write_key))
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["rejected"]) == 3, answer.text
        # Over the 32 KB message limit, quoting the e-mail all along.
        huge = {"type": "track", "userId": "u-x", "event": "Big", "properties": {}}
        huge["properties"] = {"text": (EMAIL + " ") * 2_000}
        assert http.post("/v1/track", json=huge, headers=_basic(keys.write_key)).status_code == 400
        # A write key that is not one, and an API token that is not one.
        wrong = keys.write_key[::-1]
        small = {"type": "track", "userId": "u-x", "event": "Hi", "properties": {"e": EMAIL}}
        assert http.post("/v1/track", json=small, headers=_basic(wrong)).status_code == 401
        bearer = {"Authorization": f"Bearer {keys.admin_token[::-1]}"}
        assert http.get("/api/events", headers=bearer).status_code == 401
        # A wrong password, then the right one; a lookup by raw e-mail with the admin token.
        refused = http.post("/api/login", json={"username": "ana", "password": PASSWORD[::-1]})
        assert refused.status_code == 401
        login = http.post("/api/login", json={"username": "ana", "password": PASSWORD})
        assert login.status_code == 200, login.text
        admin = {"Authorization": f"Bearer {keys.admin_token}"}
        found = http.get("/api/profiles", params={"email": EMAIL}, headers=admin)
        assert found.status_code == 200, found.text
        # A query parameter the route does not know, holding the e-mail.
        unknown = http.get("/api/events", params={EMAIL: PHONE_TYPED}, headers=admin)
        assert unknown.status_code == 400


def _searched_files(workspace: Path) -> list[Path]:
    """Every file of the workspace but the database (and its WAL) and the key file."""
    kept_out = {KEY_FILE}
    return [
        path
        for path in workspace.rglob("*")
        if path.is_file() and path.name not in kept_out and ".duckdb" not in path.name
    ]


def test_no_personal_value_or_secret_in_the_servers_output_or_files(
    workspace: Keys, start_server: Callable[[Keys], ServerProcess]
) -> None:
    with empreinte.open(workspace.path) as ws:
        Users.for_workspace(workspace.path, ws.privacy_store).create("ana", PASSWORD, "admin")
    server = start_server(workspace)
    _send_everything(server, workspace)
    server.stop()  # a graceful stop: whatever it writes on the way out is searched too

    hmac_key = (workspace.path / KEY_FILE).read_bytes()
    assert len(hmac_key) == 32, "the key file is not where this test expects it"
    needles = {
        "e-mail": EMAIL.encode(),
        "phone as typed": PHONE_TYPED.encode(),
        "phone (E.164)": PHONE_E164.encode(),
        "phone digits": b"612345678",
        "name": b"Plantedname",
        "street": STREET.encode(),
        "write key": workspace.write_key.encode(),
        "wrong write key": workspace.write_key[::-1].encode(),
        "admin token": workspace.admin_token.encode(),
        "password": PASSWORD.encode(),
        "wrong password": PASSWORD[::-1].encode(),
        "HMAC key": hmac_key,
        "HMAC key (hex)": hmac_key.hex().encode(),
        "HMAC key (base64)": base64.b64encode(hmac_key).rstrip(b"="),
    }
    output = server.log().encode()
    files = _searched_files(workspace.path)
    found = [
        f"{what} in {where}"
        for where, data in [("the server's output", output)]
        + [(str(p.relative_to(workspace.path)), p.read_bytes()) for p in files]
        for what, needle in needles.items()
        if needle in data
    ]
    assert not found, found
    # The search reads what it should: the server ran and the events were stored.
    with empreinte.open(workspace.path) as ws:
        assert ws.profiles.find("userId", "u-jeanne") is not None
