"""The shape of a conversation's `properties.transcript`, checked at the door.

A transcript is a list of at most `MAX_TURNS` turns `{speaker, text, start, end}`: `speaker` is
"agent" or "customer" (the usual synonyms of call-centre exports are read as those), `text` a
string of at most `MAX_TURN_CHARS`, `start` and `end` seconds from the start of the
conversation (numbers >= 0, start <= end; both may be absent, as in a chat log without times).
Other keys of a turn are dropped: they are not part of the contract and could carry what the
redaction does not read. Each check is one pass over the turns.
"""

from __future__ import annotations

import math
from typing import Any

from empreinte.errors import InvalidMessage
from empreinte.voc.model import MAX_TURN_CHARS, MAX_TURNS

#: Speakers as call-centre and chat exports name them, read as the contract's two.
SPEAKER_NAMES: dict[str, str] = {
    "agent": "agent",
    "advisor": "agent",
    "adviser": "agent",
    "conseiller": "agent",
    "conseillère": "agent",
    "conseillere": "agent",
    "operator": "agent",
    "opérateur": "agent",
    "customer": "customer",
    "client": "customer",
    "cliente": "customer",
    "caller": "customer",
    "appelant": "customer",
    "appelante": "customer",
}
_CODE = "invalid_transcript"


def speaker_of(name: Any) -> str | None:
    """ "agent" or "customer" for a speaker's name (any case), None when it is neither."""
    if not isinstance(name, str) or len(name) > 40:
        return None
    return SPEAKER_NAMES.get(name.strip().lower())


def _time(turn: dict[str, Any], key: str, where: str) -> float | None:
    value = turn.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidMessage("must be a number of seconds", f"{where}.{key}", _CODE)
    if not math.isfinite(value) or value < 0:
        raise InvalidMessage("must be a number of seconds >= 0", f"{where}.{key}", _CODE)
    return value


def check_transcript(value: Any, field: str = "properties.transcript") -> list[dict[str, Any]]:
    """The turns of `value`, speakers normalised, or `InvalidMessage` (code
    `invalid_transcript`) naming the first wrong field (`properties.transcript[3].speaker`).
    Never quotes a turn's text: it is not redacted yet."""
    if not isinstance(value, list):
        raise InvalidMessage("must be a list of turns", field, _CODE)
    if len(value) > MAX_TURNS:
        raise InvalidMessage(
            f"has {len(value)} turns; at most {MAX_TURNS} are allowed", field, _CODE
        )
    turns: list[dict[str, Any]] = []
    for index, turn in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(turn, dict):
            raise InvalidMessage("must be an object {speaker, text, start, end}", where, _CODE)
        speaker = speaker_of(turn.get("speaker"))
        if speaker is None:
            raise InvalidMessage('must be "agent" or "customer"', f"{where}.speaker", _CODE)
        text = turn.get("text")
        if not isinstance(text, str):
            raise InvalidMessage("must be a string", f"{where}.text", _CODE)
        if len(text) > MAX_TURN_CHARS:
            raise InvalidMessage(
                f"is {len(text)} characters; at most {MAX_TURN_CHARS} are allowed",
                f"{where}.text",
                _CODE,
            )
        start, end = _time(turn, "start", where), _time(turn, "end", where)
        if start is not None and end is not None and start > end:
            raise InvalidMessage("must not be before start", f"{where}.end", _CODE)
        turns.append({"speaker": speaker, "text": text, "start": start, "end": end})
    return turns
