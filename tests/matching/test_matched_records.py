"""Matched records in the identity graph: the records record matching joins are
`matched_record` identifiers with their own limit, so a person with six records in a file ends
in one profile, while live external ids keep their limit of five and no match can join two
userIds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import empreinte
from empreinte.matching.jobs import MATCH_SOURCE, identify_message
from empreinte.store.match_store import MatchReview, ReviewStatus

ID_TYPE = "crm_id"


def _review(record: str, *, other: str | None = None, user: str | None = None) -> MatchReview:
    detail: dict[str, Any] = {"id_type": ID_TYPE}
    if user is not None:
        detail["link"] = {"userId": user}
    return MatchReview(
        review_id=f"mr_{record}_{other or user}",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        source_file="crm.csv",
        record_id=record,
        profile_id=f"p-{user}" if user is not None else None,
        other_record_id=other,
        probability=0.99,
        detail=detail,
        status=ReviewStatus.ACCEPTED,
    )


def _key(record: str) -> str:
    return f"matched_record:{ID_TYPE}={record}"


def _profile_of(ws: empreinte.Workspace, record: str) -> str | None:
    """The profile of a record, whichever kind of identifier holds it (before matched
    records had their own kind, they were external ids)."""
    for key in (_key(record), f"external:{ID_TYPE}={record}"):
        if (profile := ws.identity.profile_of(key)) is not None:
            return profile
    return None


def _store(ws: empreinte.Workspace, messages: list[dict[str, Any]], source: str) -> None:
    report = ws.ingest(messages, source=source)
    assert report.stored == len(messages) and not report.rejected
    ws.identity.sync()


def test_six_matched_records_of_one_person_make_one_profile(tmp_path: Path) -> None:
    records = [f"rec-{i}" for i in range(6)]
    # The accepted pairs of a cluster of six, as a deduplication writes them: a chain and a
    # star, so that every record is joined by one pair or more.
    pairs = [(records[0], r) for r in records[1:4]] + [
        (records[3], records[4]),
        (records[4], records[5]),
    ]
    with empreinte.open(tmp_path / "ws") as ws:
        _store(ws, [identify_message(_review(a, other=b), "auto") for a, b in pairs], MATCH_SOURCE)
        profiles = {_profile_of(ws, r) for r in records}
        assert len(profiles) == 1 and None not in profiles
        [profile] = profiles
        assert profile is not None
        assert ws.identity.conflicts(profile) == []
        kinds = [i.id_type for i in ws.identity.identifiers(profile)]
        assert kinds.count("matched_record") == 6 and "external" not in kinds


def test_live_external_ids_keep_their_limit(tmp_path: Path) -> None:
    # The same six record ids sent live (no `matched` flag) on one event: the sixth is
    # refused, as before. (Sent on six events of one tablet, they would not even meet: a
    # shared anonymous id never joins holders of a person-level kind such as external ids.)
    message = {
        "type": "identify",
        "anonymousId": "tablet",
        "context": {"externalIds": [{"id": f"rec-{i}", "type": ID_TYPE} for i in range(6)]},
    }
    with empreinte.open(tmp_path / "ws") as ws:
        _store(ws, [message], "web")
        profile = ws.identity.profile_of("anonymous_id:tablet")
        assert profile is not None
        held = [ws.identity.profile_of(f"external:{ID_TYPE}=rec-{i}") for i in range(6)]
        assert held.count(profile) == 5 and len(set(held)) == 2 and None not in held
        assert [c.rule for c in ws.identity.conflicts(profile)] == ["external limit 5"]


def test_a_match_cannot_join_two_user_ids(tmp_path: Path) -> None:
    # Records linked to two known people, then a (wrong) duplicate pair between them: the
    # matched-record limit does not lift the others, so the two people stay apart.
    with empreinte.open(tmp_path / "ws") as ws:
        links = [identify_message(_review("rec-a", user="u1"), "auto")]
        links.append(identify_message(_review("rec-b", user="u2"), "auto"))
        _store(ws, links, MATCH_SOURCE)
        _store(ws, [identify_message(_review("rec-a", other="rec-b"), "alice")], MATCH_SOURCE)
        first, second = ws.identity.profile_of("user_id:u1"), ws.identity.profile_of("user_id:u2")
        assert first is not None and second is not None and first != second
        assert _profile_of(ws, "rec-a") == first and _profile_of(ws, "rec-b") == second
        rules = {c.rule for p in (first, second) for c in ws.identity.conflicts(p)}
        assert rules == {"user_id limit 1"}
