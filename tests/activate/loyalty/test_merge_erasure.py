"""Points follow the person through a merge (lot by lot, so expiry keeps its dates), and an
erased member's rows are anonymised whole: the ledger still sums to zero, a campaign's spent
budget stays spent. Through the Python API (source `python`, trusted)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import empreinte
from empreinte.errors import NotFound

CONFIG = "[consent]\ndefaults = { analytics = true, personalisation = true }\n"


def test_points_follow_a_merge_with_their_dates(tmp_path: Path) -> None:
    (tmp_path / "empreinte.toml").write_text(CONFIG)
    with empreinte.open(tmp_path) as ws:
        old = datetime.now(UTC) - timedelta(days=300)
        # A visit on a kiosk before the person logs in, then 40 € bought as themself.
        ws.track("Store Visited", anonymous_id="kiosk-7", timestamp=old.isoformat())
        ws.track(
            "Order Completed",
            user_id="ana",
            properties={"currency": "EUR", "products": [{"price": 40, "brand": "B"}]},
        )
        ws.flush()
        ws.loyalty.run()
        anon = ws.profiles.find("anonymousId", "kiosk-7")
        ana = ws.profiles.find("userId", "ana")
        assert anon and ana and anon != ana
        assert ws.loyalty.balance(anon).points == 20
        assert ws.loyalty.balance(ana).points == 40
        ws.identify("ana", anonymous_id="kiosk-7")  # the same person: the profiles merge
        ws.flush()
        done = ws.loyalty.run()
        survivor = ws.profiles.current(ana)
        assert ws.profiles.current(anon) == survivor
        assert done.merged == 1
        assert ws.loyalty.balance(survivor).points == 60
        # The visit's points keep the date they were earned: they lapse first, 65 days on.
        later = datetime.now(UTC) + timedelta(days=70)
        assert ws.loyalty.expire(later) == 20
        assert ws.loyalty.balance(survivor, now=later).points == 40
        assert ws.loyalty.check_ledger() == {}


def test_an_erased_members_rows_are_anonymised_whole(tmp_path: Path) -> None:
    (tmp_path / "empreinte.toml").write_text(CONFIG)
    from empreinte.privacy.erasure import erase

    with empreinte.open(tmp_path) as ws:
        for user in ("bo", "cy"):
            ws.track("Store Visited", user_id=user)
        ws.flush()
        ws.loyalty.run()
        bo = ws.profiles.find("userId", "bo")
        assert bo and ws.loyalty.balance(bo).points == 20
        erase(ws, bo, "test")
        done = ws.loyalty.run()
        assert done.erased == 1
        with pytest.raises(NotFound):
            ws.loyalty.balance(bo)
        assert bo not in ws.loyalty.store.member_ids()
        assert ws.loyalty.store.balances(["member:erased"]) == {"member:erased": 20}
        assert ws.loyalty.check_ledger() == {}
