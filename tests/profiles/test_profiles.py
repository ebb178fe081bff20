"""Profiles through the Python API and the CLI: redirects after a merge, timelines, lookups,
source priority, personal values, the match reference, and the `profile`/`identity`
commands."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from empreinte.errors import ProfileNotFound
from empreinte.matching import evaluation as ev
from empreinte.profiles import InvalidInput
from empreinte.profiles.reference import reference_table
from empreinte.workspace import Workspace

T0 = datetime(2025, 2, 1, 8, 0, tzinfo=UTC)
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
runner = CliRunner()


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with empreinte.open(tmp_path / "ws") as workspace:
        yield workspace


def ada(ws: Workspace) -> str:
    """Ada: web pages, an identify with personal data, a store order, a bot hit. Her id."""
    web = {"channel": "web", "locale": "fr-FR"}
    ws.page("Home", anonymous_id="ada-web", context=web, timestamp=at(0))
    ws.identify(
        "ada",
        anonymous_id="ada-web",
        traits={
            "email": "Ada@Example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "phone": "06 11 22 33 44",
            "birthday": "1985-12-10",
            "address": {"city": "Lyon", "postal_code": "69001", "country": "FR"},
        },
        context=web,
        timestamp=at(1),
    )
    ws.track(
        "Order Completed",
        user_id="ada",
        properties={"order_id": "O-1", "revenue": 42.5, "currency": "EUR"},
        context={"channel": "store"},
        timestamp=at(2),
    )
    ws.page("Home", anonymous_id="ada-web", context={**web, "userAgent": BOT}, timestamp=at(3))
    found = ws.profiles.find("userId", "ada")
    assert found is not None
    return found


# -- reading ----------------------------------------------------------------------------------


def test_a_merged_away_id_redirects_to_the_survivor(ws: Workspace) -> None:
    ws.identify(anonymous_id="a1", traits={"email": "grace@example.com"}, timestamp=at(0))
    ws.track("Viewed", user_id="grace", timestamp=at(1))
    older = ws.profiles.find("email", "grace@example.com")
    newer = ws.profiles.find("userId", "grace")
    assert older and newer and older != newer
    ws.identify("grace", traits={"email": "GRACE@example.com"}, timestamp=at(2))

    profile = ws.profiles.get(newer)
    assert profile.profile_id == older and profile.redirected_from == newer
    assert ws.profiles.get(older).redirected_from is None
    page = ws.profiles.timeline(newer)
    assert page.profile_id == older and page.redirected_from == newer
    assert len(page.events) == 3
    with pytest.raises(ProfileNotFound):
        ws.profiles.get("p_0000000000000000")
    with pytest.raises(ProfileNotFound):
        ws.profiles.get("not-a-profile")


def test_admins_see_raw_values_and_analysts_pseudonyms_but_the_same_birth_year(
    ws: Workspace,
) -> None:
    pid = ada(ws)
    raw = ws.profiles.get(pid, pii=True, today=datetime(2025, 12, 9).date())
    shown = raw.traits.nested(pii=True)
    assert shown["email"] == "Ada@Example.com" and shown["address"]["postal_code"] == "69001"
    assert (raw.computed.birth_year, raw.computed.age) == (1985, 39)
    pseudo = ws.profiles.get(pid, pii=False)
    text = orjson.dumps(pseudo.traits.nested(pii=False)).decode()
    for secret in ("Ada@Example.com", "ada@example.com", "Lovelace", "1985-12-10", "69001"):
        assert secret not in text
    assert pseudo.computed.birth_year == 1985
    assert pseudo.traits.nested(pii=False)["address"]["city"] == "Lyon"


def test_bots_are_left_out_unless_asked_for(ws: Workspace) -> None:
    pid = ada(ws)
    profile = ws.profiles.get(pid)
    assert profile.computed.events == 3 and profile.computed.bot_events == 1
    assert profile.computed.channels == {"web": 2, "store": 1}
    assert len(ws.profiles.timeline(pid).events) == 3
    with_bots = ws.profiles.timeline(pid, include_bots=True).events
    assert len(with_bots) == 4 and with_bots[-1]["is_bot"]


def test_timeline_pages_by_cursor_or_date_time(ws: Workspace) -> None:
    for hour in range(7):
        ws.track("Step", user_id="bob", properties={"n": hour}, timestamp=at(hour))
    pid = ws.profiles.find("userId", "bob")
    assert pid is not None
    first = ws.profiles.timeline(pid, limit=3)
    assert [e["properties"]["n"] for e in first.events] == [0, 1, 2]
    assert first.previous is None and first.next is not None
    second = ws.profiles.timeline(pid, limit=3, after=first.next)
    assert [e["properties"]["n"] for e in second.events] == [3, 4, 5]
    assert second.previous is not None
    back = ws.profiles.timeline(pid, limit=3, before=second.previous)
    assert [e["properties"]["n"] for e in back.events] == [0, 1, 2]
    since = ws.profiles.timeline(pid, after=at(4))
    assert [e["properties"]["n"] for e in since.events] == [5, 6]
    until = ws.profiles.timeline(pid, before=at(2), limit=10)
    assert [e["properties"]["n"] for e in until.events] == [0, 1]
    for bad in ({"after": "yesterday"}, {"limit": 0}, {"after": "1:1", "before": "2:2"}):
        with pytest.raises(InvalidInput):
            ws.profiles.timeline(pid, **bad)  # type: ignore[arg-type]


def test_lookups_normalise_like_ingestion(ws: Workspace) -> None:
    pid = ada(ws)
    assert ws.profiles.find("email", " ADA@example.COM ") == pid
    assert ws.profiles.find("phone", "+33 6 11 22 33 44") == pid
    assert ws.profiles.find("phone", "0611223344") == pid
    assert ws.profiles.find("anonymousId", "ada-web") == pid
    assert ws.profiles.find("email", "nobody@example.com") is None
    with pytest.raises(InvalidInput, match="email"):
        ws.profiles.find("email", "not an e-mail")
    with pytest.raises(InvalidInput, match="phone"):
        ws.profiles.find("phone", "12")
    with pytest.raises(InvalidInput, match="cannot look up"):
        ws.profiles.find("name", "Ada")
    # Identifier keys: raw e-mails are pseudonymised, pseudonyms kept.
    key = ws.profiles.key("email", "ada@example.com")
    assert ws.profiles.keys.parse("email:ADA@example.com") == key
    assert ws.profiles.keys.parse(key) == key
    assert ws.profiles.find_key(key) == pid


def test_a_trusted_source_wins_over_later_web_values(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "empreinte.toml").write_text('[profiles]\nsource_priority = ["crm"]\n')
    with empreinte.open(tmp_path / "ws") as ws:
        crm = {"type": "identify", "userId": "cy", "traits": {"last_name": "Martin"}}
        ws.ingest([{**crm, "timestamp": at(0)}], source="crm")
        web = {"type": "identify", "userId": "cy", "traits": {"last_name": "Martinez"}}
        ws.ingest([{**web, "timestamp": at(5)}], source="web")
        pid = ws.profiles.find("userId", "cy")
        assert pid is not None
        profile = ws.profiles.get(pid, pii=True)
        assert profile.traits.raw("last_name") == "Martin"
        assert [c.last.value for c in profile.traits.history["last_name"]] == [
            "Martin",
            "Martinez",
        ]


def test_the_match_reference_comes_from_profiles_with_raw_values(ws: Workspace) -> None:
    pid = ada(ws)
    ws.track("Viewed", anonymous_id="just-browsing", timestamp=at(0))
    [row] = reference_table(ws.profiles).to_pylist()
    assert row == {
        "profile_id": pid,
        "user_id": "ada",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "Ada@Example.com",
        "phone": "06 11 22 33 44",
        "birth_date": "1985-12-10",
        "city": "Lyon",
        "postcode": "69001",
    }


# -- the CLI ------------------------------------------------------------------------------------


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.output


def test_profile_commands(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        pid = ada(ws)
    w = ["-w", str(tmp_path / "ws")]

    code, out = cli("profile", "show", pid, *w)
    assert code == 0, out
    assert pid in out and "preferred channel" in out and "pii_" in out
    assert "Lovelace" not in out
    code, out = cli("profile", "show", pid, "--pii", *w)
    assert code == 0 and "Lovelace" in out
    code, out = cli("profile", "show", pid, "--json", *w)
    doc = orjson.loads(out)
    assert doc["profileId"] == pid and doc["personalData"] == "pseudonymised"
    assert doc["computed"]["orders"] == 1 and "traitHistory" in doc

    code, out = cli("profile", "find", "--email", "ADA@example.com", "--json", *w)
    assert code == 0 and orjson.loads(out)["profileId"] == pid
    code, out = cli("profile", "find", "--card", "nope", *w)
    assert code == 1 and "no profile" in out
    code, out = cli("profile", "find", "--email", "a@b.co", "--user", "x", *w)
    assert code == 1 and "exactly one" in out
    code, out = cli("profile", "find", "--email", "not-an-email", *w)
    assert code == 1 and "not a valid e-mail" in out

    code, out = cli("profile", "timeline", pid, *w)
    assert code == 0 and "Order Completed" in out and "store" in out
    code, out = cli("profile", "timeline", pid, "--limit", "1", "--json", *w)
    page = orjson.loads(out)
    assert len(page["events"]) == 1 and page["next"]
    code, out = cli("profile", "timeline", pid, "--after", page["next"], "--bots", "--json", *w)
    assert len(orjson.loads(out)["events"]) == 3

    code, out = cli("profile", "show", "p_0000000000000000", *w)
    assert code == 1 and "no profile" in out


def test_identity_commands(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        pid = ada(ws)
        # A shop's shared card links two customers' purchases: a conflict-free wrong merge.
        card = {"externalIds": [{"id": "SHOP-CARD", "type": "loyalty_card"}]}
        ws.track("Order Completed", user_id="ada", context=card, timestamp=at(4))
        # At the till, Bob (known by his CRM id; Ada has none) uses the shop's card too.
        bob = {"externalIds": [*card["externalIds"], {"id": "B-7", "type": "crm_id"}]}
        ws.track("Order Completed", anonymous_id="till-1", context=bob, timestamp=at(5))
        # Two userIds on one device: refused, a conflict.
        ws.identify("x1", anonymous_id="shared", timestamp=at(6))
        ws.identify("x2", anonymous_id="shared", timestamp=at(7))
    w = ["-w", str(tmp_path / "ws")]

    code, out = cli("identity", "explain", pid, "--json", *w)
    assert code == 0, out
    doc = orjson.loads(out)
    assert doc["profileId"] == pid and {s["action"] for s in doc["steps"]} >= {"found", "join"}
    code, out = cli("identity", "explain", pid, *w)
    assert code == 0 and "found" in out

    code, out = cli("identity", "conflicts", "--json", *w)
    [conflict] = orjson.loads(out)["conflicts"]
    # x2 founds its own profile (an event belongs to its most trusted identifier) and cannot
    # take the device's anonymous id, which is x1's.
    assert conflict["rule"] == "user_id limit 1" and conflict["idKey"] == "anonymous_id:shared"
    code, out = cli("identity", "conflicts", *w)
    assert code == 0 and "user_id limit 1" in out

    code, out = cli("profile", "find", "--anonymous", "till-1", "--json", *w)
    assert orjson.loads(out)["profileId"] == pid
    code, out = cli("identity", "block", "loyalty_card:SHOP-CARD", "--reason", "shop card", *w)
    assert code == 0, out
    code, out = cli("profile", "find", "--anonymous", "till-1", "--json", *w)
    assert orjson.loads(out)["profileId"] != pid
    code, out = cli("identity", "unblock", "loyalty_card:SHOP-CARD", *w)
    assert code == 0, out
    code, out = cli("profile", "find", "--anonymous", "till-1", "--json", *w)
    assert orjson.loads(out)["profileId"] == pid

    # Cut, the card stays Ada's (its first holder) and no longer joins Bob to her.
    code, out = cli("identity", "cut", "loyalty_card:SHOP-CARD", "--profile", pid, *w)
    assert code == 0, out
    code, out = cli("profile", "find", "--anonymous", "till-1", "--json", *w)
    assert orjson.loads(out)["profileId"] != pid
    code, out = cli("identity", "cut", "anonymous_id:till-1", "--profile", pid, *w)
    assert code == 1 and "not in profile" in out
    code, out = cli("identity", "block", "nonsense", *w)
    assert code == 1 and "TYPE:VALUE" in out

    code, out = cli("identity", "rebuild", "--json", *w)
    assert code == 0 and orjson.loads(out)["conflicts"] == 2  # x2, and Bob's card
    code, out = cli("identity", "rebuild", *w)
    assert code == 0 and "profiles" in out


# -- matching against the profiles -------------------------------------------------------------


def _write_csv(path: Path, table: pa.Table) -> Path:
    rows = table.to_pylist()
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=table.column_names)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.slow
def test_match_run_uses_the_profiles_when_no_reference_is_given(tmp_path: Path) -> None:
    data = ev.noisy_crm(n_people=150, seed=5)
    people: list[dict[str, Any]] = data.reference.to_pylist()
    with empreinte.open(tmp_path / "ws") as ws:
        report = ws.ingest(
            {
                "type": "identify",
                "userId": p["user_id"] or p["profile_id"],
                "traits": {
                    "first_name": p["first_name"],
                    "last_name": p["last_name"],
                    "email": p["email"],
                    "phone": p["phone"],
                    "birth_year": p["birth_date"],
                    "address": {"city": p["city"]},
                },
                "timestamp": at(0),
            }
            for p in people
        )
        assert report.stored == len(people)
    crm = _write_csv(tmp_path / "crm.csv", data.crm)
    w = ["-w", str(tmp_path / "ws")]
    code, out = cli("match", "run", str(crm), "--high", "0.99", "--low", "0.3", *w)
    assert code == 0, out
    assert "against 150 known people" in out and "accepted automatically" in out
    # Each accepted record now sits in the profile of the person it is.
    user_of = {p["profile_id"]: p["user_id"] or p["profile_id"] for p in people}
    with empreinte.open(tmp_path / "ws") as ws:
        checked = 0
        for record_id, person_id in sorted(data.links)[:40]:
            holder = ws.profiles.find_key(f"matched_record:crm_id={record_id}")
            if holder is not None:
                assert holder == ws.profiles.find("userId", user_of[person_id])
                checked += 1
        assert checked > 10


def test_match_run_without_known_people_says_what_to_do(tmp_path: Path) -> None:
    empreinte.open(tmp_path / "ws").close()
    crm = _write_csv(
        tmp_path / "crm.csv",
        pa.table({"record_id": ["1"], "first_name": ["A"], "last_name": ["B"]}),
    )
    w = ["-w", str(tmp_path / "ws")]
    code, out = cli("match", "run", str(crm), *w)
    assert code == 1 and "--reference" in out and "--dedup" in out
    code, out = cli("match", "run", str(crm), "--dedup", "--reference", str(crm), *w)
    assert code == 1 and "exclude each other" in out


def test_a_wrong_profiles_setting_stops_open_with_a_clear_message(tmp_path: Path) -> None:
    empreinte.open(tmp_path / "ws").close()
    (tmp_path / "ws" / "empreinte.toml").write_text('[profiles]\nsource_priority = "crm"\n')
    code, out = cli("profile", "show", "p_x", "-w", str(tmp_path / "ws"))
    assert code == 1 and "source_priority must be a list" in out and "empreinte.toml" in out
