"""Consent rates over time (analytics/consent_rates.py), in the engine, against planted
consents: a hand-counted table for a few people, and many random people checked at the end of
every month against the ledger's own rule (`privacy.consent.ledger` + `decide`, in Python)
and, for the last month, against `allowed_profiles` (the engine's SQL of the same rule)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import empreinte
from empreinte.analytics.consent_rates import ConsentRate, consent_rates, next_start
from empreinte.errors import ConsentError
from empreinte.privacy.consent import PURPOSES, allowed_profiles, decide, ledger, policy_of
from empreinte.workspace import Workspace

JAN = datetime(2026, 1, 10, 12, tzinfo=UTC)
FEB = datetime(2026, 2, 10, 12, tzinfo=UTC)
MAR = datetime(2026, 3, 10, 12, tzinfo=UTC)


def open_workspace(root: Path, consent: str = "") -> Workspace:
    root.mkdir(parents=True)
    (root / "empreinte.toml").write_text(f'[consent]\ntrusted_sources = ["crm"]\n{consent}')
    return empreinte.open(root)


def seen(user: str, at: datetime) -> dict[str, Any]:
    return {
        "type": "page",
        "name": "Home",
        "userId": user,
        "messageId": str(uuid.uuid4()),
        "timestamp": at.isoformat(),
    }


def consent(user: str, purpose: str, granted: Any, at: datetime, **props: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Consent Updated",
        "userId": user,
        "messageId": str(uuid.uuid4()),
        "timestamp": at.isoformat(),
        "properties": {"purpose": purpose, "granted": granted, "wording_version": "v1", **props},
    }


def ingest(ws: Workspace, source: str, *messages: dict[str, Any]) -> None:
    report = ws.ingest(list(messages), source=source)
    assert not report.rejected, report.rejected


def rates(ws: Workspace, period: str = "month") -> dict[tuple[str, str], ConsentRate]:
    with ws.analytics() as log:
        rows = consent_rates(log, policy_of(ws), period)
    return {(r.period, r.purpose): r for r in rows}


def test_planted_consents_counted_by_hand(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    try:
        ingest(
            ws,
            "crm",  # trusted: the dates it gives are believed
            seen("ann", JAN),
            consent("ann", "analytics", True, JAN + timedelta(hours=1)),
            consent("ann", "analytics", False, MAR),
            seen("bob", FEB),
            consent("bob", "analytics", True, FEB),
            # the same instant: the revocation wins
            consent("bob", "personalisation", True, FEB + timedelta(days=1)),
            consent("bob", "personalisation", False, FEB + timedelta(days=1)),
            seen("cat", JAN),
            # double opt-in: pending changes nothing until confirmed (in March)
            consent("cat", "marketing_email", True, FEB, confirmation="pending"),
            consent("cat", "marketing_email", True, MAR, confirmation="confirmed"),
            consent("cat", "marketing_sms", True, JAN + timedelta(days=2)),
            # not a boolean, not a purpose: ignored
            consent("cat", "profiling", "yes", JAN + timedelta(days=3)),
            consent("cat", "newsletters", True, JAN + timedelta(days=3)),
        )
        # Untrusted: a marketing grant does not count; a revocation does, when it arrives
        # (now, after March).
        ingest(
            ws,
            "web",
            consent("cat", "marketing_sms", True, MAR, confirmation="confirmed"),
            consent("dan", "profiling", True, JAN),
            consent("ann", "personalisation", False, JAN),
        )
        found = rates(ws)
        now = datetime.now(UTC)
        this_month = f"{now.year}-{now.month:02d}"

        def at(period: str, purpose: str) -> tuple[int, int]:
            row = found[(period, purpose)]
            return row.known, row.allowing

        # dan is known from the time his (untrusted) event gives, January; his grant counts
        # only from its arrival (this month).
        assert at("2026-01", "analytics") == (3, 1)  # ann, cat, dan known; ann allows
        assert at("2026-02", "analytics") == (4, 2)  # + bob
        assert at("2026-03", "analytics") == (4, 1)  # ann revoked
        assert at("2026-02", "personalisation") == (4, 0)
        assert at("2026-02", "marketing_email") == (4, 0)  # pending
        assert at("2026-03", "marketing_email") == (4, 1)  # confirmed
        assert at("2026-01", "marketing_sms") == (3, 1)  # cat, from a trusted source
        assert at("2026-03", "profiling") == (4, 0)  # "yes" is not a boolean
        assert at(this_month, "profiling") == (4, 1)
        assert at(this_month, "marketing_sms") == (4, 1)
        assert found[(this_month, "analytics")].rate == pytest.approx(1 / 4)
        # No month is missing between the first and the last; each has every purpose.
        periods = sorted({p for p, _ in found})
        assert periods[0] == "2026-01" and periods[-1] == this_month
        assert len(found) == len(periods) * len(PURPOSES)
        # The last month is now: the same people as the engine's rule (`allowed_profiles`).
        everyone = len(ws.privacy_store.profile_ids())
        for purpose in PURPOSES:
            assert at(this_month, purpose) == (everyone, len(allowed_profiles(ws, purpose)))
    finally:
        ws.close()


def test_a_default_yes_counts_the_silent(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws", "defaults = { analytics = true }\n")
    try:
        ingest(
            ws,
            "crm",
            seen("ann", JAN),
            seen("bob", FEB),
            consent("bob", "analytics", False, FEB + timedelta(days=1)),
            consent("bob", "analytics", True, MAR),
            consent("ann", "analytics", False, MAR),
        )
        found = rates(ws)
        january = found[("2026-01", "analytics")]
        assert (january.known, january.allowing) == (1, 1)
        assert found[("2026-02", "analytics")].allowing == 1  # ann by default; bob said no
        assert found[("2026-03", "analytics")].allowing == 1  # bob yes, ann no
        assert found[("2026-03", "personalisation")].allowing == 0
        quarters = rates(ws, "quarter")
        assert quarters[("2026-Q1", "analytics")].known == 2
        assert quarters[("2026-Q1", "analytics")].allowing == 1
    finally:
        ws.close()


def test_random_people_month_by_month_against_the_ledger(tmp_path: Path) -> None:
    """Random histories (merged ids, trusted and untrusted sources, pending, confirmed,
    same-instant entries), every month's count against the ledger of each person read by
    the Python rule on the entries in effect at the month's end."""
    rng = random.Random(14)
    ws = open_workspace(tmp_path / "ws")
    start = datetime(2025, 9, 1, tzinfo=UTC)
    trusted: list[dict[str, Any]] = []
    untrusted: list[dict[str, Any]] = []
    first: dict[str, datetime] = {}
    for n in range(60):
        user = f"u{n}"
        born = start + timedelta(days=rng.uniform(0, 150))
        first[user] = born
        trusted.append(seen(user, born))
        if n % 7 == 0:  # an anonymous visit later linked to the user: one person
            anon = f"a{n}"
            trusted.append({**seen(user, born), "anonymousId": anon})
        for _ in range(rng.randint(0, 6)):
            at = born + timedelta(days=rng.uniform(0, 120))
            purpose = rng.choice(PURPOSES)
            props: dict[str, Any] = {}
            if purpose == "marketing_email":
                props["confirmation"] = rng.choice(["pending", "confirmed"])
            message = consent(user, purpose, rng.random() < 0.6, at, **props)
            if rng.random() < 0.15:
                twin = consent(user, purpose, not message["properties"]["granted"], at)
                trusted.append(twin)
            (untrusted if rng.random() < 0.2 else trusted).append(message)
    try:
        ingest(ws, "crm", *trusted)
        ingest(ws, "web", *untrusted)
        with ws.analytics() as log:
            rows = consent_rates(log, policy_of(ws), "month")
        policy = policy_of(ws)
        ws.identity.sync()
        people = sorted(ws.privacy_store.profile_ids())
        assert len(people) == 60
        ledgers = {p: ledger(ws, p) for p in people}
        by_profile = {ws.profiles.find("userId", u): u for u in first}
        assert set(by_profile) == set(people)
        checked = 0
        for row in rows:
            end = next_start(row.start, "month").replace(tzinfo=UTC)
            known = [p for p in people if _known_since(ledgers[p], first[by_profile[p]]) < end]
            allowing = sum(
                decide(
                    row.purpose, [e for e in ledgers[p].entries if e.effective < end], policy
                ).allowed
                for p in known
            )
            assert (row.known, row.allowing) == (len(known), allowing), row
            checked += 1
        assert checked >= 5 * len(PURPOSES)
        last = [r for r in rows if r.start == rows[-1].start]
        for row in last:
            assert row.allowing == len(allowed_profiles(ws, row.purpose))
    finally:
        ws.close()


def _known_since(found: Any, first_seen: datetime) -> datetime:
    """When a person is known: their first planted visit, or an earlier consent entry."""
    return min([first_seen, *(min(e.at, e.received_at) for e in found.entries)])


def test_an_unknown_purpose_is_refused(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "ws")
    try:
        with ws.analytics() as log, pytest.raises(ConsentError):
            consent_rates(log, policy_of(ws), "month", ["newsletters"])
        with ws.analytics() as log:
            assert consent_rates(log, policy_of(ws)) == []
    finally:
        ws.close()


@pytest.mark.spark
@pytest.mark.timeout(900)
def test_same_rates_on_duckdb_and_spark(tmp_path: Path) -> None:
    """The rates are Ibis only: a local Spark session reads the same numbers."""
    rng = random.Random(3)
    ws = open_workspace(tmp_path / "ws")
    messages = []
    for n in range(40):
        born = datetime(2025, 9, 1, tzinfo=UTC) + timedelta(days=rng.uniform(0, 150))
        messages.append(seen(f"u{n}", born))
        for _ in range(rng.randint(0, 5)):
            purpose = rng.choice(PURPOSES)
            props = {"confirmation": "confirmed"} if rng.random() < 0.5 else {}
            at = born + timedelta(days=rng.uniform(0, 100))
            messages.append(consent(f"u{n}", purpose, rng.random() < 0.6, at, **props))
    try:
        ingest(ws, "crm", *messages)
        with ws.analytics("duckdb") as log:
            on_duckdb = consent_rates(log, policy_of(ws))
        with ws.analytics("spark") as log:
            on_spark = consent_rates(log, policy_of(ws))
        assert len(on_duckdb) >= 5 * len(PURPOSES)
        assert on_spark == on_duckdb
    finally:
        ws.close()
