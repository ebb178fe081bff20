"""Brand-funded challenges through the real server: offers, the holdout, acceptance, progress
from trusted purchases, and payments that never overspend a budget even when completions
arrive at once (eight threads, one HTTP request each, against pots that fit five rewards)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_points_server import CONFIG, Shop, track

import empreinte
from servers import ServerProcess, make_workspace

TODAY = datetime.now(UTC).date()
CONCURRENT = [f"racer-{i}" for i in range(8)]
HELD = [f"held-{i}" for i in range(12)]


def campaign(name: str, holdout: float, brand: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "starts": (TODAY - timedelta(days=1)).isoformat(),
        "ends": (TODAY + timedelta(days=30)).isoformat(),
        "holdout": holdout,
        "offers_per_person": 1,
        "seed": 3,
        **extra,
        "challenges": [
            {"id": f"{brand}-2", "brand": brand, "count": 2, "within": "30d", "reward": 4,
             "brand_share": 0.5}
        ],
    }  # fmt: skip


def lines(brand: str, units: int) -> dict[str, Any]:
    return {
        "products": [{"product_id": "x", "brand": brand, "category": "Toys", "price": 5.0,
                      "quantity": units}],
        "currency": "EUR",
    }  # fmt: skip


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    root = tmp_path_factory.mktemp("loyalty-challenges")
    keys = make_workspace(root / "ws")
    (keys.path / "empreinte.toml").write_text(CONFIG)
    with empreinte.open(keys.path) as ws:
        pos_key = ws.credentials.create_write_key("pos")
    server = ServerProcess(keys.path, root).start()
    shop = Shop(server, keys, pos_key)
    shop.send([track(u, "Application Opened") for u in [*CONCURRENT, "cheat", *HELD]])
    for user in [*CONCURRENT, "cheat", *HELD]:
        shop.profile(user)
    yield shop
    shop.http.close()
    server.stop()


def _bought(shop: Shop, pid: str) -> float:
    answer = shop.admin("GET", f"/api/loyalty/members/{pid}/challenges").json()
    [offer] = [c for c in answer["challenges"] if c["accepted"]]
    return float(offer["progress"]["bought"])


def test_concurrent_completions_never_overspend_the_budget(shop: Shop) -> None:
    # Each reward (4 €) takes 2 € from the retailer's pot and 2 € from Acme's: 10 € each fit
    # exactly five rewards, and eight people complete at once.
    doc = campaign("race", 0.0, "Acme", budget=10, brands={"Acme": 10})
    doc["eligibility"] = 'did("Application Opened")'
    assert shop.admin("POST", "/api/loyalty/campaigns", json=doc).status_code == 201
    offered = shop.admin("POST", "/api/loyalty/campaigns/race/offer", json={}).json()
    assert offered["holdout"] == 0 and offered["offered"] == offered["people"] >= 9
    pids = {u: shop.profile(u) for u in [*CONCURRENT, "cheat"]}
    for pid in pids.values():
        accepted = shop.admin(
            "POST",
            f"/api/loyalty/members/{pid}/challenges",
            json={"campaign": "race", "challenge": "Acme-2"},
        )
        assert accepted.status_code == 201, accepted.text
    again = shop.admin(
        "POST",
        f"/api/loyalty/members/{pids['cheat']}/challenges",
        json={"campaign": "race", "challenge": "Acme-2"},
    )
    assert again.status_code == 409  # one challenge per person and campaign
    time.sleep(0.01)  # the purchases come after the acceptances
    shop.send([track(u, "Order Completed", lines("Acme", 2)) for u in CONCURRENT], shop.pos_key)
    shop.send([track("cheat", "Order Completed", lines("Acme", 5))])  # the public key
    deadline = time.monotonic() + 30
    while any(_bought(shop, pids[u]) < 2 for u in CONCURRENT):
        assert time.monotonic() < deadline, "the purchases never showed as progress"
        time.sleep(0.2)
    assert _bought(shop, pids["cheat"]) == 0  # forged purchases make no progress

    def complete(user: str) -> tuple[str, int, str]:
        answer = shop.admin(
            "POST", "/api/loyalty/campaigns/race/complete", json={"profile": pids[user]}
        )
        return user, answer.status_code, answer.text

    with ThreadPoolExecutor(len(CONCURRENT)) as pool:
        results = list(pool.map(complete, CONCURRENT))
    paid = {u for u, status, _ in results if status == 200}
    refused = {u for u, status, text in results if status == 409 and "budget" in text}
    assert len(paid) == 5 and refused == set(CONCURRENT) - paid, results
    for user in CONCURRENT:
        rewards = [r for r in shop.ledger(pids[user]) if r["kind"] == "reward"]
        assert [r["points"] for r in rewards] == ([400] if user in paid else [])
    report = shop.admin("GET", "/api/loyalty/campaigns/race/report").json()
    assert report["budget_used"] == 20.0 and report["budget_left"] == 0.0
    assert all(pot["left"] >= 0 for pot in report["budget"])
    [row] = report["challenges"]
    assert (row["accepted"], row["completed"], row["unfunded"]) == (9, 5, 3)
    cheat = shop.admin(
        "POST", "/api/loyalty/campaigns/race/complete", json={"profile": pids["cheat"]}
    )
    assert cheat.status_code == 409 and "not complete" in cheat.json()["message"]
    brand = shop.admin("GET", "/api/loyalty/campaigns/race/report", params={"brand": "Acme"})
    assert [p["funder"] for p in brand.json()["budget"]] == ["brand:Acme"]
    assert shop.admin("GET", "/api/loyalty").json()["ledger_sum"] == 0


def test_the_holdout_is_never_offered_anything(shop: Shop) -> None:
    doc = campaign("held", 0.5, "Bolt", budget=100, brands={"Bolt": 100})
    doc["eligibility"] = 'did("Application Opened")'
    assert shop.admin("POST", "/api/loyalty/campaigns", json=doc).status_code == 201
    offered = shop.admin("POST", "/api/loyalty/campaigns/held/offer", json={}).json()
    assert offered["holdout"] > 0 and offered["offered"] > 0
    empty = []
    for user in [*HELD, *CONCURRENT, "cheat"]:
        pid = shop.profile(user)
        answer = shop.admin("GET", f"/api/loyalty/members/{pid}/challenges").json()
        if not [c for c in answer["challenges"] if c["campaign"] == "held"]:
            empty.append(pid)
    assert len(empty) == offered["holdout"]
    for pid in empty:
        refused = shop.admin(
            "POST",
            f"/api/loyalty/members/{pid}/challenges",
            json={"campaign": "held", "challenge": "Bolt-2"},
        )
        assert refused.status_code == 404
    # Offering again assigns nobody twice: the holdout stays out.
    assert shop.admin("POST", "/api/loyalty/campaigns/held/offer", json={}).json()["people"] == 0
    report = shop.admin("GET", "/api/loyalty/campaigns/held/report").json()
    assert report["holdout_people"] == offered["holdout"]
    sales = report["incremental_sales"]["Bolt"]
    assert sales["holdout_people"] == offered["holdout"]
