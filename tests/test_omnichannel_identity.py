"""One person on every channel lands in one profile; people sharing a tablet stay apart.

Real server, official Segment client: Jane browses the web anonymously, then identifies with
her e-mail; she buys in a shop with her loyalty card (the till sends her e-mail in another
case); she calls from her phone (the call centre logs the number in the national format).
Paul and Marie share a family tablet and log in on it in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from segment.analytics.client import Client

import empreinte

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def client(server: Any, keys: Any, errors: list[Any]) -> Client:
    return Client(
        keys.write_key, host=server.url, sync_mode=True, on_error=lambda e, b: errors.append(e)
    )


def get(http: httpx.Client, token: str, path: str, **params: Any) -> httpx.Response:
    return http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.slow
def test_one_person_on_three_channels_is_one_profile(
    workspace: Any, start_server: Callable[[Any], Any]
) -> None:
    server = start_server(workspace)
    errors: list[Any] = []
    segment = client(server, workspace, errors)
    web = {"channel": "web", "locale": "fr-FR", "userAgent": "Mozilla/5.0 (X11; Linux x86_64)"}

    # Web: anonymous browsing, then she identifies with her e-mail (and her mobile number).
    segment.page(anonymous_id="web-jane", name="Home", context=web, timestamp=at(0))
    segment.page(anonymous_id="web-jane", name="Raincoats", context=web, timestamp=at(0.1))
    segment.identify(
        anonymous_id="web-jane",
        traits={
            "email": "Jane.Doe@Example.com",
            "first_name": "Jane",
            "last_name": "Doe",
            "phone": "+33 6 12 34 56 78",
        },
        context=web,
        timestamp=at(0.2),
    )
    # Store: the till knows her loyalty card and her e-mail, typed in capitals.
    segment.track(
        anonymous_id="till-3-receipt-8812",
        event="Order Completed",
        properties={"order_id": "R-8812", "revenue": 89.9, "currency": "EUR"},
        context={
            "channel": "store",
            "externalIds": [{"id": "2900012345678", "type": "loyalty_card"}],
            "traits": {"email": "JANE.DOE@EXAMPLE.COM"},
        },
        timestamp=at(26),
    )
    # Phone: the call centre logs the caller's number in the national format.
    segment.track(
        anonymous_id="call-20250303-0042",
        event="Call Started",
        properties={"caller_number": "06 12 34 56 78", "queue": "after-sales"},
        context={"channel": "phone"},
        timestamp=at(50),
    )

    # The family tablet: one anonymous id and one device, two people logging in in turn.
    tablet = {"channel": "web", "device": {"id": "family-tablet"}}
    for hour, person in ((1, "paul"), (2, "marie"), (3, "paul"), (4, "marie")):
        segment.identify(
            user_id=f"user-{person}",
            anonymous_id="tablet-anon",
            traits={"email": f"{person}@family.example", "first_name": person.title()},
            context=tablet,
            timestamp=at(hour),
        )
        segment.track(
            user_id=f"user-{person}",
            anonymous_id="tablet-anon",
            event="Product Viewed",
            properties={"sku": f"{person}-{hour}"},
            context=tablet,
            timestamp=at(hour + 0.5),
        )
    assert not errors

    admin = workspace.admin_token
    with httpx.Client(base_url=server.url, timeout=30) as http:
        # Every lookup finds the same single profile.
        by_email = ok(get(http, admin, "/api/profiles", email="jane.doe@example.com"))
        jane = by_email["profileId"]
        assert by_email["matchedBy"] == "email"
        for params in (
            {"email": "  JANE.Doe@example.COM "},
            {"phone": "+33612345678"},
            {"phone": "06.12.34.56.78"},
            {"phone": "0033 6 12 34 56 78"},
            {"loyaltyCard": "2900012345678"},
            {"anonymousId": "web-jane"},
            {"anonymousId": "call-20250303-0042"},
        ):
            assert ok(get(http, admin, "/api/profiles", **params))["profileId"] == jane, params

        profile = ok(get(http, admin, f"/api/profiles/{jane}"))
        computed = profile["computed"]
        assert set(computed["channels"]) == {"web", "store", "phone"}
        assert computed["channels"] == {"web": 3, "phone": 1, "store": 1}
        assert computed["preferredChannel"] == "web"
        assert computed["orders"] == 1 and computed["revenue"] == {"EUR": 89.9}
        assert computed["lastPurchase"]["orderId"] == "R-8812"
        # (Within a second: the collector corrects the client's clock skew.)
        assert computed["firstSeen"].startswith("2025-03-01T09:00:0")
        assert computed["lastSeen"].startswith("2025-03-03T11:00:0")
        assert computed["country"] == "FR"
        assert computed["identifiers"] == {
            "anonymous_id": 3,
            "email": 1,
            "loyalty_card": 1,
            "phone": 1,
        }
        # Latest value wins: the till typed the e-mail last.
        assert profile["traits"]["email"] == "JANE.DOE@EXAMPLE.COM"
        assert [h["value"] for h in profile["traitHistory"]["email"]] == [
            "Jane.Doe@Example.com",
            "JANE.DOE@EXAMPLE.COM",
        ]
        assert profile["traits"]["first_name"] == "Jane"

        # The customer 360: all five events, every channel, in time order.
        timeline = ok(get(http, admin, f"/api/profiles/{jane}/timeline"))
        events = timeline["events"]
        assert [(e["channel"], e["type"], e.get("event") or e.get("name")) for e in events] == [
            ("web", "page", "Home"),
            ("web", "page", "Raincoats"),
            ("web", "identify", None),
            ("store", "track", "Order Completed"),
            ("phone", "track", "Call Started"),
        ]
        times = [e["timestamp"] for e in events]
        assert times == sorted(times)
        assert timeline["next"] is None and timeline["previous"] is None
        # Paged by two, forward then back, the same events.
        first = ok(get(http, admin, f"/api/profiles/{jane}/timeline", limit=2))
        second = ok(
            get(http, admin, f"/api/profiles/{jane}/timeline", limit=2, after=first["next"])
        )
        third = ok(
            get(http, admin, f"/api/profiles/{jane}/timeline", limit=2, after=second["next"])
        )
        paged = [e["messageId"] for p in (first, second, third) for e in p["events"]]
        assert paged == [e["messageId"] for e in events] and third["next"] is None
        back = ok(
            get(http, admin, f"/api/profiles/{jane}/timeline", limit=2, before=second["previous"])
        )
        assert [e["messageId"] for e in back["events"]] == paged[:2]

        # The tablet's two users stay two people, neither of them Jane.
        paul = ok(get(http, admin, "/api/profiles", userId="user-paul"))
        marie = ok(get(http, admin, "/api/profiles", userId="user-marie"))
        assert len({paul["profileId"], marie["profileId"], jane}) == 3
        assert (
            ok(get(http, admin, "/api/profiles", email="paul@family.example"))["profileId"]
            == paul["profileId"]
        )
        # Each timeline holds that person's own logins and views, not the other's.
        for person, doc in (("paul", paul), ("marie", marie)):
            page = ok(get(http, admin, f"/api/profiles/{doc['profileId']}/timeline"))
            skus = [e["properties"]["sku"] for e in page["events"] if e["type"] == "track"]
            assert skus and all(s.startswith(person) for s in skus), (person, skus)
            assert doc["traits"]["first_name"] == person.title()
        # The refused merge is on record.
        conflicts = ok(get(http, admin, "/api/identity/conflicts"))["conflicts"]
        assert any(c["rule"] == "user_id limit 1" for c in conflicts)


def test_a_second_tablet_user_keeps_her_own_email(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        tablet = {"channel": "web", "device": {"id": "family-tablet"}}
        for person in ("paul", "marie"):
            ws.identify(
                f"user-{person}",
                anonymous_id="tablet-anon",
                traits={"email": f"{person}@family.example"},
                context=tablet,
            )
        assert ws.profiles.find("email", "marie@family.example") == ws.profiles.find(
            "userId", "user-marie"
        )
