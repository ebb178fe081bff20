"""`empreinte erase`, `export`, `consent` and `users`, run in-process through Typer's runner."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from empreinte.privacy.users import Users

runner = CliRunner()


def run(*args: str, input: str | None = None) -> Any:
    return runner.invoke(app, list(args), input=input)


def workspace(tmp_path: Path) -> str:
    path = tmp_path / "ws"
    with empreinte.open(path) as ws:
        ws.identify(
            "jane",
            anonymous_id="web-jane",
            traits={"email": "Jane@Example.com", "phone": "06 12 34 56 78", "first_name": "Jane"},
        )
        ws.track("Order Completed", user_id="jane", properties={"revenue": 12})
        ws.identify("bob", traits={"email": "bob@example.com"})
    return str(path)


def test_erase_asks_then_erases_then_has_nothing_to_erase(tmp_path: Path) -> None:
    ws_dir = workspace(tmp_path)
    refused = run("erase", "--email", "JANE@example.com", "-w", ws_dir, input="n\n")
    assert refused.exit_code == 1 and "nothing was erased" in refused.output
    assert "2 events" in refused.output
    with empreinte.open(ws_dir) as ws:
        assert ws.count(user_id="jane") == 2

    done = run("erase", "--email", "JANE@example.com", "-w", ws_dir, input="y\n")
    assert done.exit_code == 0, done.output
    assert re.search(r"erased profile p_\w+: 2 events .* 4 identifiers suppressed", done.output)
    with empreinte.open(ws_dir) as ws:
        assert ws.count(user_id="jane") == 0 and ws.count(user_id="bob") == 1

    again = run("erase", "--phone", "+33612345678", "-w", ws_dir)
    assert again.exit_code == 0
    assert "nothing to erase: this phone was erased on" in again.output
    unknown = run("erase", "--user", "nobody", "-w", ws_dir)
    assert unknown.exit_code == 0
    assert "nothing to erase: no profile holds this user" in unknown.output
    bad = run("erase", "--email", "nope", "-w", ws_dir)
    assert bad.exit_code == 1 and "not a valid e-mail" in bad.output
    both = run("erase", "--email", "bob@example.com", "--user", "bob", "-w", ws_dir)
    assert both.exit_code == 1 and "exactly one" in both.output


def test_erase_by_profile_with_yes(tmp_path: Path) -> None:
    ws_dir = workspace(tmp_path)
    with empreinte.open(ws_dir) as ws:
        pid = ws.profiles.find("userId", "bob")
    assert pid
    result = run("erase", "--profile", pid, "--yes", "-w", ws_dir)
    assert result.exit_code == 0 and f"erased profile {pid}" in result.output
    result = run("erase", "--profile", pid, "--yes", "-w", ws_dir)
    assert result.exit_code == 0 and "nothing to erase" in result.output


def test_export_writes_json_to_stdout_or_a_file(tmp_path: Path) -> None:
    ws_dir = workspace(tmp_path)
    result = run("export", "--email", "jane@example.com", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["format"] == "empreinte.export/1"
    values = {i["type"]: i["value"] for i in doc["identifiers"]}
    assert values["email"] == "jane@example.com" and values["phone"] == "+33612345678"
    assert len(doc["events"]) == 2
    assert doc["events"][0]["traits"]["email"] == "Jane@Example.com"

    out = tmp_path / "jane.json"
    result = run("export", "--user", "jane", "-o", str(out), "-w", ws_dir)
    assert result.exit_code == 0
    assert orjson.loads(out.read_bytes())["profileId"] == doc["profileId"]
    assert out.stat().st_mode & 0o077 == 0

    missing = run("export", "--email", "nobody@example.com", "-w", ws_dir)
    assert missing.exit_code == 1 and "no profile holds this email" in missing.output


def test_consent_set_confirm_show(tmp_path: Path) -> None:
    ws_dir = workspace(tmp_path)
    result = run(
        "consent", "set", "--user", "jane", "--purpose", "marketing_email", "--grant",
        "--wording", "nl-1", "-w", ws_dir,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    token = re.search(r"cnf_[\w-]+", result.output)
    assert token and "pending" in result.output
    shown = run("consent", "show", "--user", "jane", "--json", "-w", ws_dir)
    assert orjson.loads(shown.stdout)["purposes"]["marketing_email"]["status"] == "pending"
    confirmed = run("consent", "confirm", token.group(), "-w", ws_dir)
    assert confirmed.exit_code == 0 and "granted" in confirmed.output
    again = run("consent", "confirm", token.group(), "-w", ws_dir)
    assert again.exit_code == 1 and "already used" in again.output
    run(
        "consent", "set", "--email", "jane@example.com", "--anonymous", "web-jane",
        "--purpose", "analytics", "--revoke", "--wording", "banner-2", "-w", ws_dir,
    )  # fmt: skip
    table = run("consent", "show", "--email", "jane@example.com", "-w", ws_dir)
    assert table.exit_code == 0
    assert re.search(r"marketing_email\s+│\s+yes\s+│\s+granted", table.output)
    assert re.search(r"analytics\s+│\s+no\s+│\s+revoked", table.output)
    bad = run(
        "consent", "set", "--user", "jane", "--purpose", "newsletter", "--grant",
        "--wording", "x", "-w", ws_dir,
    )  # fmt: skip
    assert bad.exit_code == 1 and "unknown purpose" in bad.output


def test_users_create_list_disable(tmp_path: Path) -> None:
    ws_dir = workspace(tmp_path)
    result = run(
        "users", "create", "--username", "alice", "--role", "analyst", "-w", ws_dir,
        input="a long passphrase\na long passphrase\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "a long passphrase" not in result.output
    mismatch = run(
        "users", "create", "--username", "bob", "--role", "viewer", "-w", ws_dir,
        input="a long passphrase\nanother passphrase\na long passphrase\na long passphrase\n",
    )  # fmt: skip
    assert mismatch.exit_code == 0 and "do not match" in mismatch.output
    piped = run(
        "users", "create", "--username", "carol", "--role", "admin", "--password-stdin",
        "-w", ws_dir, input="from a secret store\n",
    )  # fmt: skip
    assert piped.exit_code == 0
    short = run(
        "users", "create", "--username", "dan", "--role", "admin", "--password-stdin",
        "-w", ws_dir, input="short\n",
    )  # fmt: skip
    assert short.exit_code == 1 and "at least 12" in short.output
    listed = run("users", "list", "-w", ws_dir)
    assert all(name in listed.output for name in ("alice", "bob", "carol"))
    assert run("users", "disable", "bob", "-w", ws_dir).exit_code == 0
    assert run("users", "disable", "bob", "-w", ws_dir).exit_code == 1
    with empreinte.open(ws_dir) as ws:
        users = Users.for_workspace(ws.path, ws.privacy_store)
        assert users.login("carol", "from a secret store").role == "admin"
        assert users.login("alice", "a long passphrase").role == "analyst"


def test_compact_leaves_no_byte_of_an_erased_person_in_the_files(tmp_path: Path) -> None:
    ws_dir = workspace(tmp_path)
    with empreinte.open(ws_dir) as ws:
        # Enough other people for DuckDB to keep the erased rows' blocks around.
        ws.ingest(
            [
                {"type": "identify", "userId": f"u{i}", "traits": {"email": f"p{i}@example.com"}}
                for i in range(3000)
            ]
        )

    def files() -> bytes:
        return b"".join(p.read_bytes() for p in Path(ws_dir).iterdir() if p.is_file())

    result = run("erase", "--email", "jane@example.com", "--yes", "-w", ws_dir)
    assert result.exit_code == 0
    # Deleted rows are gone from the tables, but DuckDB leaves their bytes in free blocks.
    assert b"Jane@Example.com" in files()
    result = run("erase", "--compact", "-w", ws_dir)
    assert result.exit_code == 0, result.output
    assert "rewritten" in result.output
    data = files()
    assert b"Jane@Example.com" not in data and b"web-jane" not in data
    assert b"p2999@example.com" in data
    with empreinte.open(ws_dir) as ws:
        assert ws.count() == 3001
        assert ws.profiles.find("email", "bob@example.com")
        assert ws.suppression.is_suppressed("user_id:jane")
        assert ws.ingest([{"type": "track", "event": "E", "userId": "jane"}]).suppressed == 1


def test_compact_leaves_no_byte_of_an_address_someone_else_sent_first(tmp_path: Path) -> None:
    # Mallory sends Jane's address (in her own spelling) before Jane: erasing Jane takes it out
    # of Mallory's event too, and compacting leaves none of it in any file.
    path = tmp_path / "ws"
    with empreinte.open(path) as ws:
        ws.identify("mallory", traits={"email": "JANE@example.COM", "first_name": "Mal"})
        ws.track("Form Sent", user_id="mallory", properties={"contact": "Jane@Example.com"})
        ws.identify("jane", traits={"email": "Jane@Example.com", "phone": "06 12 34 56 78"})
        ws.ingest(
            [
                {"type": "identify", "userId": f"u{i}", "traits": {"email": f"p{i}@example.com"}}
                for i in range(3000)
            ]
        )
        pseudonym = ws.policy.pseudonymiser.pseudonym("email", "jane@example.com").encode()

    def files() -> bytes:
        return b"".join(p.read_bytes() for p in path.iterdir() if p.is_file()).lower()

    assert run("erase", "--user", "jane", "--yes", "-w", str(path)).exit_code == 0
    assert b"jane@example.com" in files()  # in freed blocks, until the file is rewritten
    result = run("erase", "--compact", "-w", str(path))
    assert result.exit_code == 0, result.output
    data = files()
    for gone in (b"jane@example.com", pseudonym, b"+33612345678", b"06 12 34 56 78"):
        assert gone not in data, gone
    assert b"p2999@example.com" in data
    with empreinte.open(path) as ws:
        assert ws.count(user_id="mallory") == 2
        assert ws.ingest([{"type": "identify", "userId": "mallory"}]).stored == 1
        later = ws.ingest(
            [{"type": "identify", "anonymousId": "x", "traits": {"email": "jane@example.com"}}]
        )
        assert later.suppressed == 1
