"""Conversations and verbatims redacted at the door, before the writer, the vault or a log line.

For `Call Completed` / `Chat Completed`, `properties.transcript` is checked
(collect/transcripts.py), its language detected and stored as `properties.language`, and every
turn's text redacted (privacy/text_pii/); on any event, a verbatim string
(`properties.comment|feedback|review|verbatim`) is redacted the same way. When an admin opted
in, the texts as sent are sealed under the key of the day (privacy/text_originals.py) and travel
in the vault, encrypted; otherwise they are dropped here.

Fail closed: when the redaction itself fails, the message is refused with a retryable error
(`RedactionUnavailable`, 503) and nothing of it is stored. Nothing here logs or quotes a text.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Any

from empreinte.collect.transcripts import check_transcript
from empreinte.errors import InvalidMessage, RedactionUnavailable
from empreinte.privacy.text_originals import OriginalsVault
from empreinte.privacy.text_pii import detect_language, redact_text, redact_turns, warm
from empreinte.voc.model import CONVERSATION_EVENTS, VERBATIM_KEYS

log = logging.getLogger(__name__)

VERBATIM_SET = frozenset(VERBATIM_KEYS)
# A transcript under another event's properties is a text all the same: redacted (as turns
# when it is a list, checked as a conversation's are; as a verbatim when it is a string).
_TEXT_KEYS = VERBATIM_SET | {"transcript"}
# The language of a conversation is read from its first characters: enough to tell, bounded.
_LANGUAGE_SAMPLE = 2_000


def has_texts(event: str | None, properties: dict[str, Any] | None) -> bool:
    """Whether a message carries a text to redact (cheap: on every event's path)."""
    if not properties:
        return False
    return event in CONVERSATION_EVENTS or not _TEXT_KEYS.isdisjoint(properties.keys())


def _sample(turns: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    size = 0
    for turn in turns:
        parts.append(turn["text"])
        size += len(turn["text"]) + 1
        if size >= _LANGUAGE_SAMPLE:
            break
    return "\n".join(parts)[:_LANGUAGE_SAMPLE]


def _duration(properties: dict[str, Any], turns: list[dict[str, Any]] | None) -> Any:
    value = properties.get("duration")
    if value is None:
        ends = [t["end"] for t in turns or () if t["end"] is not None]
        return max(ends) if ends else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidMessage("must be a number of seconds", "properties.duration", "invalid_field")
    if not math.isfinite(value) or value < 0:
        raise InvalidMessage(
            "must be a number of seconds >= 0", "properties.duration", "invalid_field"
        )
    return value


def redact_texts(
    event: str | None,
    properties: dict[str, Any],
    region: str,
    originals: OriginalsVault | None,
) -> tuple[dict[str, Any], str | None]:
    """`properties` with its transcript checked and every text redacted, and the originals
    sealed (`day:token`) when an admin opted in and something was redacted, else None.
    Raises `InvalidMessage` for a bad transcript, `RedactionUnavailable` if redaction fails."""
    out = dict(properties)
    kept: dict[str, Any] = {}
    turns: list[dict[str, Any]] | None = None
    conversation = event in CONVERSATION_EVENTS
    transcript = properties.get("transcript")
    verbatims = set(VERBATIM_SET & properties.keys())
    if transcript is not None and (conversation or not isinstance(transcript, str)):
        turns = check_transcript(transcript)
    elif isinstance(transcript, str):
        verbatims.add("transcript")
    if conversation:
        out["duration"] = _duration(properties, turns)
    try:
        if turns is not None:
            language = detect_language(_sample(turns))
            redacted = redact_turns(turns, language=language, region=region)
            out["transcript"] = redacted
            if conversation:
                out["language"] = language
            if any(a["text"] != b["text"] for a, b in zip(turns, redacted, strict=True)):
                kept["properties.transcript"] = turns
        for key in verbatims:
            raw = properties[key]
            if isinstance(raw, str) and raw:
                done = redact_text(raw, region=region)  # its language read by text_pii
                out[key] = done.text
                if done.text != raw:
                    kept[f"properties.{key}"] = raw
    except Exception as exc:  # fail closed: refused, never stored unredacted
        # The exception's message may quote the text: only its type is logged.
        log.error("redaction failed (%s): message refused", type(exc).__name__)
        raise RedactionUnavailable(
            f"redaction failed ({type(exc).__name__}); the message was not stored"
        ) from None
    return out, _seal(originals, kept)


def _seal(originals: OriginalsVault | None, kept: dict[str, Any]) -> str | None:
    if originals is None or not kept:
        return None
    try:
        return originals.seal(kept)
    except Exception as exc:  # the redacted text is stored; its original is not kept
        log.warning("an original could not be sealed (%s): not kept", type(exc).__name__)
        return None


def warm_in_background() -> threading.Thread:
    """Load the redaction's models in a daemon thread, so that the first text a process
    validates does not wait seconds for them (and other requests behind it). For servers of
    workspaces that take conversations; a process that never sees a text never calls it."""

    def run() -> None:
        try:
            warm()
        except Exception as exc:  # the first text will try again, and fail closed
            log.warning("the redaction's models could not be loaded (%s)", type(exc).__name__)

    thread = threading.Thread(target=run, name="warm-redaction", daemon=True)
    thread.start()
    return thread
