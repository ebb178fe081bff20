"""Conversations from files: `empreinte import --kind transcripts` and `empreinte voc import`.

Formats (by extension, or `--format`):

- **JSONL** (`.jsonl`, `.ndjson`): one conversation a line, either a Segment message
  (`Call Completed` / `Chat Completed` with `properties.transcript`), or an object
  `{"turns": [...], "id", "timestamp", "queue", "agent_id", "duration", "userId",
  "anonymousId", <caller field>}` (`transcript` is read as `turns`).
- **Plain text** (any other extension): one conversation a file, one turn a line,
  `Agent: …`, `Client: …`, `Conseiller: …`, `Customer: …`, optionally after a time `[mm:ss]`
  or `[hh:mm:ss]`; a line without a speaker continues the turn before it.
- **WebVTT** (`.vtt`) and **SRT** (`.srt`): one conversation a file, one turn a cue; the
  speaker from `<v Name>` or a `Name:` prefix, read as agent or customer (the usual names, and
  those given as `--agent-name` / `--customer-name`).

Every conversation goes through the collector's own validation (`normalise`): its transcript
checked, its texts redacted before they are written. A bad line is reported with its number
and reason (never its text: it is not redacted yet); the good ones are kept. Parsing is one
pass, line by line, with anchored patterns that cannot backtrack.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from empreinte.collect.transcripts import speaker_of
from empreinte.errors import ImportFailed, InvalidMessage
from empreinte.voc.model import MAX_TURN_CHARS, MAX_TURNS

FORMATS = ("jsonl", "text", "vtt", "srt")
_EVENTS = {"phone": "Call Completed", "chat": "Chat Completed"}
# `[mm:ss]` or `[hh:mm:ss]` (optional fraction) at the start of a plain-text line.
_CLOCK = re.compile(r"\[(?:(\d{1,2}):)?(\d{1,3}):(\d{2})(?:[.,]\d{1,3})?\]\s*")
# `Name:` at the start of a line: a short label without a colon.
_LABEL = re.compile(r"([^:<>\[\]]{1,40}?)\s*:\s?")
# A cue's timing line: `00:01.000 --> 00:04.000` (WebVTT) or `00:00:01,000 --> …` (SRT).
_TIME = r"(?:(\d{1,3}):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
_CUE = re.compile(rf"{_TIME}\s*-->\s*{_TIME}")
_VOICE = re.compile(r"<v(?:\.[^ >.]{1,40})*\s+([^>]{1,80})>")
_TAG = re.compile(r"</?[a-zA-Z.][^>]{0,80}>")
_MAX_LINE = MAX_TURN_CHARS + 200


@dataclass(frozen=True)
class TranscriptOptions:
    """How a file's conversations become messages.

    `channel`: phone (`Call Completed`) or chat (`Chat Completed`); `queue`, `agent_id`,
    `caller_number` apply to every conversation of the file unless a JSONL line has its own;
    `caller_field`: the JSONL field holding the caller's number (stored as
    `properties.caller_number`, pseudonymised: it resolves the caller's profile);
    `agent_names` / `customer_names`: further speaker labels; `timestamp`: when a text file's
    conversation took place (default: the file's modification time)."""

    channel: str = "phone"
    queue: str | None = None
    agent_id: str | None = None
    caller_number: str | None = None
    caller_field: str = "caller_number"
    agent_names: tuple[str, ...] = ()
    customer_names: tuple[str, ...] = ()
    timestamp: str | None = None
    format: str | None = None
    names: dict[str, str] = field(default_factory=dict, init=False, compare=False)

    def __post_init__(self) -> None:
        if self.channel not in _EVENTS:
            raise ImportFailed(f"channel: choose phone or chat, not {self.channel!r}")
        if self.format is not None and self.format not in FORMATS:
            raise ImportFailed(f"format: choose among {', '.join(FORMATS)}")
        for name in self.agent_names:
            self.names[name.strip().lower()] = "agent"
        for name in self.customer_names:
            self.names[name.strip().lower()] = "customer"

    def speaker(self, label: str) -> str | None:
        return self.names.get(label.strip().lower()) or speaker_of(label)


def format_of(path: Path, options: TranscriptOptions) -> str:
    if options.format:
        return options.format
    suffix = path.suffix.lower()
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".vtt": "vtt", ".srt": "srt"}.get(suffix, "text")


def transcript_lines(path: Path, options: TranscriptOptions) -> Iterator[tuple[int, Any]]:
    """(line number, message or `InvalidMessage`) for the file's conversations and bad lines."""
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    kind = format_of(path, options)
    if kind == "jsonl":
        yield from _jsonl(path, options)
        return
    turns: list[dict[str, Any]] = []
    reader = {"text": _text_turns, "vtt": _cue_turns, "srt": _cue_turns}[kind]
    for number, item in reader(path, options):
        if isinstance(item, InvalidMessage):
            yield number, item
        else:
            turns.append(item)
    if not turns:
        yield 1, InvalidMessage("no turn found in the file", None, "invalid_transcript")
        return
    stamp = options.timestamp or datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:32]
    yield 1, _message({"turns": turns, "timestamp": stamp}, f"transcript-{digest}", options)


# -- JSONL ------------------------------------------------------------------------------------


def _jsonl(path: Path, options: TranscriptOptions) -> Iterator[tuple[int, Any]]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield number, InvalidMessage(f"malformed JSON at column {exc.colno}: {exc.msg}")
                continue
            if not isinstance(item, dict):
                yield number, InvalidMessage("a line must be a JSON object")
            elif "type" in item or "event" in item:  # a Segment message as it is
                yield number, item
            elif item.get("turns", item.get("transcript")) is None:
                yield (
                    number,
                    InvalidMessage(
                        "a conversation needs its turns (`turns` or `transcript`)",
                        "turns",
                        "invalid_transcript",
                    ),
                )
            else:
                digest = hashlib.sha256(line.strip()).hexdigest()[:32]
                yield number, _message(item, f"transcript-{digest}", options)


def _message(item: dict[str, Any], digest_id: str, options: TranscriptOptions) -> dict[str, Any]:
    """A conversation object as a `Call Completed` / `Chat Completed` message."""
    turns = item.get("turns", item.get("transcript"))
    if isinstance(turns, list):  # speakers as the file names them: the options' names too
        turns = [_named(turn, options) for turn in turns]
    conversation_id = item.get("id") or item.get("conversation_id")
    message_id = (
        f"transcript-{conversation_id}"
        if isinstance(conversation_id, str | int) and not isinstance(conversation_id, bool)
        else digest_id
    )
    properties: dict[str, Any] = {"transcript": turns}
    for key, default in (("queue", options.queue), ("agent_id", options.agent_id)):
        value = item.get(key, default)
        if value is not None:
            properties[key] = value
    if item.get("duration") is not None:
        properties["duration"] = item["duration"]
    caller = item.get(options.caller_field, options.caller_number)
    if caller is not None:
        properties["caller_number"] = caller
    message: dict[str, Any] = {
        "type": "track",
        "event": _EVENTS[options.channel],
        "messageId": message_id,
        "properties": properties,
        "context": {"channel": options.channel},
    }
    for key in ("userId", "anonymousId"):
        if item.get(key) is not None:
            message[key] = item[key]
    if "userId" not in message and "anonymousId" not in message:
        message["anonymousId"] = message_id  # the caller's number resolves the person
    stamp = item.get("timestamp") or item.get("started_at")
    if stamp is not None:
        message["timestamp"] = stamp
    return message


def _named(turn: Any, options: TranscriptOptions) -> Any:
    if isinstance(turn, dict) and isinstance(turn.get("speaker"), str):
        found = options.names.get(turn["speaker"].strip().lower())
        if found:
            return {**turn, "speaker": found}
    return turn


# -- plain text -------------------------------------------------------------------------------


def _lines(path: Path) -> Iterator[tuple[int, str | InvalidMessage]]:
    with path.open(encoding="utf-8-sig", errors="replace", newline=None) as handle:
        for number, line in enumerate(handle, start=1):
            if len(line) > _MAX_LINE:
                yield (
                    number,
                    InvalidMessage(
                        f"the line is {len(line)} characters; at most {MAX_TURN_CHARS} are read",
                        None,
                        "invalid_transcript",
                    ),
                )
            else:
                yield number, line.strip()


def _bounded(number: int, turns_so_far: int, text: str) -> InvalidMessage | None:
    if turns_so_far >= MAX_TURNS:
        return InvalidMessage(
            f"more than {MAX_TURNS} turns: the rest of the file is not read",
            None,
            "invalid_transcript",
        )
    if len(text) > MAX_TURN_CHARS:
        return InvalidMessage(
            f"the turn is longer than {MAX_TURN_CHARS} characters", None, "invalid_transcript"
        )
    return None


def _text_turns(
    path: Path, options: TranscriptOptions
) -> Iterator[tuple[int, dict[str, Any] | InvalidMessage]]:
    """Turns of a plain-text transcript; a turn is yielded when the next one starts."""
    current: dict[str, Any] | None = None
    start_line = 0
    count = 0
    for number, line in _lines(path):
        if isinstance(line, InvalidMessage):
            yield number, line
            continue
        if not line:
            continue
        at: float | None = None
        clock = _CLOCK.match(line)
        if clock:
            hours, minutes, seconds = clock.groups()
            if int(seconds) >= 60:
                yield (
                    number,
                    InvalidMessage(
                        "the time [mm:ss] has more than 59 seconds", None, "invalid_transcript"
                    ),
                )
                continue
            at = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
            line = line[clock.end() :]
        label = _LABEL.match(line)
        speaker = options.speaker(label.group(1)) if label else None
        if speaker is None:
            if current is None:
                yield (
                    number,
                    InvalidMessage(
                        "no speaker (Agent:, Client:, Conseiller:, Customer:…) before this text",
                        None,
                        "invalid_transcript",
                    ),
                )
            else:
                current["text"] = f"{current['text']} {line}"
            continue
        assert label is not None
        if current is not None:
            if at is not None and current["start"] is not None and at >= current["start"]:
                current["end"] = at
            problem = _bounded(start_line, count, current["text"])
            if problem:
                yield start_line, problem
                if count >= MAX_TURNS:
                    return
            else:
                count += 1
                yield start_line, current
        current = {"speaker": speaker, "text": line[label.end() :], "start": at, "end": at}
        start_line = number
    if current is not None:
        problem = _bounded(start_line, count, current["text"])
        yield start_line, problem or current


# -- WebVTT and SRT ---------------------------------------------------------------------------


def _seconds(groups: tuple[str | None, ...]) -> float:
    hours, minutes, seconds, fraction = groups
    return (
        int(hours or 0) * 3600
        + int(minutes or 0) * 60
        + int(seconds or 0)
        + int((fraction or "0").ljust(3, "0")) / 1000
    )


def _cue_turns(
    path: Path, options: TranscriptOptions
) -> Iterator[tuple[int, dict[str, Any] | InvalidMessage]]:
    """One turn per cue: the timing line, then its text lines up to a blank line."""
    cue: dict[str, Any] | None = None
    cue_line = 0
    count = 0
    last_speaker: str | None = None

    def finish() -> tuple[int, dict[str, Any] | InvalidMessage] | None:
        nonlocal cue, count, last_speaker
        if cue is None:
            return None
        done, cue = cue, None
        text = " ".join(done.pop("lines")).strip()
        speaker = done.pop("speaker")
        speaker = last_speaker if speaker is None else speaker  # a cue going on with the last
        if not speaker:
            return cue_line, InvalidMessage(
                "the cue names no speaker known as agent or customer "
                "(<v Name> or Name:; see --agent-name, --customer-name)",
                None,
                "invalid_transcript",
            )
        if not text:
            return None
        problem = _bounded(cue_line, count, text)
        if problem:
            return cue_line, problem
        count += 1
        last_speaker = speaker
        return cue_line, {"speaker": speaker, "text": text, **done}

    for number, line in _lines(path):
        if isinstance(line, InvalidMessage):
            yield number, line
            continue
        timing = _CUE.match(line)
        if timing:
            if (item := finish()) is not None:
                yield item
            if count >= MAX_TURNS:
                return
            start, end = _seconds(timing.groups()[:4]), _seconds(timing.groups()[4:])
            if start > end:
                yield (
                    number,
                    InvalidMessage("the cue ends before it starts", None, "invalid_transcript"),
                )
                continue
            cue = {"start": start, "end": end, "lines": [], "speaker": None}
            cue_line = number
        elif not line:
            if (item := finish()) is not None:
                yield item
        elif cue is not None:
            if not cue["lines"]:
                voice = _VOICE.match(line)
                label = None if voice else _LABEL.match(line)
                if voice:
                    cue["speaker"] = options.speaker(voice.group(1))
                    if cue["speaker"] is None:
                        cue["speaker"] = ""  # named, but neither agent nor customer
                elif label and (found := options.speaker(label.group(1))):
                    cue["speaker"] = found
                    line = line[label.end() :]
            cue["lines"].append(_TAG.sub("", line))
        # Other lines (WEBVTT header, NOTE blocks, SRT indexes, cue ids) are not turns.
    if (item := finish()) is not None:
        yield item
