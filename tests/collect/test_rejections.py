"""The register of refused events (collect/rejections.py): counts per source and reason, the
rule and the field but never a value, bounded whatever a hostile client sends; and the
collector filling it on its refusal paths only."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from empreinte.collect.rejections import (
    HOURS,
    MASK,
    NO_SOURCE,
    OTHER,
    OTHER_SOURCE,
    RejectionRegister,
    safe_code,
    safe_field,
)
from servers import Keys


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_fields_keep_the_rule_names_and_mask_what_the_sender_chose() -> None:
    assert safe_field("type") == "type"
    assert safe_field("properties.score") == "properties.score"
    assert safe_field("properties.experiment_id") == "properties.experiment_id"
    # A property key may be personal data (an e-mail as a key): never kept.
    assert safe_field("properties.marie.dupont@example.com.3") == f"properties.{MASK}"
    assert safe_field("traits.0612345678") == f"traits.{MASK}"
    assert safe_field("jean.dupont") == MASK
    assert safe_field("context.a.b.c.d.e.f.g") == f"context.{MASK}"
    assert safe_field(None) is None and safe_field("") is None
    assert safe_field("x" * 100_000) == MASK
    assert safe_code("missing_field") == "missing_field"
    assert safe_code("Marie Dupont") == OTHER
    assert safe_code("a" * 41) == OTHER
    assert safe_code(None) == OTHER


def test_counts_per_source_and_reason_per_hour_newest_examples_first() -> None:
    clock = Clock()
    register = RejectionRegister(clock=clock, examples=3)
    register.rejected(
        "web",
        [
            {"code": "missing_identity", "field": "userId", "message": "x", "messageId": "m1"},
            {"code": "missing_identity", "field": "userId", "message": "y", "messageId": "m2"},
            {"code": "invalid_timestamp", "field": "timestamp", "message": "'2024-13' is not"},
        ],
    )
    clock.now += 3600
    register.refused(None, "unauthorized")
    report = register.report()
    counts = {(c.reason.source, c.reason.code, c.reason.field): c for c in report.counts}
    assert counts[("web", "missing_identity", "userId")].total == 2
    assert counts[("web", "missing_identity", "userId")].this_hour == 0  # an hour ago
    assert counts[(NO_SOURCE, "unauthorized", None)].this_hour == 1
    assert report.total_for("web") == 3
    assert report.examples[0].reason.code == "unauthorized"
    assert len(report.examples) == 3
    # Neither the messages' texts nor their ids are kept.
    assert "2024-13" not in repr(report) and "m1" not in repr(report)


def test_hours_older_than_a_day_are_forgotten() -> None:
    clock = Clock()
    register = RejectionRegister(clock=clock)
    for _ in range(HOURS + 10):
        register.refused("web", "invalid_json")
        clock.now += 3600
    register.refused("web", "invalid_json")
    (count,) = register.report().counts
    assert count.total == HOURS
    assert len(count.hours) == HOURS
    assert register.size() <= HOURS + 1


def test_a_hostile_flood_of_distinct_reasons_and_sources_stays_bounded() -> None:
    register = RejectionRegister(max_sources=8, max_reasons=5)
    for i in range(20_000):
        code = "".join(chr(ord("a") + int(d)) for d in str(i))  # 20,000 distinct valid codes
        register.refused(f"source{i % 50}", code, f"properties.{uuid.uuid4()}")
    report = register.report()
    sources = {c.reason.source for c in report.counts}
    assert len(sources) == 9 and OTHER_SOURCE in sources  # 8, then one "(other)"
    for source in sources:
        reasons = [c for c in report.counts if c.reason.source == source]
        assert len(reasons) <= 6  # 5, then "other"
        assert any(c.reason.code == OTHER for c in reasons)
    assert sum(c.total for c in report.counts) == 20_000  # lumped, not lost
    assert register.size() <= 9 * 6
    assert all(c.reason.field in (None, f"properties.{MASK}") for c in report.counts)


# -- the collector fills it ------------------------------------------------------------------


@pytest.fixture
def served(faulty_server: Any) -> Iterator[tuple[httpx.Client, Any]]:
    """The real app in a thread (tests/conftest.py), its storage healthy throughout."""
    with httpx.Client(base_url=faulty_server.url, timeout=30) as client:
        yield client, faulty_server.workspace


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def test_the_collector_records_refusals_and_nothing_for_valid_events(
    served: tuple[httpx.Client, Any], workspace: Keys
) -> None:
    client, ws = served
    ok = {"type": "track", "event": "Viewed", "userId": "u1", "messageId": str(uuid.uuid4())}
    assert client.post("/v1/batch", json={"batch": [ok] * 3}, headers=_auth(workspace.write_key))
    assert ws.rejections.report().counts == ()

    email = "marie.dupont@example.com"
    hostile = [
        {"type": "track", "event": "E", "userId": "u", "properties": {f"{email}{i}": 2**70}}
        for i in range(200)
    ]
    hostile.append({"type": "track", "event": "E", "timestamp": email})  # no identity
    hostile.append({"type": "track", "userId": "u", "event": "E", "timestamp": email})
    answer = client.post("/v1/batch", json={"batch": hostile}, headers=_auth(workspace.write_key))
    assert answer.status_code == 400
    assert len(answer.json()["rejected"]) == 202

    # A whole request refused: unknown key (no source), malformed JSON (before the key is read).
    assert client.post("/v1/track", json=ok, headers=_auth("wk_nope")).status_code == 401
    bad = client.post(
        "/v1/track", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad.status_code == 400
    # A whole batch refused after its key was read: its `sentAt` is not a date.
    batch = {"batch": [ok], "sentAt": "yesterday"}
    refused = client.post("/v1/batch", json=batch, headers=_auth(workspace.app_write_key))
    assert refused.status_code == 400

    report = ws.rejections.report()
    counts = {(c.reason.source, c.reason.code, c.reason.field): c.total for c in report.counts}
    assert counts == {
        ("web", "integer_too_large", f"properties.{MASK}"): 200,
        ("web", "missing_identity", "userId"): 1,
        ("web", "invalid_timestamp", "timestamp"): 1,
        (NO_SOURCE, "unauthorized", None): 1,
        (NO_SOURCE, "invalid_json", None): 1,
        ("app", "invalid_timestamp", "sentAt"): 1,
    }
    assert email not in repr(report) and "marie" not in repr(report)
