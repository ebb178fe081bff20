"""The `empreinte` command line, run in-process through Typer's runner."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from empreinte.credentials import key_digest
from empreinte.errors import AuthError

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_init_prints_a_write_key_and_an_admin_token(tmp_path: Path) -> None:
    code, out = run("init", str(tmp_path / "ws"))
    assert code == 0, out
    key = re.search(r"wk_[\w-]+", out)
    token = re.search(r"emp_[\w-]+", out)
    assert key and token
    with empreinte.open(tmp_path / "ws", create=False) as ws:
        assert ws.credentials.source_for(key.group()) == "default"
        assert ws.credentials.principal_for(token.group()).role == "admin"
    code, out = run("init", str(tmp_path / "ws"))
    assert code == 1 and "already holds a workspace" in out


def test_commands_on_a_missing_workspace_say_so(tmp_path: Path) -> None:
    code, out = run("events", "count", "-w", str(tmp_path / "nowhere"))
    assert code == 1
    assert "no workspace" in out and "empreinte init" in out


def test_help_everywhere() -> None:
    for command in ([], ["events"], ["keys"], ["tokens"], ["import"], ["demo"], ["serve"]):
        code, out = run(*command, "--help")
        assert code == 0 and "Usage" in out, command


def test_keys_and_tokens_create(tmp_path: Path) -> None:
    ws_dir = str(tmp_path / "ws")
    run("init", ws_dir)
    code, key = run("keys", "create", "--source", "store-till", "-w", ws_dir)
    assert code == 0
    code, token = run("tokens", "create", "--name", "bi", "--role", "analyst", "-w", ws_dir)
    assert code == 0
    code, out = run("tokens", "create", "--name", "x", "--role", "god", "-w", ws_dir)
    assert code != 0 and "god" in out
    with empreinte.open(ws_dir) as ws:
        assert ws.credentials.source_for(key.strip()) == "store-till"
        assert ws.credentials.principal_for(token.strip()).role == "analyst"


def test_keys_list_and_revoke(tmp_path: Path) -> None:
    ws_dir = str(tmp_path / "ws")
    run("init", ws_dir)
    _, first = run("keys", "create", "--source", "web", "-w", ws_dir)
    _, second = run("keys", "create", "--source", "app", "-w", ws_dir)
    first, second = first.strip(), second.strip()
    code, listed = run("keys", "list", "-w", ws_dir)
    assert code == 0 and key_digest(first) in listed and key_digest(second) in listed
    assert first not in listed and second not in listed
    code, out = run("keys", "revoke", key_digest(first), "-w", ws_dir)
    assert code == 0 and "web" in out
    code, out = run("keys", "revoke", second, "-w", ws_dir)  # the key itself works too
    assert code == 0 and "app" in out
    code, out = run("keys", "revoke", second, "-w", ws_dir)
    assert code != 0 and "already revoked" in out and "Traceback" not in out
    code, out = run("keys", "create", "--source", "bad name", "-w", ws_dir)
    assert code != 0 and "not a source name" in out and "Traceback" not in out
    with empreinte.open(ws_dir) as ws:
        for key in (first, second):
            with pytest.raises(AuthError):
                ws.credentials.source_for(key)


def test_import_jsonl_reports_bad_lines_and_keeps_good_ones(tmp_path: Path) -> None:
    ws_dir = str(tmp_path / "ws")
    run("init", ws_dir)
    lines = [
        orjson.dumps(
            {
                "type": "track",
                "event": "Order Completed",
                "userId": "u1",
                "messageId": "m1",
                "properties": {"total": 10},
            }
        ),
        b"{not json",
        orjson.dumps({"type": "track", "userId": "u2", "messageId": "m2"}),
        b"",
        orjson.dumps(
            {
                "type": "identify",
                "userId": "u1",
                "messageId": "m3",
                "traits": {"email": "a@example.com"},
            }
        ),
    ]
    file = tmp_path / "events.jsonl"
    file.write_bytes(b"\n".join(lines) + b"\n")
    code, out = run("import", str(file), "-w", ws_dir)
    assert code == 2  # some lines were refused
    assert "events.jsonl:2:" in out and "malformed JSON" in out
    assert "events.jsonl:3:" in out and "event" in out
    assert "2 events stored" in out and "2 rejected" in out
    code, out = run("import", str(file), "-w", ws_dir)
    assert "0 events stored, 2 already present" in out
    code, out = run("events", "count", "-w", ws_dir)
    assert out.strip() == "2"
    code, out = run("events", "show", "m1", "-w", ws_dir)
    assert code == 0 and '"Order Completed"' in out and '"total": 10' in out
    code, out = run("events", "tail", "-w", ws_dir, "-n", "5")
    assert code == 0 and "Order Completed" in out and "identify" in out


def test_import_csv_with_a_column_map(tmp_path: Path) -> None:
    ws_dir = str(tmp_path / "ws")
    run("init", ws_dir)
    file = tmp_path / "tills.csv"
    file.write_text(
        "card,when,amount,store,phone\n"
        "C-001,2025-03-04T10:00:00Z,129.90,paris-01,0612345678\n"
        "C-002,not a date,15,lyon-02,0698765432\n"
        ",2025-03-05T11:00:00Z,20,lyon-02,\n"
        "C-003,2025-03-06T12:30:00Z,42,lyon-02,\n"
    )
    code, out = run(
        "import",
        str(file),
        "-w",
        ws_dir,
        "--source",
        "tills",
        "--event",
        "Order Completed",
        "--map",
        "userId=card",
        "--map",
        "timestamp=when",
        "--map",
        "properties.total=amount",
        "--map",
        "properties.store_id=store",
        "--map",
        "context.traits.phone=phone",
        "--set",
        "context.channel=store",
    )
    assert code == 2, out
    assert "tills.csv:3:" in out and "timestamp" in out  # the bad date
    assert "tills.csv:4:" in out and "userId" in out  # no identity
    assert "2 events stored" in out
    with empreinte.open(ws_dir) as ws:
        (first,) = ws.events(user_id="C-001", pii=True)
        (masked,) = ws.events(user_id="C-001")
    assert masked["context"]["traits"]["phone"].startswith("pii_")
    assert first["properties"] == {"total": 129.9, "store_id": "paris-01"}
    assert first["context"]["traits"]["phone"] == "0612345678"  # leading zero: stays text
    assert first["channel"] == "store" and first["source"] == "tills"
    assert first["timestamp"].isoformat().startswith("2025-03-04T10:00:00")


def test_import_csv_refuses_a_map_naming_missing_columns_before_any_work(tmp_path: Path) -> None:
    ws_dir = str(tmp_path / "ws")
    run("init", ws_dir)
    file = tmp_path / "survey.csv"
    file.write_text("respondent,score\nr1,9\n")
    code, out = run(
        "import",
        str(file),
        "-w",
        ws_dir,
        "--event",
        "NPS Answered",
        "--map",
        "userId=customer",
        "--map",
        "properties.score=nps",
    )
    assert code == 1
    assert "customer" in out and "nps" in out and "respondent, score" in out
    code, out = run("events", "count", "-w", ws_dir)
    assert out.strip() == "0"


def test_import_csv_with_a_mapping_file(tmp_path: Path) -> None:
    ws_dir = str(tmp_path / "ws")
    run("init", ws_dir)
    (tmp_path / "map.toml").write_text(
        'type = "track"\nevent = "NPS Answered"\ntime_format = "%d/%m/%Y"\n'
        '[columns]\nuserId = "respondent"\ntimestamp = "date"\n"properties.score" = "score"\n'
        '[constants]\n"properties.survey_id" = "nps-relational"\n'
        '[types]\n"properties.score" = "int"\n'
    )
    file = tmp_path / "survey.csv"
    file.write_text("respondent,date,score\nr1,04/03/2025,9\nr2,05/03/2025,six\n")
    code, out = run("import", str(file), "-w", ws_dir, "--mapping", str(tmp_path / "map.toml"))
    assert code == 2 and "1 events stored" in out and "survey.csv:3:" in out
    with empreinte.open(ws_dir) as ws:
        (event,) = ws.events(user_id="r1")
    assert event["properties"] == {"score": 9, "survey_id": "nps-relational"}
    assert event["timestamp"].date().isoformat() == "2025-03-04"


def test_demo_builds_a_fresh_workspace_and_refuses_to_overwrite_other_data(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    code, out = run("demo", "--dir", str(target), "--people", "40", "--months", "3", "--no-serve")
    assert code == 0, out
    key = re.search(r"wk_[\w-]+", out)
    stored = re.search(r"(\d+) demo events stored", out)
    assert key and stored and int(stored.group(1)) > 40
    with empreinte.open(target, create=False) as ws:
        assert ws.count() == int(stored.group(1))
        assert ws.credentials.source_for(key.group()) == "web"
        assert {e["channel"] for e in ws.events(limit=1000)} >= {"web", "store"}
    # Running it again recreates the demo; a directory that is not a demo is left alone.
    code, out = run("demo", "--dir", str(target), "--people", "40", "--months", "3", "--no-serve")
    assert code == 0 and f"{stored.group(1)} demo events stored" in out
    code, out = run("init", str(tmp_path / "mine"))
    code, out = run("demo", "--dir", str(tmp_path / "mine"), "--no-serve")
    assert code == 1 and "not a demo workspace" in out


def test_import_with_an_unreadable_mapping_file_names_it(tmp_path: Path) -> None:
    ws_dir = str(tmp_path / "ws")
    run("init", ws_dir)
    (tmp_path / "f.csv").write_text("a,b\n1,2\n")
    (tmp_path / "m.toml").write_text("bogus = [\n")
    code, out = run(
        "import", str(tmp_path / "f.csv"), "-w", ws_dir, "--mapping", str(tmp_path / "m.toml")
    )
    assert code == 1 and "cannot read the mapping" in out and "m.toml" in out
