"""The engine table `consent_state` as one Ibis expression (analytics/consent_state.py) gives
the rows of the ledger's DuckDB SQL (`privacy.consent.consent_state`: `consent_decisions` once
per purpose), row for row, on hand-built logs that take every branch of the rule, on random
histories, and on Spark (the same data exported to Parquet, read on the suite's cluster)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import empreinte
from empreinte.analytics.consent_state import consent_state
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import ConsentError
from empreinte.privacy import consent
from empreinte.privacy.consent import PURPOSES, policy_of
from empreinte.workspace import Workspace

from .conftest import TRUSTED, consent_event, send

BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
YEARS_80 = 24 * 365 * 80  # hours: a client clock in 2105

State = dict[tuple[str, str], bool]


def rows(table: pa.Table) -> State:
    """(profile_id, purpose) → allowed; one row each."""
    found = list(
        zip(*(table[c].to_pylist() for c in ("profile_id", "purpose", "allowed")), strict=True)
    )
    state = {(p, purpose): allowed for p, purpose, allowed in found}
    assert len(state) == len(found), "a profile and purpose twice"
    assert all(isinstance(a, bool) for a in state.values())
    return state


def by_ibis(ws: Workspace, purposes: tuple[str, ...] = PURPOSES) -> State:
    with ws.analytics("duckdb") as log:
        table = log.to_pyarrow(consent_state(log, policy_of(ws), purposes))
    assert table.schema.names == ["profile_id", "purpose", "allowed"]
    assert [str(t) for t in table.schema.types] == ["string", "string", "bool"]
    return rows(table)


def by_sql(ws: Workspace) -> State:
    return rows(consent.consent_state(ws, PURPOSES))


def derived(ws: Workspace) -> State:
    """The engine table itself, as reports read it (`Workspace._prepare`)."""
    with ws.analytics("duckdb") as log:
        return rows(log.to_pyarrow(log.derived("consent_state")))


def pid(ws: Workspace, user_id: str) -> str:
    found = ws.profiles.find("userId", user_id)
    assert found is not None, user_id
    return found


def plant_every_branch(ws: Workspace) -> dict[tuple[str, str], bool]:
    """A log taking each branch of the rule; (userId, purpose) → what the rule says."""
    people = [
        "untrusted-mkt",
        "trusted-mkt",
        "confirmed",
        "pending",
        "web-confirmed",
        "tie",
        "future",
        "past-import",
        "batch-order",
        "merged",
        "string-true",
        "bot",
        "silent",
    ]
    send(ws, *({"type": "identify", "userId": u} for u in people), source=TRUSTED)
    # Batch 1, untrusted (a browser's write key): a marketing grant does not count, nor a
    # "confirmed" it claims; other grants do, dated by their arrival.
    send(
        ws,
        consent_event("marketing_sms", True, 0, userId="untrusted-mkt"),
        consent_event("marketing_email", True, 0, confirmation="confirmed", userId="web-confirmed"),
        consent_event("personalisation", True, YEARS_80, userId="future"),
        consent_event("personalisation", True, 1, userId="past-import"),
        # Arrived together: the dates they give order them (the grant is later).
        consent_event("analytics", True, 5, userId="batch-order"),
        consent_event("analytics", False, 3, userId="batch-order"),
        # Before this person was known by their userId: anonymous, merged below.
        consent_event("personalisation", True, 0, anonymousId="anon-merged"),
        # A crawler's event: the ledger reads every event, bots' too.
        {
            **consent_event("profiling", True, 0, userId="bot"),
            "context": {"userAgent": BOT},
        },
        source="web",
    )
    # Batch 2, trusted (a CRM): its grants of marketing count, its dates are believed.
    send(
        ws,
        consent_event("marketing_sms", True, 0, userId="trusted-mkt"),
        consent_event("marketing_email", True, 0, confirmation="confirmed", userId="confirmed"),
        consent_event("marketing_email", True, 0, confirmation="pending", userId="pending"),
        consent_event("marketing_email", True, 0, userId="pending"),  # no confirmation at all
        # The same instant: the revocation wins (the grant comes later in the log).
        consent_event("analytics", False, 2, userId="tie"),
        consent_event("analytics", True, 2, userId="tie"),
        # An old paper form imported now: dated 2025, before the browser's grant arrived.
        consent_event("personalisation", False, 0, userId="past-import"),
        consent_event("profiling", "true", 0, userId="string-true"),  # not a JSON boolean
        consent_event("newsletters", True, 0, userId="silent"),  # not a purpose
        {"type": "identify", "userId": "merged", "anonymousId": "anon-merged"},
        source=TRUSTED,
    )
    # Batch 3, untrusted: a withdrawal arriving after the grant dated 2105 wins.
    send(ws, consent_event("personalisation", False, 0, userId="future"), source="web")
    assert ws.count(event="Consent Updated", include_bots=False) == 17
    assert ws.count(event="Consent Updated") == 18  # the crawler's is flagged, and kept
    granted = {
        ("trusted-mkt", "marketing_sms"),
        ("confirmed", "marketing_email"),
        ("past-import", "personalisation"),
        ("batch-order", "analytics"),
        ("merged", "personalisation"),
        ("bot", "profiling"),
    }
    return {(u, p): (u, p) in granted for u in people for p in PURPOSES}


def test_every_branch_as_the_ledger_s_sql(ws: Workspace) -> None:
    expected = plant_every_branch(ws)
    state = by_ibis(ws)
    assert state == by_sql(ws)
    assert state == {(pid(ws, u), p): allowed for (u, p), allowed in expected.items()}
    assert derived(ws) == state  # what reports read: the workspace uses the expression
    # The per-person ledger agrees too.
    for (user, purpose), allowed in expected.items():
        assert consent.allowed(ws, pid(ws, user), purpose) is allowed, (user, purpose)


def test_defaults_per_purpose(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "empreinte.toml").write_text(
        "[consent]\ndefaults = { analytics = true, profiling = true }\n"
    )
    with empreinte.open(tmp_path / "ws") as ws:
        send(
            ws,
            {"type": "identify", "userId": "silent"},
            consent_event("analytics", False, 0, userId="refuses"),
            consent_event("personalisation", True, 0, userId="grants"),
        )
        state = by_ibis(ws)
        assert state == by_sql(ws) == derived(ws)
        silent, refuses, grants = (pid(ws, u) for u in ("silent", "refuses", "grants"))
        assert [p for p in PURPOSES if state[(silent, p)]] == ["analytics", "profiling"]
        assert [p for p in PURPOSES if state[(refuses, p)]] == ["profiling"]
        assert [p for p in PURPOSES if state[(grants, p)]] == [
            "analytics",
            "personalisation",
            "profiling",
        ]


def test_a_changed_policy_rewrites_the_table(tmp_path: Path) -> None:
    """The defaults and trusted sources are part of what the table was computed from: a
    workspace reopened with other ones does not read the old rows."""
    root = tmp_path / "ws"
    root.mkdir()
    with empreinte.open(root) as ws:
        send(ws, consent_event("marketing_sms", True, 0, userId="ann"), source="shop")
        ann = pid(ws, "ann")
        state = derived(ws)
        assert not state[(ann, "analytics")] and not state[(ann, "marketing_sms")]
    (root / "empreinte.toml").write_text(
        '[consent]\ndefaults = { analytics = true }\ntrusted_sources = ["shop"]\n'
    )
    with empreinte.open(root) as ws:
        state = derived(ws)
        assert state[(ann, "analytics")] and state[(ann, "marketing_sms")]
        assert state == by_sql(ws)


def test_purposes_checked_and_read_once(ws: Workspace) -> None:
    send(ws, consent_event("analytics", True, 0, userId="ann"))
    assert by_ibis(ws, ("analytics", "analytics")) == {(pid(ws, "ann"), "analytics"): True}
    assert by_ibis(ws, ()) == {}
    with ws.analytics("duckdb") as log, pytest.raises(ConsentError):
        consent_state(log, policy_of(ws), ["newsletters"])


def random_histories(ws: Workspace, seed: int, people: int) -> None:
    """Entries from trusted and untrusted sources in several batches (arrival times), many
    sharing an instant, some dated 2105, some on an anonymous id later merged."""
    rng = random.Random(seed)
    batches: list[tuple[str, list[dict[str, Any]]]] = []
    for person in range(people):
        ids: dict[str, Any] = {"userId": f"user-{person}"}
        batch: list[dict[str, Any]] = [{"type": "identify", "userId": f"user-{person}"}]
        if rng.random() < 0.4:
            ids = {"anonymousId": f"anon-{person}"}
            batch.append(
                {"type": "alias", "previousId": f"anon-{person}", "userId": f"user-{person}"}
            )
        batches.append((TRUSTED, batch))
        for _ in range(rng.randrange(0, 7)):
            entry = consent_event(
                rng.choice([*PURPOSES, "newsletters"]),
                rng.choice([True, True, False, "true", None]),
                rng.choice([0, 1, 2, 3, YEARS_80]),
                confirmation=rng.choice([None, "pending", "confirmed"]),
                **ids,
            )
            if rng.random() < 0.1:
                entry["context"] = {"userAgent": BOT}
            source = rng.choice([TRUSTED, "web"])
            if batches[-1][0] == source and rng.random() < 0.5:
                batches[-1][1].append(entry)
            else:
                batches.append((source, [entry]))
    for source, messages in batches:
        send(ws, *messages, source=source)


def test_random_histories_as_the_ledger_s_sql(ws: Workspace) -> None:
    random_histories(ws, seed=29, people=60)
    state = by_ibis(ws)
    assert len(state) == 60 * len(PURPOSES)
    assert state == by_sql(ws)
    assert 0 < sum(state.values()) < len(state)


@pytest.mark.spark
@pytest.mark.timeout(900)
def test_the_same_rows_on_spark(ws: Workspace, tmp_path: Path, cluster_session: Any) -> None:
    from empreinte.store.spark.backend import SparkAnalytics

    expected = plant_every_branch(ws)
    random_histories(ws, seed=7, people=30)
    on_duckdb = by_sql(ws)
    assert on_duckdb == by_ibis(ws)
    ws.export_analytics(tmp_path / "parquet")
    backend = SparkAnalytics(cluster_session, tmp_path / "parquet")
    with AnalyticsLog(backend, ws.analytics_settings()) as log:
        table = log.to_pyarrow(consent_state(log, policy_of(ws), PURPOSES))
    assert table.schema.names == ["profile_id", "purpose", "allowed"]
    on_spark = rows(table)
    assert on_spark == on_duckdb
    assert all(on_spark[(pid(ws, u), p)] is a for (u, p), a in expected.items())
