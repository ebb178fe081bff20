"""Erasure: the whole merged profile goes, derived rows included, in one transaction; its
identifiers (hashed) keep the person out; shared identifiers and other people stay."""

from __future__ import annotations

import threading
from typing import Any

import orjson
import pytest

from empreinte.errors import PrivacyError, ProfileNotFound, StorageError
from empreinte.privacy import consent, erasure
from empreinte.store.duckdb.engine import DuckDBEngine
from empreinte.workspace import Workspace

from .conftest import consent_event, send

EMAIL = "Jane.Doe@Example.com"
PHONE = "+33 6 12 34 56 78"


def jane(ws: Workspace) -> str:
    """Jane on the web (anonymous, then identified), in a shop (card), on the phone."""
    send(
        ws,
        {"type": "page", "anonymousId": "web-jane", "name": "Home"},
        {
            "type": "identify",
            "anonymousId": "web-jane",
            "userId": "jane",
            "traits": {"email": EMAIL, "phone": PHONE, "first_name": "Jane"},
        },
        {
            "type": "track",
            "anonymousId": "till-1",
            "event": "Order Completed",
            "properties": {"revenue": 20},
            "context": {
                "channel": "store",
                "traits": {"email": "JANE.DOE@EXAMPLE.COM"},
                "externalIds": [{"id": "card-42", "type": "loyalty_card"}],
            },
        },
        {
            "type": "track",
            "anonymousId": "call-7",
            "event": "Call Started",
            "properties": {"caller_number": "06 12 34 56 78"},
            "context": {"channel": "phone"},
        },
        consent_event("analytics", True, 1, userId="jane"),
    )
    found = ws.profiles.find("email", EMAIL)
    assert found is not None
    return found


def bob(ws: Workspace) -> str:
    send(ws, {"type": "identify", "userId": "bob", "traits": {"email": "bob@example.com"}})
    found = ws.profiles.find("userId", "bob")
    assert found is not None
    return found


def cur(ws: Workspace) -> Any:
    assert isinstance(ws.engine, DuckDBEngine)
    return ws.engine.cursor()


def text_of_every_table(ws: Workspace) -> str:
    """Every value of every table of the workspace's database, as one text."""
    c = cur(ws)
    tables = [r[0] for r in c.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    parts = []
    for table in tables:
        for row in c.execute(f'SELECT * FROM "{table}"').fetchall():
            parts.append(repr(row))
    return "\n".join(parts).lower()


def test_erasure_removes_the_whole_merged_profile(ws: Workspace) -> None:
    pid = jane(ws)
    other = bob(ws)
    keys = [r.id_key for r in ws.identity.identifiers(pid)]
    assert len(keys) == 7  # user, 3 anonymous ids, e-mail, phone, card
    before = text_of_every_table(ws)
    assert "jane.doe@example.com" in before and "card-42" in before

    report = erasure.erase_by(ws, "phone", "06 12 34 56 78", "dpo")
    assert report.profile_id == pid
    assert report.counts["events"] == 5 and report.counts["consent_entries"] == 1
    assert report.counts["vault_rows"] == 3 and report.counts["identities"] == 7
    assert report.suppressed == 7 and report.shared == 0

    # Nothing of hers is left anywhere: events, vault, identities, consent, lookups.
    after = text_of_every_table(ws)
    for raw in ("jane.doe@example.com", "+33612345678", "card-42", "web-jane", "till-1", "'jane'"):
        assert raw not in after, raw
    for key in keys:
        assert key.lower() not in after, key
    assert ws.count() == 1  # Bob's identify
    assert ws.profiles.find("email", EMAIL) is None
    assert ws.profiles.find("userId", "jane") is None
    assert ws.identity.profile_of("user_id:jane") is None
    with pytest.raises(ProfileNotFound):
        ws.profiles.get(pid)
    assert not consent.allowed(ws, pid, "analytics")
    # Bob is untouched.
    assert ws.profiles.find("userId", "bob") == other
    assert ws.profiles.get(other).identifiers

    # The audit: when, who, hashed ids, counts; no personal data, not even the profile id.
    [audit] = ws.privacy_store.erasures()
    assert audit["actor"] == "dpo" and audit["erasure_id"] == report.erasure_id
    assert sorted(audit["id_hashes"]) == sorted(ws.suppression.hash(k) for k in keys)
    assert audit["counts"]["events"] == 5
    assert pid not in orjson.dumps(audit, default=str).decode()
    stored = {r[0] for r in cur(ws).execute("SELECT id_hash FROM suppression").fetchall()}
    assert stored == set(audit["id_hashes"])

    # Again: nothing to erase, and the answer says when she was.
    with pytest.raises(ProfileNotFound):
        erasure.erase_by(ws, "email", EMAIL, "dpo")
    gone = erasure.suppressed(ws, "email", EMAIL)
    assert gone is not None and gone.erasure_id == report.erasure_id
    assert erasure.suppressed(ws, "email", "bob@example.com") is None


def test_later_events_with_her_identifiers_are_dropped_and_counted(ws: Workspace) -> None:
    pid = jane(ws)
    erasure.erase(ws, pid, "dpo")
    report = ws.ingest(
        [
            {"type": "track", "event": "Back", "anonymousId": "web-jane"},
            {"type": "identify", "anonymousId": "new", "traits": {"email": "jane.doe@EXAMPLE.com"}},
            {
                "type": "track",
                "event": "Call",
                "anonymousId": "c",
                "properties": {"caller_number": "0612345678"},
                "context": {"channel": "phone"},
            },
            {"type": "track", "event": "Fine", "anonymousId": "someone-else"},
        ],
        source="store",
    )
    assert (report.stored, report.suppressed, report.duplicates) == (1, 3, 0)
    report = ws.ingest([{"type": "track", "event": "Back", "userId": "jane"}], source="app")
    assert report.suppressed == 1
    [(_, source_a, n_a), (_, source_b, n_b)] = sorted(ws.suppression.counts(), key=lambda c: c[1])
    assert (source_a, n_a, source_b, n_b) == ("app", 1, "store", 3)
    assert ws.count() == 1
    # A new workspace object (a restart) loads the list and keeps dropping.
    assert len(ws.suppression) == 7


def test_suppression_survives_a_restart(tmp_path: Any) -> None:
    import empreinte

    with empreinte.open(tmp_path / "ws") as ws:
        erasure.erase(ws, jane(ws), "dpo")
    with empreinte.open(tmp_path / "ws") as ws:
        report = ws.ingest([{"type": "track", "event": "Back", "userId": "jane"}])
        assert (report.stored, report.suppressed) == (0, 1)


def test_shared_identifiers_stay_with_the_others_and_off_the_list(ws: Workspace) -> None:
    # Paul and Marie share the family tablet; merge protection keeps them apart, the tablet
    # staying in Paul's profile. Erasing Paul must not erase Marie nor silence the tablet.
    send(
        ws,
        {"type": "page", "anonymousId": "tablet", "name": "Home"},
        {"type": "identify", "userId": "paul", "anonymousId": "tablet"},
        {"type": "identify", "userId": "marie", "anonymousId": "tablet"},
        {"type": "track", "userId": "marie", "anonymousId": "tablet", "event": "Viewed"},
    )
    paul = ws.profiles.find("userId", "paul")
    marie = ws.profiles.find("userId", "marie")
    assert paul and marie and paul != marie
    assert ws.identity.profile_of("anonymous_id:tablet") == paul
    report = erasure.erase(ws, paul, "dpo")
    assert report.shared == 1 and report.suppressed == 1
    assert report.counts["events"] == 2  # the anonymous page view and Paul's identify
    assert {e["user_id"] for e in ws.events()} == {"marie"}
    marie_now = ws.profiles.find("userId", "marie")
    assert marie_now is not None
    assert len(ws.profiles.events(marie_now)) == 2
    assert ws.suppression.is_suppressed("user_id:paul")
    assert not ws.suppression.is_suppressed("anonymous_id:tablet")
    assert ws.ingest([{"type": "page", "anonymousId": "tablet"}]).stored == 1


def test_derived_rows_naming_the_person_go_too(ws: Workspace) -> None:
    pid = jane(ws)
    other = bob(ws)
    c = cur(ws)
    # A derived table of another module, following the naming convention.
    c.execute("CREATE TABLE scores (profile_id VARCHAR, score DOUBLE)")
    c.execute("INSERT INTO scores VALUES (?, 0.9), (?, 0.1)", [pid, other])
    c.execute("CREATE TABLE key_notes (id_key VARCHAR, note VARCHAR)")
    c.execute("INSERT INTO key_notes VALUES ('user_id:jane', 'x'), ('user_id:bob', 'y')")
    # Match reviews naming her profile, one of her records, or linking to her e-mail.
    rows = [
        ("mr_1", "crm.csv", "R1", pid, None, {"id_type": "crm_id"}),
        ("mr_2", "crm.csv", "R2", None, "R3", {"id_type": "card"}),
        ("mr_3", "crm.csv", "R4", "p_x", None, {"id_type": "crm_id", "link": {"email": EMAIL}}),
        ("mr_4", "crm.csv", "R5", other, None, {"id_type": "crm_id"}),
    ]
    for review_id, file, record, profile, other_record, detail in rows:
        c.execute(
            "INSERT INTO match_reviews VALUES "
            "(?, now(), ?, ?, ?, ?, 0.5, ?, 'pending', NULL, NULL)",
            [review_id, file, record, profile, other_record, orjson.dumps(detail).decode()],
        )
    # An accepted match's identify event names record R2 of type `card`.
    send(
        ws,
        {
            "type": "identify",
            "userId": "jane",
            "context": {"externalIds": [{"id": "R2", "type": "card", "matched": True}]},
        },
    )
    # Admin decisions: one on her own key (goes), one naming her profile on a key she shares
    # with nobody in the log any more (kept, anonymised), one on someone else (kept).
    c.execute(
        "INSERT INTO identity_overrides VALUES "
        "(now(), 'ops', 'unblock', 'user_id:jane', NULL, 'Jane asked'),"
        "(now(), 'ops', 'block', 'loyalty_card:shop-card', ?, 'her husband''s card'),"
        "(now(), 'ops', 'block', 'anonymous_id:undefined', NULL, 'garbage')",
        [pid],
    )
    report = erasure.erase(ws, pid, "dpo")
    assert report.counts["scores"] == 1 and report.counts["key_notes"] == 1
    assert report.counts["match_reviews"] == 3
    assert c.execute("SELECT profile_id FROM scores").fetchall() == [(other,)]
    assert c.execute("SELECT id_key FROM key_notes").fetchall() == [("user_id:bob",)]
    assert c.execute("SELECT review_id FROM match_reviews").fetchall() == [("mr_4",)]
    overrides = c.execute(
        "SELECT id_key, profile_id, reason FROM identity_overrides ORDER BY id_key"
    ).fetchall()
    assert overrides == [
        ("anonymous_id:undefined", None, "garbage"),
        ("loyalty_card:shop-card", None, None),
    ]


def test_an_unknown_person_changes_nothing(ws: Workspace) -> None:
    jane(ws)
    before = ws.count()
    for by, value in (
        ("email", "nobody@example.com"),
        ("phone", "+33 6 99 99 99 99"),
        ("userId", "nobody"),
        ("profileId", "p_0000000000000000"),
        ("profileId", "not-a-profile"),
    ):
        with pytest.raises(ProfileNotFound):
            erasure.erase_by(ws, by, value, "dpo")
    with pytest.raises(PrivacyError):
        erasure.erase_by(ws, "email", "not an e-mail", "dpo")
    with pytest.raises(PrivacyError):
        erasure.erase_by(ws, "name", "Jane", "dpo")
    assert ws.count() == before
    assert ws.privacy_store.erasures() == [] and len(ws.suppression) == 0


def test_a_failed_erasure_leaves_everything_as_it_was(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = jane(ws)
    before = ws.count()

    def fail(plan: Any) -> Any:
        raise StorageError("disk full")

    monkeypatch.setattr(ws.privacy_store, "erase", fail)
    with pytest.raises(StorageError):
        erasure.erase(ws, pid, "dpo")
    assert ws.count() == before and len(ws.suppression) == 0
    assert ws.ingest([{"type": "track", "event": "E", "userId": "jane"}]).stored == 1


def test_the_transaction_rolls_back_as_a_whole(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = jane(ws)
    before = ws.count()
    store = ws.privacy_store
    real = store.derived_tables
    # A derived table whose delete fails half-way through the transaction.
    monkeypatch.setattr(store, "derived_tables", lambda: {**real(), "missing_table": ["seq"]})
    with pytest.raises(StorageError):
        erasure.erase(ws, pid, "dpo")
    assert ws.count() == before
    assert ws.privacy_store.erasures() == []
    assert cur(ws).execute("SELECT count(*) FROM suppression").fetchone() == (0,)
    assert ws.profiles.find("email", EMAIL) == pid


def test_events_written_during_an_erasure_do_not_survive_it(ws: Workspace) -> None:
    pid = jane(ws)
    stop = threading.Event()
    written = []

    def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            report = ws.ingest([{"type": "track", "event": f"E{n}", "userId": "jane"}])
            written.append(report.stored)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 20:
            pass
        erasure.erase(ws, pid, "dpo")
    finally:
        stop.set()
        writer.join()
    assert ws.count(user_id="jane") == 0
    assert ws.profiles.find("userId", "jane") is None
