"""Calls sent to a real `empreinte serve` with the official Segment library: their texts are
redacted before anything is written, so no planted value is in any file of the workspace (the
log, the DuckDB file and its WAL, the dedup window, the keys) nor in the server's log, nor in
any table read through the store (DuckDB may compress what it writes). Originals are kept,
sealed, since the admin opted in before the server started: encrypted at rest, readable by
the admin, unreadable after expiry, gone at erasure. Hostile transcripts get clear errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from segment.analytics.client import Client

import empreinte
from empreinte.errors import OriginalUnavailable
from empreinte.privacy import erasure
from empreinte.privacy.text_originals import VAULT_KEY
from empreinte.store.duckdb.engine import DuckDBEngine
from empreinte.voc.originals import Originals
from servers import Keys, ServerProcess, make_workspace
from voc.ingest.planted import (
    CARD,
    CARD_SPACED,
    EMAIL_FR,
    IBAN,
    MUST_GO,
    NAME,
    NIR,
    PHONE_FR,
    english_turns,
    files_holding,
    french_turns,
    removed_by_redaction,
)

CALLER = "+33 6 98 76 54 32"  # the caller's number: pseudonymised (its raw value: the vault)
PLANTED = [*MUST_GO, IBAN, NIR, NAME, "12 rue des Lilas", "Oliver Smith"]


def text_of_every_table(ws: empreinte.Workspace) -> str:
    assert isinstance(ws.engine, DuckDBEngine)
    cur = ws.engine.cursor()
    tables = [r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    return "\n".join(
        repr(row) for table in tables for row in cur.execute(f'SELECT * FROM "{table}"').fetchall()
    )


class Sent:
    def __init__(self, keys: Keys, server: ServerProcess, uid: str):
        self.keys, self.server, self.uid = keys, server, uid
        self.results: dict[str, Any] = {}


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sent]:
    """A workspace whose admin opted in to originals; calls and a review sent to its server
    by the Segment library, hostile ones by hand; then the server stopped."""
    root = tmp_path_factory.mktemp("voc-collector")
    keys = make_workspace(root / "ws")
    with empreinte.open(keys.path) as ws:
        Originals(ws).enable("30d", "admin@test")
        profile_email = f"{uuid.uuid4().hex[:8]}@example.org"
        # The caller is known: an identify with the number the calls come from.
        ws.ingest(
            [
                {
                    "type": "identify",
                    "userId": "known-caller",
                    "traits": {"phone": CALLER, "email": profile_email},
                }
            ]
        )
    server = ServerProcess(keys.path, root).start()
    state = Sent(keys, server, "known-caller")
    # The first text a server sees loads the redaction's models (seconds, more on a busy
    # machine): sent first, with time to spare, so that the library's 15 s timeout is not it.
    warm = httpx.post(
        f"{server.url}/v1/track",
        auth=(keys.write_key, ""),
        json={"event": "Review Submitted", "userId": "warm", "properties": {"review": "ok"}},
        timeout=300,
    )
    assert warm.status_code == 200, warm.text
    errors: list[Any] = []
    client = Client(
        keys.write_key,
        host=server.url,
        sync_mode=True,
        timeout=120,
        on_error=lambda e, b: errors.append(e),
    )
    try:
        for lang, turns in (("fr", french_turns()), ("en", english_turns())):
            state.results[lang] = client.track(
                anonymous_id=f"ivr-{lang}",
                event="Call Completed",
                properties={
                    "transcript": turns,
                    "queue": "billing",
                    "agent_id": "agent-7",
                    "callerNumber": CALLER,
                },
            )[1]
        state.results["review"] = client.track(
            anonymous_id="reviewer",
            event="Review Submitted",
            properties={"review": f"Livreur en retard, appelez le {PHONE_FR}", "stars": 2},
        )[1]
        client.flush()
        assert errors == []
        with httpx.Client(base_url=server.url, timeout=60) as http:
            auth = (keys.write_key, "")
            state.results["hostile"] = {
                "many_turns": http.post(
                    "/v1/track",
                    auth=auth,
                    json=call([{"speaker": "agent", "text": ""}] * 2_001),
                ),
                "long_text": http.post(
                    "/v1/track",
                    auth=auth,
                    json=call([{"speaker": "customer", "text": "4" * 30_000}]),
                ),
                "wrong_type": http.post(
                    "/v1/track", auth=auth, json=call([{"speaker": "agent", "text": 42}])
                ),
                "backwards": http.post(
                    "/v1/track",
                    auth=auth,
                    json=call([{"speaker": "agent", "text": CARD, "start": 9, "end": 2}]),
                ),
                "batch": http.post(
                    "/v1/batch",
                    auth=auth,
                    json={
                        "batch": [
                            {**call([{"speaker": "robot", "text": EMAIL_FR}]), "type": "track"},
                            {**call(english_turns()), "type": "track", "messageId": "ok-1"},
                        ]
                    },
                ),
            }
            state.results["events"] = http.get(
                "/api/events",
                params={"event": "Call Completed", "limit": 100},
                headers={"Authorization": f"Bearer {keys.admin_token}"},
            ).json()["events"]
        state.results["log"] = server.log()
    finally:
        server.stop()
    yield state


def call(turns: list[Any]) -> dict[str, Any]:
    return {
        "event": "Call Completed",
        "anonymousId": "hostile",
        "properties": {"transcript": turns},
    }


def test_stored_calls_hold_redacted_turns_language_and_the_callers_pseudonym(sent: Sent) -> None:
    by_id = {e["messageId"]: e for e in sent.results["events"]}
    fr = by_id[sent.results["fr"]["messageId"]]["properties"]
    en = by_id[sent.results["en"]["messageId"]]["properties"]
    assert (fr["language"], en["language"]) == ("fr", "en")
    assert [t["speaker"] for t in fr["transcript"]] == [
        "agent",
        "customer",
        "agent",
        "customer",
        "customer",
    ]
    assert "<CARD>" in fr["transcript"][1]["text"] and "<EMAIL>" in fr["transcript"][4]["text"]
    assert "<PHONE>" in en["transcript"][2]["text"]
    assert fr["duration"] == 25 and fr["queue"] == "billing" and fr["agent_id"] == "agent-7"
    assert fr["callerNumber"] == CALLER  # the admin's API view: the vault's raw value
    assert by_id[sent.results["fr"]["messageId"]]["channel"] == "phone"
    with empreinte.open(sent.keys.path) as ws:  # as the log keeps it
        [stored] = [e for e in ws.events(anonymous_id="ivr-fr") if e["type"] == "track"]
    assert stored["properties"]["callerNumber"].startswith("pii_")


def test_the_call_resolves_to_the_profile_that_has_the_callers_phone(sent: Sent) -> None:
    with empreinte.open(sent.keys.path) as ws:
        ws.identity.sync()
        known = ws.profiles.find("userId", "known-caller")
        assert known is not None
        [fr_call] = [e for e in ws.events(anonymous_id="ivr-fr") if e["event"] == "Call Completed"]
        assert ws.profiles.find("anonymousId", "ivr-fr") == known, fr_call["seq"]


def test_no_planted_value_is_in_any_file_table_or_log(sent: Sent) -> None:
    gone = removed_by_redaction(PLANTED)
    assert set(MUST_GO) <= set(gone)  # the values every redaction removes
    assert files_holding(sent.keys.path, gone) == {}
    for value in gone:
        assert value not in sent.results["log"]
    with empreinte.open(sent.keys.path) as ws:
        every = text_of_every_table(ws)
    assert [v for v in gone if v in every or v.replace(" ", "") in every] == []
    # The review's verbatim too; the sealed originals are in the vault, encrypted.
    assert "<PHONE>" in every and "voc_originals" in every


def test_hostile_transcripts_get_clear_errors_and_the_good_message_beside_is_kept(
    sent: Sent,
) -> None:
    hostile = sent.results["hostile"]
    # 2,001 turns do not fit in a message's 32 KB (the importer meets MAX_TURNS).
    assert hostile["many_turns"].status_code == 400
    assert hostile["many_turns"].json()["code"] == "request_too_large"
    # 30,000 digits in a turn: over its 5,000 characters, named, never echoed.
    long_text = hostile["long_text"]
    assert long_text.status_code == 400
    refused = long_text.json()["rejected"][0]
    assert (refused["code"], refused["field"]) == (
        "invalid_transcript",
        "properties.transcript[0].text",
    )
    assert "4444" not in long_text.text
    wrong = hostile["wrong_type"].json()["rejected"][0]
    assert (wrong["code"], wrong["field"]) == (
        "invalid_transcript",
        "properties.transcript[0].text",
    )
    backwards = hostile["backwards"].json()["rejected"][0]
    assert backwards["field"] == "properties.transcript[0].end"
    assert CARD not in hostile["backwards"].text
    batch = hostile["batch"]
    assert batch.status_code == 200 and batch.json()["stored"] == 1
    [refused] = batch.json()["rejected"]
    assert (refused["index"], refused["field"]) == (0, "properties.transcript[0].speaker")
    assert EMAIL_FR not in batch.text


def test_the_admin_reads_an_original_audited_and_not_after_expiry(sent: Sent) -> None:
    with empreinte.open(sent.keys.path) as ws:
        [fr_call] = [e for e in ws.events(anonymous_id="ivr-fr") if e["event"] == "Call Completed"]
        originals = Originals(ws)
        shown = originals.show(fr_call["seq"], "admin@test")
        turns = shown["properties.transcript"]
        assert CARD_SPACED in turns[1]["text"] and EMAIL_FR in turns[4]["text"]
        later = datetime.now(UTC) + timedelta(days=31)
        with pytest.raises(OriginalUnavailable):
            originals.show(fr_call["seq"], "admin@test", now=later)
        with pytest.raises(OriginalUnavailable):  # the key is gone: today as well
            originals.show(fr_call["seq"], "admin@test")
        audit = [(a.action, a.seq, a.outcome) for a in originals.status().audit]
        assert ("show", fr_call["seq"], "shown") in audit
        assert ("show", fr_call["seq"], "expired") in audit
        assert (Path(sent.keys.path) / "voc-originals" / "keys").is_dir()
        assert originals.status().readable_days == []


def test_erasure_removes_the_persons_calls_and_their_sealed_originals(sent: Sent) -> None:
    with empreinte.open(sent.keys.path) as ws:
        report = ws.ingest(
            [
                {"type": "identify", "userId": "leaving", "traits": {"phone": "+33 6 11 22 33 01"}},
                {
                    "type": "track",
                    "event": "Call Completed",
                    "userId": "leaving",
                    "messageId": "leaving-call",
                    "properties": {"transcript": french_turns()},
                },
            ]
        )
        assert report.stored == 2
        [leaving_call] = [e for e in ws.events(user_id="leaving") if e["type"] == "track"]
        store = ws.engine.voc_originals_store()
        assert store.sealed(leaving_call["seq"], VAULT_KEY) is not None
        erasure.erase_by(ws, "userId", "leaving", "dpo")
        assert ws.events(user_id="leaving") == []
        assert store.sealed(leaving_call["seq"], VAULT_KEY) is None
        with pytest.raises(OriginalUnavailable):
            Originals(ws).show(leaving_call["seq"], "admin@test")
