"""`/api/sources…` on the real server: a key made by the API sends events, is listed by its
digest, is refused at once when revoked; the refusals are counted per source and reason,
without the values sent."""

from __future__ import annotations

import httpx

from empreinte.credentials import key_digest
from servers import Keys, ServerProcess


def _admin(keys: Keys) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys.admin_token}"}


def _track(server: ServerProcess, key: str, **fields: object) -> httpx.Response:
    message = {"type": "track", "event": "Shop Opened", "userId": "u1", **fields}
    return httpx.post(f"{server.url}/v1/track", json=message, auth=(key, ""), timeout=30)


def test_a_key_made_by_the_api_works_until_revoked(server: ServerProcess, workspace: Keys) -> None:
    made = httpx.post(
        f"{server.url}/api/sources/keys", json={"source": "shop-1"}, headers=_admin(workspace)
    )
    assert made.status_code == 201, made.text
    key = made.json()["writeKey"]
    assert made.json()["keyHash"] == key_digest(key) and made.json()["source"] == "shop-1"
    assert _track(server, key).status_code == 200

    listed = httpx.get(f"{server.url}/api/sources/keys", headers=_admin(workspace)).json()["keys"]
    mine = [k for k in listed if k["keyHash"] == key_digest(key)]
    assert len(mine) == 1 and mine[0]["source"] == "shop-1" and mine[0]["revokedAt"] is None
    assert key not in str(listed)  # keys are never kept, so never listed

    revoked = httpx.post(
        f"{server.url}/api/sources/keys/{key_digest(key)}/revoke", headers=_admin(workspace)
    )
    assert revoked.status_code == 200 and revoked.json()["revokedAt"] is not None
    assert _track(server, key).status_code == 401
    again = httpx.post(
        f"{server.url}/api/sources/keys/{key_digest(key)}/revoke", headers=_admin(workspace)
    )
    assert again.status_code == 404
    # The source's other key is untouched.
    assert _track(server, workspace.write_key).status_code == 200


def test_bad_requests_name_what_is_wrong(server: ServerProcess, workspace: Keys) -> None:
    url = f"{server.url}/api/sources/keys"
    for body, field in (
        ({"source": "no spaces"}, "source"),
        ({"source": "x" * 30_000}, None),  # over the body limit
        ({"source": "s" * 65}, "source"),
        ({"source": "python"}, "source"),  # empreinte's own
        ({"source": 7}, "source"),
        ({"source": "ok", "role": "admin"}, "role"),
    ):
        answer = httpx.post(url, json=body, headers=_admin(workspace))
        assert answer.status_code == 400, (body, answer.text)
        if field is not None:
            assert answer.json().get("field") == field, answer.text
        assert "Traceback" not in answer.text and len(answer.text) < 400
    unknown = httpx.get(url, params={"limit": 1}, headers=_admin(workspace))
    assert unknown.status_code == 400 and "limit" in unknown.text


def test_refusals_are_counted_without_their_values(server: ServerProcess, workspace: Keys) -> None:
    secret = "jane.doe@example.com"
    assert _track(server, workspace.write_key, timestamp=secret).status_code == 400
    assert _track(server, "wk_not-a-key").status_code == 401
    answer = httpx.get(f"{server.url}/api/sources/rejections", headers=_admin(workspace))
    assert answer.status_code == 200
    reasons = answer.json()["reasons"]
    web = [r for r in reasons if r["source"] == "web"]
    assert [(r["field"], r["total"]) for r in web] == [("timestamp", 1)], reasons
    assert sum(r["total"] for r in reasons) == 2  # the bad key too, under no source
    assert secret not in answer.text
