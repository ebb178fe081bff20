"""Behaviour features per person (know/persona_features.py) on hand-built people whose
figures can be read off the messages below; consent decides who has a row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from journeys.channel_messages import Message, consent, page, track

import empreinte
from empreinte.analytics.journeys.touchpoints import JourneyScope
from empreinte.analytics.know.persona_features import (
    feature_frame,
    feature_names,
    top_categories,
)
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # 10:00 in Paris
DAY = timedelta(days=1)
PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148 Safari/604.1"
DESKTOP_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0 Safari/537.36"


def decision(user: str, purpose: str, granted: bool) -> Message:
    message = consent(user)
    message["properties"] = {"purpose": purpose, "granted": granted, "wording_version": "v1"}
    return message


def with_agent(message: Message, agent: str) -> Message:
    message["context"]["userAgent"] = agent
    return message


def order(user: str, at: datetime, channel: str, revenue: float, lines: int) -> Message:
    products = [{"product_id": f"P{i}", "category": "phones", "quantity": 1} for i in range(lines)]
    return track(
        user,
        "Order Completed",
        at,
        channel,
        order_id=f"O-{user}-{at:%j}",
        revenue=revenue,
        products=products,
    )


def people() -> list[Message]:
    m: list[Message] = []
    # ann allows analytics and profiling. Eight touchpoints of her own: 2 web (one on a
    # phone), 2 app, 2 store, 1 phone call, 1 e-mail click; the delivered and opened e-mails
    # and her NPS answers are not her own touchpoints.
    m += [consent("ann"), decision("ann", "profiling", True)]
    m += [with_agent(page("ann", "Home", T0), PHONE_UA)]  # 10:00 Paris: morning
    m += [
        with_agent(
            track("ann", "Product Viewed", T0 + 2 * DAY, "web", category="books", condition="new"),
            DESKTOP_UA,
        )
    ]
    m += [
        track(
            "ann", "Product Viewed", T0 + 3 * DAY, "app", category="phones", condition="refurbished"
        )
    ]
    m += [
        track(
            "ann",
            "Product Added",
            T0 + 3 * DAY + timedelta(minutes=10),
            "app",
            category="phones",
            condition="refurbished",
        )
    ]
    m += [order("ann", T0 + 5 * DAY + timedelta(hours=5), "store", 100.0, 3)]  # 15:00: afternoon
    m += [order("ann", T0 + 6 * DAY + timedelta(hours=10), "store", 50.0, 1)]  # 20:00: evening
    m += [track("ann", "Call Started", T0 + 7 * DAY + timedelta(hours=14), "phone")]  # 00:00
    m += [track("ann", "Email Delivered", T0 + 8 * DAY, "email")]
    m += [track("ann", "Email Delivered", T0 + 9 * DAY, "email")]
    m += [track("ann", "Email Opened", T0 + 9 * DAY + timedelta(hours=1), "email")]
    m += [track("ann", "Email Opened", T0 + 9 * DAY + timedelta(hours=2), "email")]
    m += [track("ann", "Email Opened", T0 + 9 * DAY + timedelta(hours=3), "email")]
    m += [track("ann", "Email Link Clicked", T0 + 9 * DAY + timedelta(hours=4), "email")]
    m += [track("ann", "NPS Answered", T0 + 4 * DAY, "email", score=3)]
    m += [track("ann", "NPS Answered", T0 + 10 * DAY, "email", score=9)]  # her latest
    # ben, 61 days later: a month and more of tenure for ann (the log's end is his visit).
    m += [consent("ben"), decision("ben", "profiling", True)]
    m += [page("ben", "Home", T0 + 61 * DAY), page("ben", "Home", T0 + 61 * DAY + 2 * DAY)]
    # cat refused profiling, dan never said, eve refused analytics: none has a row.
    m += [consent("cat"), decision("cat", "profiling", False)]
    m += [track("cat", "Product Viewed", T0, "web", category="phones")]
    m += [consent("dan"), track("dan", "Product Viewed", T0, "web", category="toys")]
    m += [decision("eve", "analytics", False), decision("eve", "profiling", True)]
    m += [track("eve", "Product Viewed", T0, "web", category="toys")]
    return m


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsLog]:
    path = Path(tmp_path_factory.mktemp("persona-features"))
    (path / "empreinte.toml").write_text('timezone = "Europe/Paris"\n')
    with empreinte.open(path) as ws:
        report = ws.ingest(people(), source="web")
        assert not report.rejected, report.rejected
        ws.flush()
        with ws.analytics() as opened:
            yield opened


def _by_user(log: AnalyticsLog) -> dict[str, dict[str, Any]]:
    frame = feature_frame(log, categories=["phones", "books", "toys"])
    ids = log.table("identities")
    users = log.execute(ids.filter(ids.id_type == "user_id").select("profile_id", "id_key"))
    pairs = zip(users.profile_id, users.id_key, strict=True)
    names = {p: k.removeprefix("user_id:") for p, k in pairs}
    return {names[row["profile_id"]]: row for row in frame.to_dict("records")}


def test_only_people_who_allow_analytics_and_profiling_have_features(log: AnalyticsLog) -> None:
    assert sorted(_by_user(log)) == ["ann", "ben"]


def test_ann_s_features_read_off_her_messages(log: AnalyticsLog) -> None:
    ann = _by_user(log)["ann"]
    assert ann["touchpoints"] == 8
    shares = {c: ann[f"share_{c}"] for c in ("web", "app", "store", "phone", "chat")}
    assert shares == {"web": 2 / 8, "app": 2 / 8, "store": 2 / 8, "phone": 1 / 8, "chat": 0}
    assert ann["share_messaging"] == 1 / 8  # her click
    assert ann["channels"] == 5  # web, app, store, phone, email
    # Tenure: 2 March 09:00 to ben's last visit, 3 May 09:00 (63 days).
    months = 63 / 30.44
    assert ann["orders_per_month"] == pytest.approx(2 / months)
    assert ann["contacts_per_month"] == pytest.approx(1 / months)
    # Sessions per channel: web 2 (two days apart), app 1, store 2, phone 1, email 1.
    assert ann["sessions_per_month"] == pytest.approx(7 / months)
    assert ann["mean_order_value"] == 75.0
    assert ann["items_per_order"] == 2.0
    assert (ann["cat_phones"], ann["cat_books"], ann["cat_toys"]) == (2 / 3, 1 / 3, 0.0)
    assert ann["second_hand_share"] == 2 / 3
    # Paris hours: 10, 10, 10, 10 (morning), 15, 14 (afternoon: an order, the click),
    # 20 (evening), 00 (night: the call).
    parts = (ann["night"], ann["morning"], ann["afternoon"], ann["evening"])
    assert parts == (1 / 8, 4 / 8, 2 / 8, 1 / 8)
    # Web and app: 4, of which the phone's browser and the app's 2 are mobile.
    assert ann["mobile_share"] == 3 / 4
    assert (ann["nps"], ann["nps_answered"]) == (9.0, 1.0)
    assert ann["email_open_rate"] == 1.0  # three opens of two e-mails: capped at 1
    assert ann["email_click_rate"] == 1 / 2


def test_someone_without_orders_nps_or_mail_has_zeros_and_no_nps(log: AnalyticsLog) -> None:
    ben = _by_user(log)["ben"]
    assert ben["orders_per_month"] == 0 and ben["mean_order_value"] == 0
    assert ben["items_per_order"] == 0 and ben["mobile_share"] == 0
    assert ben["nps_answered"] == 0 and ben["nps"] != ben["nps"]  # NaN: never answered
    assert ben["sessions_per_month"] == 2.0  # his tenure is the minimum month
    assert ben["email_open_rate"] == 0 and ben["second_hand_share"] == 0


def test_columns_follow_feature_names(log: AnalyticsLog) -> None:
    frame = feature_frame(log, categories=["phones"])
    assert tuple(frame.columns) == ("profile_id", *feature_names(["phones"]))


def test_top_categories_count_only_people_allowed(log: AnalyticsLog) -> None:
    # ann: phones twice, books once; cat's phones and dan's and eve's toys are not read.
    assert top_categories(log, JourneyScope(), 5) == ["phones", "books"]
    assert top_categories(log, JourneyScope(), 1) == ["phones"]
    with pytest.raises(AnalyticsError, match="top categories"):
        top_categories(log, JourneyScope(), -1)
