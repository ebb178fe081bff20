"""The matching workflow on a real workspace: automatic accepts become identify events, the
doubtful pairs wait for an admin, decisions are remembered; and the `match` CLI."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli.match import match_app
from empreinte.errors import MatchFailed, MissingColumns, ReviewNotFound
from empreinte.matching import evaluation as ev
from empreinte.matching.jobs import (
    accept_review,
    list_reviews,
    reject_review,
    run_match_job,
)
from empreinte.matching.linkage import MatchSettings
from empreinte.store.match_store import MatchStore

# A wide review band, so that a small file has pairs in it.
SETTINGS = MatchSettings(high_threshold=0.99, low_threshold=0.3, u_max_pairs=3e5)


@pytest.fixture(scope="module")
def data() -> ev.NoisyCrm:
    return ev.noisy_crm(n_people=150, seed=5)


def _match_events(ws: empreinte.Workspace) -> list[dict[str, Any]]:
    return ws.events(limit=10_000, pii=True, source="match")


@pytest.mark.slow
def test_sure_pairs_become_identify_events_and_doubtful_ones_wait(
    tmp_path: Path, data: ev.NoisyCrm
) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        report = run_match_job(
            ws, data.crm, data.reference, source_file="crm.csv", settings=SETTINGS
        )
        assert report.records == data.crm.num_rows and report.reference == 150
        assert report.accepted > 50 and report.queued > 0 and report.skipped == 0
        assert report.accepted + report.queued == report.pairs

        events = _match_events(ws)
        assert len(events) == report.accepted == report.events_stored
        truth = dict(data.links)
        users = {r["profile_id"]: r["user_id"] for r in data.reference.to_pylist() if r["user_id"]}
        emails = {r["profile_id"]: r["email"] for r in data.reference.to_pylist()}
        for event in events:
            assert event["type"] == "identify" and event["source"] == "match"
            [external] = event["context"]["externalIds"]
            assert external["type"] == "crm_id"
            profile = event["context"]["match"]["profile_id"]
            assert truth[external["id"]] == profile  # every automatic accept is right here
            if profile in users:
                assert event["user_id"] == users[profile]
            else:
                assert event["anonymous_id"] == f"crm_id:{external['id']}"
                assert event["traits"]["email"] == emails[profile]
            assert event["message_id"] == f"match-{event['context']['match']['review_id']}"

        pending = list_reviews(ws)
        assert len(pending) == report.queued
        assert all(r.status == "pending" and 0.3 <= r.probability < 0.99 for r in pending)
        review = pending[0]
        assert review.source_file == "crm.csv" and review.profile_id is not None
        names = [c["name"] for c in review.detail["comparisons"]]
        assert names == ["name", "birth_date", "email", "phone", "city"]

        # An admin accepts one (an identify event is written) and rejects another.
        accepted = accept_review(ws, review.review_id, "alice")
        assert accepted.status == "accepted" and accepted.decided_by == "alice"
        assert len(_match_events(ws)) == report.accepted + 1
        event = ws.events(limit=1, message_id=f"match-{review.review_id}")[0]
        assert event["context"]["externalIds"] == [
            {"id": review.record_id, "type": "crm_id", "matched": True}
        ]
        assert event["context"]["match"]["decided_by"] == "alice"
        if len(pending) > 1:
            rejected = reject_review(ws, pending[1].review_id, "bob")
            assert rejected.status == "rejected" and rejected.decided_by == "bob"

        with pytest.raises(MatchFailed, match="already accepted"):
            accept_review(ws, review.review_id, "carol")
        with pytest.raises(ReviewNotFound):
            reject_review(ws, "mr_nope", "carol")

        # A second run proposes nothing decided before and writes no new event.
        again = run_match_job(
            ws, data.crm, data.reference, source_file="crm.csv", settings=SETTINGS
        )
        decided = report.accepted + 1 + (1 if len(pending) > 1 else 0)
        assert again.skipped == decided and again.accepted == 0
        assert again.queued == report.queued - (decided - report.accepted)
        assert len(_match_events(ws)) == report.accepted + 1
        store = MatchStore(ws.engine)
        assert store.count("rejected") == (1 if len(pending) > 1 else 0)
        assert store.count(None) == report.pairs


def test_missing_columns_refuse_the_job_before_any_write(tmp_path: Path, data: ev.NoisyCrm) -> None:
    crm = data.crm.drop_columns(["first_name"])
    with empreinte.open(tmp_path / "ws") as ws:
        with pytest.raises(MissingColumns, match="first_name"):
            run_match_job(ws, crm, data.reference, source_file="crm.csv")
        no_links = data.reference.drop_columns(["user_id", "email", "phone"])
        with pytest.raises(MissingColumns, match="user_id, email or phone"):
            run_match_job(ws, data.crm, no_links, source_file="crm.csv")
        assert ws.count() == 0
        assert MatchStore(ws.engine).count(None) == 0


def test_deduplicating_a_file_links_its_records(tmp_path: Path) -> None:
    data = ev.noisy_crm(n_people=150, seed=2, duplicate_share=0.15)
    with empreinte.open(tmp_path / "ws") as ws:
        report = run_match_job(ws, data.crm, None, source_file="store.csv", id_type="store_id")
        assert report.accepted >= len(data.duplicates) // 2
        events = _match_events(ws)
        assert events
        truth = {frozenset(p) for p in data.duplicates}
        for event in events:
            ids = [e["id"] for e in event["context"]["externalIds"]]
            assert {e["type"] for e in event["context"]["externalIds"]} == {"store_id"}
            assert frozenset(ids) in truth
            assert event["anonymous_id"] == f"store_id:{ids[0]}"


def _write_csv(path: Path, table: pa.Table) -> Path:
    rows = table.to_pylist()
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=table.column_names)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_cli_run_review_accept_reject(tmp_path: Path, data: ev.NoisyCrm) -> None:
    runner = CliRunner()
    workspace = tmp_path / "ws"
    empreinte.open(workspace).close()
    crm = _write_csv(tmp_path / "crm.csv", data.crm)
    known = _write_csv(tmp_path / "known.csv", data.reference)
    ws_opt = ["--workspace", str(workspace)]

    bad = _write_csv(tmp_path / "bad.csv", data.crm.drop_columns(["last_name", "record_id"]))
    result = runner.invoke(match_app, ["run", str(bad), "--reference", str(known), *ws_opt])
    assert result.exit_code == 1
    assert "no column(s) record_id, last_name" in result.stderr

    result = runner.invoke(
        match_app,
        ["run", str(crm), "--reference", str(known), "--high", "0.99", "--low", "0.3", *ws_opt],
    )
    assert result.exit_code == 0, result.output
    assert "accepted automatically" in result.stdout and "waiting for review" in result.stdout

    result = runner.invoke(match_app, ["reviews", *ws_opt])
    assert result.exit_code == 0, result.output
    review_ids = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("mr_")]
    assert len(review_ids) >= 2
    assert "agreement" in result.stdout

    result = runner.invoke(match_app, ["accept", review_ids[0], "--by", "alice", *ws_opt])
    assert result.exit_code == 0 and "accepted" in result.stdout
    result = runner.invoke(match_app, ["reject", review_ids[1], "--by", "bob", *ws_opt])
    assert result.exit_code == 0 and "rejected" in result.stdout
    result = runner.invoke(match_app, ["reject", review_ids[0], *ws_opt])
    assert result.exit_code == 1 and "already accepted" in result.stderr
    result = runner.invoke(match_app, ["reviews", "--status", "rejected", *ws_opt])
    assert review_ids[1] in result.stdout and review_ids[0] not in result.stdout
