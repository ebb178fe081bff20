"""The offers' bulk consent snapshot (`allowed_profiles` at each refresh) against the consent
entries read beside it, in process: a withdrawal read while the refresh computes its snapshot
is honoured at once, and entries the snapshot already holds send no request back to the ledger
(a sync begun before the refresh and finished after it once marked everyone, and every request
of the server then asked the ledger: 20 ms instead of 1 ms)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import empreinte
from activate.offers.people import consent, offer, shoppers
from conftest import make_workspace
from empreinte.activate.offers.feedback import FeedbackIndex
from empreinte.privacy import consent as consent_module
from empreinte.workspace import Workspace

OFFERS = [
    offer("car-seat", products=["B2"]),
    offer("baby-week", categories=["baby"], brand="Nuna"),
    offer("toys", categories=["toys"]),
]
PEOPLE = ("ann", "bob", "cleo", "dan", "zoe")


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    keys = make_workspace(tmp_path / "ws")
    with empreinte.open(keys.path) as ws:
        report = ws.ingest(shoppers(), source="python")
        assert not report.rejected, report.rejected
        ws.flush()
        ws.offers.save_all(OFFERS)
        ws.offers.train()
        yield ws


def _id(ws: Workspace, user: str) -> str:
    found = ws.profiles.find("userId", user)
    assert found is not None
    return found


def test_a_withdrawal_read_while_the_refresh_takes_its_snapshot_is_honoured(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, ann, bob = ws.offers, _id(ws, "ann"), _id(ws, "bob")
    real = consent_module.allowed_profiles

    def snapshot_then_withdrawal(workspace: Workspace, purpose: str) -> frozenset[str]:
        found = real(workspace, purpose)
        assert ann in found  # the snapshot says Ann allows personalisation...
        # ... and she withdraws just after it was read; a request (for Bob) reads the
        # entry before the refresh is done.
        report = workspace.ingest([consent("ann", "personalisation", False)], source="python")
        assert not report.rejected
        workspace.flush()
        service.next(bob, n=1, seed=1, record=False)
        return found

    monkeypatch.setattr(consent_module, "allowed_profiles", snapshot_then_withdrawal)
    service.refresh()
    answer = service.next(ann, n=1, seed=1, record=False)
    assert answer.personalised is False
    assert answer.offers[0].to_json()["why"]["code"] == "best_seller"


def test_entries_the_snapshot_holds_send_no_request_to_the_ledger(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = ws.offers
    # What a sync begun before the refresh read (every shopper's consent entries)...
    early, read = FeedbackIndex(service.store, frozenset()).sync()
    assert len(early) >= len(PEOPLE) and read > 0
    service.refresh()
    # ... and it lands after the refresh.
    monkeypatch.setattr(service.feedback, "sync", lambda: (early, read))
    asked: list[str] = []
    real = consent_module.allowed

    def counted(workspace: Workspace, profile_id: str, purpose: Any) -> bool:
        asked.append(profile_id)
        return real(workspace, profile_id, purpose)

    monkeypatch.setattr(consent_module, "allowed", counted)
    personalised = {
        who: service.next(_id(ws, who), n=1, seed=1, record=False).personalised for who in PEOPLE
    }
    assert asked == []
    assert personalised == {"ann": True, "bob": True, "cleo": True, "dan": True, "zoe": False}
