"""Survey answers (NPS, CSAT, CES, Kano) and experiment exposures are checked at ingestion.

One message at a time through `normalise()` (every rule at its boundaries), then through the
real server (a mixed batch keeps its good messages) and the real CLI (a CSV export with one bad
row names the line and stores the others).
"""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from empreinte.collect.validate import normalise, parse_time
from empreinte.errors import InvalidMessage
from empreinte.privacy.pii import IngestPolicy
from empreinte.privacy.pseudonym import Pseudonymiser
from empreinte.store.records import EventRow

POLICY = IngestPolicy(Pseudonymiser(b"k" * 32))
NOW = parse_time("2026-03-01T12:00:00Z", "now")
assert NOW is not None


def answer(event: str, properties: dict[str, Any] | None, **fields: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "track", "event": event, "userId": "u1", **fields}
    if properties is not None:
        message["properties"] = properties
    return message


def row(message: dict[str, Any]) -> EventRow:
    return normalise(message, source="web", received_at=NOW, policy=POLICY)  # type: ignore[arg-type]


def refused(event: str, properties: dict[str, Any] | None) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as caught:
        row(answer(event, properties))
    return caught.value


# -- accepted -----------------------------------------------------------------------------------

ACCEPTED = [
    ("NPS Answered", {"score": 0}),
    ("NPS Answered", {"score": 10, "comment": "Great", "survey_id": "q1", "touchpoint": "web"}),
    ("NPS Answered", {"score": 9.0}),
    ("CSAT Answered", {"score": 1}),
    ("CSAT Answered", {"score": 5}),
    ("CSAT Answered", {"score": 5, "scale": 5}),
    ("CSAT Answered", {"score": 7, "scale": 7}),
    ("CSAT Answered", {"score": 6, "scale": 7.0}),
    ("CES Answered", {"score": 1}),
    ("CES Answered", {"score": 7}),
    ("Kano Answered", {"feature": "Dark mode", "functional": 1, "dysfunctional": 5}),
    ("Kano Answered", {"feature": "Dark mode", "functional": "like", "dysfunctional": "expect"}),
    ("Kano Answered", {"feature": "Mode sombre", "functional": "j'aime", "dysfunctional": 4.0}),
    ("Kano Answered", {"feature": "F", "functional": "Je n'aime pas", "dysfunctional": "neutre"}),
    ("Experiment Viewed", {"experiment": "checkout-v2", "variant": "B"}),
    # Segment's A/B testing spec names, as its SDK integrations send them.
    ("Experiment Viewed", {"experiment_id": "exp_1", "variation_name": "Variation #1"}),
    ("Experiment Viewed", {"experiment_id": 5935064, "variation_id": 5650301210}),
]


@pytest.mark.parametrize(("event", "properties"), ACCEPTED)
def test_valid_answers_are_stored_as_sent(event: str, properties: dict[str, Any]) -> None:
    stored = row(answer(event, properties))
    assert stored.event == event
    assert stored.properties is not None
    assert orjson.loads(stored.properties) == properties


def test_an_integral_float_score_is_kept_as_sent() -> None:
    stored = row(answer("NPS Answered", {"score": 9.0}))
    assert stored.properties is not None
    assert isinstance(orjson.loads(stored.properties)["score"], float)


@pytest.mark.parametrize(
    "message",
    [
        answer("Survey Responded", {"score": 99}),  # another name: not a conventional answer
        answer("nps answered", {"score": "eleven"}),  # names are exact, as Segment's are
        answer("Order Completed", None),
        {"type": "page", "name": "NPS Answered", "userId": "u1", "properties": {"score": 99}},
        {"type": "identify", "userId": "u1", "traits": {"score": 99}},
    ],
)
def test_other_events_are_not_checked(message: dict[str, Any]) -> None:
    row(message)


# -- refused, at the boundaries -----------------------------------------------------------------

REFUSED: list[tuple[str, dict[str, Any] | None, str, str]] = [
    # NPS: 0-10
    ("NPS Answered", {"score": -1}, "properties.score", "out_of_range"),
    ("NPS Answered", {"score": 11}, "properties.score", "out_of_range"),
    ("NPS Answered", {"score": 11.0}, "properties.score", "out_of_range"),
    ("NPS Answered", {"score": 8.5}, "properties.score", "invalid_field"),
    ("NPS Answered", {"score": "9"}, "properties.score", "invalid_field"),
    ("NPS Answered", {"score": True}, "properties.score", "invalid_field"),
    ("NPS Answered", {"score": False}, "properties.score", "invalid_field"),
    ("NPS Answered", {"score": math.nan}, "properties.score", "invalid_field"),
    ("NPS Answered", {"score": math.inf}, "properties.score", "invalid_field"),
    ("NPS Answered", {"score": [9]}, "properties.score", "invalid_field"),
    ("NPS Answered", {"comment": "no score"}, "properties.score", "missing_field"),
    ("NPS Answered", {"score": None}, "properties.score", "missing_field"),
    ("NPS Answered", None, "properties.score", "missing_field"),
    # CSAT: 1..scale, scale 5 (default) or 7
    ("CSAT Answered", {"score": 0}, "properties.score", "out_of_range"),
    ("CSAT Answered", {"score": 6}, "properties.score", "out_of_range"),
    ("CSAT Answered", {"score": 6, "scale": 5}, "properties.score", "out_of_range"),
    ("CSAT Answered", {"score": 8, "scale": 7}, "properties.score", "out_of_range"),
    ("CSAT Answered", {"score": 0, "scale": 7}, "properties.score", "out_of_range"),
    ("CSAT Answered", {"score": 3, "scale": 6}, "properties.scale", "out_of_range"),
    ("CSAT Answered", {"score": 3, "scale": 10}, "properties.scale", "out_of_range"),
    ("CSAT Answered", {"score": 3, "scale": "7"}, "properties.scale", "invalid_field"),
    ("CSAT Answered", {"score": 3, "scale": 7.5}, "properties.scale", "invalid_field"),
    ("CSAT Answered", {"scale": 7}, "properties.score", "missing_field"),
    # CES: 1-7
    ("CES Answered", {"score": 0}, "properties.score", "out_of_range"),
    ("CES Answered", {"score": 8}, "properties.score", "out_of_range"),
    ("CES Answered", {"score": "easy"}, "properties.score", "invalid_field"),
    ("CES Answered", {}, "properties.score", "missing_field"),
    # Kano: a feature and two of the five answers
    (
        "Kano Answered",
        {"feature": "Dark mode", "functional": "love it", "dysfunctional": "dislike"},
        "properties.functional",
        "invalid_field",
    ),
    (
        "Kano Answered",
        {"feature": "Dark mode", "functional": 1, "dysfunctional": 6},
        "properties.dysfunctional",
        "invalid_field",
    ),
    (
        "Kano Answered",
        {"feature": "Dark mode", "functional": 0, "dysfunctional": 1},
        "properties.functional",
        "invalid_field",
    ),
    (
        "Kano Answered",
        {"feature": "Dark mode", "functional": True, "dysfunctional": 1},
        "properties.functional",
        "invalid_field",
    ),
    (
        "Kano Answered",
        {"feature": "Dark mode", "functional": 1},
        "properties.dysfunctional",
        "missing_field",
    ),
    (
        "Kano Answered",
        {"functional": 1, "dysfunctional": 5},
        "properties.feature",
        "missing_field",
    ),
    (
        "Kano Answered",
        {"feature": "  ", "functional": 1, "dysfunctional": 5},
        "properties.feature",
        "missing_field",
    ),
    (
        "Kano Answered",
        {"feature": 3, "functional": 1, "dysfunctional": 5},
        "properties.feature",
        "invalid_field",
    ),
    # Experiment Viewed: an experiment and a variant
    ("Experiment Viewed", {"experiment": "checkout-v2"}, "properties.variant", "missing_field"),
    ("Experiment Viewed", {"variant": "B"}, "properties.experiment", "missing_field"),
    (
        "Experiment Viewed",
        {"experiment": "", "variant": "B"},
        "properties.experiment",
        "missing_field",
    ),
    (
        "Experiment Viewed",
        {"experiment": 7, "variant": "B"},
        "properties.experiment",
        "invalid_field",
    ),
    (
        "Experiment Viewed",
        {"experiment": "checkout-v2", "variant": ["B"]},
        "properties.variant",
        "invalid_field",
    ),
    (
        "Experiment Viewed",
        {"experiment_id": "exp_1", "variation_name": ""},
        "properties.variation_name",
        "missing_field",
    ),
    ("Experiment Viewed", None, "properties.experiment", "missing_field"),
]


@pytest.mark.parametrize(("event", "properties", "field", "code"), REFUSED)
def test_breaches_name_the_field_and_the_rule(
    event: str, properties: dict[str, Any] | None, field: str, code: str
) -> None:
    error = refused(event, properties)
    assert (error.field, error.code) == (field, code)
    assert error.reason.startswith(event), error.reason  # the user sees which kind of answer


@pytest.mark.parametrize(
    ("event", "properties", "reason"),
    [
        (
            "NPS Answered",
            {"score": 11},
            "NPS Answered: score must be an integer from 0 to 10, got 11",
        ),
        (
            "NPS Answered",
            {"score": 8.5},
            "NPS Answered: score must be an integer from 0 to 10, got 8.5",
        ),
        (
            "NPS Answered",
            {"score": "9"},
            'NPS Answered: score must be an integer from 0 to 10, got "9" (text)',
        ),
        (
            "NPS Answered",
            {"score": True},
            "NPS Answered: score must be an integer from 0 to 10, got true",
        ),
        (
            "NPS Answered",
            {"score": math.nan},
            "NPS Answered: score must be an integer from 0 to 10, got NaN",
        ),
        ("NPS Answered", {}, "NPS Answered needs a score: an integer from 0 to 10"),
        (
            "CSAT Answered",
            {"score": 8, "scale": 7},
            "CSAT Answered: score must be an integer from 1 to 7 (7-point scale), got 8",
        ),
        (
            "CSAT Answered",
            {"score": 3, "scale": 6},
            "CSAT Answered: scale must be 5 or 7 (or absent, meaning 5), got 6",
        ),
        (
            "CES Answered",
            {"score": 8},
            "CES Answered: score must be an integer from 1 to 7, got 8",
        ),
    ],
)
def test_reasons_say_the_rule_and_the_value(
    event: str, properties: dict[str, Any], reason: str
) -> None:
    error = refused(event, properties)
    assert error.reason == reason
    assert str(error) == f"{error.field}: {reason}"


def test_a_csat_6_without_a_scale_says_how_to_send_a_7_point_survey() -> None:
    error = refused("CSAT Answered", {"score": 6})
    assert "from 1 to 5" in error.reason and "got 6" in error.reason
    assert '"scale": 7' in error.reason


def test_an_unknown_kano_answer_lists_the_accepted_ones() -> None:
    error = refused(
        "Kano Answered", {"feature": "Dark mode", "functional": "love it", "dysfunctional": 1}
    )
    assert '"love it"' in error.reason
    for accepted in ("1/like", "2/expect", "3/neutral", "4/live_with", "5/dislike", "j'aime"):
        assert accepted in error.reason


def test_a_long_text_value_is_cut_in_the_reason() -> None:
    error = refused("NPS Answered", {"score": "x" * 5_000})
    assert len(error.reason) < 200


def test_the_python_api_refuses_a_bad_answer_and_stores_a_good_one(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        with pytest.raises(InvalidMessage) as caught:
            ws.track("NPS Answered", user_id="u1", properties={"score": 11})
        assert caught.value.field == "properties.score"
        ws.track("NPS Answered", user_id="u1", properties={"score": 10})
    with empreinte.open(tmp_path / "ws") as ws:
        assert [e["properties"]["score"] for e in ws.events(user_id="u1")] == [10]


# -- through the real server --------------------------------------------------------------------


def _mid() -> str:
    return str(uuid.uuid4())


def test_mixed_batch_stores_the_good_answers_and_lists_the_bad(api: Any, uid: str) -> None:
    batch = [
        answer("NPS Answered", {"score": 10, "comment": "Parfait"}, userId=uid, messageId=_mid()),
        answer("NPS Answered", {"score": 11}, userId=uid, messageId=_mid()),
        answer("CSAT Answered", {"score": 7, "scale": 7}, userId=uid, messageId=_mid()),
        answer(
            "Kano Answered",
            {"feature": "Dark mode", "functional": "like", "dysfunctional": "meh"},
            userId=uid,
            messageId=_mid(),
        ),
        answer("CES Answered", {"score": 0}, userId=uid, messageId=_mid()),
        answer(
            "Experiment Viewed", {"experiment": "x", "variant": "B"}, userId=uid, messageId=_mid()
        ),
        answer("Clicked", {"score": 11}, userId=uid, messageId=_mid()),
    ]
    response = api.post("/v1/batch", {"batch": batch})
    assert response.status_code == 200, response.text  # the valid ones are stored
    body = response.json()
    assert body["success"] is True
    assert body["stored"] == 4
    expected = {
        1: ("properties.score", "out_of_range", "from 0 to 10, got 11"),
        3: ("properties.dysfunctional", "invalid_field", '"meh"'),
        4: ("properties.score", "out_of_range", "from 1 to 7, got 0"),
    }
    assert [r["index"] for r in body["rejected"]] == sorted(expected)
    for rejected in body["rejected"]:
        field, code, fragment = expected[rejected["index"]]
        assert rejected["field"] == field
        assert rejected["code"] == code
        assert rejected["messageId"] == batch[rejected["index"]]["messageId"]
        assert fragment in rejected["message"] and field in rejected["message"]
    assert "NPS Answered: score must be an integer from 0 to 10, got 11" in body["message"]
    stored = {e["messageId"]: e for e in api.events(userId=uid)}
    good = [0, 2, 5, 6]
    assert sorted(stored) == sorted(batch[i]["messageId"] for i in good)
    for i in good:
        assert stored[batch[i]["messageId"]]["properties"] == batch[i]["properties"]


def test_a_single_bad_answer_is_400_with_its_code(api: Any, uid: str) -> None:
    message = answer("CSAT Answered", {"score": 6, "scale": 5}, userId=uid, messageId=_mid())
    response = api.post("/v1/track", message)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "out_of_range"
    assert "CSAT Answered: score must be an integer from 1 to 5" in body["message"]
    assert body["rejected"][0]["field"] == "properties.score"
    assert api.total(userId=uid) == 0


# -- through the real CLI -----------------------------------------------------------------------

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_csv_survey_export_with_an_out_of_range_row(tmp_path: Path) -> None:
    ws_dir = str(tmp_path / "ws")
    run("init", ws_dir)
    (tmp_path / "nps.toml").write_text(
        'type = "track"\nevent = "NPS Answered"\ntime_format = "%d/%m/%Y"\n'
        '[columns]\nuserId = "respondent"\ntimestamp = "date"\n'
        '"properties.score" = "score"\n"properties.comment" = "comment"\n'
        '[constants]\n"properties.survey_id" = "nps-2025-q1"\n'
        '[types]\n"properties.score" = "int"\n"properties.comment" = "str"\n'
    )
    file = tmp_path / "nps.csv"
    file.write_text(
        "respondent,date,score,comment\n"
        "r1,04/03/2025,10,Parfait\n"
        "r2,04/03/2025,11,Typo in the export\n"
        "r3,05/03/2025,0,\n"
        "r4,05/03/2025,7,Bien\n"
    )
    code, out = run("import", str(file), "-w", ws_dir, "--mapping", str(tmp_path / "nps.toml"))
    flat = " ".join(out.split())  # the console may wrap long lines
    assert code == 2, out
    assert (
        "nps.csv:3: properties.score: NPS Answered: score must be an integer from 0 to 10" in flat
    )
    assert "got 11" in flat
    assert "nps.csv:2:" not in flat and "nps.csv:4:" not in flat and "nps.csv:5:" not in flat
    assert "3 events stored" in flat and "1 rejected" in flat
    with empreinte.open(ws_dir) as ws:
        scores = {e["user_id"]: e["properties"]["score"] for e in ws.events(event="NPS Answered")}
        assert scores == {"r1": 10, "r3": 0, "r4": 7}
        (r1,) = ws.events(user_id="r1")
    assert r1["properties"] == {"score": 10, "comment": "Parfait", "survey_id": "nps-2025-q1"}
