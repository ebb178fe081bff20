"""A person's rights end to end: the real server, the official Segment client, HTTP only.

Jane is seen on the web, in a shop and on the phone; she subscribes to the newsletter (double
opt-in), revokes analytics, says nothing about SMS; she asks for her data (export), then to be
forgotten (erasure by e-mail). Afterwards nothing of her is left in any table of the database,
and her devices and addresses, sending again, are answered 200 but not stored: counted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import httpx
import pytest
from segment.analytics.client import Client

from conftest import Keys, ServerProcess
from empreinte.workspace import DATABASE_FILE

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
EMAIL = "Jane.Doe@Example.com"
PHONE = "+33 6 12 34 56 78"
RAW = ("jane.doe@example.com", "+33612345678", "06 12 34 56 78", "doe", "2900012345678")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


class Http:
    def __init__(self, server: ServerProcess, token: str):
        self.http = httpx.Client(
            base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {token}"}
        )

    def get(self, path: str, status: int = 200, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        assert response.status_code == status, response.text
        return response.json()

    def post(self, path: str, body: Any, status: int = 200) -> Any:
        response = self.http.post(path, json=body)
        assert response.status_code == status, response.text
        return response.json()

    def delete(self, path: str, status: int = 200) -> Any:
        response = self.http.delete(path)
        assert response.status_code == status, response.text
        return response.json()


def send_jane(segment: Client) -> list[str]:
    """Jane on three channels; returns the messageIds sent."""
    ids: list[str] = []

    def mid() -> str:
        ids.append(str(uuid.uuid4()))
        return ids[-1]

    web = {"channel": "web", "locale": "fr-FR", "ip": "203.0.113.9"}
    segment.page(
        anonymous_id="web-jane", name="Home", context=web, timestamp=at(0), message_id=mid()
    )
    segment.identify(
        anonymous_id="web-jane",
        user_id="jane-42",
        traits={"email": EMAIL, "phone": PHONE, "first_name": "Jane", "last_name": "Doe"},
        context=web,
        timestamp=at(0.2),
        message_id=mid(),
    )
    segment.track(
        anonymous_id="till-3-receipt-8812",
        event="Order Completed",
        properties={"order_id": "R-8812", "revenue": 89.9, "currency": "EUR"},
        context={
            "channel": "store",
            "externalIds": [{"id": "2900012345678", "type": "loyalty_card"}],
            "traits": {"email": "JANE.DOE@EXAMPLE.COM"},
        },
        timestamp=at(26),
        message_id=mid(),
    )
    segment.track(
        anonymous_id="call-20250303-0042",
        event="Call Started",
        properties={"caller_number": "06 12 34 56 78", "queue": "after-sales"},
        context={"channel": "phone"},
        timestamp=at(50),
        message_id=mid(),
    )
    # A cookie banner answered on the web: analytics yes (revoked later over the API).
    segment.track(
        anonymous_id="web-jane",
        event="Consent Updated",
        properties={"purpose": "analytics", "granted": True, "wording_version": "banner-1"},
        context=web,
        timestamp=at(0.1),
        message_id=mid(),
    )
    return ids


@pytest.mark.slow
def test_consent_export_erasure_and_suppression(
    workspace: Keys, start_server: Callable[[Keys], ServerProcess]
) -> None:
    server = start_server(workspace)
    errors: list[Any] = []
    segment = Client(
        workspace.write_key,
        host=server.url,
        sync_mode=True,
        on_error=lambda e, batch: errors.append(e),
    )
    sent = send_jane(segment)
    # Someone else, who must be left alone.
    segment.identify(user_id="bob", traits={"email": "bob@example.com"}, timestamp=at(1))
    assert not errors
    admin = Http(server, workspace.admin_token)
    analyst = Http(server, workspace.analyst_token)
    pid = admin.get("/api/profiles", email="jane.doe@example.com")["profileId"]

    # -- consent: silence is no, double opt-in, revocation --------------------------------
    state = analyst.get(f"/api/profiles/{pid}/consent")
    assert state["purposes"]["analytics"]["status"] == "granted"
    assert state["purposes"]["analytics"]["wordingVersion"] == "banner-1"
    for purpose in ("marketing_email", "marketing_sms", "profiling", "personalisation"):
        assert state["purposes"][purpose] == {
            "allowed": False,
            "status": "not_given",
            "since": None,
            "source": None,
            "wordingVersion": None,
            "pendingSince": None,
        }
    subscribed = admin.post(
        "/api/consent",
        {
            "userId": "jane-42",
            "purpose": "marketing_email",
            "granted": True,
            "wordingVersion": "newsletter-2025-01",
            "source": "footer-form",
        },
        status=201,
    )
    token = subscribed["confirmationToken"]
    assert subscribed["status"] == "pending" and token.startswith("cnf_")
    email_state = analyst.get(f"/api/profiles/{pid}/consent")["purposes"]["marketing_email"]
    assert (email_state["allowed"], email_state["status"]) == (False, "pending")
    # The person clicks the link: no API token needed, the token is the credential.
    confirmed = httpx.post(f"{server.url}/api/consent/confirm", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    again = httpx.post(f"{server.url}/api/consent/confirm", json={"token": token})
    assert again.status_code == 400 and again.json()["field"] == "token"
    bogus = httpx.post(f"{server.url}/api/consent/confirm", json={"token": "cnf_nope"})
    assert bogus.status_code == 400
    admin.post(
        "/api/consent",
        {"profileId": pid, "purpose": "analytics", "granted": False, "wordingVersion": "prefs-3"},
        status=201,
    )
    after = analyst.get(f"/api/profiles/{pid}/consent")
    assert after["purposes"]["marketing_email"]["allowed"] is True
    assert after["purposes"]["marketing_email"]["source"] == "footer-form"
    assert after["purposes"]["analytics"]["status"] == "revoked"
    assert len(after["history"]) == 4
    refused = admin.post(
        "/api/consent",
        {"userId": "jane-42", "purpose": "marketing_mail", "granted": True, "wordingVersion": "x"},
        status=400,
    )
    assert refused["field"] == "purpose"

    # -- access and portability: the export round-trip -------------------------------------
    export = admin.get(f"/api/profiles/{pid}/export")
    exported = {e["messageId"]: e for e in export["events"]}
    assert set(sent) <= set(exported)
    assert len(exported) == len(sent) + 3  # and the three consent entries written over the API
    identify = exported[sent[1]]
    assert identify["traits"]["email"] == EMAIL and identify["traits"]["last_name"] == "Doe"
    assert identify["context"]["ip"] == "203.0.113.9"
    assert exported[sent[3]]["properties"]["caller_number"] == "06 12 34 56 78"
    values = {(i["type"], i["value"]) for i in export["identifiers"]}
    assert {
        ("email", "jane.doe@example.com"),
        ("phone", "+33612345678"),
        ("user_id", "jane-42"),
        ("loyalty_card", "2900012345678"),
        ("anonymous_id", "web-jane"),
    } <= values
    assert export["profile"]["traits"]["first_name"] == "Jane"
    assert export["consent"]["purposes"]["marketing_email"]["status"] == "granted"
    # Analysts never get raw data, nor may they erase.
    assert analyst.http.get(f"/api/profiles/{pid}/export").status_code == 403
    assert analyst.http.delete(f"/api/profiles/{pid}").status_code == 403

    # -- erasure by e-mail -----------------------------------------------------------------
    found = admin.get("/api/profiles", email=" JANE.DOE@example.com ")["profileId"]
    report = admin.delete(f"/api/profiles/{found}")
    assert report["counts"]["events"] == len(sent) + 3
    assert report["counts"]["consent_entries"] == 4
    assert report["suppressedIdentifiers"] == 7  # user, 3 anonymous ids, e-mail, phone, card
    assert admin.delete(f"/api/profiles/{found}", status=404)["code"] == "not_found"
    for params in (
        {"userId": "jane-42"},
        {"anonymousId": "web-jane"},
        {"anonymousId": "till-3-receipt-8812"},
        {"anonymousId": "call-20250303-0042"},
    ):
        assert admin.get("/api/events", **params)["total"] == 0
    admin.get("/api/profiles", status=404, email=EMAIL)
    admin.get("/api/profiles", status=404, phone=PHONE)
    admin.get(f"/api/profiles/{pid}", status=404)
    assert admin.get("/api/profiles", userId="bob")["profileId"]

    # -- she comes back: 200 for the client, nothing stored, counted -----------------------
    before = admin.get("/api/events", limit=1)["total"]
    segment.track(anonymous_id="web-jane", event="Page Again", timestamp=at(100))
    segment.identify(anonymous_id="new-browser", traits={"email": "jane.doe@example.com"})
    segment.track(
        anonymous_id="call-9",
        event="Call Started",
        properties={"caller_number": "+33612345678"},
        context={"channel": "phone"},
    )
    assert not errors  # every answer was a 200: the client does not retry
    raw = httpx.post(
        f"{server.url}/v1/track",
        auth=(workspace.write_key, ""),
        json={"userId": "jane-42", "event": "Again", "messageId": "again-1"},
    )
    assert raw.status_code == 200 and raw.json()["stored"] == 0
    assert admin.get("/api/events", limit=1)["total"] == before
    suppressed = analyst.get("/api/privacy/suppressed")
    assert suppressed["total"] == 4
    assert {s["source"] for s in suppressed["suppressed"]} == {"web"}
    [audit] = admin.get("/api/privacy/erasures")["erasures"]
    assert audit["erasureId"] == report["erasureId"]
    assert audit["actor"] == "ops" and len(audit["idHashes"]) == 7

    # -- nothing of her is left in any table of the database --------------------------------
    server.stop()
    con = duckdb.connect(str(workspace.path / DATABASE_FILE), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        assert {"events", "pii_vault", "identities", "suppression", "erasure_audit"} <= set(tables)
        dump = []
        for table in tables:
            dump += [repr(row) for row in con.execute(f'SELECT * FROM "{table}"').fetchall()]
        text = "\n".join(dump).lower()
        for value in (*RAW, "jane-42", "web-jane", "till-3-receipt-8812", "call-9", "new-browser"):
            assert value.lower() not in text, value
        assert "bob@example.com" in text  # the vault still holds Bob's e-mail
        hashes = [r[0] for r in con.execute("SELECT id_hash FROM suppression").fetchall()]
        assert len(hashes) == 7
        assert all(len(h) == 32 and int(h, 16) >= 0 for h in hashes)
        [(ids, counts, actor)] = con.execute(
            "SELECT id_hashes, counts, actor FROM erasure_audit"
        ).fetchall()
        assert sorted(ids) == sorted(hashes) and actor == "ops"
        assert pid not in counts and pid not in text
    finally:
        con.close()
