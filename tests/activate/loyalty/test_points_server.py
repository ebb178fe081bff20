"""Points through the real server: events sent as clients send them (httpx to /v1/batch with a
write key: the public web key, or the store's POS key, a source `[loyalty]` trusts), the
programme run over HTTP, balances and ledgers read back. Every figure is checked by hand from
the rules of docs/loyalty.md (20 points a store check-in, 5 an app open, a daily cap of 30,
1 point per euro, Electronics × 2, points lapse after 365 days)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import empreinte
from servers import Keys, ServerProcess, make_workspace

CONFIG = """
[consent]
defaults = { analytics = true, personalisation = true }

[loyalty]
trusted_sources = ["pos"]
points_per_currency = { EUR = 1 }
category_multipliers = { Electronics = 2 }
visit_points = { "Store Visited" = 20, "Application Opened" = 5 }
daily_engagement_cap = 30
expiry = "365d"
run_every = "1s"
"""


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def track(user: str, event: str, properties: dict[str, Any] | None = None, **extra: Any) -> dict:
    message = {
        "type": "track",
        "event": event,
        "userId": user,
        "messageId": str(uuid.uuid4()),
        "properties": properties or {},
    }
    return message | extra


def order(user: str, lines: list[tuple[str, float, int]], **extra: Any) -> dict:
    products = [
        {"product_id": f"p{i}", "brand": "Acme", "category": c, "price": p, "quantity": q}
        for i, (c, p, q) in enumerate(lines)
    ]
    props = {"order_id": str(uuid.uuid4())[:8], "currency": "EUR", "products": products}
    return track(user, "Order Completed", props, **extra)


class Shop:
    def __init__(self, server: ServerProcess, keys: Keys, pos_key: str):
        self.url = server.url
        self.keys = keys
        self.pos_key = pos_key
        self.http = httpx.Client(base_url=server.url, timeout=60)

    def send(self, messages: list[dict[str, Any]], key: str | None = None) -> None:
        auth = (key or self.keys.write_key, "")
        answer = self.http.post("/v1/batch", json={"batch": messages}, auth=auth)
        assert answer.status_code == 200, answer.text

    def admin(self, method: str, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.keys.admin_token}"}
        return self.http.request(method, path, headers=headers, **kw)

    def profile(self, user: str) -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = self.admin("GET", "/api/profiles", params={"userId": user})
            if found.status_code == 200:
                return str(found.json()["profileId"])
            time.sleep(0.1)
        raise AssertionError(f"no profile for {user}")

    def run(self) -> dict[str, Any]:
        answer = self.admin("POST", "/api/loyalty/run", json={})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def balance(self, pid: str) -> int:
        answer = self.admin("GET", f"/api/loyalty/members/{pid}")
        assert answer.status_code == 200, answer.text
        return int(answer.json()["points"])

    def ledger(self, pid: str) -> list[dict[str, Any]]:
        answer = self.admin("GET", f"/api/loyalty/members/{pid}/ledger")
        assert answer.status_code == 200, answer.text
        return list(answer.json()["rows"])


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    root = tmp_path_factory.mktemp("loyalty-points")
    keys = make_workspace(root / "ws")
    (keys.path / "empreinte.toml").write_text(CONFIG)
    with empreinte.open(keys.path) as ws:
        pos_key = ws.credentials.create_write_key("pos")
    server = ServerProcess(keys.path, root).start()
    shop = Shop(server, keys, pos_key)
    now = datetime.now(UTC)
    # Everyone's events first, then one run: the checks below read its results.
    shop.send([track("visitor", "Store Visited", {"store_id": "S1"})])
    shop.send(
        [track("capped", "Store Visited") for _ in range(3)]
        + [track("capped", "Application Opened") for _ in range(2)]
        # Forged dates from the public key: the server's day of arrival counts.
        + [
            track("capped", "Store Visited", timestamp=_iso(now - timedelta(days=d)))
            for d in (3, 40, 200)
        ]
    )
    shop.send([order("forger", [("Electronics", 1000.0, 3)])])  # the public key
    shop.send([order("buyer", [("Electronics", 19.99, 2), ("Books", 10.5, 1)])], pos_key)
    shop.send(
        [
            track("refuser", "Consent Updated", {"purpose": "analytics", "granted": False}),
            track("refuser", "Store Visited"),
        ]
    )
    old = _iso(now - timedelta(days=400))
    shop.send(
        [
            order("lapsing", [("Books", 50.0, 1)], timestamp=old),
            order("lapsing", [("Books", 30.0, 1)]),
        ],
        pos_key,
    )
    shop.send([order("spender", [("Books", 100.0, 1)])], pos_key)
    for user in ("visitor", "capped", "forger", "buyer", "refuser", "lapsing", "spender"):
        shop.profile(user)
    shop.run()
    yield shop
    shop.http.close()
    server.stop()


def test_the_server_runs_the_programme_by_itself(shop: Shop) -> None:
    shop.send([track("walker", "Application Opened")])
    pid = shop.profile("walker")
    deadline = time.monotonic() + 30
    while shop.balance(pid) != 5:  # no POST /run: the background loop (run_every = 1s)
        assert time.monotonic() < deadline, "the background run never credited the visit"
        time.sleep(0.2)


def test_a_visit_without_a_purchase_earns_points(shop: Shop) -> None:
    pid = shop.profile("visitor")
    assert shop.balance(pid) == 20
    [row] = shop.ledger(pid)
    assert (row["kind"], row["points"], row["reason"]) == ("earn", 20, "visit: Store Visited")


def test_visits_are_capped_per_day_whatever_date_they_claim(shop: Shop) -> None:
    # 6 check-ins and 2 app opens would be 130 points uncapped; the forged past dates arrived
    # today, so they share today's cap of 30.
    assert shop.balance(shop.profile("capped")) == 30


def test_a_forged_purchase_from_the_public_key_earns_nothing(shop: Shop) -> None:
    pid = shop.profile("forger")
    assert shop.balance(pid) == 0
    assert shop.ledger(pid) == []


def test_a_trusted_purchase_earns_per_euro_and_category(shop: Shop) -> None:
    # 19.99 × 2 × 2 (Electronics) = 79.96 → 79; 10.5 × 1 → 10.
    assert shop.balance(shop.profile("buyer")) == 89


def test_who_refused_the_purpose_earns_nothing(shop: Shop) -> None:
    pid = shop.profile("refuser")
    answer = shop.admin("GET", f"/api/loyalty/members/{pid}").json()
    assert answer["points"] == 0 and answer["member"] is False


def test_points_lapse_after_the_expiry_period(shop: Shop) -> None:
    pid = shop.profile("lapsing")
    assert shop.balance(pid) == 30  # the 50 earned 400 days ago lapsed
    kinds = sorted((r["kind"], r["points"]) for r in shop.ledger(pid))
    assert kinds == [("earn", 30), ("earn", 50), ("expire", -50)]


def test_running_again_credits_nothing_twice(shop: Shop) -> None:
    before = {u: shop.balance(shop.profile(u)) for u in ("visitor", "capped", "buyer")}
    again = shop.run()
    assert again["points_earned"] == 0
    assert {u: shop.balance(shop.profile(u)) for u in before} == before


def test_redemption_never_goes_below_zero_and_is_idempotent(shop: Shop) -> None:
    pid = shop.profile("spender")
    path = f"/api/loyalty/members/{pid}/redeem"
    refused = shop.admin("POST", path, json={"points": 101, "reference": "till-1"})
    assert refused.status_code == 409 and "points" in refused.json()["message"]
    assert shop.balance(pid) == 100
    done = shop.admin("POST", path, json={"points": 60, "reference": "till-2"})
    assert done.status_code == 200 and done.json()["balance"] == 40
    again = shop.admin("POST", path, json={"points": 60, "reference": "till-2"})
    assert again.json() | {} == {**done.json(), "duplicate": True}
    assert shop.balance(pid) == 40
    assert shop.admin("POST", path, json={"points": 41, "reference": "t3"}).status_code == 409


def test_bad_input_is_a_4xx_naming_the_field(shop: Shop) -> None:
    pid = shop.profile("spender")
    path = f"/api/loyalty/members/{pid}/redeem"
    for body, field in (
        ({"points": "ten", "reference": "x"}, "points"),
        ({"points": 0, "reference": "x"}, "points"),
        ({"points": 5}, "reference"),
        ({"points": 5, "reference": "x", "tip": 1}, "tip"),
    ):
        answer = shop.admin("POST", path, json=body)
        assert answer.status_code == 400, body
        assert answer.json()["field"] == field
    campaign = {
        "name": "bad",
        "starts": "2030-01-01",
        "ends": "2030-02-01",
        "brands": {"Acme": 10},
        "challenges": [{"id": "c", "brand": "Acme", "count": 0, "reward": 1}],
    }
    answer = shop.admin("POST", "/api/loyalty/campaigns", json=campaign)
    assert answer.status_code == 400 and answer.json()["field"] == "challenges[0].count"
    campaign["challenges"][0]["count"] = 1
    campaign["eligibility"] = "contry = 'FR'"
    answer = shop.admin("POST", "/api/loyalty/campaigns", json=campaign)
    assert answer.status_code == 400 and answer.json()["field"] == "eligibility"
    assert "country" in answer.json()["message"]  # the language's own hint
    missing = shop.admin("GET", "/api/loyalty/members/p_0123456789abcdef")
    assert missing.status_code == 404


def test_viewers_may_not_read_anyones_points(shop: Shop) -> None:
    pid = shop.profile("buyer")
    viewer = shop.keys.viewer_token
    for path in (f"/api/loyalty/members/{pid}", f"/api/loyalty/members/{pid}/ledger"):
        assert shop.admin("GET", path, token=viewer).status_code == 403
    analyst = shop.admin("GET", f"/api/loyalty/members/{pid}", token=shop.keys.analyst_token)
    assert analyst.status_code == 200
    post = shop.admin(
        "POST",
        f"/api/loyalty/members/{pid}/redeem",
        token=shop.keys.analyst_token,
        json={"points": 1, "reference": "a"},
    )
    assert post.status_code == 403


def test_the_ledger_sums_to_zero_and_an_erased_member_vanishes(shop: Shop) -> None:
    pid = shop.profile("buyer")
    assert shop.admin("DELETE", f"/api/profiles/{pid}").status_code == 200
    shop.run()
    assert shop.admin("GET", f"/api/loyalty/members/{pid}").status_code == 404
    overview = shop.admin("GET", "/api/loyalty").json()
    assert overview["ledger_sum"] == 0
    # The erased person's 89 points are kept anonymously (the programme's liability holds).
    issued = overview["points_issued"]
    assert (
        overview["points_outstanding"]
        == issued - overview["points_redeemed"] - overview["points_expired"]
    )
