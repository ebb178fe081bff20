"""`empreinte demo` stores its calls and reviews redacted: what was said on the phone — card
numbers, IBANs, e-mail addresses, phone numbers, names, addresses — is nowhere in the
workspace after the demo's write, neither in the log, nor in the vault, nor in the files.

The planted values are read back from the raw messages of the same demo (same people, same
seed) with patterns of how they are said, not from the generator's own bookkeeping.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from empreinte.demo import Person, generate_with_truth
from empreinte.demo.phrases import STREETS

# Enough people for every kind of personal data to be said on a few calls (with 300, the
# persona mix of 2026-12-05 reads no card number in digits, 500 and 800 one IBAN).
PEOPLE = 1000
Message = dict[str, Any]

_DIGIT_WORDS = (
    "zéro|un|deux|trois|quatre|cinq|six|sept|huit|neuf|"
    "zero|one|two|three|four|five|six|seven|eight|nine"
)
_PATTERNS = {
    "card": re.compile(r"\b\d{4} \d{4} \d{4} \d{4}\b"),
    "spoken card": re.compile(rf"(?:(?:{_DIGIT_WORDS}),? ){{15}}(?:{_DIGIT_WORDS})\b"),
    "iban": re.compile(r"\bFR\d{2}(?: \d{4}){5} \d{3}\b"),
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "spelled email": re.compile(r"\w+(?: (?:point|dot) \w+)* (?:arobase|at) \w+ (?:point|dot) \w+"),
    "phone": re.compile(r"\b0\d(?: \d\d){4}\b|\b\d{3} \d{3} \d{4}\b"),
    "address": re.compile(
        rf"\b\d{{1,3}} (?:{'|'.join(s for streets in STREETS.values() for s in streets)}), \w+"
    ),
}
_HALF_CARD_END = re.compile(r"(\d{4} \d{4})$")
_HALF_CARD_START = re.compile(r"^(\d{4} \d{4})\.")


@pytest.fixture(scope="module")
def raw() -> list[tuple[Person, list[Message]]]:
    """The demo's messages as generated, before any redaction."""
    return list(generate_with_truth(PEOPLE))


@pytest.fixture(scope="module")
def said(raw: list[tuple[Person, list[Message]]]) -> dict[str, set[str]]:
    """What was said on the calls, by kind, as it was said."""
    found: dict[str, set[str]] = {kind: set() for kind in (*_PATTERNS, "split card", "name")}
    for person, messages in raw:
        for message in messages:
            if message.get("event") != "Call Completed":
                continue
            turns = [t["text"] for t in message["properties"]["transcript"]]
            text = "\n".join(turns)
            for kind, pattern in _PATTERNS.items():
                # an IBAN's groups of four digits are no card number
                searched = text if kind == "iban" else _PATTERNS["iban"].sub("", text)
                found[kind].update(pattern.findall(searched))
            for i, turn in enumerate(turns[:-2]):
                first = _HALF_CARD_END.search(turn)
                second = _HALF_CARD_START.search(turns[i + 2])
                if first and second:
                    found["split card"].add(f"{first.group(1)} {second.group(1)}")
            name = f"{person.first_name} {person.last_name}"
            if name in text:
                found["name"].add(name)
    return found


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, bytes, int]:
    """The demo's workspace: (the log as stored, the log with its vault, every file's bytes,
    the number of stored calls), after `empreinte demo`."""
    target = tmp_path_factory.mktemp("voice") / "demo"
    result = CliRunner().invoke(
        app, ["demo", "--dir", str(target), "--people", str(PEOPLE), "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    with empreinte.open(target, create=False) as ws:
        log = orjson.dumps(ws.events(limit=10**7)).decode()
        vault = orjson.dumps(ws.events(limit=10**7, pii=True)).decode()
        calls = ws.count(event="Call Completed")
    files = b"".join(p.read_bytes() for p in sorted(target.rglob("*")) if p.is_file())
    return log, vault, files, calls


def _readable(value: str, log: str, files: bytes | None = None) -> bool:
    compact = value.replace(" ", "")
    texts = [log] + ([files.decode("latin-1")] if files is not None else [])
    return any(v in t for t in texts for v in {value, compact})


def test_the_demo_stores_its_calls_with_placeholders(
    raw: list[tuple[Person, list[Message]]], stored: tuple[str, str, bytes, int]
) -> None:
    log, _, _, calls = stored
    generated = sum(m.get("event") == "Call Completed" for _, ms in raw for m in ms)
    assert calls == generated >= 50
    assert "<CARD>" in log and "<EMAIL>" in log  # what is read below is the stored text


def test_cards_emails_and_phones_said_on_a_call_are_not_stored(
    said: dict[str, set[str]], stored: tuple[str, str, bytes, int]
) -> None:
    log, vault, files, _ = stored
    assert len(said["card"]) >= 2 and len(said["email"]) >= 5 and len(said["phone"]) >= 5
    # Card numbers exist nowhere else: not in the vault, not in any file.
    assert [c for c in said["card"] if _readable(c, vault, files)] == []
    # E-mails and phones are also the person's identifiers, kept in the vault on purpose:
    # the log itself must not hold them.
    assert [e for e in said["email"] if e in log] == []
    assert [p for p in said["phone"] if _readable(p, log)] == []


def test_names_ibans_spoken_and_split_cards_and_addresses_are_not_stored(
    said: dict[str, set[str]], stored: tuple[str, str, bytes, int]
) -> None:
    log, vault, files, _ = stored
    assert len(said["iban"]) >= 2 and len(said["spoken card"]) >= 2 and len(said["name"]) >= 20
    assert len(said["split card"]) >= 2 and len(said["spelled email"]) >= 2
    for kind in ("iban", "spoken card", "split card"):
        assert [v for v in said[kind] if _readable(v, vault, files)] == [], kind
    transcripts = "".join(re.findall(r'"transcript":\[.*?\]', log))
    assert len(said["address"]) >= 2
    for kind in ("name", "spelled email", "address"):
        assert [v for v in said[kind] if v in transcripts] == [], kind
    assert "<PERSON>" in transcripts and "<IBAN>" in transcripts
