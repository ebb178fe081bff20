"""The words of the voice of the customer, shared by the ingestion, the analyses and the pages.

A *conversation* is a call transcript (`Call Completed`) or a chat log (`Chat Completed`): turns
`{speaker: "agent" | "customer", text, start, end}` (seconds from the start). A *verbatim* is a
free text of one author: a survey comment, a review. Both are *texts* of the log, keyed by the
`seq` of their event; their analysis lives in the `voc_*` tables (store/duckdb/schema.py).
"""

from __future__ import annotations

from typing import Literal

#: Events that carry a conversation in `properties.transcript`.
CONVERSATION_EVENTS = {"Call Completed": "call", "Chat Completed": "chat"}
#: Property keys whose string value is a verbatim, on any event (survey comments, reviews).
VERBATIM_KEYS = ("comment", "feedback", "review", "verbatim")
#: A text's kind.
TextKind = Literal["call", "chat", "survey", "review"]
Speaker = Literal["agent", "customer"]
SPEAKERS: tuple[Speaker, ...] = ("agent", "customer")

#: Bounds of what a transcript may hold (the collector's 32 KB a message bounds it too; files
#: are bounded by these).
MAX_TURNS = 2_000
MAX_TURN_CHARS = 5_000
