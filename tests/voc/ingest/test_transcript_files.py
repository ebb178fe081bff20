"""`empreinte voc import` and `empreinte import --kind transcripts`: each format read into
turns, bad lines reported with their number (never their text), good ones kept, everything
through the collector's redaction."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from empreinte.collect.transcript_files import TranscriptOptions, transcript_lines
from empreinte.errors import ImportFailed, InvalidMessage
from empreinte.voc.model import MAX_TURN_CHARS, MAX_TURNS
from voc.ingest.planted import CARD_SPACED, EMAIL_FR, PHONE_FR, files_holding, french_turns

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def ws_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("voc-import") / "ws"
    code, out = run("init", str(path))
    assert code == 0, out
    yield path


def calls(ws_dir: Path, source: str) -> list[dict[str, Any]]:
    with empreinte.open(ws_dir) as ws:
        return [e for e in ws.events(event="Call Completed") if e["source"] == source] + [
            e for e in ws.events(event="Chat Completed") if e["source"] == source
        ]


def turns_of(path: Path, **options: Any) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """The turns of a text/VTT/SRT file's one conversation, and its bad lines."""
    items = list(transcript_lines(path, TranscriptOptions(**options)))
    bad = [(n, str(item)) for n, item in items if isinstance(item, InvalidMessage)]
    messages = [item for _, item in items if isinstance(item, dict)]
    turns = messages[0]["properties"]["transcript"] if messages else []
    return turns, bad


# -- JSONL ---------------------------------------------------------------------------------------


def test_jsonl_conversations_and_messages_with_a_bad_line_reported(
    ws_dir: Path, tmp_path: Path
) -> None:
    file = tmp_path / "calls.jsonl"
    lines = [
        {
            "id": "c-1",
            "timestamp": "2026-11-02T10:00:00Z",
            "queue": "delivery",
            "agent_id": "a-3",
            "phone": "06 55 44 33 22",
            "turns": french_turns(),
        },
        {"id": "c-2", "turns": [{"speaker": "alien", "text": f"mail {EMAIL_FR}"}]},
        "not an object",
        {
            "type": "track",
            "event": "Call Completed",
            "anonymousId": "ivr-9",
            "messageId": "seg-1",
            "properties": {"transcript": [{"speaker": "customer", "text": f"au {PHONE_FR}"}]},
        },
    ]
    file.write_bytes(
        b"\n".join(orjson.dumps(x) for x in lines) + b"\n{broken\n" + b'{"id": "c-3"}\n'
    )
    code, out = run(
        "voc", "import", str(file), "-w", str(ws_dir), "--caller-field", "phone", "--source", "jl"
    )
    flat = " ".join(out.split())
    assert code == 2, out
    assert "2 conversation(s) stored" in flat and "4 line(s) rejected" in flat
    assert f"{file}:6: turns: a conversation needs its turns" in flat
    assert f"{file}:2: properties.transcript[0].speaker" in flat
    assert f"{file}:3:" in flat and f"{file}:5: malformed JSON" in flat
    assert EMAIL_FR not in out
    stored = {e["message_id"]: e for e in calls(ws_dir, "jl")}
    assert set(stored) == {"transcript-c-1", "seg-1"}
    first = stored["transcript-c-1"]["properties"]
    assert first["queue"] == "delivery" and first["agent_id"] == "a-3"
    assert first["caller_number"].startswith("pii_") and first["language"] == "fr"
    assert "<CARD>" in first["transcript"][1]["text"]
    assert stored["seg-1"]["properties"]["transcript"][0]["text"] == "au <PHONE>"
    # Imported again: recognised, nothing doubled.
    code, out = run(
        "import", "--kind", "transcripts", str(file), "-w", str(ws_dir), "--source", "jl"
    )
    assert "2 already present" in " ".join(out.split())


# -- plain text, WebVTT, SRT ------------------------------------------------------------------


PLAIN = f"""[00:00] Conseiller: Bonjour, que puis-je faire pour vous ?
[00:04] Client: Ma carte {CARD_SPACED} a été débitée deux fois.
elle a été refusée hier aussi.
[00:12] Agent: Je regarde.
Note de l'opérateur
[00:20] Customer: merci, écrivez-moi à {EMAIL_FR}
[00:9x] Client: rien
"""


def test_plain_text_turns_times_continuations_and_speakers(tmp_path: Path) -> None:
    file = tmp_path / "call.txt"
    file.write_text(PLAIN)
    turns, bad = turns_of(file)
    assert [t["speaker"] for t in turns] == ["agent", "customer", "agent", "customer"]
    assert turns[1]["text"].endswith("deux fois. elle a été refusée hier aussi.")
    assert [(t["start"], t["end"]) for t in turns] == [(0, 4), (4, 12), (12, 20), (20, 20)]
    # "[00:9x] Client: rien" starts with no valid time: it continues the turn before; no bad line
    # quotes a text.
    assert turns[2]["text"] == "Je regarde. Note de l'opérateur"
    assert bad == []


def test_plain_text_without_a_first_speaker_and_unknown_names(tmp_path: Path) -> None:
    file = tmp_path / "call.txt"
    file.write_text(f"bonjour {EMAIL_FR}\nBob: salut\nClient: Bonjour\n[00:70] Agent: x\n")
    turns, bad = turns_of(file)
    assert [n for n, _ in bad] == [1, 2, 4]
    assert all(EMAIL_FR not in reason for _, reason in bad)
    assert "59 seconds" in bad[2][1]
    assert [t["text"] for t in turns] == ["Bonjour"]
    # Named by an option: Bob is the agent.
    turns, bad = turns_of(file, agent_names=("Bob",))
    assert [n for n, _ in bad] == [1, 4] and turns[0] == {
        "speaker": "agent",
        "text": "salut",
        "start": None,
        "end": None,
    }


VTT = f"""WEBVTT

NOTE exported by the call centre

1
00:00:00.000 --> 00:00:03.500
<v Conseillère>Bonjour, service client.

2
00:03.500 --> 00:09.000
<v Client>Ma carte est la {CARD_SPACED}.

00:09.000 --> 00:12.000
et elle ne marche plus.

00:12.000 --> 00:15.000
<v Marie Dupont>Je transfère.

00:16.000 --> 00:14.000
<v Agent>à l'envers
"""


def test_webvtt_voices_cues_and_bad_cues(tmp_path: Path) -> None:
    file = tmp_path / "call.vtt"
    file.write_text(VTT)
    turns, bad = turns_of(file)
    assert [(t["speaker"], t["start"], t["end"]) for t in turns] == [
        ("agent", 0.0, 3.5),
        ("customer", 3.5, 9.0),
        ("customer", 9.0, 12.0),
    ]
    assert [n for n, _ in bad] == [16, 19]  # the cues' timing lines
    assert "Marie" not in bad[0][1] and "--agent-name" in bad[0][1]
    assert "ends before it starts" in bad[1][1]
    turns, bad = turns_of(file, agent_names=("Marie Dupont",))
    assert turns[3]["speaker"] == "agent" and [n for n, _ in bad] == [19]


SRT = f"""1
00:00:01,000 --> 00:00:04,000
Agent: Bonjour, vous êtes bien chez nous.

2
00:00:04,500 --> 00:00:08,250
Client: Rappelez-moi au {PHONE_FR}
s'il vous plaît.

3
00:00:09,000 --> 00:00:10,000
<i>Advisor:</i> D'accord.
"""


def test_srt_cues_with_name_prefixes(ws_dir: Path, tmp_path: Path) -> None:
    file = tmp_path / "call.srt"
    file.write_text(SRT)
    turns, bad = turns_of(file)
    assert bad == []
    assert [(t["speaker"], t["start"], t["end"]) for t in turns[:2]] == [
        ("agent", 1.0, 4.0),
        ("customer", 4.5, 8.25),
    ]
    assert turns[1]["text"] == f"Rappelez-moi au {PHONE_FR} s'il vous plaît."
    code, out = run(
        "voc",
        "import",
        str(file),
        "-w",
        str(ws_dir),
        "--source",
        "srt",
        "--caller-number",
        "06 10 20 30 40",
        "--queue",
        "sav",
        "--timestamp",
        "2026-11-03T09:00:00Z",
    )
    assert code == 0, out
    [stored] = calls(ws_dir, "srt")
    assert (
        stored["properties"]["transcript"][1]["text"] == "Rappelez-moi au <PHONE> s'il vous plaît."
    )
    assert stored["properties"]["queue"] == "sav" and stored["timestamp"].isoformat().startswith(
        "2026-11-03"
    )
    assert files_holding(ws_dir, [PHONE_FR]) == {}
    # The caller's number: a pseudonym in the log (its raw value in the vault, as any phone).
    assert stored["properties"]["caller_number"].startswith("pii_")


def test_a_chat_log_as_chat_completed(ws_dir: Path, tmp_path: Path) -> None:
    file = tmp_path / "chat.txt"
    file.write_text("Client: bonjour\nConseiller: bonjour, je vous écoute\n")
    code, out = run(
        "import",
        "--kind",
        "transcripts",
        str(file),
        "-w",
        str(ws_dir),
        "--channel",
        "chat",
        "--source",
        "chat",
    )
    assert code == 0, out
    [stored] = calls(ws_dir, "chat")
    assert stored["event"] == "Chat Completed" and stored["channel"] == "chat"


# -- hostile files --------------------------------------------------------------------------------


def test_too_many_turns_and_too_long_lines_are_bounded(tmp_path: Path) -> None:
    many = tmp_path / "many.txt"
    many.write_text("".join(f"Agent: {n}\n" for n in range(MAX_TURNS + 50)))
    turns, bad = turns_of(many)
    assert len(turns) == MAX_TURNS and len(bad) == 1 and str(MAX_TURNS) in bad[0][1]
    long = tmp_path / "long.txt"
    long.write_text("Client: " + "a" * (MAX_TURN_CHARS * 3) + "\nAgent: ok\n")
    turns, bad = turns_of(long)
    assert [n for n, _ in bad] == [1] and [t["text"] for t in turns] == ["ok"]


@pytest.mark.parametrize("suffix", [".txt", ".vtt", ".srt"])
def test_a_hostile_file_is_read_in_linear_time(tmp_path: Path, suffix: str) -> None:
    """Lines built against the patterns (colons, brackets, voice tags, timings): one pass."""
    file = tmp_path / f"hostile{suffix}"
    line = ("<v." + "a." * 2000 + " " * 50 + "[00:" + ":" * 1000 + "<b" * 200)[:MAX_TURN_CHARS]
    file.write_text("00:00.000 --> 00:01.000\n" + (line + "\n") * 200)
    started = time.process_time()
    turns_of(file)
    spent = time.process_time() - started
    file.write_text("00:00.000 --> 00:01.000\n" + ("x" * len(line) + "\n") * 200)
    started = time.process_time()
    turns_of(file)
    plain = time.process_time() - started
    assert spent < 20 * plain + 0.5, (spent, plain)


def test_a_missing_file_and_a_bad_option_are_one_line_errors(tmp_path: Path, ws_dir: Path) -> None:
    code, out = run("voc", "import", str(tmp_path / "none.jsonl"), "-w", str(ws_dir))
    assert code == 1 and "no such file" in out
    with pytest.raises(ImportFailed):
        TranscriptOptions(channel="fax")
    code, out = run("import", "--kind", "calls", str(tmp_path / "x"), "-w", str(ws_dir))
    assert code == 1 and "--kind" in out


def test_a_file_conversation_may_pass_32_kb_but_not_1_mb(ws_dir: Path, tmp_path: Path) -> None:
    def line(n: int, turns: int) -> bytes:
        text = "Je voudrais comprendre pourquoi ma livraison est en retard. " * 80  # 4.8 KB
        return orjson.dumps(
            {"id": f"long-{n}", "turns": [{"speaker": "customer", "text": text}] * turns}
        )

    file = tmp_path / "long.jsonl"
    file.write_bytes(line(1, 12) + b"\n" + line(2, 230) + b"\n")  # ~58 KB, then ~1.1 MB
    code, out = run("voc", "import", str(file), "-w", str(ws_dir), "--source", "long")
    flat = " ".join(out.split())
    assert code == 2 and "1 conversation(s) stored" in flat, out
    assert f"{file}:2: message is" in flat and "1024 KB" in flat
    [stored] = calls(ws_dir, "long")
    assert len(stored["properties"]["transcript"]) == 12


@settings(max_examples=60)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("Agent:Client<v >[]0123456789-.,\n àé"), max_size=60),
        max_size=30,
    ),
    st.sampled_from(["text", "vtt", "srt"]),
)
def test_any_text_file_reads_as_turns_or_numbered_bad_lines(lines: list[str], kind: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        file = Path(directory) / "any"
        file.write_text("\n".join(lines))
        for number, item in transcript_lines(file, TranscriptOptions(format=kind)):
            assert number >= 1
            if isinstance(item, dict):
                for turn in item["properties"]["transcript"]:
                    assert turn["speaker"] in ("agent", "customer")
                    assert len(turn["text"]) <= MAX_TURN_CHARS
            else:
                assert isinstance(item, InvalidMessage)
