"""Erasure of a person whose identifiers other people's events carry too (issue 11, defect 8).

An attacker with the public write key sends events with the victim's e-mail before the
victim asks to be forgotten. Afterwards the address is nowhere (vault, payloads, identifiers),
later events with it are dropped or stored without it, the attacker's own data is intact,
and the identity graph kept up incrementally equals a full rebuild. A switchboard number
shared by several callers is taken out of the other callers' events without silencing them;
a shared device stays with the others.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

import empreinte
from conftest import Keys, ServerProcess
from empreinte.collect.validate import normalise
from empreinte.privacy import erasure
from empreinte.store.columns import ColumnarRows, to_table
from empreinte.workspace import Workspace

from .conftest import send
from .test_erasure import cur, text_of_every_table

VICTIM = "Victim.Person@Example.com"
PHONE = "+33 6 11 22 33 44"


def pseudonym(ws: Workspace, kind: str, value: str) -> str:
    return ws.policy.pseudonymiser.pseudonym(kind, value)


def plant(ws: Workspace) -> None:
    """Mallory, with her own account, browser and the family tablet, sends the victim's address
    first: in her traits (spelled otherwise), in a property and in a comment; then an event
    known by an anonymous id and the address only."""
    send(
        ws,
        {
            "type": "identify",
            "userId": "mallory",
            "anonymousId": "m-web",
            "traits": {"email": "VICTIM.person@example.COM", "first_name": "Mal"},
            "context": {"device": {"id": "family-tablet"}},
        },
        {
            "type": "track",
            "anonymousId": "m-web",
            "event": "Form Sent",
            "properties": {
                "contact_email": "victim.person@example.com",
                "comment": "please write to victim.person@example.com today",
            },
        },
        {
            "type": "track",
            "anonymousId": "anon-x",
            "event": "Viewed",
            "context": {"traits": {"email": VICTIM}},
        },
        source="web",
    )


def victim(ws: Workspace) -> str:
    send(
        ws,
        {
            "type": "identify",
            "userId": "victim",
            "anonymousId": "v-web",
            "traits": {"email": VICTIM, "phone": PHONE, "first_name": "Vic"},
            "context": {"device": {"id": "family-tablet"}},
        },
        {"type": "track", "userId": "victim", "event": "Order Completed", "properties": {"n": 1}},
    )
    found = ws.profiles.find("userId", "victim")
    assert found is not None
    return found


def partition(ws: Workspace) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for record in ws.identity.store.all_identities():  # type: ignore[attr-defined]
        out.setdefault(record.profile_id, set()).add(record.id_key)
    return {p: frozenset(keys) for p, keys in out.items()}


def assert_incremental_equals_rebuild(ws: Workspace) -> None:
    ws.identity.sync()
    incremental = partition(ws)
    conflicts = ws.identity.store.all_conflicts()  # type: ignore[attr-defined]
    ws.identity.rebuild()
    assert partition(ws) == incremental
    assert ws.identity.store.all_conflicts() == conflicts  # type: ignore[attr-defined]


def assert_nowhere(ws: Workspace, *texts: str) -> None:
    every = text_of_every_table(ws)
    for text in texts:
        assert text.lower() not in every, text


def test_an_address_planted_before_the_victim_does_not_survive_her_erasure(
    ws: Workspace,
) -> None:
    plant(ws)
    pid = victim(ws)
    email_pseudonym = pseudonym(ws, "email", VICTIM.lower())
    assert "victim.person@example.com" in text_of_every_table(ws)
    mallory_events = ws.count(user_id="mallory")

    report = erasure.erase_by(ws, "userId", "victim", "dpo")
    assert report.profile_id == pid
    # Not a byte of the address, nor its pseudonym, anywhere: vault, payloads, identifiers.
    assert_nowhere(ws, "victim.person@example.com", email_pseudonym, "+33611223344", "'victim'")
    assert report.to_json()["scrubbedIdentifiers"] == 1  # the e-mail Mallory's events carry
    assert report.shared == 0  # the tablet is Mallory's in the graph: not the victim's to keep
    assert erasure.suppressed(ws, "email", VICTIM) is not None
    assert erasure.suppressed(ws, "phone", PHONE) is not None

    # Mallory's events stay, without the address, owned by her own identifiers.
    assert ws.count(user_id="mallory") == mallory_events
    assert ws.count(anonymous_id="m-web") == 2 and ws.count(anonymous_id="anon-x") == 1
    mallory = ws.profiles.find("userId", "mallory")
    assert mallory is not None
    assert {r.id_key for r in ws.identity.identifiers(mallory)} == {
        "user_id:mallory",
        "anonymous_id:m-web",
        "device_id:family-tablet",
    }
    # The anonymous event was Mallory's through the address only: now it is nobody's but its
    # anonymous id's.
    anon = ws.profiles.find("anonymousId", "anon-x")
    assert anon is not None and anon != mallory
    [form] = [e for e in ws.events(anonymous_id="m-web") if e["event"] == "Form Sent"]
    assert form["properties"]["contact_email"] == "[erased]"
    # The comment was redacted at the door: nothing of it was ever in the vault.
    assert form["properties"]["comment"] == "please write to <EMAIL> today"
    vault = cur(ws).execute('SELECT "values" FROM pii_vault WHERE seq = ?', [form["seq"]])
    assert vault.fetchall() == []
    # Her other personal value stays hers: Mallory's first name is still in her vault.
    assert '"traits.first_name":"mal"' in text_of_every_table(ws)
    assert ws.profiles.find("email", VICTIM) is None

    # Later: an event with only the address and a new browser is dropped; one naming someone
    # else by a personal identifier is stored without the address (as identifier, in a
    # property, in the vault).
    later = ws.ingest(
        [
            {"type": "identify", "anonymousId": "v-new", "traits": {"email": VICTIM}},
            {"type": "track", "anonymousId": "m-web", "event": "E", "properties": {"to": VICTIM}},
            # Her own account (an identifier that was hers alone) with a new address: hers.
            {"type": "identify", "userId": "victim", "traits": {"email": "new@example.org"}},
            # Her phone, which nobody else's events carried, next to Mallory's userId: hers.
            {"type": "identify", "userId": "mallory", "traits": {"phone": PHONE}},
            {"type": "identify", "userId": "mallory", "traits": {"email": VICTIM.upper()}},
            {
                "type": "track",
                "userId": "mallory",
                "event": "Form Sent",
                "properties": {"contact_email": VICTIM, "plan": "gold"},
            },
        ],
        source="web",
    )
    assert (later.stored, later.suppressed) == (2, 4)
    stored = ws.events(newest_first=False, user_id="mallory")[-2:]
    assert [e["identifiers"] for e in stored] == [["user_id:mallory"], ["user_id:mallory"]]
    assert stored[0]["traits"] == {"email": "[erased]"}
    assert stored[1]["properties"] == {"contact_email": "[erased]", "plan": "gold"}
    assert_nowhere(ws, "victim.person@example.com", email_pseudonym, "new@example.org", "+33611")
    assert ws.profiles.find("email", VICTIM) is None

    assert_incremental_equals_rebuild(ws)


def test_a_switchboard_number_leaves_the_other_callers_events_without_silencing_them(
    ws: Workspace,
) -> None:
    switchboard = "+33 1 40 00 00 00"
    for i in range(5):
        send(
            ws,
            {
                "type": "track",
                "userId": f"caller-{i}",
                "anonymousId": f"call-{i}",
                "event": "Call Started",
                "properties": {"caller_number": switchboard},
                "context": {"channel": "phone", "traits": {"email": f"caller{i}@corp.example"}},
            },
        )
    number = "phone:" + pseudonym(ws, "phone", "+33140000000")
    assert sum(number in e["identifiers"] for e in ws.events()) == 5

    report = erasure.erase_by(ws, "userId", "caller-2", "dpo")
    # The four others keep their calls, without the number; nobody holds it any more.
    others = [e for e in ws.events() if e["user_id"] != "caller-2"]
    assert len(others) == 4
    assert all(number not in e["identifiers"] for e in others)
    assert report.counts["events"] == 1 and report.to_json()["scrubbedIdentifiers"] == 1
    assert all(e["properties"]["caller_number"] == "[erased]" for e in others)
    assert ws.identity.profile_of(number) is None
    assert_nowhere(ws, "+33140000000", "01 40 00 00 00", number.split(":")[1])
    # A later call from the switchboard by a known caller is stored without the number; one
    # known by nothing else than the number (and a call id) is dropped.
    later = ws.ingest(
        [
            {
                "type": "track",
                "userId": "caller-3",
                "event": "Call Started",
                "properties": {"caller_number": "01 40 00 00 00"},
                "context": {"channel": "phone"},
            },
            {
                "type": "track",
                "anonymousId": "call-9",
                "event": "Call Started",
                "properties": {"caller_number": "01 40 00 00 00"},
                "context": {"channel": "phone"},
            },
        ]
    )
    assert (later.stored, later.suppressed) == (1, 1)
    [call] = ws.events(newest_first=False, user_id="caller-3")[-1:]
    assert call["identifiers"] == ["user_id:caller-3"]
    assert_nowhere(ws, "+33140000000", "01 40 00 00 00")
    assert_incremental_equals_rebuild(ws)


def test_a_shared_device_stays_with_the_others(ws: Workspace) -> None:
    # The device is not the victim's alone: it is neither suppressed nor taken out.
    plant(ws)
    victim(ws)
    erasure.erase_by(ws, "userId", "victim", "dpo")
    assert not ws.suppression.is_suppressed("device_id:family-tablet")
    report = ws.ingest(
        [{"type": "page", "anonymousId": "m-web", "context": {"device": {"id": "family-tablet"}}}]
    )
    assert report.stored == 1
    assert ws.count(anonymous_id="m-web") == 3


def test_encoded_rows_are_screened_as_python_rows_are(ws: Workspace) -> None:
    # The collector's worker processes hand the writer encoded rows: same verdicts.
    plant(ws)
    victim(ws)
    erasure.erase_by(ws, "userId", "victim", "dpo")
    received = int(datetime(2025, 6, 1, tzinfo=UTC).timestamp() * 1_000_000)
    messages: list[dict[str, Any]] = [
        {"type": "track", "anonymousId": "a", "event": "Fine"},
        {"type": "identify", "anonymousId": "v-new", "traits": {"email": VICTIM}},
        {"type": "identify", "userId": "mallory", "traits": {"email": VICTIM}},
        {"type": "track", "userId": "victim", "event": "Back"},
        {"type": "identify", "userId": "mallory", "traits": {"phone": PHONE}},
        {"type": "identify", "userId": "u", "traits": {"first_name": "Ann"}},
        {"type": "track", "userId": "u", "event": "E", "properties": {"email": VICTIM}},
    ]
    rows = [
        normalise({**m, "messageId": f"m{i}"}, source="web", received_at=received, policy=ws.policy)
        for i, m in enumerate(messages)
    ]
    kept, dropped = ws.suppression.split(rows)
    encoded, drop = ws.suppression.screen(ColumnarRows(rows, "web", received))
    assert drop == [1, 3, 4] and sum(dropped.values()) == 3
    keep = [i not in drop for i in range(len(rows))]
    assert encoded.table(keep).to_pylist() == to_table(kept).to_pylist()
    assert [r.identifiers for r in kept] == [
        ["anonymous_id:a"],
        ["user_id:mallory"],
        ["user_id:u"],
        ["user_id:u"],
    ]
    assert "victim" not in str(to_table(kept).to_pylist()).lower()


@pytest.mark.slow
def test_over_http_with_the_write_key(
    workspace: Keys, start_server: Callable[[Keys], ServerProcess]
) -> None:
    server = start_server(workspace)
    collector = httpx.Client(base_url=server.url, auth=(workspace.write_key, ""), timeout=30)
    admin = httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Bearer {workspace.admin_token}"},
        timeout=60,
    )

    def batch(*messages: dict[str, Any]) -> None:
        response = collector.post("/v1/batch", json={"batch": list(messages)})
        assert response.status_code == 200, response.text

    # The attacker first, with their own anonymous id and the victim's address.
    batch(
        {"type": "identify", "userId": "mallory", "anonymousId": "att"},
        {"type": "identify", "anonymousId": "att", "traits": {"email": VICTIM.lower()}},
    )
    batch(
        {"type": "identify", "userId": "victim", "traits": {"email": VICTIM}},
        {"type": "track", "userId": "victim", "event": "Order Completed"},
    )
    found = admin.get("/api/profiles", params={"userId": "victim"})
    assert found.status_code == 200, found.text
    erased = admin.delete(f"/api/profiles/{found.json()['profileId']}")
    assert erased.status_code == 200, erased.text
    batch(
        {"type": "identify", "anonymousId": "new", "traits": {"email": VICTIM}},  # dropped
        {"type": "identify", "userId": "mallory", "traits": {"email": VICTIM}},  # stripped
    )
    events = admin.get("/api/events", params={"userId": "mallory", "limit": 100})
    assert events.status_code == 200 and events.json()["total"] == 2
    collector.close()
    admin.close()
    server.stop()
    with empreinte.open(workspace.path) as ws:
        assert ws.count() == 3  # Mallory's two identifies and her stripped one, no more
        assert ws.count(anonymous_id="att") == 2
        assert_nowhere(ws, "victim.person@example.com", pseudonym(ws, "email", VICTIM.lower()))
        assert [c[2] for c in ws.suppression.counts()] == [1]
        assert_incremental_equals_rebuild(ws)
    assert erased.json()["scrubbedIdentifiers"] == 1


def test_derived_tables_follow_the_events_that_changed_owner(ws: Workspace) -> None:
    # Before the erasure the anonymous event was Mallory's (through the address); after it,
    # its anonymous id's own: the derived profile facts are those computed whole.
    from empreinte.analytics.attributes import profile_facts

    plant(ws)
    send(
        ws,
        {"type": "identify", "anonymousId": "anon-y", "traits": {"email": VICTIM, "country": "BE"}},
    )
    victim(ws)
    with ws.analytics() as log:
        before = log.to_pyarrow(log.derived("profile_facts"))
    assert before.column("country").to_pylist() == ["BE"]
    erasure.erase_by(ws, "userId", "victim", "dpo")
    with ws.analytics() as log:
        kept = log.to_pyarrow(log.derived("profile_facts")).sort_by("profile_id")
        whole = profile_facts(log).sort_by("profile_id")
    anon = ws.profiles.find("anonymousId", "anon-y")
    assert kept.column("profile_id").to_pylist() == [anon]
    assert kept.select(whole.column_names).equals(
        whole.cast(kept.select(whole.column_names).schema)
    )


def test_which_identifiers_were_shared_survives_a_restart(tmp_path: Any) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        plant(ws)
        victim(ws)
        erasure.erase_by(ws, "userId", "victim", "dpo")
    with empreinte.open(tmp_path / "ws") as ws:
        report = ws.ingest(
            [
                {"type": "identify", "userId": "mallory", "traits": {"email": VICTIM}},
                {"type": "identify", "userId": "mallory", "traits": {"phone": PHONE}},
            ]
        )
        assert (report.stored, report.suppressed) == (1, 1)
        assert ws.events(limit=1)[0]["identifiers"] == ["user_id:mallory"]
