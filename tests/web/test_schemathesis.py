"""A bounded schemathesis run against the real server: every operation of the OpenAPI document
(GET /api/openapi.json), with requests generated from it, valid and invalid, as an admin (the
widest role) or with a write key on /v1. No answer may be a 5xx, and every answer must be as the
document says: a documented status, content type, headers and body schema.

Bounded and deterministic: a fixed number of examples per operation and generation mode,
derandomized (the same requests every run), no example database, no shrinking. The server runs on
a workspace of its own, seeded with people and survey answers so that reports and lookups reach
past "nothing found"; the run may erase and block in it at will.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import empreinte
from conftest import Keys, ServerProcess, make_workspace

# Examples per operation and generation mode (positive, negative), for about 50 operations;
# EMPREINTE_SCHEMATHESIS_EXAMPLES=200 explores deeper, by hand.
EXAMPLES = int(os.environ.get("EMPREINTE_SCHEMATHESIS_EXAMPLES", "6"))
# The token's role (admin, analyst, viewer): the admin reaches every route; the others, by hand,
# explore what those roles see (viewers' small groups pooled…).
ROLE = os.environ.get("EMPREINTE_SCHEMATHESIS_ROLE", "admin")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES,
            "deterministic": True,
            "no-shrink": True,
            "database": "none",
            # The test sends the credentials; generated ones would only be refused.
            "with-security-parameters": False,
        },
    }
)


@dataclass(frozen=True)
class Target:
    server: ServerProcess
    keys: Keys
    person: str  # a seeded profile the reading routes also get
    erasable: str  # a seeded profile DELETE also gets


def _seed(when: datetime) -> list[dict[str, Any]]:
    """People with traits, NPS/CSAT/CES answers with comments, an A/B test, consent."""
    out: list[dict[str, Any]] = []
    for i in range(1, 13):
        user = f"fuzz-{i}"
        base = {"userId": user, "timestamp": (when - timedelta(days=i)).isoformat()}
        traits = {"email": f"{user}@fuzz.example", "phone": f"+33 6 12 34 56 {i:02d}"}
        out.append({"type": "identify", **base, "traits": traits})
        consent = {"purpose": "analytics", "granted": True, "wording_version": "v1"}
        out.append({"type": "track", "event": "Consent Updated", **base, "properties": consent})
        nps = {"score": i % 11, "touchpoint": "call", "comment": f"comment {i}"}
        out.append({"type": "track", "event": "NPS Answered", **base, "properties": nps})
        for event in ("CSAT Answered", "CES Answered"):
            score = {"score": 1 + i % 5}
            out.append({"type": "track", "event": event, **base, "properties": score})
        view = {"experiment": "fuzz-test", "variant": "a" if i % 2 else "b"}
        out.append({"type": "track", "event": "Experiment Viewed", **base, "properties": view})
        if i % 3:
            out.append({"type": "track", "event": "Order Completed", **base, "properties": {}})
    return out


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    root = tmp_path_factory.mktemp("schemathesis")
    keys = make_workspace(root / "ws")
    with empreinte.open(keys.path) as ws:
        report = ws.ingest(_seed(datetime.now(UTC)))
        assert not report.rejected, report.rejected
        ws.flush()
        person, erasable = (ws.profiles.find("userId", f"fuzz-{i}") for i in (1, 2))
    assert person and erasable
    server = ServerProcess(keys.path, root).start()
    try:
        yield Target(server, keys, person, erasable)
    finally:
        server.stop()


def credentials(operation: Any, keys: Keys) -> dict[str, str]:
    """The write key as the Segment clients send it on /v1, the role's token elsewhere."""
    if {"writeKey": []} in operation.definition.raw.get("security", []):
        basic = base64.b64encode(f"{keys.write_key}:".encode()).decode()
        return {"Authorization": f"Basic {basic}"}
    token: str = getattr(keys, f"{ROLE}_token")
    return {"Authorization": f"Bearer {token}"}


def negatable(operation: Any) -> bool:
    """Whether invalid requests can be made: a query parameter or a body to get wrong (a path
    parameter is any string, and headers are the test's)."""
    raw = operation.definition.raw
    return "requestBody" in raw or any(p["in"] == "query" for p in raw.get("parameters", []))


def run(
    operation: Any,
    mode: GenerationMode,
    keys: Keys,
    statuses: set[int],
    path: dict[str, str] | None = None,
) -> str | None:
    """The first failure of `EXAMPLES` requests to `operation` in `mode` (with `path`
    parameters when given), or None; the statuses answered are added to `statuses`."""
    headers = credentials(operation, keys)

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def requests(case: Any) -> None:
        response = case.call_and_validate(headers=headers, checks=CHECKS, timeout=60)
        statuses.add(response.status_code)

    try:
        requests()
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis's FailureGroup
        return f"{mode.value} {operation.label}: {exc}"
    return None


@pytest.mark.slow
@pytest.mark.timeout(900)  # about a minute alone; longer beside the rest of the suite
def test_no_server_error_and_answers_as_documented(target: Target) -> None:
    schema = schemathesis.openapi.from_url(
        f"{target.server.url}/api/openapi.json", config=CONFIG, timeout=30
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40  # the whole API, not an empty document
    failures = []
    answered: dict[str, set[int]] = {}
    for operation in operations:
        statuses = answered.setdefault(operation.label, set())
        for mode in GenerationMode:
            if mode is GenerationMode.NEGATIVE and not negatable(operation):
                continue
            failure = run(operation, mode, target.keys, statuses)
            if failure is not None:
                failures.append(failure)
        if "{profile_id}" in operation.path:
            # Generated ids are nobody's: a known person, to go past the 404.
            person = target.erasable if operation.method.upper() == "DELETE" else target.person
            path = {"profile_id": person}
            failure = run(operation, GenerationMode.POSITIVE, target.keys, statuses, path)
            if failure is not None:
                failures.append(f"(profile {person}) {failure}")
    assert not failures, f"{len(failures)} failing operation(s):\n\n" + "\n\n".join(failures)
    # The run went past the credentials: no operation was only refused them (the login's
    # generated users are unknown, so it is 401 or 429 by design).
    refused = {
        label
        for label, statuses in answered.items()
        if statuses <= {401, 403} and label != "POST /api/login"
    }
    assert not refused, f"answered only 401/403: {sorted(refused)}"
    succeeded = {label for label, statuses in answered.items() if any(s < 300 for s in statuses)}
    assert len(succeeded) >= len(operations) // 2, sorted(set(answered) - succeeded)
