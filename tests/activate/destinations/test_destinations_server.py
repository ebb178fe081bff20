"""Destinations with the real server: a real receiver on a free port, a second real empreinte
server behind the Segment forwarder, exports on disk; the server's background loop sends.

People (seeded through the Python API, a trusted source, before the server starts): u0, u1,
u2, u3 and u6 bought and allow `analytics` and `marketing_email`; u4 bought and refused
`marketing_email`; u5 bought but allows nothing, so is in no segment. The tests run in file
order: the withdrawal (u3) and the erasure (u6) come last.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from destination_receiver import Receiver

import empreinte
from conftest import Keys, ServerProcess, make_workspace

CONSENTING = {"u0", "u1", "u2", "u3", "u6"}
SETTINGS = """
[destinations]
allow_private_networks = true
retry_base_seconds = 0.2
retry_max_seconds = 0.4
max_attempts = 3
interval_seconds = 0.2
"""


@dataclass(frozen=True)
class World:
    server: ServerProcess
    keys: Keys
    http: httpx.Client
    receiver: Receiver
    erasable: str  # u6's profile id

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys.admin_token}"}
        return self.http.request(method, path, headers=headers, **kwargs)

    def as_token(self, token: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(
            method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )

    def track(self, user_id: str, event: str, properties: dict[str, Any]) -> None:
        answer = self.http.post(
            "/v1/track",
            json={"userId": user_id, "event": event, "properties": properties},
            auth=(self.keys.write_key, ""),
        )
        assert answer.status_code == 200, answer.text


def _seed(path: Path) -> str:
    with empreinte.open(path) as ws:
        for i in range(7):
            user = f"u{i}"
            ws.identify(user, traits={"country": "FR" if i % 2 == 0 else "BE"})
            if i != 5:
                ws.track(
                    "Consent Updated",
                    user_id=user,
                    properties={"purpose": "analytics", "granted": True},
                )
            if f"u{i}" in CONSENTING:
                ws.track(
                    "Consent Updated",
                    user_id=user,
                    properties={
                        "purpose": "marketing_email",
                        "granted": True,
                        "confirmation": "confirmed",
                    },
                )
            if i == 4:
                ws.track(
                    "Consent Updated",
                    user_id=user,
                    properties={"purpose": "marketing_email", "granted": False},
                )
            ws.track(
                "Order Completed", user_id=user, properties={"order_id": f"o{i}", "revenue": 10 + i}
            )
        ws.flush()
        profile = ws.profiles.find("userId", "u6")
        assert profile is not None
        return profile


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("destinations")
    keys = make_workspace(root / "ws")
    (root / "ws" / "empreinte.toml").write_text(SETTINGS)
    erasable = _seed(root / "ws")
    server = ServerProcess(keys.path, root).start()
    receiver = Receiver()
    http = httpx.Client(base_url=server.url, timeout=30.0)
    world = World(server, keys, http, receiver, erasable)
    answer = world.admin(
        "POST", "/api/segments", json={"name": "buyers", "expression": 'did("Order Completed")'}
    )
    assert answer.status_code == 201, answer.text
    try:
        yield world
    finally:
        http.close()
        server.stop()
        receiver.close()


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def users(messages: list[dict[str, Any]], kind: str, event: str | None = None) -> list[str]:
    return sorted(
        m.get("userId") or m.get("anonymousId")
        for m in messages
        if m["type"] == kind and (event is None or m.get("event") == event)
    )


def test_a_receiver_that_fails_twice_gets_each_message_once_signed(world: World) -> None:
    flaky = world.receiver.endpoint("/flaky", fail_next=2)
    answer = world.admin(
        "POST",
        "/api/destinations",
        json={
            "name": "crm",
            "kind": "webhook",
            "url": world.receiver.url("/flaky"),
            "purpose": "marketing_email",
            "segments": ["buyers"],
            "traits": ["country"],
        },
    )
    assert answer.status_code == 201, answer.text
    secret = answer.json()["secret"]
    wait_for(lambda: len(flaky.messages()) >= 2 * len(CONSENTING), "the crm's messages")
    time.sleep(1.0)  # rounds after success send nothing again
    messages = flaky.messages()
    assert flaky.requests >= 3  # two refused, then accepted
    ids = [m["messageId"] for m in messages]
    assert len(ids) == len(set(ids)) == 2 * len(CONSENTING)
    # Exactly once each, and never u4 (refused) nor u5 (allows nothing).
    assert users(messages, "track", "Audience Entered") == sorted(CONSENTING)
    assert users(messages, "identify") == sorted(CONSENTING)
    traits = {m["userId"]: m["traits"] for m in messages if m["type"] == "identify"}
    assert traits["u0"] == {"country": "FR"} and traits["u1"] == {"country": "BE"}
    # The signature, checked as docs/destinations.md tells a receiver to check it.
    for headers, body in flaky.accepted:
        fields = dict(p.split("=", 1) for p in headers["Empreinte-Signature"].split(","))
        assert abs(time.time() - int(fields["t"])) < 300
        expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256)
        assert hmac.compare_digest(expected.hexdigest(), fields["v1"])
        forged = hmac.new(b"another secret", fields["t"].encode() + b"." + body, hashlib.sha256)
        assert forged.hexdigest() != fields["v1"]
    shown = world.admin("GET", "/api/destinations/crm").json()
    assert "secret" not in shown and shown["deliveries"]["sent"] == 2 * len(CONSENTING)


def test_a_changed_trait_is_sent_again_once(world: World) -> None:
    flaky = world.receiver.endpoint("/flaky")
    before = len(flaky.messages())
    answer = world.http.post(
        "/v1/identify",
        json={"userId": "u0", "traits": {"country": "DE"}},
        auth=(world.keys.write_key, ""),
    )
    assert answer.status_code == 200, answer.text

    def again() -> list[dict[str, Any]]:
        return [m for m in flaky.messages()[before:] if m["type"] == "identify"]

    [identify] = wait_for(again, "u0's new country")
    time.sleep(1.0)
    assert again() == [identify]  # once, and nothing else sent
    assert identify["userId"] == "u0" and identify["traits"] == {"country": "DE"}
    assert len(flaky.messages()) == before + 1


def test_exports_are_written_whole_and_atomically(world: World) -> None:
    for kind in ("csv", "parquet"):
        answer = world.admin(
            "POST",
            "/api/destinations",
            json={
                "name": f"audience-{kind}",
                "kind": kind,
                "directory": "audiences",
                "purpose": "marketing_email",
                "segments": ["buyers"],
                "traits": ["country"],
            },
        )
        assert answer.status_code == 201, answer.text
        assert "secret" not in answer.json()
    folder = world.keys.path / "exports" / "audiences"
    wait_for(lambda: (folder / "audience-csv.csv").exists(), "the CSV export")
    wait_for(lambda: (folder / "audience-parquet.parquet").exists(), "the Parquet export")
    with (folder / "audience-csv.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["user_id"] for r in rows) == sorted(CONSENTING)
    assert {r["segment"] for r in rows} == {"buyers"}
    assert {r["user_id"]: r["country"] for r in rows}["u1"] == "BE"
    table = pq.read_table(folder / "audience-parquet.parquet").to_pylist()
    assert sorted(r["user_id"] for r in table) == sorted(CONSENTING)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary left


def test_a_receiver_always_down_fills_the_dead_letter_queue_which_can_be_retried(
    world: World,
) -> None:
    down = world.receiver.endpoint("/down", down=True)
    answer = world.admin(
        "POST",
        "/api/destinations",
        json={
            "name": "down-hook",
            "kind": "webhook",
            "url": world.receiver.url("/down"),
            "purpose": "marketing_email",
            "segments": ["buyers"],
        },
    )
    assert answer.status_code == 201, answer.text

    def dead() -> list[dict[str, Any]]:
        found = world.admin(
            "GET", "/api/destinations/down-hook/deliveries", params={"status": "dead"}
        )
        assert found.status_code == 200, found.text
        rows: list[dict[str, Any]] = found.json()["deliveries"]
        return rows if len(rows) == len(CONSENTING) else []

    letters = wait_for(dead, "the dead letters")
    assert {d["attempts"] for d in letters} == {3}
    assert all("HTTP 500" in d["last_error"] for d in letters)
    time.sleep(0.6)
    assert down.requests == 3  # one request, three tries (its jitter drawn once), no more
    down.down = False
    retried = world.admin("POST", "/api/destinations/down-hook/retry", json={})
    assert retried.json()["queued"] == len(CONSENTING)
    wait_for(lambda: len(down.messages()) == len(CONSENTING), "the retried letters")
    assert users(down.messages(), "track", "Audience Entered") == sorted(CONSENTING)


def test_a_withdrawal_between_queueing_and_sending_stops_the_send(world: World) -> None:
    gate = world.receiver.endpoint("/gate", down=True)
    answer = world.admin(
        "POST",
        "/api/destinations",
        json={
            "name": "gate",
            "kind": "webhook",
            "url": world.receiver.url("/gate"),
            "purpose": "marketing_email",
            "segments": ["buyers"],
            "traits": ["country"],
        },
    )
    assert answer.status_code == 201, answer.text
    wait_for(
        lambda: (
            len(
                world.admin(
                    "GET", "/api/destinations/gate/deliveries", params={"status": "dead"}
                ).json()["deliveries"]
            )
            == 2 * len(CONSENTING)
        ),
        "u3's deliveries queued (and failed)",
    )
    # u3 withdraws from the browser: a revocation counts from any source.
    world.track("u3", "Consent Updated", {"purpose": "marketing_email", "granted": False})
    gate.down = False
    assert world.admin("POST", "/api/destinations/gate/retry").json()["queued"] == 2 * len(
        CONSENTING
    )
    wait_for(lambda: len(gate.messages()) == 2 * (len(CONSENTING) - 1), "the others' deliveries")
    time.sleep(0.6)
    assert "u3" not in users(gate.messages(), "track") + users(gate.messages(), "identify")
    withheld = world.admin(
        "GET", "/api/destinations/gate/deliveries", params={"status": "withheld"}
    )
    assert len(withheld.json()["deliveries"]) == 2


def test_the_segment_forwarder_lands_events_in_a_second_server(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("second")
    keys = make_workspace(root / "ws")
    second = ServerProcess(keys.path, root).start()
    try:
        answer = world.admin(
            "POST",
            "/api/destinations",
            json={
                "name": "second",
                "kind": "segment",
                "url": second.url,
                "write_key": keys.write_key,
                "purpose": "analytics",
                "segments": ["buyers"],
                "events": ["Order Completed"],
            },
        )
        assert answer.status_code == 201, answer.text
        assert "secret" not in answer.json() and keys.write_key not in answer.text
        world.track("u5", "Order Completed", {"order_id": "late-5", "revenue": 5})  # no consent
        world.track("u0", "Order Completed", {"order_id": "late-0", "revenue": 42.5})
        theirs = httpx.Client(
            base_url=second.url, headers={"Authorization": f"Bearer {keys.admin_token}"}
        )

        def orders() -> list[dict[str, Any]]:
            found = theirs.get("/api/events", params={"event": "Order Completed", "limit": 100})
            assert found.status_code == 200, found.text
            return list(found.json()["events"])

        landed = wait_for(orders, "the forwarded order")
        time.sleep(1.0)
        landed = orders()
        assert [(e["userId"], e["properties"]) for e in landed] == [
            ("u0", {"order_id": "late-0", "revenue": 42.5})
        ]
        entered = theirs.get(
            "/api/events", params={"event": "Audience Entered", "limit": 100}
        ).json()
        # Its purpose is analytics: u3 (who withdrew marketing only) and u4 allow it; u5 not.
        assert sorted(e["userId"] for e in entered["events"]) == [
            "u0",
            "u1",
            "u2",
            "u3",
            "u4",
            "u6",
        ]
        theirs.close()
    finally:
        second.stop()


def test_an_erased_persons_deletion_request_reaches_every_destination_that_had_them(
    world: World,
) -> None:
    answer = world.admin("DELETE", f"/api/profiles/{world.erasable}")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    notified = set(report["destinationsNotified"])
    assert {"crm", "down-hook", "gate", "audience-csv", "audience-parquet", "second"} <= notified
    flaky = world.receiver.endpoint("/flaky")

    def deletion() -> list[dict[str, Any]]:
        return [m for m in flaky.messages() if m["type"] == "delete"]

    [request] = wait_for(deletion, "the deletion request")
    assert request["userId"] == "u6"
    assert request["context"]["erasureId"] == report["erasureId"]
    audit = world.admin("GET", "/api/privacy/erasures").json()["erasures"]
    [record] = [r for r in audit if r["erasureId"] == report["erasureId"]] or [
        r for r in audit if r.get("erasure_id") == report["erasureId"]
    ]
    counts = record["counts"]
    assert counts["destination:crm"] == 1 and counts["destinations_notified"] == len(notified)
    # The files are written again without the erased person (and without u3, who withdrew).
    folder = world.keys.path / "exports" / "audiences"

    def rewritten() -> bool:
        with (folder / "audience-csv.csv").open() as f:
            return sorted(r["user_id"] for r in csv.DictReader(f)) == ["u0", "u1", "u2"]

    wait_for(rewritten, "the CSV without u6 and u3")
    deletions = world.admin("GET", "/api/destinations/deletions").json()["deletions"]
    assert {d["destination"] for d in deletions} == notified
    assert all(d["erasure_id"] == report["erasureId"] for d in deletions)


def test_bad_input_is_refused_naming_the_field_and_viewers_are_refused(world: World) -> None:
    base = {
        "name": "bad",
        "kind": "webhook",
        "url": "https://crm.example/hook",
        "purpose": "marketing_email",
        "segments": ["buyers"],
    }
    cases = [
        ({"url": "ftp://crm.example/x"}, "url"),
        ({"url": "http://user:pw@crm.example/"}, "url"),
        ({"purpose": "spam"}, "purpose"),
        ({"kind": "fax"}, "kind"),
        ({"name": "Bad Name"}, "name"),
        ({"traits": ["password"]}, "traits"),
        ({"kind": "csv", "url": None, "directory": "../../etc"}, "directory"),
        ({"name": "crm"}, "name"),  # taken: 409
    ]
    for change, field in cases:
        body = {k: v for k, v in {**base, **change}.items() if v is not None}
        answer = world.admin("POST", "/api/destinations", json=body)
        assert 400 <= answer.status_code < 500, (change, answer.text)
        assert answer.json().get("field") == field or field in answer.text, (change, answer.text)
    missing = world.admin(
        "POST", "/api/destinations", json={**base, "segments": ["nobody-saved-this"]}
    )
    assert missing.status_code == 404
    assert world.as_token(world.keys.viewer_token, "GET", "/api/destinations").status_code == 403
    listed = world.as_token(world.keys.analyst_token, "GET", "/api/destinations")
    assert listed.status_code == 200
    # Analysts see where a webhook goes, not its path (a hook URL may carry a token).
    [crm] = [d for d in listed.json()["destinations"] if d["name"] == "crm"]
    assert crm["target"] == world.receiver.url("/…") and "/flaky" not in listed.text
    assert world.admin("GET", "/api/destinations/crm").json()["target"].endswith("/flaky")
    made = world.as_token(world.keys.analyst_token, "POST", "/api/destinations", json=base)
    assert made.status_code == 403
